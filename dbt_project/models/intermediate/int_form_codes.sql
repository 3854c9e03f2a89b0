-- Every current form row's code columns unpivoted into (code_column, code_value): what an
-- indicator term's filter_column / filter_value is matched against.

{% for form, spec, code_column in form_catalogue_columns('codes') %}
    select
        '{{ form }}' as form,
        {{ spec['row_id'] }} as form_row_id,
        '{{ code_column }}' as code_column,
        cast({{ code_column }} as varchar) as code_value
    from {{ ref(spec['model']) }}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
