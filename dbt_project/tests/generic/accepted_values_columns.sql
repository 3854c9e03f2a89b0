{#- Every non-null value of each given column is one of its accepted values: the `accepted_values`
    checks of one model in one query (one test node instead of one per column). `accepted` is a
    list of {column, values}. Each failing row names the column, the unexpected value and how many
    rows carry it. -#}
{% test accepted_values_columns(model, accepted) %}

{%- for check in accepted %}
{%- set quoted = [] %}
{%- for value in check['values'] %}
{%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") %}
{%- endfor %}
select
    '{{ check["column"] }}' as column_name,
    cast({{ check['column'] }} as {{ dbt.type_string() }}) as unexpected_value,
    count(*) as n_rows
from {{ model }}
where {{ check['column'] }} is not null
  and {{ check['column'] }} not in ({{ quoted | join(', ') }})
group by {{ check['column'] }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}

{% endtest %}
