-- Code list 'body' (config/forms.yml via stg_config__codes): commission session or working group.
{{ code_dimension('body') }}
