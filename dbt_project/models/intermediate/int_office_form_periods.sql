-- The periods (month, quarter, year) in which an office reported a form: any current submission
-- in the period carries it (is_present). Months exist only for offices submitting monthly.
-- Indicators built on a form get rows for exactly these periods.
with current_forms as (
    select * from {{ ref('int_submission_forms_current') }}
    where is_present
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

containing as (
    select
        current_forms.office_code,
        current_forms.form,
        submission_periods.period_id as month_id,
        submission_periods.period_kind,
        submission_periods.quarter_id,
        submission_periods.year_id
    from current_forms
    inner join periods as submission_periods
        on current_forms.period_id = submission_periods.period_id
),

reported as (
    select
        office_code,
        form,
        month_id as period_id
    from containing
    where period_kind = 'month'
    union
    select
        office_code,
        form,
        quarter_id as period_id
    from containing
    union
    select
        office_code,
        form,
        year_id as period_id
    from containing
),

final as (
    select
        reported.office_code,
        reported.form,
        reported.period_id,
        periods.period_kind,
        periods.period_start,
        periods.period_end
    from reported
    inner join periods
        on reported.period_id = periods.period_id
)

select * from final
