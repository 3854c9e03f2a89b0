{#- A small code dimension (event type, audience, ...) from raw.cfg_codes. -#}
{% macro code_dimension(dimension) -%}
with codes as (
    select * from {{ source('raw', 'cfg_codes') }}
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
