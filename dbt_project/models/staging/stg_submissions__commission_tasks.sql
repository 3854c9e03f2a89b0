-- Quarterly execution of commission tasks, current submissions only (office-wide).
with source as (
    select * from {{ source('raw', 'commission_tasks') }}
),

current_forms as (
    select * from {{ ref('int_submission_forms_current') }}
    where form = 'commission_tasks' and is_present
),

renamed as (
    select
        {{ form_row_id('source') }} as task_execution_id,
        source.submission_id,
        source.sheet as sheet_name,
        cast(source.row_number as integer) as source_row_number,
        current_forms.office_code,
        current_forms.period_id as submission_period_id,
        source.kato,
        source.quarter as quarter_token,
        source.responsible,
        cast(source.tasks_due as bigint) as tasks_due,
        cast(source.done_on_time as bigint) as done_on_time,
        cast(source.done_late as bigint) as done_late
    from source
    inner join current_forms
        on source.submission_id = current_forms.submission_id
)

select * from renamed
