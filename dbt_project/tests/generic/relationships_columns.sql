{#- Every non-null value of each given column exists in its parent: the `relationships` checks of
    one model in one query (one test node instead of one per foreign key; dbt's per-node overhead
    dwarfs the query). `references` is a list of {column, to, field}, `to` a ref() or source() as
    for `relationships`. Each failing row names the column, the orphan value, the parent it is
    missing from and how many rows carry it. -#}
{% test relationships_columns(model, references) %}

{%- for reference in references %}
{%- set parent = reference['to'] %}
{%- set parent_name = (parent.identifier if parent.identifier is defined else parent) | string %}
select
    '{{ reference["column"] }}' as column_name,
    cast(child.{{ reference['column'] }} as {{ dbt.type_string() }}) as orphan_value,
    '{{ parent_name }}.{{ reference["field"] }}' as missing_from,
    count(*) as n_rows
from {{ model }} as child
left join {{ parent }} as parent
    on child.{{ reference['column'] }} = parent.{{ reference['field'] }}
where child.{{ reference['column'] }} is not null
  and parent.{{ reference['field'] }} is null
group by child.{{ reference['column'] }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}

{% endtest %}
