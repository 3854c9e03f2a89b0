-- Code list 'provider' (config/forms.yml via raw.cfg_codes).
{{ code_dimension('provider') }}
