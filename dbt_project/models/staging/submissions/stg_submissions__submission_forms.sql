with source as (
    select * from {{ source('raw', 'submission_forms') }}
),

renamed as (
    select
        submission_id,
        form,
        cast(present as boolean) as is_present,
        cast(row_count as integer) as row_count
    from source
)

select * from renamed
