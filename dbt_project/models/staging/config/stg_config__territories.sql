with source as (
    select * from {{ source('raw', 'cfg_territories') }}
),

renamed as (
    select
        kato,
        office_code,
        level as territory_level,
        parent_kato,
        name_kk as territory_name_kk,
        name_ru as territory_name_ru,
        name_en as territory_name_en
    from source
)

select * from renamed
