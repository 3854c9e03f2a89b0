-- Indicator values per office × territory × period (month, quarter, year), as
-- ../shared/spec/indicators.md defines them:
-- * counts sum over months and territories; the office row (kato = the office root) is the
--   office total, office-wide rows included; a district's row counts that district's rows only;
-- * a percentage is 100 * sum(numerator) / sum(denominator) at each level (never an average of
--   percentages), half-up to one decimal, null where the denominator is 0;
-- * rows exist for every territory of the office (0 where no row matches) but only for periods
--   in which the office reported the indicator's form(s); a percentage needs both.
-- Config-driven: terms come from stg_config__indicator_terms, territories from stg_config__territories.
-- Incremental by office (macros/incremental_by_office.sql): a build with new data recomputes only the
-- offices whose inputs changed; one new workbook no longer rebuilds every office's history.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

with office_inputs as (
    {{ pcve.indicator_inputs_by_office() }}
),

{% if is_incremental() -%}
{%- set todo = pcve.offices_to_build() %}
{%- endif %}
amounts as (
    select * from {{ ref('int_indicator_term_amounts') }}
    {% if is_incremental() -%}
        where office_code in {{ todo }}
    {%- endif %}
),

reported as (
    select * from {{ ref('int_office_form_periods') }}
    {% if is_incremental() -%}
        where office_code in {{ todo }}
    {%- endif %}
),

indicators as (
    select * from {{ ref('stg_config__indicators') }}
),

terms as (
    select distinct
        indicator_code,
        role,
        form
    from {{ ref('stg_config__indicator_terms') }}
),

offices as (
    select * from {{ ref('stg_config__offices') }}
),

territories as (
    select * from {{ ref('stg_config__territories') }}
),

periods as (
    select * from {{ ref('stg_config__periods') }}
),

-- each submission period's amount counted in its month (monthly offices), quarter and year
amounts_in_periods as (
    {#- the month itself (its self-alias is fine), then its quarter and year renamed to period_id -#}
    {%- for rollup in ['period_id', 'quarter_id', 'year_id'] %}
        select
            amounts.indicator_code,
            amounts.role,
            amounts.office_code,
            amounts.kato,
            periods.{{ rollup }} as period_id,  -- noqa: AL09
            amounts.amount
        from amounts
        inner join periods on amounts.submission_period_id = periods.period_id
        {%- if rollup == 'period_id' %}
            where periods.period_kind = 'month'
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

territory_sums as (
    select
        indicator_code,
        role,
        office_code,
        kato,
        period_id,
        sum(amount) as amount
    from amounts_in_periods
    group by indicator_code, role, office_code, kato, period_id
),

office_sums as (
    select
        indicator_code,
        role,
        office_code,
        period_id,
        sum(amount) as amount
    from amounts_in_periods
    group by indicator_code, role, office_code, period_id
),

-- every term × office territory × period in which the term's form was reported
term_grid as (
    select
        terms.indicator_code,
        terms.role,
        reported.office_code,
        territories.kato,
        territories.territory_level,
        (territories.kato = offices.root_kato) as is_office_row,
        reported.period_id,
        reported.period_kind,
        reported.period_start,
        reported.period_end
    from terms
    inner join reported on terms.form = reported.form
    inner join offices on reported.office_code = offices.office_code
    inner join territories on reported.office_code = territories.office_code
),

term_values as (
    select
        term_grid.indicator_code,
        term_grid.role,
        term_grid.office_code,
        term_grid.kato,
        term_grid.territory_level,
        term_grid.period_id,
        term_grid.period_kind,
        term_grid.period_start,
        term_grid.period_end,
        cast(coalesce(
            case when term_grid.is_office_row then office_sums.amount else territory_sums.amount end, 0
        ) as bigint) as amount
    from term_grid
    left join territory_sums
        on term_grid.indicator_code = territory_sums.indicator_code
        and term_grid.role = territory_sums.role
        and term_grid.office_code = territory_sums.office_code
        and term_grid.kato = territory_sums.kato
        and term_grid.period_id = territory_sums.period_id
    left join office_sums
        on term_grid.indicator_code = office_sums.indicator_code
        and term_grid.role = office_sums.role
        and term_grid.office_code = office_sums.office_code
        and term_grid.period_id = office_sums.period_id
),

counts as (
    select
        indicator_code,
        office_code,
        kato,
        territory_level,
        period_id,
        period_kind,
        period_start,
        period_end,
        amount as numerator,
        cast(null as bigint) as denominator,
        cast(amount as decimal(20, 1)) as value
    from term_values
    where role = 'value'
),

percentages as (
    select
        numerators.indicator_code,
        numerators.office_code,
        numerators.kato,
        numerators.territory_level,
        numerators.period_id,
        numerators.period_kind,
        numerators.period_start,
        numerators.period_end,
        numerators.amount as numerator,
        denominators.amount as denominator,
        {{ percent_half_up('numerators.amount', 'denominators.amount') }} as value
    from term_values as numerators
    inner join term_values as denominators
        on numerators.indicator_code = denominators.indicator_code
        and numerators.office_code = denominators.office_code
        and numerators.kato = denominators.kato
        and numerators.period_id = denominators.period_id
        and denominators.role = 'denominator'
    where numerators.role = 'numerator'
),

combined as (
    select * from counts
    union all
    select * from percentages
),

final as (
    select
        combined.indicator_code,
        combined.office_code,
        combined.kato,
        combined.territory_level,
        combined.period_id,
        combined.period_kind,
        cast(combined.period_start as date) as period_start,
        cast(combined.period_end as date) as period_end,
        indicators.unit,
        cast(combined.numerator as bigint) as numerator,
        cast(combined.denominator as bigint) as denominator,
        cast(combined.value as decimal(20, 1)) as value,
        -- counts as an integer for analysts (value stays decimal: the extracts read it)
        case when indicators.unit <> 'percent' then cast(combined.numerator as bigint) end as count_value,
        -- the DHIS2 and SDMX forms of period_id, which the extracts write
        periods.dhis2_period_id,
        periods.sdmx_period_id,
        office_inputs.inputs_digest
    from combined
    inner join indicators
        on combined.indicator_code = indicators.indicator_code
    left join periods
        on combined.period_id = periods.period_id
    left join office_inputs
        on combined.office_code = office_inputs.office_code
)

select * from final
