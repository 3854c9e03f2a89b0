"""Demo and synthetic office submissions.

`write_demo(inbox)` writes the demo workbooks that `pcve demo` runs through the
pipeline: Almaty (monthly, Kazakh, 2017-01 … 2018-12) and Turkistan
(quarterly, Russian, 2025-Q1 … Q3). Run through the warehouse they reproduce
every figure of ../shared/spec/published-figures.md (tests/oracle.py recomputes
them from `demo_submissions()`). The demo also holds one rejected draft
(quarantine) and one correction (supersede).

`write_synth(inbox, offices, years, ...)` writes benchmark workbooks for N
offices (the two real ones plus generated regions, returned as configuration).

Everything is deterministic: the same bytes and the same file times on every
run. Workbooks follow ../shared/spec/forms.md and look like office files:
title lines, column-numbering rows, columns in varying order, totals rows,
signature lines, numbers typed as text, months as dates or month names.
No names of persons or phone numbers appear anywhere.

The package uses only the foundation (pcve.config, pcve.periods): model.py (the canonical
submission, month names, seeds), names.py (place names as clerks type them), render.py (sheets),
xlsx.py (the two writers), scenarios.py (the demo), synth.py (benchmark offices; the regions and
district stems come from regions.csv and district_stems.csv beside it).
"""

from pcve.demo.model import FORM_ORDER, KK_MONTHS, RU_MONTHS, Grid, Submission, nfc
from pcve.demo.render import render_sheet, render_workbook
from pcve.demo.scenarios import CAMPAIGN_TITLE, LEAGUE_TITLE, demo_submissions, write_demo
from pcve.demo.synth import write_synth, write_synth_config

__all__ = ["CAMPAIGN_TITLE", "FORM_ORDER", "KK_MONTHS", "LEAGUE_TITLE", "RU_MONTHS", "Grid", "Submission",
           "demo_submissions", "nfc", "render_sheet", "render_workbook", "write_demo", "write_synth",
           "write_synth_config"]
