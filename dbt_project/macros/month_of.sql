{#- The calendar month a dated fact row falls in, joined as `months`: the join every dated fact
    shares (fct_events, fct_outreach, fct_rehabilitation, fct_commission_activity). `periods` names
    a CTE over stg_config__periods. -#}
{% macro month_of(date_column, periods='periods') -%}
    left join {{ periods }} as months
        on months.period_kind = 'month'
        and {{ date_column }} between months.period_start and months.period_end
{%- endmacro %}

{#- A fact's or mart's period id with its DHIS2 and SDMX forms, from a stg_config__periods alias. -#}
{% macro period_id_columns(periods='periods') -%}
    {{ periods }}.period_id,
    {{ periods }}.dhis2_period_id,
    {{ periods }}.sdmx_period_id
{%- endmacro %}
