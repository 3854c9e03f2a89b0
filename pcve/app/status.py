"""What each office sent, what became of it, and what is still owed.

Read from the ledger and the configuration only, so it answers even when the
warehouse is being rebuilt or is damaged.
"""

from __future__ import annotations

from datetime import date, timedelta

from ingest.ledger import LedgerState, Submission
from pcve.core.config import load_config
from pcve.core.home import Home
from pcve.core.periods import Period, parse_period, periods_between, today_almaty


def _last_ended(periodicity: str, as_of: date) -> Period:
    """The latest submission period that has ended on as_of."""
    if periodicity == "month":
        y, m = (as_of.year, as_of.month - 1) if as_of.month > 1 else (as_of.year - 1, 12)
        return Period("month", y, m)
    q = (as_of.month - 1) // 3
    return Period("quarter", as_of.year, q) if q else Period("quarter", as_of.year - 1, 4)


def effective_status(state: LedgerState) -> dict[str, str]:
    """accepted submissions no longer current for any form they carry become 'superseded'."""
    cfg = load_config()
    out = {sid: s.status for sid, s in state.submissions.items()}
    accepted = sorted((s for s in state.submissions.values() if s.status == "accepted"), key=lambda s: s.seq)
    latest: dict[tuple[str, str, str], Submission] = {}
    for s in accepted:
        forms = cfg.forms if s.scope == "workbook" else [s.scope]
        for f in forms:
            latest[(s.office, s.period, f)] = s
    current = {s.submission_id for s in latest.values()}
    for s in accepted:
        if s.submission_id not in current:
            out[s.submission_id] = "superseded"
    return out


def status(home, as_of: date | None = None, received_by: date | None = None) -> dict:
    """received_by: only submissions received on or before that day count (the ledger as it
    stood then: a report for a past day must not see files that arrived later)."""
    h = Home.at(home)
    cfg = load_config()
    as_of = as_of or today_almaty()
    state = LedgerState.load(h.ledger)
    if received_by is not None:
        last = received_by.isoformat()
        state.submissions = {sid: s for sid, s in state.submissions.items()
                             if (s.received_at or "")[:10] <= last}
    eff = effective_status(state)
    report: dict = {"home": str(h.root), "as_of": as_of.isoformat(), "offices": {}}
    for code, office in sorted(cfg.offices.items()):
        subs = sorted((s for s in state.submissions.values() if s.office == code), key=lambda s: s.seq)
        periods: dict[str, dict] = {}
        for s in subs:
            key = s.period or "(no period)"
            p = periods.setdefault(key, {"received": [], "current": None})
            p["received"].append({
                "submission_id": s.submission_id, "file": s.file_name, "received_at": s.received_at,
                "status": eff[s.submission_id], "errors": s.errors, "warnings": s.warnings,
                "rules": s.rules, "quarantine": s.quarantine_path,
            })
            if eff[s.submission_id] == "accepted":
                p["current"] = s.submission_id
        first = parse_period(office.reports_from)
        last = _last_ended(office.periodicity, as_of)
        owed = periods_between(first, last) if last >= first else []
        missing = []
        for p in owed:
            if not (periods.get(p.token) or {}).get("current"):
                due = p.end + timedelta(days=office.due_days)
                missing.append({"period": p.token, "due": due.isoformat(), "overdue": due < as_of})
        report["offices"][code] = {
            "name": office.name_en, "periodicity": office.periodicity,
            "periods": dict(sorted(periods.items())), "missing": missing,
            "counts": {k: sum(1 for s in subs if eff[s.submission_id] == k)
                       for k in ("accepted", "superseded", "rejected", "duplicate", "voided", "received")},
        }
    return report


def overdue(home, as_of: str | None = None) -> list[dict]:
    """What was overdue on as_of (default today), from the files received by then."""
    d = date.fromisoformat(as_of) if as_of else today_almaty()
    rep = status(home, as_of=d, received_by=d)
    out = []
    for code, o in rep["offices"].items():
        for m in o["missing"]:
            if m["overdue"]:
                out.append({"office": code, "period": m["period"], "due": m["due"],
                            "days_overdue": (d - date.fromisoformat(m["due"])).days})
    return out
