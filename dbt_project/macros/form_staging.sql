{#- The lineage columns every form's staging model starts with: the row's key and where it was read
    (submission, sheet, row number) and its territory. One place, so the five forms cannot drift. -#}
{% macro form_lineage_columns(row_id_name, relation_alias='source') -%}
    {{ form_row_id(relation_alias) }} as {{ row_id_name }},
    {{ relation_alias }}.submission_id,
    {{ relation_alias }}.sheet as sheet_name,
    cast({{ relation_alias }}.row_number as integer) as source_row_number,
    {{ relation_alias }}.kato
{%- endmacro %}

{#- A form's rows of the current submissions only (docs/ARCHITECTURE.md, "Which submission is
    current"), with the office and submission period the current submission gives them: the body of
    each int_<form>_current model. -#}
{% macro current_form_rows(form) -%}
    {%- set spec = form_catalogue()[form] -%}
with form_rows as (
    select * from {{ ref(spec['staging_model']) }}
),

current_forms as (
    select * from {{ ref('int_submission_forms_current') }}
    where form = '{{ form }}' and is_present
),

current_rows as (
    select
        form_rows.*,
        current_forms.office_code,
        current_forms.period_id as submission_period_id
    from form_rows
    inner join current_forms
        on form_rows.submission_id = current_forms.submission_id
)

select * from current_rows
{%- endmacro %}
