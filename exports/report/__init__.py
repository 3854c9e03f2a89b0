"""report.html: one period's extract for people to read, in Kazakh and Russian.

One self-contained HTML file per extract folder (inline CSS and SVG, no script
fetches anything, no font or image from elsewhere), printable on A4 with a page
per office. For each office complete in the period:

1. the indicators against the previous period of the same kind (the quarter
   before, the year before) with the change, and against plan where the
   catalogue has one (a percentage whose numerator is a count's own term and
   whose denominator comes from the same form: ``OUT_PLAN_PCT`` =
   conversations / conversations planned, so ``OUT_CONVERSATIONS`` has a plan);
2. plan fulfilment per territory (bars against the 100 % line);
3. the quarterly trend of every indicator with data, up to eight complete
   quarters ending with this period (inline SVG bar charts);
4. a map-like heat table of territories × indicators, coloured per indicator
   relative to the largest territory value;
5. completeness and lateness: every submission period inside the period with its
   due date, when its first accepted version arrived, days before/after the due
   date, corrections, validation counts;
6. links to the validation Data Docs and the dbt docs, where they are served (``PCVE_DOCS_URL``).

Deterministic: a pure function of its inputs, no wall-clock time (the only times
are the submissions' received times), so reruns are byte-identical.

Self-contained: the report carries the validation summary it needs and links to
nothing on disk, so the folder works wherever it is copied (the ministry gets
plain files). Links to the Data Docs and the dbt docs are written only when a
base URL where they are served is configured (``PCVE_DOCS_URL``, e.g.
``https://pcve.example.kz/docs``: ``<url>/validation/index.html``,
``<url>/dbt/index.html``); without it the report names their path in the
pipeline home. Relative links (``../../docs/``) were dropped: they broke as soon as
the folder was sent, and ``file://`` links would put a server path into a
delivered file and make the bytes depend on where the home lives.

One module per concern: labels.py (words, periods, numbers), data.py (what a report is made
from), css.py, charts.py (inline SVG), sections.py (one per part of an office's page), render.py
(the whole file and its revision note).

Public profile: the report is written from the *public* rows of every period it
shows (each earlier period suppressed exactly as its own public folder is), so
a suppressed cell shows ``к`` and never a value; colour scales and chart axes
are computed from published values only (a scale maximum could otherwise reveal
a hidden value), and changes against a suppressed cell are suppressed too. The
internal Data Docs (which list sample unexpected values) are not linked.
"""

from exports.report.data import Office, ReportData, plans_from_terms
from exports.report.labels import history_periods
from exports.report.render import REVISION_SLOT, render_report, revision_note, with_revision

__all__ = ["REVISION_SLOT", "Office", "ReportData", "history_periods", "plans_from_terms", "render_report",
           "revision_note", "with_revision"]
