-- Every indicator has the terms its unit calls for: one value term for a count, one numerator and
-- one denominator term for a percentage.
with indicators as (
    select * from {{ ref('stg_config__indicators') }}
),

terms as (
    select * from {{ ref('stg_config__indicator_terms') }}
),

shape as (
    select
        indicators.indicator_code,
        indicators.unit,
        sum(case when terms.role = 'value' then 1 else 0 end) as n_value,
        sum(case when terms.role = 'numerator' then 1 else 0 end) as n_numerator,
        sum(case when terms.role = 'denominator' then 1 else 0 end) as n_denominator
    from indicators
    left join terms on indicators.indicator_code = terms.indicator_code
    group by indicators.indicator_code, indicators.unit
)

select * from shape
where (unit = 'percent' and not (n_value = 0 and n_numerator = 1 and n_denominator = 1))
    or (unit <> 'percent' and not (n_value = 1 and n_numerator = 0 and n_denominator = 0))
