with periods as (
    select * from {{ source('raw', 'cfg_periods') }}
),

final as (
    select
        period_id,
        period_kind,
        case period_kind when 'month' then 'M' when 'quarter' then 'Q' else 'A' end as sdmx_freq,
        cast(year as integer) as period_year,
        cast(number as integer) as period_number,
        cast(start_date as date) as period_start,
        cast(end_date as date) as period_end,
        token as period_token,
        period_id as dhis2_period_id,
        sdmx_id as sdmx_period_id,
        quarter_id,
        year_id
    from periods
)

select * from final
