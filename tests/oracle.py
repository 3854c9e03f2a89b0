"""The test oracle: what the warehouse and its extracts must hold, recomputed in plain Python from the
demo's scenario data (`pcve.demo.demo_submissions()`, the rows written into the workbooks) and the
rules of ../shared/spec/indicators.md. It never reads the warehouse, so a test that compares the two
checks the pipeline (parse, validate, dbt, exports) against an independent computation.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from pcve.config import Config, load_config
from pcve.demo import CAMPAIGN_TITLE, LEAGUE_TITLE, Submission, demo_submissions
from pcve.periods import Period


def _round1(num: int, den: int | None) -> float | None:
    if not den:
        return None
    v = (Decimal(100) * Decimal(num) / Decimal(den)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(v)


def indicator_values(cfg: Config, forms: dict[str, list[dict]]) -> dict[str, int | float | None]:
    """Indicator values (office total) over the given rows; forms missing from `forms` were not reported.

    Counts are ints (0 over no matching rows); a percentage is rounded half-up to one decimal, or None
    (empty) where its denominator is 0 or has no values; an indicator on an unreported form is left out.
    """

    def term(t):
        if t.form not in forms:
            return "absent"
        rows = [r for r in forms[t.form] if t.filter_column is None or r.get(t.filter_column) == t.filter_value]
        if t.measure == "_rows":
            return len(rows)
        vals = [r[t.measure] for r in rows if r.get(t.measure) is not None]
        return sum(vals) if vals else None

    out: dict[str, int | float | None] = {}
    for ind in cfg.indicators:
        if ind.is_percent:
            n, d = term(ind.numerator), term(ind.denominator)
            if "absent" in (n, d):
                continue
            out[ind.code] = _round1(n or 0, d)
        else:
            v = term(ind.value)
            if v != "absent":
                out[ind.code] = v or 0
    return out


def current_submissions(subs: list[Submission]) -> list[Submission]:
    """The accepted submission of each office and period that is current (the latest received)."""
    cur: dict[tuple[str, Period], Submission] = {}
    for s in sorted(subs, key=lambda s: (s.received, s.file_name)):
        if s.status != "rejected":
            cur[(s.office, s.period)] = s
    return [cur[k] for k in sorted(cur, key=lambda k: (k[0], k[1]))]


def demo_expectations(config_dir: str | None = None) -> dict:
    """The exact indicator values (office totals) the demo gives in each extract period.

    {period_id (DHIS2: "2017", "2017Q1", "2025Q3"): {office_code: {indicator_code: value}}}
    Only complete periods (extract folders): Almaty's quarters and years 2017-2018, Turkistan's
    quarters 2025Q1-Q3. Counts are ints; percentages floats with one decimal, None where empty.
    """
    cfg = load_config(config_dir)
    cur = current_submissions(demo_submissions(config_dir))
    groups: dict[str, dict[str, list[Submission]]] = {}
    for s in cur:
        q = s.period.quarter()
        groups.setdefault(q.dhis2, {}).setdefault(s.office, []).append(s)
        if s.office == "almaty":  # 2025 is not complete for Turkistan (Q4 missing)
            groups.setdefault(str(s.period.year), {}).setdefault(s.office, []).append(s)
    out: dict = {}
    for pid in sorted(groups):
        for office, ss in sorted(groups[pid].items()):
            forms: dict[str, list[dict]] = {}
            for s in ss:
                for f, rows in s.forms.items():
                    forms.setdefault(f, []).extend(rows)
            out.setdefault(pid, {})[office] = indicator_values(cfg, forms)
    return out


def demo_facts(config_dir: str | None = None) -> dict:
    """Published figures that no indicator carries (checked in the warehouse's fact tables)."""
    cur = current_submissions(demo_submissions(config_dir))

    def rows(office, form, year):
        return [r for s in cur if s.office == office and s.period.year == year for r in s.forms.get(form, [])]

    league = next(r for r in rows("almaty", "events", 2017) if r.get("title") == LEAGUE_TITLE)
    com_q3 = [r for r in rows("turkistan", "commission", 2025)
              if r["body"] == "commission" and r["meeting_date"] >= date(2025, 7, 1)]
    latest = max(com_q3, key=lambda r: r["meeting_date"])
    return {
        "almaty_2017_league": {k: league[k] for k in ("event_date", "teams", "mosques", "participants",
                                                      "participants_adherents")} | {"title": LEAGUE_TITLE},
        "almaty_2018_conversations_planned": sum(r["conversations_planned"] or 0
                                                 for r in rows("almaty", "outreach", 2018)),
        "almaty_2017_providers": sorted({r["provider"] for r in rows("almaty", "rehabilitation", 2017)}),
        "turkistan_campaign_title": CAMPAIGN_TITLE,
        "turkistan_2025Q3_latest_session": {"meeting_date": latest["meeting_date"], "body": "commission",
                                            "agenda_items": latest["agenda_items"]},
    }
