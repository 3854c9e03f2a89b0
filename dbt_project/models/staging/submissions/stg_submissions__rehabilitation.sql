-- Rehabilitation rows of every submission, typed (which are current: int_rehabilitation_current).
with source as (
    select * from {{ source('raw', 'rehabilitation') }}
),

renamed as (
    select
        {{ form_lineage_columns('rehabilitation_row_id') }},
        cast(source.month as date) as month_start,
        source.provider,
        cast(source.enrolled_new as bigint) as enrolled_new,
        cast(source.rehabilitated as bigint) as rehabilitated,
        cast(source.withdrawn as bigint) as withdrawn
    from source
)

select * from renamed
