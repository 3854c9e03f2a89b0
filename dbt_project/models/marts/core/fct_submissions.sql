-- Every submission ever processed, with its status as the warehouse sees it now: 'accepted' while
-- it is current for at least one form, 'superseded' once every form it carried was replaced,
-- else the ingest status (rejected, duplicate, voided); validation results and lateness.
with submissions as (
    select * from {{ ref('stg_submissions__submissions') }}
),

current_forms as (
    select * from {{ ref('int_submission_forms_current') }}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

offices as (
    select * from {{ ref('stg_config__offices') }}
),

issues as (
    select * from {{ ref('stg_submissions__issues') }}
),

validations as (
    select * from {{ ref('stg_submissions__validation_results') }}
),

current_submissions as (
    select
        submission_id,
        count(*) as current_form_count,
        sum(case when is_present then 1 else 0 end) as current_present_form_count
    from current_forms
    group by submission_id
),

issue_counts as (
    select
        submission_id,
        sum(case when severity = 'error' then 1 else 0 end) as located_error_count,
        sum(case when severity = 'warning' then 1 else 0 end) as located_warning_count
    from issues
    group by submission_id
),

validation_counts as (
    select
        submission_id,
        count(*) as expectations_run,
        sum(case when success then 0 else 1 end) as expectations_failed
    from validations
    group by submission_id
),

with_due as (
    select
        submissions.*,
        cast({{ dbt.dateadd('day', 'offices.due_days', 'submissions.period_end') }} as date) as due_date,
        current_submissions.submission_id is not null as is_current,
        coalesce(current_submissions.current_present_form_count, 0) as current_form_count
    from submissions
    left join offices
        on submissions.office_code = offices.office_code
    left join current_submissions
        on submissions.submission_id = current_submissions.submission_id
),

final as (
    select
        with_due.submission_id,
        with_due.submission_seq as seq,
        with_due.office_code,
        -- the file name's period even where the calendar lacks it (a rejected file's)
        with_due.period_id,
        periods.dhis2_period_id,
        periods.sdmx_period_id,
        with_due.period_kind,
        with_due.period_start,
        with_due.period_end,
        with_due.submission_scope as scope,
        with_due.file_name,
        with_due.file_sha256 as sha256,
        -- stored with its zone: raw keeps Asia/Almaty wall time (portable `timestamp`), here the instant
        {{ pcve.local_to_tz('with_due.received_at') }} as received_at,
        with_due.received_at as received_at_local,
        with_due.status as ingest_status,
        case
            when with_due.status = 'accepted' and not with_due.is_current then 'superseded'
            else with_due.status
        end as status,
        with_due.is_current,
        -- counts as bigint: sum() gives HUGEINT on DuckDB and numeric on PostgreSQL
        cast(with_due.current_form_count as bigint) as current_form_count,
        cast(with_due.error_count as bigint) as error_count,
        cast(with_due.warning_count as bigint) as warning_count,
        cast(coalesce(issue_counts.located_error_count, 0) as bigint) as located_error_count,
        cast(coalesce(issue_counts.located_warning_count, 0) as bigint) as located_warning_count,
        cast(coalesce(validation_counts.expectations_run, 0) as bigint) as expectations_run,
        cast(coalesce(validation_counts.expectations_failed, 0) as bigint) as expectations_failed,
        with_due.due_date,
        case
            when with_due.due_date is null then null
            when cast(with_due.received_at as date) > with_due.due_date
                then cast({{ dbt.datediff('with_due.due_date', 'cast(with_due.received_at as date)', 'day') }} as bigint)  -- noqa: LT05
            else cast(0 as bigint)
        end as days_late,
        coalesce(cast(with_due.received_at as date) > with_due.due_date, false) as is_late
    from with_due
    left join issue_counts
        on with_due.submission_id = issue_counts.submission_id
    left join validation_counts
        on with_due.submission_id = validation_counts.submission_id
    left join periods
        on with_due.period_id = periods.period_id
)

select * from final
