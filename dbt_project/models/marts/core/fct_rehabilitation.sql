-- Rehabilitation: one row per current rehabilitation row (month × territory × provider).
with rehabilitation as (
    select * from {{ ref('int_rehabilitation_current') }}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

final as (
    select
        rehabilitation.rehabilitation_row_id,
        rehabilitation.submission_id,
        rehabilitation.office_code,
        rehabilitation.kato,
        {{ period_id_columns('months') }},
        rehabilitation.submission_period_id,
        rehabilitation.month_start,
        rehabilitation.provider as provider_code,
        rehabilitation.enrolled_new,
        rehabilitation.rehabilitated,
        rehabilitation.withdrawn
    from rehabilitation
    {{ month_of('rehabilitation.month_start') }}
)

select * from final
