{#- Custom schemas are used as named (staging, intermediate, snapshots), not prefixed with the
    target schema: analysts find dimensions, facts and marts in `main`, the rest out of the way. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
