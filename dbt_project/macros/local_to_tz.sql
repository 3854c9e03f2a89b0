{#- A wall-clock timestamp of var('local_time_zone') (Asia/Almaty: ingest's received_at) as the
    instant it names, with its zone (timestamptz). `AT TIME ZONE` on a timestamp without zone does
    this on both DuckDB (ICU) and PostgreSQL. -#}
{% macro local_to_tz(column) -%}
    ({{ column }} at time zone '{{ var("local_time_zone", "Asia/Almaty") }}')
{%- endmacro %}
