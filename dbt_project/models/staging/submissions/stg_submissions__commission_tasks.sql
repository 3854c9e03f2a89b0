-- Quarterly execution of commission tasks of every submission, typed (office-wide; which are
-- current: int_commission_tasks_current).
with source as (
    select * from {{ source('raw', 'commission_tasks') }}
),

renamed as (
    select
        {{ form_lineage_columns('task_execution_id') }},
        source.quarter as quarter_id,
        source.responsible,
        cast(source.tasks_due as bigint) as tasks_due,
        cast(source.done_on_time as bigint) as done_on_time,
        cast(source.done_late as bigint) as done_late
    from source
)

select * from renamed
