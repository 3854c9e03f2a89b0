-- The anti-terrorism commission's activity at its two natural grains, side by side:
-- activity_type 'meeting' (one row per session or working-group meeting, period = its month)
-- and 'task_execution' (one row per quarter × responsible body, period = the quarter).
with meetings as (
    select * from {{ ref('stg_submissions__commission') }}
),

task_execution as (
    select * from {{ ref('stg_submissions__commission_tasks') }}
),

periods as (
    select * from {{ source('raw', 'cfg_periods') }}
),

meeting_rows as (
    select
        meetings.meeting_id as activity_id,
        'meeting' as activity_type,
        meetings.submission_id,
        meetings.office_code,
        meetings.kato,
        months.period_id,
        months.token as period,
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
    left join periods as months
        on months.period_kind = 'month'
        and meetings.meeting_date between months.start_date and months.end_date
),

task_rows as (
    select
        task_execution.task_execution_id as activity_id,
        'task_execution' as activity_type,
        task_execution.submission_id,
        task_execution.office_code,
        task_execution.kato,
        quarters.period_id,
        quarters.token as period,
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
        on quarters.period_kind = 'quarter'
        and task_execution.quarter_token = quarters.token
),

final as (
    select * from meeting_rows
    union all
    select * from task_rows
)

select * from final
