{#- A table, not a view: indicator terms join it on form_row_id, and on PostgreSQL a view of this
    union of views gets row estimates of 1 and a nested-loop join (x400 slower); analyzed on PostgreSQL. -#}
{{ config(materialized='table',
          post_hook="{{ 'analyze ' ~ this if target.type == 'postgres' else '' }}") }}
-- Every current form row unpivoted into (measure, amount): one row per form row and integer
-- column, plus measure `_rows` = 1 per row. Indicator terms (raw.cfg_indicator_terms) are sums of
-- these amounts, so a new indicator over existing columns needs no SQL.
{%- set catalogue = form_catalogue() %}
{%- set selects = [] %}
{%- for form, spec in catalogue.items() %}
    {%- for measure in ['_rows'] + spec['measures'] %}
        {%- do selects.append((form, spec, measure)) %}
    {%- endfor %}
{%- endfor %}

{% for form, spec, measure in selects %}
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
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
