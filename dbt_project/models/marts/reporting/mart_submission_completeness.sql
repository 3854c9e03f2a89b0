-- Which office owes what (../shared/spec/indicators.md, "Periods and places"): a submission period
-- is covered when it has an accepted submission (current or since replaced by another accepted
-- one); a quarter is complete when all its submission periods are (3 months for a monthly office,
-- 1 quarter for a quarterly one), a year when all four quarters are. Rows for every period from the
-- office's reports_from that has started by as_of, plus any earlier period that is complete (a
-- valid submission for an earlier period is accepted all the same).
with offices as (
    select * from {{ ref('stg_config__offices') }}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

submissions as (
    select * from {{ ref('stg_submissions__submissions') }}
),

accepted as (
    select distinct
        office_code,
        period_id
    from submissions
    where status = 'accepted'
),

office_start as (
    select
        offices.office_code,
        offices.periodicity,
        offices.due_days,
        reports_from.period_start as reports_from_date
    from offices
    inner join periods as reports_from
        on offices.reports_from_period_id = reports_from.period_id
),

-- months (monthly offices only), quarters and years that have started by as_of
candidate_periods as (
    select
        office_start.office_code,
        office_start.periodicity,
        office_start.due_days,
        office_start.reports_from_date,
        periods.period_id,
        periods.period_kind,
        periods.period_start,
        periods.period_end
    from office_start
    inner join periods
        on periods.period_kind in ('quarter', 'year')
        or office_start.periodicity = periods.period_kind
    where periods.period_start <= {{ as_of_date() }}
),

expected as (
    select
        candidate_periods.office_code,
        candidate_periods.period_id,
        submission_periods.period_id as submission_period_id,
        (accepted.period_id is not null) as is_accepted
    from candidate_periods
    inner join periods as submission_periods
        on candidate_periods.periodicity = submission_periods.period_kind
        and candidate_periods.period_start <= submission_periods.period_start
        and candidate_periods.period_end >= submission_periods.period_end
    left join accepted
        on candidate_periods.office_code = accepted.office_code
        and submission_periods.period_id = accepted.period_id
),

coverage as (
    select
        office_code,
        period_id,
        count(*) as expected_submissions,
        sum(case when is_accepted then 1 else 0 end) as accepted_submissions,
        {{ dbt.listagg(
            measure="case when is_accepted then null else submission_period_id end",
            delimiter_text="','",
            order_by_clause="order by submission_period_id"
        ) }} as missing_periods
    from expected
    group by office_code, period_id
),

final as (
    select
        candidate_periods.office_code,
        candidate_periods.period_id,
        candidate_periods.period_kind,
        cast(coverage.expected_submissions as bigint) as expected_submissions,
        cast(coverage.accepted_submissions as bigint) as accepted_submissions,
        (coverage.accepted_submissions = coverage.expected_submissions) as is_complete,
        cast(coalesce(coverage.missing_periods, '') as varchar) as missing_periods,
        cast({{ dbt.dateadd('day', 'candidate_periods.due_days', 'candidate_periods.period_end') }} as date)
            as due_date,
        candidate_periods.period_end,
        candidate_periods.reports_from_date,
        periods.dhis2_period_id,
        periods.sdmx_period_id
    from candidate_periods
    inner join coverage
        on candidate_periods.office_code = coverage.office_code
        and candidate_periods.period_id = coverage.period_id
    left join periods
        on candidate_periods.period_id = periods.period_id
)

select
    office_code,
    period_id,
    period_kind,
    expected_submissions,
    accepted_submissions,
    is_complete,
    missing_periods,
    due_date,
    (not is_complete and {{ as_of_date() }} > due_date) as is_overdue,
    dhis2_period_id,
    sdmx_period_id
from final
where period_end >= reports_from_date
    or is_complete
