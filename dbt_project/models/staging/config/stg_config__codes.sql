with source as (
    select * from {{ source('raw', 'cfg_codes') }}
),

renamed as (
    select
        dimension,
        code,
        label_kk,
        label_ru,
        label_en
    from source
)

select * from renamed
