-- The calendar with the warehouse's period id (the file-name token: 2019-01, 2019-Q1, 2019) and
-- the DHIS2 (201901, 2019Q1) and SDMX (2019-01, 2019-Q1, 2019) forms beside it.
with source as (
    select * from {{ source('raw', 'cfg_periods') }}
),

renamed as (
    select
        token as period_id,
        period_kind,
        period_id as dhis2_period_id,
        sdmx_id as sdmx_period_id,
        case period_kind when 'month' then 'M' when 'quarter' then 'Q' else 'A' end as sdmx_freq,
        cast(year as integer) as period_year,
        cast(number as integer) as period_number,
        cast(start_date as date) as period_start,
        cast(end_date as date) as period_end,
        -- raw keeps the containing quarter and year as DHIS2 ids; a DHIS2 quarter 2019Q1 is the
        -- token 2019-Q1, a year is the same in both
        replace(quarter_id, 'Q', '-Q') as quarter_id,
        year_id
    from source
)

select * from renamed
