with periods as (
    select * from {{ ref('stg_config__periods') }}
),

final as (
    select
        period_id,
        period_kind,
        sdmx_freq,
        period_year,
        period_number,
        period_start,
        period_end,
        dhis2_period_id,
        sdmx_period_id,
        quarter_id,
        year_id
    from periods
)

select * from final
