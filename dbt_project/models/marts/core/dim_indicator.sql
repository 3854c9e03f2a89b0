-- The indicator catalogue (config/indicators.yml via stg_config__indicators) with its arithmetic spelt out.
with indicators as (
    select * from {{ ref('stg_config__indicators') }}
),

terms as (
    select * from {{ ref('stg_config__indicator_terms') }}
),

described_terms as (
    select
        indicator_code,
        role,
        form,
        {{ dbt.concat([
            "case when measure = '_rows' then 'count(' else 'sum(' end",
            "form", "'.'", "case when measure = '_rows' then 'rows' else measure end", "')'",
            "case when filter_column is null then '' else " ~ dbt.concat(["' where '", "filter_column", "' = '", "filter_value"]) ~ " end"
        ]) }} as term_text
    from terms
),

formulas as (
    select
        indicator_code,
        max(case when role = 'value' then term_text end) as value_term,
        max(case when role = 'numerator' then term_text end) as numerator_term,
        max(case when role = 'denominator' then term_text end) as denominator_term,
        max(case when role in ('value', 'numerator') then form end) as numerator_form,
        max(case when role = 'denominator' then form end) as denominator_form
    from described_terms
    group by indicator_code
),

final as (
    select
        indicators.indicator_code,
        indicators.sort_order,
        indicators.unit,
        (indicators.unit = 'percent') as is_percent,
        indicators.indicator_name_kk,
        indicators.indicator_name_ru,
        indicators.indicator_name_en,
        indicators.unit_kk,
        indicators.unit_ru,
        indicators.unit_en,
        case
            when indicators.unit = 'percent'
                then {{ dbt.concat(["'100 * '", "formulas.numerator_term", "' / '", "formulas.denominator_term"]) }}
            else formulas.value_term
        end as formula,
        formulas.numerator_form,
        formulas.denominator_form
    from indicators
    left join formulas
        on indicators.indicator_code = formulas.indicator_code
)

select * from final
