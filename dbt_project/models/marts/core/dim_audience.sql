-- Code list 'audience' (config/forms.yml via stg_config__codes).
{{ code_dimension('audience') }}
