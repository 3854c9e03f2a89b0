{#- A table, not a view: indicator terms join it on form_row_id, and on PostgreSQL a view of this
    union of views gets row estimates of 1 and a nested-loop join (x400 slower); analyzed on PostgreSQL. -#}
{{ config(materialized='table',
          post_hook="{{ 'analyze ' ~ this if target.type == 'postgres' else '' }}") }}
-- Every current form row's code columns unpivoted into (code_column, code_value): what an
-- indicator term's filter_column / filter_value is matched against.
{%- set catalogue = form_catalogue() %}
{%- set selects = [] %}
{%- for form, spec in catalogue.items() %}
    {%- for code_column in spec['codes'] %}
        {%- do selects.append((form, spec, code_column)) %}
    {%- endfor %}
{%- endfor %}

{% for form, spec, code_column in selects %}
    select
        '{{ form }}' as form,
        {{ spec['row_id'] }} as form_row_id,
        '{{ code_column }}' as code_column,
        cast({{ code_column }} as varchar) as code_value
    from {{ ref(spec['model']) }}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
