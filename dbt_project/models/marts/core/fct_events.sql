-- Prevention events: one row per event (or competition/league) of the current submissions.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- Incremental by submission (macros/incremental_by_submission.sql): a build adds the rows of the events
-- submissions that became current; the pre-hook drops those of the ones that no longer are.
-- depends_on: {{ ref('int_submission_forms_current') }}
{%- if is_incremental() %}
{%- set todo = pcve.form_submissions_to_build('events') %}
{%- endif %}

with events as (
    select * from {{ ref('int_events_current') }}
    {% if is_incremental() -%}
        where {{ todo.get('events', 'false') }}
    {%- endif %}
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
