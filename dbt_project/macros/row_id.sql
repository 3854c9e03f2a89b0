{#- A form row's key: submission, sheet and row number (the row's place in the received file). -#}
{% macro form_row_id(relation_alias='source') -%}
    {{ dbt.concat([
        relation_alias ~ '.submission_id', "'/'",
        "coalesce(" ~ relation_alias ~ ".sheet, '')", "'/'",
        "cast(" ~ relation_alias ~ ".row_number as varchar)"
    ]) }}
{%- endmacro %}
