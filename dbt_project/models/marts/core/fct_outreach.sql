-- Individual conversations: one row per current outreach row (month × territory × direction).
with outreach as (
    select * from {{ ref('int_outreach_current') }}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

final as (
    select
        outreach.outreach_row_id,
        outreach.submission_id,
        outreach.office_code,
        outreach.kato,
        {{ period_id_columns('months') }},
        outreach.submission_period_id,
        outreach.month_start,
        outreach.direction as direction_code,
        outreach.adherents_new,
        outreach.conversations,
        outreach.conversations_planned
    from outreach
    {{ month_of('outreach.month_start') }}
)

select * from final
