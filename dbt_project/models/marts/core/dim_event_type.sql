-- Code list 'event_type' (config/forms.yml via stg_config__codes).
{{ code_dimension('event_type') }}
