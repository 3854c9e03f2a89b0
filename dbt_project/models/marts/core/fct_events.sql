-- Prevention events: one row per event (or competition/league) of the current submissions.
with events as (
    select * from {{ ref('int_events_current') }}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

final as (
    select
        events.event_id,
        events.submission_id,
        events.office_code,
        events.kato,
        {{ period_id_columns('months') }},
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
    {{ month_of('events.event_date') }}
)

select * from final
