-- Freshness per office (source freshness can only check raw.submissions as a whole): warn when an
-- office's latest accepted submission was received longer ago than its periodicity plus a grace
-- of its due_days + var('freshness_grace_days'), judged on the as-of date. An office that never
-- sent anything is stale once that much time has passed since its reports_from period began.
{{ config(severity='warn') }}

with offices as (
    select * from {{ ref('stg_config__offices') }}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

latest as (
    select
        office_code,
        max(received_at) as latest_received_at
    from {{ ref('stg_submissions__submissions') }}
    where status = 'accepted'
    group by office_code
),

judged as (
    select
        offices.office_code,
        latest.latest_received_at,
        coalesce(cast(latest.latest_received_at as date), reports_from.period_start) as last_seen,
        (case offices.periodicity when 'month' then 31 when 'quarter' then 92 else 366 end)
        + offices.due_days + {{ var('freshness_grace_days', 15) }} as allowed_days
    from offices
    left join latest on offices.office_code = latest.office_code
    left join periods as reports_from on offices.reports_from_period_id = reports_from.period_id
)

select
    office_code,
    latest_received_at,
    last_seen,
    allowed_days
from judged
where {{ dbt.datediff('last_seen', as_of_date(), 'day') }} > allowed_days  -- noqa: LT05
