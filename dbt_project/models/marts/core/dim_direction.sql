-- Code list 'direction' (config/forms.yml via stg_config__codes).
{{ code_dimension('direction') }}
