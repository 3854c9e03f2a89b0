-- Individual conversations: one row per current outreach row (month × territory × direction).
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- Incremental by submission (macros/incremental_by_submission.sql): a build adds the rows of the outreach
-- submissions that became current; the pre-hook drops those of the ones that no longer are.
-- depends_on: {{ ref('int_submission_forms_current') }}
{%- if is_incremental() %}
{%- set todo = pcve.form_submissions_to_build('outreach') %}
{%- endif %}

with outreach as (
    select * from {{ ref('int_outreach_current') }}
    {% if is_incremental() -%}
        where {{ todo.get('outreach', 'false') }}
    {%- endif %}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

final as (
    select
        outreach.outreach_row_id,
        outreach.submission_id,
        outreach.office_code,
        outreach.kato,
        {{ period_id_columns('months') }},
        outreach.submission_period_id,
        outreach.month_start,
        outreach.direction as direction_code,
        outreach.adherents_new,
        outreach.conversations,
        outreach.conversations_planned
    from outreach
    {{ month_of('outreach.month_start') }}
)

select * from final
