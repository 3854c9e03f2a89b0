with source as (
    select * from {{ source('raw', 'submissions') }}
),

renamed as (
    select
        submission_id,
        cast(seq as integer) as submission_seq,
        office_code,
        -- the file name's token (2017-03, 2025-Q1) is the warehouse's period id
        period as period_id,
        period_kind,
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        scope as submission_scope,
        file_name,
        sha256 as file_sha256,
        cast(received_at as timestamp) as received_at,
        status,
        cast(error_count as integer) as error_count,
        cast(warning_count as integer) as warning_count
    from source
)

select * from renamed
