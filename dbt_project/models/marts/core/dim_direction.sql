-- Code list 'direction' (config/forms.yml via raw.cfg_codes).
{{ code_dimension('direction') }}
