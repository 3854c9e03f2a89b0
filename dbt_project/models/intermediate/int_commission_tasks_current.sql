-- The commission_tasks rows of the current submissions only.
{{ current_form_rows('commission_tasks') }}
