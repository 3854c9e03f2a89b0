-- Each indicator term summed over the current form rows it selects, per office, territory (kato)
-- and submission period: the base that mart_indicator_values rolls up to months, quarters, years
-- and office totals. Generic: the join to raw.cfg_indicator_terms does all the indicator logic.
with terms as (
    select * from {{ ref('stg_config__indicator_terms') }}
),

measures as (
    select * from {{ ref('int_form_measures') }}
),

codes as (
    select * from {{ ref('int_form_codes') }}
),

selected as (
    select
        terms.indicator_code,
        terms.role,
        terms.form,
        measures.office_code,
        measures.kato,
        measures.submission_period_id,
        measures.amount
    from terms
    inner join measures
        on terms.form = measures.form
        and terms.measure = measures.measure
    left join codes
        on measures.form = codes.form
        and measures.form_row_id = codes.form_row_id
        and terms.filter_column = codes.code_column
    where terms.filter_column is null
        or codes.code_value = terms.filter_value
),

summed as (
    select
        indicator_code,
        role,
        form,
        office_code,
        kato,
        submission_period_id,
        coalesce(sum(amount), 0) as amount
    from selected
    group by indicator_code, role, form, office_code, kato, submission_period_id
)

select * from summed
