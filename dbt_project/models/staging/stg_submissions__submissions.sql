with source as (
    select * from {{ source('raw', 'submissions') }}
),

periods as (
    select * from {{ source('raw', 'cfg_periods') }}
),

renamed as (
    select
        source.submission_id,
        cast(source.seq as integer) as submission_seq,
        source.office_code,
        periods.period_id,
        source.period as period_token,
        source.period_kind,
        cast(source.period_start as date) as period_start,
        cast(source.period_end as date) as period_end,
        source.scope as submission_scope,
        source.file_name,
        source.sha256 as file_sha256,
        cast(source.received_at as timestamp) as received_at,
        source.status,
        cast(source.error_count as integer) as error_count,
        cast(source.warning_count as integer) as warning_count
    from source
    left join periods
        on source.period = periods.token
        and source.period_kind = periods.period_kind
)

select * from renamed
