{#- A small code dimension (event type, audience, ...) from the code lists (stg_config__codes). -#}
{% macro code_dimension(dimension) -%}
with codes as (
    select * from {{ ref('stg_config__codes') }}
),

renamed as (
    select
        code as {{ dimension }}_code,
        label_kk,
        label_ru,
        label_en
    from codes
    where dimension = '{{ dimension }}'
)

select * from renamed
{%- endmacro %}
