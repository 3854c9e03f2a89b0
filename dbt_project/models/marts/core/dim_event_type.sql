-- Code list 'event_type' (config/forms.yml via raw.cfg_codes).
{{ code_dimension('event_type') }}
