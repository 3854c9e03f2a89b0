-- Rehabilitation: one row per current rehabilitation row (month × territory × provider).
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- Incremental by submission (macros/incremental_by_submission.sql): a build adds the rows of the rehabilitation
-- submissions that became current; the pre-hook drops those of the ones that no longer are.
-- depends_on: {{ ref('int_submission_forms_current') }}
{%- if is_incremental() %}
{%- set todo = pcve.form_submissions_to_build('rehabilitation') %}
{%- endif %}

with rehabilitation as (
    select * from {{ ref('int_rehabilitation_current') }}
    {% if is_incremental() -%}
        where {{ todo.get('rehabilitation', 'false') }}
    {%- endif %}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

final as (
    select
        rehabilitation.rehabilitation_row_id,
        rehabilitation.submission_id,
        rehabilitation.office_code,
        rehabilitation.kato,
        {{ period_id_columns('months') }},
        rehabilitation.submission_period_id,
        rehabilitation.month_start,
        rehabilitation.provider as provider_code,
        rehabilitation.enrolled_new,
        rehabilitation.rehabilitated,
        rehabilitation.withdrawn
    from rehabilitation
    {{ month_of('rehabilitation.month_start') }}
)

select * from final
