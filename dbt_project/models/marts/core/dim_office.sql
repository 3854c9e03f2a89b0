with offices as (
    select * from {{ source('raw', 'cfg_offices') }}
),

periods as (
    select * from {{ source('raw', 'cfg_periods') }}
),

final as (
    select
        offices.office_code,
        offices.name_kk as office_name_kk,
        offices.name_ru as office_name_ru,
        offices.name_en as office_name_en,
        offices.root_kato,
        offices.periodicity,
        offices.reports_from as reports_from_token,
        periods.period_id as reports_from_period_id,
        periods.start_date as reports_from_date,
        offices.language,
        cast(offices.due_days as integer) as due_days
    from offices
    left join periods
        on offices.reports_from = periods.token
)

select * from final
