{#- persist_docs covers models and snapshots only: the raw layer's descriptions (sources yml) are
    written as table and column comments here, on-run-end, so the DuckDB file documents raw too.
    `COMMENT ON` is the same statement on DuckDB and PostgreSQL. A build of a selection (pcve's
    data-only builds: the raw tables only got rows, their comments are in place) leaves them as they
    are; a --vars switch would cost a full re-parse of the project instead. -#}
{% macro persist_source_docs() %}
    {% if execute and not invocation_args_dict.get('select') %}
        {% set statements = [] %}
        {% for src in graph.sources.values() if src.package_name == project_name %}
            {% set relation = src.schema ~ '.' ~ src.identifier %}
            {% if src.description %}
                {% do statements.append("comment on table " ~ relation ~ " is " ~ pcve.sql_text(src.description)) %}
            {% endif %}
            {% for col in src.columns.values() if col.description %}
                {% do statements.append("comment on column " ~ relation ~ "." ~ col.name ~ " is "
                                        ~ pcve.sql_text(col.description)) %}
            {% endfor %}
        {% endfor %}
        {% for stmt in statements %}
            {% do run_query(stmt) %}
        {% endfor %}
    {% endif %}
{% endmacro %}

{% macro sql_text(text) -%}
    '{{ text | trim | replace("'", "''") }}'
{%- endmacro %}
