with source as (
    select * from {{ source('raw', 'cfg_indicators') }}
),

renamed as (
    select
        indicator_code,
        cast(sort_order as integer) as sort_order,
        unit,
        name_kk as indicator_name_kk,
        name_ru as indicator_name_ru,
        name_en as indicator_name_en,
        unit_kk,
        unit_ru,
        unit_en
    from source
)

select * from renamed
