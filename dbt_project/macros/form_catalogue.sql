{#- The forms whose rows feed indicators: the model of their current rows (`model`) and of all
    their rows (`staging_model`), the integer columns an indicator term may sum
    (`cfg_indicator_terms.measure`; `_rows` counts rows), and the code columns a term may filter on
    (`filter_column`). These are the columns of config/forms.yml; the test
    `assert_indicator_terms_resolve` fails if an indicator names one missing here, so a new
    indicator over existing columns is a config entry only. -#}
{% macro form_catalogue() -%}
    {{ return({
        'outreach': {
            'model': 'int_outreach_current',
            'staging_model': 'stg_submissions__outreach',
            'row_id': 'outreach_row_id',
            'measures': ['adherents_new', 'conversations', 'conversations_planned'],
            'codes': ['direction'],
        },
        'rehabilitation': {
            'model': 'int_rehabilitation_current',
            'staging_model': 'stg_submissions__rehabilitation',
            'row_id': 'rehabilitation_row_id',
            'measures': ['enrolled_new', 'rehabilitated', 'withdrawn'],
            'codes': ['provider'],
        },
        'events': {
            'model': 'int_events_current',
            'staging_model': 'stg_submissions__events',
            'row_id': 'event_id',
            'measures': ['teams', 'mosques', 'participants', 'participants_women', 'participants_adherents'],
            'codes': ['event_type', 'audience'],
        },
        'commission': {
            'model': 'int_commission_current',
            'staging_model': 'stg_submissions__commission',
            'row_id': 'meeting_id',
            'measures': ['agenda_items', 'tasks_assigned'],
            'codes': ['body'],
        },
        'commission_tasks': {
            'model': 'int_commission_tasks_current',
            'staging_model': 'stg_submissions__commission_tasks',
            'row_id': 'task_execution_id',
            'measures': ['tasks_due', 'done_on_time', 'done_late'],
            'codes': ['responsible'],
        },
    }) }}
{%- endmacro %}

{#- Every (form, spec, column) of the catalogue's `kind` columns (measures or codes), `extra` first
    in each form: the select branches of the unpivoted views int_form_measures and int_form_codes. -#}
{% macro form_catalogue_columns(kind, extra=[]) -%}
    {%- set triples = [] -%}
    {%- for form, spec in form_catalogue().items() -%}
        {%- for column in extra + spec[kind] -%}
            {%- do triples.append((form, spec, column)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(triples) }}
{%- endmacro %}
