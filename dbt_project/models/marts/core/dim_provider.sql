-- Code list 'provider' (config/forms.yml via stg_config__codes).
{{ code_dimension('provider') }}
