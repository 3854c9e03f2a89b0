{#- Building a model of current form rows incrementally, by (form, submission): the rows of a submission
    id never change (a re-load replaces them with the same parse of the same archived file; a raw-layer
    rebuild or a code change is a full build, --full-refresh), so a build deletes the rows of the
    (form, submission) pairs no longer current (superseded, voided: the pre-hook) and adds those of
    the current pairs it lacks. One new workbook costs its own rows, not the history's. -#}

{#- Pre-hook: drop the rows whose (form, submission) is no longer current. `form`: the one form of a
    model of one form (its rows have no form column); none: the model's `form` column says. -#}
{% macro delete_stale_form_rows(form=none) -%}
    {%- if is_incremental() %}
        delete from {{ this }}
        where {{ "form || '/' || submission_id" if form is none else "submission_id" }} not in (
            select {{ "claims.form || '/' || claims.submission_id" if form is none else "claims.submission_id" }}
            from {{ ref('int_submission_forms_current') }} as claims
            where claims.is_present{% if form is not none %} and claims.form = '{{ form }}'{% endif %}
        )
    {%- else %}
        select 1
    {%- endif %}
{%- endmacro %}

{#- The current (form, submission) pairs with rows that the model lacks, as a SQL condition per form on
    `submission_id` (a list of literals: the filter reaches the raw tables' scans, as a semi-join on this
    query would not). Run when the model is compiled for execution, before its pre-hook. `form` as
    above; the result is a dict form -> condition (forms with nothing to add are absent). -#}
{% macro form_submissions_to_build(form=none) -%}
    {%- set todo = {} -%}
    {%- if execute -%}
        {%- set result = run_query(
            "select claims.form, claims.submission_id from " ~ ref('int_submission_forms_current') ~ " as claims"
            ~ " where claims.is_present and claims.row_count > 0"
            ~ (" and claims.form = '" ~ form ~ "'" if form is not none else "")
            ~ " and not exists (select 1 from " ~ this ~ " as built where built.submission_id = claims.submission_id"
            ~ (" and built.form = claims.form" if form is none else "") ~ ")"
            ~ " order by claims.form, claims.submission_id") -%}
        {%- for row in result.rows -%}
            {%- do todo.setdefault(row[0], []).append(row[1]) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set conditions = {} -%}
    {%- for form, ids in todo.items() -%}
        {%- set literals = [] -%}
        {%- for id in ids -%}
            {%- do literals.append("'" ~ (id | replace("'", "''")) ~ "'") -%}
        {%- endfor -%}
        {%- do conditions.update({form: "submission_id in (" ~ literals | join(", ") ~ ")"}) -%}
    {%- endfor -%}
    {{ return(conditions) }}
{%- endmacro %}
