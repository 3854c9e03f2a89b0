{#- Exact integer arithmetic that gives the same answer on DuckDB and PostgreSQL. -#}

{#- Floor of a / b for non-negative integers (b > 0). -#}
{% macro int_div(a, b) -%}
    {{ return(adapter.dispatch('int_div', 'pcve')(a, b)) }}
{%- endmacro %}

{% macro default__int_div(a, b) -%}
    (cast({{ a }} as bigint) / cast({{ b }} as bigint))
{%- endmacro %}

{% macro duckdb__int_div(a, b) -%}
    (cast({{ a }} as bigint) // cast({{ b }} as bigint))
{%- endmacro %}

{#- 100 * numerator / denominator rounded half-up to one decimal, exactly (6.25 -> 6.3):
    tenths = floor((2000 * num + den) / (2 * den)) in integers, then scaled by 0.1 as a decimal.
    Null where the denominator is 0 or null: a percentage of nothing is empty, not zero. -#}
{% macro percent_half_up(numerator, denominator) -%}
    case
        when {{ denominator }} > 0
            then cast(
                cast(
                    {{ pcve.int_div('2000 * cast(' ~ numerator ~ ' as bigint) + cast(' ~ denominator ~ ' as bigint)',
                                    '2 * cast(' ~ denominator ~ ' as bigint)') }}
                    as decimal(20, 0)
                ) * cast(0.1 as decimal(2, 1))
                as decimal(20, 1)
            )
    end
{%- endmacro %}
