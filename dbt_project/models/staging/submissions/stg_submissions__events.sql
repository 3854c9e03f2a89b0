-- Event rows of every submission, one per event, typed (which are current: int_events_current).
with source as (
    select * from {{ source('raw', 'events') }}
),

renamed as (
    select
        {{ form_lineage_columns('event_id') }},
        cast(source.event_date as date) as event_date,
        source.event_type,
        source.title as event_title,
        coalesce(source.audience, 'general') as audience,
        cast(source.teams as bigint) as teams,
        cast(source.mosques as bigint) as mosques,
        cast(source.participants as bigint) as participants,
        cast(source.participants_women as bigint) as participants_women,
        cast(source.participants_adherents as bigint) as participants_adherents
    from source
)

select * from renamed
