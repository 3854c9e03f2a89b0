with source as (
    select * from {{ source('raw', 'validation_results') }}
),

renamed as (
    select
        submission_id,
        form,
        expectation,
        column_name,
        cast(success as boolean) as success,
        cast(element_count as bigint) as element_count,
        cast(unexpected_count as bigint) as unexpected_count
    from source
)

select * from renamed
