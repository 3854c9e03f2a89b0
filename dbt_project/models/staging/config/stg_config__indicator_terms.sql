with source as (
    select * from {{ source('raw', 'cfg_indicator_terms') }}
),

renamed as (
    select
        indicator_code,
        role,
        form,
        measure,
        filter_column,
        filter_value
    from source
)

select * from renamed
