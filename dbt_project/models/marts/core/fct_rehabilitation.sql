-- Rehabilitation: one row per current rehabilitation row (month × territory × provider).
with rehabilitation as (
    select * from {{ ref('stg_submissions__rehabilitation') }}
),

months as (
    select * from {{ source('raw', 'cfg_periods') }}
    where period_kind = 'month'
),

final as (
    select
        rehabilitation.rehabilitation_row_id,
        rehabilitation.submission_id,
        rehabilitation.office_code,
        rehabilitation.kato,
        months.period_id,
        months.token as period,
        rehabilitation.submission_period_id,
        rehabilitation.month_start,
        rehabilitation.provider as provider_code,
        rehabilitation.enrolled_new,
        rehabilitation.rehabilitated,
        rehabilitation.withdrawn
    from rehabilitation
    left join months
        on rehabilitation.month_start between months.start_date and months.end_date
)

select * from final
