-- Individual conversations: one row per current outreach row (month × territory × direction).
with outreach as (
    select * from {{ ref('stg_submissions__outreach') }}
),

months as (
    select * from {{ source('raw', 'cfg_periods') }}
    where period_kind = 'month'
),

final as (
    select
        outreach.outreach_row_id,
        outreach.submission_id,
        outreach.office_code,
        outreach.kato,
        months.period_id,
        months.token as period,
        outreach.submission_period_id,
        outreach.month_start,
        outreach.direction as direction_code,
        outreach.adherents_new,
        outreach.conversations,
        outreach.conversations_planned
    from outreach
    left join months
        on outreach.month_start between months.start_date and months.end_date
)

select * from final
