with offices as (
    select * from {{ ref('stg_config__offices') }}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

final as (
    select
        offices.office_code,
        offices.office_name_kk,
        offices.office_name_ru,
        offices.office_name_en,
        offices.root_kato,
        offices.periodicity,
        offices.reports_from_period_id,
        periods.period_start as reports_from_date,
        offices.language,
        offices.due_days
    from offices
    left join periods
        on offices.reports_from_period_id = periods.period_id
)

select * from final
