-- The outreach rows of the current submissions only.
{{ current_form_rows('outreach') }}
