-- Prevention events: one row per event (or competition/league) of the current submissions.
with events as (
    select * from {{ ref('stg_submissions__events') }}
),

months as (
    select * from {{ source('raw', 'cfg_periods') }}
    where period_kind = 'month'
),

final as (
    select
        events.event_id,
        events.submission_id,
        events.office_code,
        events.kato,
        months.period_id,
        months.token as period,
        events.submission_period_id,
        events.event_date,
        events.event_type as event_type_code,
        events.audience as audience_code,
        events.event_title,
        events.teams,
        events.mosques,
        events.participants,
        events.participants_women,
        events.participants_adherents
    from events
    left join months
        on events.event_date between months.start_date and months.end_date
)

select * from final
