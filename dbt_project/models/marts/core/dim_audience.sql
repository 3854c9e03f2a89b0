-- Code list 'audience' (config/forms.yml via raw.cfg_codes).
{{ code_dimension('audience') }}
