{#- None of the given columns is null: the `not_null` checks of one model in one query (one test
    node instead of one per column, each of which costs dbt far more than the query itself). The
    failing rows show which column is null. -#}
{% test not_null_columns(model, columns) %}

select {{ columns | join(', ') }}
from {{ model }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %}
   or {% endif %}{% endfor %}

{% endtest %}
