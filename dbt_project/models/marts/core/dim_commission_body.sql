-- Code list 'body' (config/forms.yml via raw.cfg_codes): commission session or working group.
{{ code_dimension('body') }}
