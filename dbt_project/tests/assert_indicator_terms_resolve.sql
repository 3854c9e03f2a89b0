-- Every indicator term in the configuration names a form, a measure and a filter column that the
-- measures view (macro form_catalogue) provides; otherwise the indicator would silently be 0.
{%- set catalogue = form_catalogue() %}

with terms as (
    select * from {{ ref('stg_config__indicator_terms') }}
),

available_measures as (
    {%- for form, spec in catalogue.items() %}
        {%- for measure in ['_rows'] + spec['measures'] %}
            select
                '{{ form }}' as form,
                '{{ measure }}' as name
            {%- if not loop.last %} union all{% endif %}
        {%- endfor %}
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
),

available_codes as (
    {%- for form, spec in catalogue.items() %}
        {%- for code in spec['codes'] %}
            select
                '{{ form }}' as form,
                '{{ code }}' as name
            {%- if not loop.last %} union all{% endif %}
        {%- endfor %}
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
)

select terms.*
from terms
where not exists (
        select 1 from available_measures
        where available_measures.form = terms.form and available_measures.name = terms.measure
    )
    or (
        terms.filter_column is not null
        and not exists (
            select 1 from available_codes
            where available_codes.form = terms.form and available_codes.name = terms.filter_column
        )
    )
