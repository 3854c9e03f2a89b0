"""What a report is made from: the offices of the folder and the rows, history, submissions and
validation summary of the period (ReportData), and the plans read from the indicator catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field

from exports.formats import Row
from pcve.core.periods import Period


@dataclass(frozen=True)
class Office:
    code: str
    name_kk: str
    name_ru: str
    root_kato: str
    periodicity: str = "month"  # month | quarter: the office's submission period
    due_days: int = 0


@dataclass
class ReportData:
    period: Period
    profile: str  # ministry | public
    offices: list[Office]  # the offices of the folder, in order
    rows: list[Row]  # this period's rows as published (after the profile's suppression)
    history: dict[str, list[Row]] = field(default_factory=dict)  # other period id -> published rows
    submissions: list[dict] = field(default_factory=list)  # the manifest's submissions (current ones used)
    versions: list[dict] = field(default_factory=list)  # accepted versions: current and superseded
    left_out: list[dict] = field(default_factory=list)  # the manifest's offices_left_out
    validation: dict = field(default_factory=dict)  # the manifest's validation summary
    plans: dict[str, str] = field(default_factory=dict)  # count indicator -> percentage giving its plan
    program: dict[str, str] = field(default_factory=dict)  # name_kk, name_ru
    docs: str | None = None  # base URL where docs/ is served (PCVE_DOCS_URL); None: no links
    office_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # every office: (kk, ru)
    status: str = "final"  # final | provisional (a period not complete: `pcve export --provisional`)


def plans_from_terms(terms: dict[str, dict[str, tuple]], units: dict[str, str]) -> dict[str, str]:
    """Count indicator -> the percentage that measures it against a plan.

    A percentage whose numerator is exactly a count indicator's value term and
    whose denominator is another measure of the same form with the same filter
    (``OUT_PLAN_PCT`` = outreach.conversations / outreach.conversations_planned for
    ``OUT_CONVERSATIONS``). A ratio across forms (``REH_RATE_PCT``) is not a plan.
    """
    value_terms = {t["value"]: code for code, t in terms.items() if "value" in t and units.get(code) != "percent"}
    out = {}
    for code, t in sorted(terms.items()):
        num_t, den_t = t.get("numerator"), t.get("denominator")
        if num_t is None or den_t is None or num_t not in value_terms:
            continue
        if den_t[0] == num_t[0] and den_t[2:] == num_t[2:] and den_t[1] != num_t[1] and den_t[1] != "_rows":
            out.setdefault(value_terms[num_t], code)
    return out
