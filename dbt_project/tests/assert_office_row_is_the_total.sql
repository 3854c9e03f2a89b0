-- For counts, the office row (kato = root) equals its districts' rows plus the office-wide rows,
-- recomputed here independently from the facts' current rows through the measures view.
with values_by_territory as (
    select
        mart.indicator_code,
        mart.office_code,
        mart.period_id,
        sum(case when territories.parent_kato is null then mart.numerator else 0 end) as office_row,
        sum(case when territories.parent_kato is not null then mart.numerator else 0 end) as territory_rows
    from {{ ref('mart_indicator_values') }} as mart
    inner join {{ ref('stg_config__territories') }} as territories
        on mart.kato = territories.kato
    where mart.unit <> 'percent'
    group by mart.indicator_code, mart.office_code, mart.period_id
),

office_wide as (
    select
        amounts.indicator_code,
        amounts.office_code,
        periods.period_id,
        sum(amounts.amount) as office_wide_amount
    from {{ ref('int_indicator_term_amounts') }} as amounts
    inner join {{ ref('stg_config__offices') }} as offices
        on amounts.office_code = offices.office_code
        and amounts.kato = offices.root_kato
    inner join {{ ref('stg_config__periods') }} as submission_periods
        on amounts.submission_period_id = submission_periods.period_id
    inner join {{ ref('stg_config__periods') }} as periods
        on periods.period_id in (
            submission_periods.period_id, submission_periods.quarter_id, submission_periods.year_id
        )
    where amounts.role = 'value'
    group by amounts.indicator_code, amounts.office_code, periods.period_id
)

select values_by_territory.*
from values_by_territory
left join office_wide
    on values_by_territory.indicator_code = office_wide.indicator_code
    and values_by_territory.office_code = office_wide.office_code
    and values_by_territory.period_id = office_wide.period_id
where values_by_territory.office_row
    <> values_by_territory.territory_rows + coalesce(office_wide.office_wide_amount, 0)
