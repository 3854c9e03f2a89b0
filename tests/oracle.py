"""The test oracle: what the warehouse and its extracts must hold, recomputed in plain Python from the
demo's scenario data (`pcve.demo.demo_submissions()`, the rows written into the workbooks) and the
rules of ../shared/spec/indicators.md. It never reads the warehouse, so a test that compares the two
checks the pipeline (parse, validate, dbt, exports) against an independent computation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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


# --------------------------------------------------------------------------------------------
# Every cell of every extract: period × office × territory × indicator (spec/indicators.md).
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One row of an extract as the spec defines it. Counts: value = numerator, no denominator;
    percentages: the summed numerator and denominator (0 over no values) and the rounded value,
    None where the denominator is 0."""

    unit: str
    value: int | float | None
    numerator: int | None
    denominator: int | None

    @property
    def is_person_count(self) -> bool:
        return self.unit == "persons"


def norm_period(text: str) -> str:
    """One spelling for a period id, whatever style a table or file uses: `2017`, `2017-Q1`, `2017-03`
    (DHIS2 `2017Q1`/`201703` and SDMX `2017-Q1`/`2017-03` both map onto it)."""
    t = str(text).strip()
    if m := re.fullmatch(r"(\d{4})-?Q([1-4])", t):
        return f"{m[1]}-Q{m[2]}"
    if m := re.fullmatch(r"(\d{4})-?(0[1-9]|1[0-2])", t):
        return f"{m[1]}-{m[2]}"
    if re.fullmatch(r"\d{4}", t):
        return t
    raise ValueError(f"not a period id: {text!r}")


def fmt_value(v: int | float | None) -> str:
    """The spec's plain number: counts as integers, percentages with exactly one decimal, empty for none."""
    if v is None:
        return ""
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def _sum_term(t, rows: list[dict]) -> int | None:
    rows = [r for r in rows if t.filter_column is None or r.get(t.filter_column) == t.filter_value]
    if t.measure == "_rows":
        return len(rows)
    vals = [r[t.measure] for r in rows if r.get(t.measure) is not None]
    return sum(vals) if vals else None


def _cells_of(cfg: Config, forms: dict[str, list[dict]]) -> dict[str, Cell]:
    out: dict[str, Cell] = {}
    for ind in cfg.indicators:
        if ind.is_percent:
            if ind.numerator.form not in forms or ind.denominator.form not in forms:
                continue  # a form not reported in the period: the percentage is absent
            n = _sum_term(ind.numerator, forms[ind.numerator.form]) or 0
            d = _sum_term(ind.denominator, forms[ind.denominator.form]) or 0
            out[ind.code] = Cell(ind.unit, _round1(n, d), n, d)
        elif ind.value.form in forms:
            v = _sum_term(ind.value, forms[ind.value.form]) or 0
            out[ind.code] = Cell(ind.unit, v, v, None)
    return out


def _months_in(pid: str) -> set[str]:
    if "-Q" in pid:
        y, q = pid.split("-Q")
        return {f"{y}-{3 * (int(q) - 1) + m:02d}" for m in (1, 2, 3)}
    return {f"{pid}-{m:02d}" for m in range(1, 13)}


def _quarters_in(pid: str) -> set[str]:
    return {pid} if "-Q" in pid else {f"{pid}-Q{q}" for q in (1, 2, 3, 4)}


def complete_periods(subs: list[Submission], periodicity: dict[str, str]) -> dict[str, list[str]]:
    """{period (`2017`, `2017-Q1`): [offices complete for it]}: a quarter is complete when each of the
    office's submission periods in it has an accepted submission, a year when its four quarters are."""
    have: dict[str, set[str]] = {}
    for s in current_submissions(subs):
        have.setdefault(s.office, set()).add(norm_period(s.period.token))
    out: dict[str, list[str]] = {}
    for office, got in sorted(have.items()):
        years = {p[:4] for p in got}
        candidates = {q for y in years for q in _quarters_in(y)} | years
        for pid in sorted(candidates):
            need = _months_in(pid) if periodicity[office] == "month" else _quarters_in(pid)
            if need <= got:
                out.setdefault(pid, []).append(office)
    return out


def extract_cells(config_dir: str | None = None) -> dict[tuple[str, str, str, str], Cell]:
    """{(period `2017-Q1`, indicator, office, kato): Cell} for every extract folder of the demo.

    The office row (its root KATO) counts every row of the office, office-wide forms and rows
    submitted under the root included; a district's row counts that district's rows only (0 where
    it has none). An office has a row for each of its territories in config/territories.csv."""
    cfg = load_config(config_dir)
    subs = demo_submissions(config_dir)
    cur = current_submissions(subs)
    periodicity = {o: cfg.offices[o].periodicity for o in cfg.offices}
    out: dict[tuple[str, str, str, str], Cell] = {}
    for pid, offices in complete_periods(subs, periodicity).items():
        inside = _months_in(pid)
        for office in offices:
            ss = [s for s in cur if s.office == office
                  and (norm_period(s.period.token) in inside or norm_period(s.period.token) in _quarters_in(pid))]
            root = cfg.offices[office].root_kato
            for t in cfg.office_territories(office):
                forms: dict[str, list[dict]] = {}
                for s in ss:
                    for f, rows in s.forms.items():
                        mine = rows if t.kato == root else [r for r in rows if r.get("kato") == t.kato]
                        forms.setdefault(f, []).extend(mine)
                for code, cell in _cells_of(cfg, forms).items():
                    out[(pid, code, office, t.kato)] = cell
    return out


def public_primary(cells: dict[tuple[str, str, str, str], Cell]) -> set[tuple[str, str, str, str]]:
    """The cells the public profile must suppress as `A`: person counts from 1 to 4."""
    return {k for k, c in cells.items() if c.is_person_count and c.value is not None and 1 <= c.value <= 4}


def fact_rows(config_dir: str | None = None) -> dict[str, list[dict]]:
    """{form: rows of the current accepted submissions}, each row with its office and submission period."""
    out: dict[str, list[dict]] = {}
    for s in current_submissions(demo_submissions(config_dir)):
        for form, rows in s.forms.items():
            for r in rows:
                out.setdefault(form, []).append({**r, "_office": s.office, "_period": norm_period(s.period.token)})
    return out
