-- Event rows of the current submissions only (one row per event).
with source as (
    select * from {{ source('raw', 'events') }}
),

current_forms as (
    select * from {{ ref('int_submission_forms_current') }}
    where form = 'events' and is_present
),

renamed as (
    select
        {{ form_row_id('source') }} as event_id,
        source.submission_id,
        source.sheet as sheet_name,
        cast(source.row_number as integer) as source_row_number,
        current_forms.office_code,
        current_forms.period_id as submission_period_id,
        source.kato,
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
    inner join current_forms
        on source.submission_id = current_forms.submission_id
)

select * from renamed
