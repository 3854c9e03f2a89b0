with source as (
    select * from {{ source('raw', 'cfg_offices') }}
),

renamed as (
    select
        office_code,
        name_kk as office_name_kk,
        name_ru as office_name_ru,
        name_en as office_name_en,
        root_kato,
        periodicity,
        -- a period token (2017-01, 2025-Q1): the warehouse's period id
        reports_from as reports_from_period_id,
        language,
        cast(due_days as integer) as due_days
    from source
)

select * from renamed
