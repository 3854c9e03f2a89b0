-- The anti-terrorism commission's activity at its two natural grains, side by side:
-- activity_type 'meeting' (one row per session or working-group meeting, period = its month)
-- and 'task_execution' (one row per quarter × responsible body, period = the quarter).
with meetings as (
    select * from {{ ref('int_commission_current') }}
),

task_execution as (
    select * from {{ ref('int_commission_tasks_current') }}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

meeting_rows as (
    select
        meetings.meeting_id as activity_id,
        'meeting' as activity_type,
        meetings.submission_id,
        meetings.office_code,
        meetings.kato,
        {{ period_id_columns('months') }},
        meetings.submission_period_id,
        meetings.meeting_date,
        meetings.body as body_code,
        meetings.chair,
        meetings.agenda_items,
        meetings.tasks_assigned,
        cast(null as varchar) as responsible,
        cast(null as bigint) as tasks_due,
        cast(null as bigint) as done_on_time,
        cast(null as bigint) as done_late
    from meetings
    {{ month_of('meetings.meeting_date') }}
),

task_rows as (
    select
        task_execution.task_execution_id as activity_id,
        'task_execution' as activity_type,
        task_execution.submission_id,
        task_execution.office_code,
        task_execution.kato,
        {{ period_id_columns('quarters') }},
        task_execution.submission_period_id,
        cast(null as date) as meeting_date,
        cast(null as varchar) as body_code,
        cast(null as varchar) as chair,
        cast(null as bigint) as agenda_items,
        cast(null as bigint) as tasks_assigned,
        task_execution.responsible,
        task_execution.tasks_due,
        task_execution.done_on_time,
        task_execution.done_late
    from task_execution
    left join periods as quarters
        on task_execution.quarter_id = quarters.period_id
),

final as (
    select * from meeting_rows
    union all
    select * from task_rows
)

select * from final
