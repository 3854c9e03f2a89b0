-- Every current form row unpivoted into (measure, amount): one row per form row and integer
-- column, plus measure `_rows` = 1 per row. Indicator terms (raw.cfg_indicator_terms) are sums of
-- these amounts, so a new indicator over existing columns needs no SQL.

-- Incremental by (form, submission) (macros/incremental_by_submission.sql): a build adds the rows of the
-- submissions that became current and its pre-hook drops those that no longer are.
-- depends_on: {{ ref('int_submission_forms_current') }}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
{%- if is_incremental() %}
{%- set todo = pcve.form_submissions_to_build() %}
{%- endif %}

{% for form, spec, measure in form_catalogue_columns('measures', ['_rows']) %}
    select
        '{{ form }}' as form,
        {{ spec['row_id'] }} as form_row_id,
        submission_id,
        office_code,
        submission_period_id,
        kato,
        '{{ measure }}' as measure,
        {% if measure == '_rows' -%}
            cast(1 as bigint)
        {%- else -%}
            cast({{ measure }} as bigint)
        {%- endif %} as amount
    from {{ ref(spec['model']) }}
    {% if is_incremental() -%}
        where {{ todo.get(form, 'false') }}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
