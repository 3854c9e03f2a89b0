{#- No non-null value of any given column occurs twice: the `unique` checks of one model in one
    query (one test node instead of one per column). Each failing row names the column, the
    duplicated value and how many rows share it. -#}
{% test unique_columns(model, columns) %}

{%- for column in columns %}
select
    '{{ column }}' as column_name,
    cast({{ column }} as {{ dbt.type_string() }}) as duplicate_value,
    count(*) as n_rows
from {{ model }}
where {{ column }} is not null
group by {{ column }}
having count(*) > 1
{% if not loop.last %}union all{% endif %}
{%- endfor %}

{% endtest %}
