"""The ministry extract: one folder per complete quarter and year.

``write_extracts`` reads the warehouse read-only (the marts of
docs/ARCHITECTURE.md and the raw cfg/ledger tables), and for every quarter and
year in which at least one office is complete writes ``<base>/<period>/``:
``indicators.csv``, ``indicators.xlsx``, ``dhis2.json`` with ``dhis2_metadata.json``
(:mod:`exports.dhis2_metadata`), ``sdmx.csv`` with ``sdmx_structure.xml``
(:mod:`exports.sdmx_structure`), ``report.html`` and ``manifest.json`` (plus
``CHANGES.csv`` from revision 2 on), as ``shared/spec/indicators.md`` says. The
folder holds every office complete for that period and only that period's rows;
the manifest lists the offices left out and what they miss.

A period whose delivered content (:func:`manifest.content_key`: the data files and
which offices, not the provenance or the report) is unchanged is left untouched; a
changed one is written as the next revision, its report opening with the revision's
note (:func:`revisions.note`), and swapped in atomically (:mod:`exports.revisions`).
A provisional folder (an incomplete period, on demand) goes to ``<home>/provisional/``. A period
whose *inputs* are unchanged is not even rendered, nor are its rows read: its key
(a digest of everything its files are made from, :mod:`exports.input_keys`) equals
the one its intact current revision was rendered from (``input_key`` of the
ministry's manifest, and ``<home>/state/export_inputs/``).

The step is split by concern: :mod:`exports.warehouse_read` reads the warehouse (rows
only of the periods rendered), :mod:`exports.input_keys` decides what is unchanged,
:mod:`exports.render_pool` renders several periods in forked workers; this module
selects the periods, builds each folder's files and publishes its revisions.
Profiles: ``ministry`` (everything, ``conf_status`` F) and ``public``
(:mod:`exports.suppression`), written by default to ``<home>/exports/`` and
``<home>/exports/public/``; ``out`` replaces that base folder. Ministry
extracts are then delivered to ``PCVE_MINISTRY_LOCATION`` when it is set
(:mod:`exports.delivery`).
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import json
import logging
from pathlib import Path

from exports import formats, manifest, report, revisions
from exports.formats import Row
from exports.input_keys import (  # noqa: F401 (the exporter's names, importable from here as before)
    InputKeys as _InputKeys,
)
from exports.input_keys import (
    _inputs_file,
    _load_inputs,
    _manifest_digest,
    _plan_by_inputs,
    _save_inputs,
    plan_by_source,
    row_periods,
)
from exports.render_pool import render as _render
from exports.render_pool import workers_within_budget as _workers_within_budget  # noqa: F401
from exports.warehouse_read import (
    EXCLUDED_STATUSES,  # noqa: F401
    load_rows,
)
from exports.warehouse_read import Warehouse as _Warehouse
from exports.warehouse_read import complete_offices as _complete_offices
from exports.warehouse_read import period_sort as _period_sort
from exports.warehouse_read import read_warehouse as _read_warehouse
from exports.warehouse_read import received as _received
from exports.warehouse_read import within as _within
from pcve.core import db
from pcve.core.config import load_config
from pcve.core.errors import TransientError
from pcve.core.home import Home
from pcve.core.periods import Period, parse_period
from pcve.core.settings import settings

log = logging.getLogger("pcve.exports")

PROFILES = ("ministry", "public")


class DeliveryError(TransientError, RuntimeError):
    """The extracts were written, but copying some of them to the ministry failed."""

    def __init__(self, message: str, summary: dict):
        super().__init__(message)
        self.summary = summary


def _left_out(wh: _Warehouse, pid: str, included: list[str]) -> list[dict]:
    out = []
    for office in sorted(wh.offices):
        if office in included:
            continue
        c = wh.completeness.get(pid, {}).get(office)
        if c is None:
            out.append({"office_code": office, "reason": "no submissions expected for this period",
                        "missing": [], "expected_submissions": 0, "accepted_submissions": 0})
        else:
            missing = [m.strip() for m in (c["missing_periods"] or "").split(",") if m.strip()]
            out.append({"office_code": office, "reason": "incomplete", "missing": missing,
                        "expected_submissions": int(c["expected_submissions"] or 0),
                        "accepted_submissions": int(c["accepted_submissions"] or 0)})
    return out


def _provenance(wh: _Warehouse, period: Period, offices: list[str]) -> tuple[list[dict], dict]:
    subs = sorted(
        (s for s in wh.submissions if s["office_code"] in offices and _within(s["period"], period)),
        key=lambda s: (s["office_code"], str(s["period"]), s["submission_id"]))
    used = []
    totals = {"submissions": len(subs), "expectations": 0, "failed": 0, "unexpected_count": 0,
              "errors": 0, "warnings": 0}
    failed_list = []
    for s in subs:
        n_results, unexpected = wh.validation_counts.get(s["submission_id"], (0, 0))
        failed = wh.validation.get(s["submission_id"], [])
        totals["expectations"] += n_results
        totals["failed"] += len(failed)
        totals["unexpected_count"] += unexpected
        totals["errors"] += int(s["error_count"] or 0)
        totals["warnings"] += int(s["warning_count"] or 0)
        for r in failed:
            failed_list.append({"submission_id": s["submission_id"], "form": r["form"],
                                "expectation": r["expectation"], "column": r["column_name"] or "",
                                "unexpected_count": int(r["unexpected_count"] or 0)})
        used.append({
            "submission_id": s["submission_id"], "office_code": s["office_code"], "period": str(s["period"]),
            "file_name": s["file_name"], "sha256": s["sha256"], "received_at": _received(s["received_at"]),
            "forms": sorted(wh.forms.get(s["submission_id"], [])),
            "expectations": n_results, "expectations_failed": len(failed),
            "errors": int(s["error_count"] or 0), "warnings": int(s["warning_count"] or 0),
        })
    totals["failed_expectations"] = sorted(
        failed_list, key=lambda f: (f["submission_id"], f["form"], f["expectation"], f["column"]))
    return used, totals


def _read_manifest(folder: Path) -> dict | None:
    try:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def _names(wh: _Warehouse) -> dict[tuple[str, str], tuple[str, str]]:
    """(indicator code, "i") and (kato, "t") -> (Kazakh, Russian) names, for the revision note."""
    out = {(i["indicator_code"], "i"): (i.get("name_kk") or "", i.get("name_ru") or "") for i in wh.indicators}
    out.update({(t["kato"], "t"): (t.get("name_kk") or "", t.get("name_ru") or "") for t in wh.territories})
    return out


def _old_values(folder: Path) -> dict[tuple[str, str, str], str]:
    # utf-8-sig: indicators.csv starts with a byte order mark (older revisions without one read alike)
    with open(folder / "indicators.csv", encoding="utf-8-sig", newline="") as fh:
        return {(r["indicator_code"], r["office_code"], r["kato"]): r["value"] for r in csv.DictReader(fh)}


def _values(rows: list[Row]) -> list[tuple[tuple[str, str, str], str]]:
    """What a revision's CHANGES.csv compares: each published row's key and value text (a forked render
    worker sends these back, not the rows: pickling ~4,000 Row objects a period cost more than rendering)."""
    return [(r.key, r.value_text) for r in rows]


def _changes(old: dict[tuple[str, str, str], str], values: list[tuple[tuple[str, str, str], str]]
             ) -> list[tuple[str, str, str, str, str]]:
    out = []
    seen = set()
    for key, text in values:
        seen.add(key)
        if key not in old or old[key] != text:
            out.append((*key, old.get(key, ""), text))
    for key, v in old.items():
        if key not in seen:
            out.append((*key, v, ""))
    return out


def _summary_base(profile: str, base: Path) -> dict:
    return {"profile": profile, "base": str(base), "written": [], "unchanged": [], "skipped": [],
            "delivery": [], "rendered": []}


def _select(wh: _Warehouse, periods: list[str] | None, summary: dict, base: Path) -> list[str]:
    complete = sorted((pid for pid in wh.completeness if _complete_offices(wh, pid)), key=_period_sort)
    if periods is None:
        for pid in revisions.existing_periods(base):
            if pid not in complete:
                summary["skipped"].append({
                    "period": pid, "reason": "no office is complete any more; the current revision is "
                                             "left in place"})
        return complete
    out = []
    for p in _asked_periods(periods, summary):
        if p.dhis2 not in complete:
            missing = {m["office_code"]: m["missing"] for m in _left_out(wh, p.dhis2, []) if m["missing"]}
            summary["skipped"].append({"period": p.dhis2, "reason": "no office is complete",
                                       "missing": missing})
            continue
        if p.dhis2 not in out:
            out.append(p.dhis2)
    return sorted(out, key=_period_sort)


def _asked_periods(periods, summary: dict):
    """The periods asked for, parsed; what cannot be exported (not a period, a month) goes to
    summary["skipped"] with its reason."""
    for text in periods:
        try:
            p = parse_period(str(text))
        except ValueError as exc:
            summary["skipped"].append({"period": str(text), "reason": str(exc)})
            continue
        if p.kind == "month":
            summary["skipped"].append({"period": p.dhis2, "reason": "months are not exported "
                                                                     "(quarters and years only)"})
            continue
        yield p


def _provisional_offices(wh: _Warehouse, pid: str) -> list[str]:
    """The offices of a provisional folder: every office with rows in the period, complete or not."""
    return sorted(wh.row_offices.get(pid, ()))


PROVISIONAL_DIR = "provisional"  # <home>/provisional/<period>/: `pcve export --provisional`


def _select_provisional(wh: _Warehouse, periods: list[str] | None, summary: dict) -> list[str]:
    """The periods asked for that have rows and an office not complete (a complete period has its final
    extract: nothing provisional about it)."""
    out = []
    for p in _asked_periods(periods or [], summary):
        offices = _provisional_offices(wh, p.dhis2)
        if not offices:
            summary["skipped"].append({"period": p.dhis2, "reason": "nothing accepted for this period yet"})
            continue
        if set(_complete_offices(wh, p.dhis2)) >= set(offices):
            summary["skipped"].append({"period": p.dhis2, "reason": "complete: its final extract is in exports/ "
                                                                     "(pcve export without --provisional)"})
            continue
        if p.dhis2 not in out:
            out.append(p.dhis2)
    return sorted(out, key=_period_sort)


def _period_rows(wh: _Warehouse, pid: str, profile: str, cache: dict | None,
                 provisional: bool = False) -> tuple[list[Row], dict | None]:
    """The rows a period's folder publishes: its complete offices, suppressed in the public profile.
    `provisional`: every office with rows; the rows of an office not complete are marked P."""
    from exports.suppression import apply_public

    period = parse_period(pid)
    if provisional:
        offices = _provisional_offices(wh, pid)
        complete = set(_complete_offices(wh, pid))
        rows = [r if r.office_code in complete else dataclasses.replace(r, obs_status=formats.OBS_PROVISIONAL)
                for r in wh.rows.get(pid, [])]
    else:
        offices = _complete_offices(wh, pid)
        rows = [r for r in wh.rows.get(pid, []) if r.office_code in offices]
    if profile != "public":
        return rows, None
    quarter_rows = None
    if period.kind == "year":
        quarter_rows = {q.dhis2: [r for r in wh.rows.get(q.dhis2, []) if r.office_code in offices]
                        for q in period.sub_periods("quarter")}
    return apply_public(rows, wh.structure, quarter_rows, cache)


_REPORT_MEMO = "report:published-rows"  # a key of the run cache no suppression key can equal (those are tuples)
_PROGRAM = "report:program"  # the program's names, read once per run


def _report(wh: _Warehouse, period: Period, profile: str, rows: list[Row], body: dict,
            cache: dict | None) -> bytes:
    """report.html of the folder: this period's rows plus the earlier periods it compares with, each
    exactly as its own folder of the same profile publishes it (suppressed alike in the public profile)."""
    from exports.suppression import SuppressionFailed

    memo = (cache if cache is not None else {}).setdefault(_REPORT_MEMO, {})
    offices = [o["office_code"] for o in body["offices"]]
    history: dict[str, list[Row]] = {}
    for hp in report.history_periods(period):
        key = (profile, hp)
        if key not in memo:
            try:
                memo[key] = _period_rows(wh, hp, profile, cache)[0]
            except SuppressionFailed:
                memo[key] = []  # not published, so not shown either
        history[hp] = [r for r in memo[key] if r.office_code in offices]
    info = [report.Office(code=o, name_kk=wh.offices.get(o, {}).get("name_kk") or o,
                          name_ru=wh.offices.get(o, {}).get("name_ru") or o,
                          root_kato=str(wh.offices.get(o, {}).get("root_kato") or ""),
                          periodicity=wh.offices.get(o, {}).get("periodicity") or "month",
                          due_days=int(wh.offices.get(o, {}).get("due_days") or 0))
            for o in offices]
    versions = [v for v in wh.versions if v["office_code"] in offices and _within(v["period"], period)]
    st = wh.structure
    return report.render_report(report.ReportData(
        period=period, profile=profile, offices=info, rows=rows, history=history,
        submissions=body["submissions"], versions=versions, left_out=body["offices_left_out"],
        validation=body["validation"], plans=report.plans_from_terms(st.terms, st.units),
        program=cache[_PROGRAM] if cache is not None and _PROGRAM in cache else _program_names(),
        docs=None if profile == "public" else docs_url(), status=body.get("status", "final"),
        office_names={o: (r.get("name_kk") or o, r.get("name_ru") or o) for o, r in sorted(wh.offices.items())},
    ))


DOCS_URL_ENV = "PCVE_DOCS_URL"


def docs_url() -> str | None:
    """Where the Data Docs and dbt docs are served (``PCVE_DOCS_URL``: http or https, no credentials),
    for the report's links; None: the report links to nothing (it works wherever the folder goes)."""
    from urllib.parse import urlsplit, urlunsplit

    raw = settings().docs_url
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        log.warning("%s=%r is not an http(s) URL: the reports link to no docs", DOCS_URL_ENV, raw)
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")  # never a user or password
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _program_names() -> dict[str, str]:
    try:

        return dict(load_config().program)
    except Exception:  # the report without the program's name rather than no report
        return {}


#: The run cache's key saying the run writes provisional folders (forked render workers read the cache).
_PROVISIONAL = "run:provisional"
_VOIDED = "run:voided"  # submission id -> when it was voided (the ledger), for revision notes


def complete_date(wh: _Warehouse, period: Period, offices: list[str]) -> str | None:
    """The day the period became complete: the latest of its submission periods' first accepted
    arrivals. A later correction does not move it (a correction with the same values is no revision)."""
    first: dict[tuple[str, str], str] = {}
    for v in wh.versions:
        if v["office_code"] in offices and _within(v["period"], period) and v["received_at"]:
            k = (v["office_code"], v["period"])
            first[k] = min(first.get(k, v["received_at"]), v["received_at"])
    return max(first.values())[:10] if first else None


def _build(wh: _Warehouse, pid: str, profile: str, cache: dict | None = None
           ) -> tuple[list[tuple[tuple[str, str, str], str]], dict, dict[str, bytes]]:
    from exports.dhis2_metadata import render_metadata
    from exports.sdmx_structure import render_structure

    provisional = bool(cache and cache.get(_PROVISIONAL))
    period = parse_period(pid)
    offices = _provisional_offices(wh, pid) if provisional else _complete_offices(wh, pid)
    body: dict = {}
    rows, suppression = _period_rows(wh, pid, profile, cache, provisional)
    if suppression is not None:
        body["suppression"] = suppression
    used, validation = _provenance(wh, period, offices)
    complete = set(_complete_offices(wh, pid))
    status = "provisional" if provisional and not complete.issuperset(offices) else "final"
    data_set = formats.DHIS2_DATASETS[period.kind][0]
    done = complete_date(wh, period, offices) if status == "final" else None
    body.update({
        "period": pid, "period_kind": period.kind, "sdmx_period": period.sdmx,
        "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
        "profile": profile, "timezone": "Asia/Almaty", "status": status,
        "offices": [{"office_code": o, "root_kato": wh.offices.get(o, {}).get("root_kato", ""),
                     "rows": sum(r.office_code == o for r in rows),
                     **({"status": "final" if o in complete else "provisional"} if provisional else {})}
                    for o in offices],
        "offices_left_out": _left_out(wh, pid, offices),
        "submissions": used, "validation": validation, "rows": len(rows),
        "sdmx_structure": formats.SDMX_STRUCTURE_ID, "dhis2_data_set": data_set, "complete_date": done,
    })
    titles = {o: o for o in offices}
    territories = [t for t in wh.territories if t["office_code"] in offices]
    files = {
        "indicators.csv": formats.render_csv(rows),
        "indicators.xlsx": formats.render_xlsx(rows, titles),
        "dhis2.json": formats.render_dhis2(rows, data_set, done),
        "dhis2_metadata.json": render_metadata(period.kind, wh.indicators, territories),
        "sdmx.csv": formats.render_sdmx(rows),
    }
    structure = render_structure(wh.indicators, territories)
    if structure is not None:
        files["sdmx_structure.xml"] = structure
    files["report.html"] = _report(wh, period, profile, rows, body, cache)
    return _values(rows), body, files


def _plan(base: Path, pid: str, new_key: str) -> tuple[str, int, Path | None]:
    """What to do with a period whose content (manifest.content_key) is `new_key`:

    - ("unchanged", N, folder): the current revision N is intact and says the same;
    - ("relink", N, folder): the period's link was lost; revision N, intact, says the same;
    - ("repair", N, previous): the current revision N is damaged (files missing or altered) but its
      manifest says the same content: write it again, byte for byte;
    - ("new", N, previous): write revision N, with CHANGES.csv against `previous` when there is one.

    A revision number is never reused for other content: a lost revision whose manifest cannot
    be read is followed by a new one."""
    cur = revisions.current(base, pid)
    if cur is None:
        last = revisions.latest_intact(base, pid)
        if last is not None and manifest.content_key(last[2]) == new_key:
            return "relink", last[0], last[1]
        top = max(revisions.revision_numbers(base, pid), default=0)
        return "new", top + 1, last[1] if last else None
    rev, folder = cur
    m = revisions.intact(folder)
    if m is not None:
        return ("unchanged", rev, folder) if manifest.content_key(m) == new_key else ("new", rev + 1, folder)
    prev = revisions.latest_intact(base, pid, below=rev)
    try:
        damaged = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.content_key(damaged) == new_key:
            return "repair", rev, prev[1] if prev else None
    except (OSError, ValueError, AttributeError):
        pass
    log.warning("%s/%s: revision %d is missing or damaged and cannot be verified: writing revision %d",
                base, pid, rev, rev + 1)
    return "new", rev + 1, prev[1] if prev else None


def write_extracts(home, periods: list[str] | None = None, profile: str = "ministry",
                   out: str | Path | None = None, provisional: bool = False) -> dict:
    """Write the extract of every period with a complete office whose content changed.

    ``periods`` restricts the work to the given ids (``2017Q1``, ``2017-Q1``, ``2017``).
    Returns a JSON-serialisable summary (never cell values)::

        {"profile", "base", "written": [{"period", "revision", "offices", "rows", "changes"}],
         "unchanged": [{"period", "revision"}], "skipped": [{"period", "reason", ...}],
         "delivery": [{"period", "location", "status"}]}

    plus ``"rendered"``: the periods whose files were rendered. A period is rendered only when its
    input key (:class:`exports.input_keys.InputKeys`) differs from the one its current revision was rendered from, or
    that revision is not intact (damaged: repaired from the rendered files); the content key then
    decides as before whether it is a new revision.

    ``provisional``: the given periods that are not complete, every office with rows in them, written
    under ``<home>/provisional/`` (``out`` replaces it), the rows of an incomplete office marked
    provisional in every file; never delivered.

    Raises :class:`DeliveryError` (after writing everything) when a configured
    delivery to the ministry failed.
    """

    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} (use {' or '.join(PROFILES)})")
    h = Home.at(home)
    if out is not None:
        base = Path(out).expanduser().resolve()
    else:
        base = h.exports / "public" if profile == "public" else h.exports
        if provisional:
            # never under exports/ (nothing provisional is published there), never delivered
            base = h.root / PROVISIONAL_DIR / ("public" if profile == "public" else "")
    summary = _summary_base(profile, base)
    summary["provisional"] = provisional
    failures = []
    with h.writer_lock():
        revisions.clean_staging(base)  # work left by a killed run: never visible, never reused
        # The cyclic GC is paused for the whole step: it would otherwise rescan every row held (half of
        # the XLSX rendering time at 20 offices) on collections the step does not need; reference
        # counting frees what the step drops, and each window of periods ends with one collection.
        was = gc.isenabled()
        gc.disable()
        try:
            wh = _read_warehouse(h.warehouse, db.target(h.root))
            _write_all(h, base, wh, periods, profile, summary, failures, provisional)
        finally:
            if was:
                gc.enable()
    if failures:
        raise DeliveryError("delivery to the ministry failed for " + "; ".join(failures), summary)
    return summary


def _write_all(h, base: Path, wh: _Warehouse, periods, profile: str, summary: dict, failures: list,
               provisional: bool = False) -> None:
    targets = _select_provisional(wh, periods, summary) if provisional else _select(wh, periods, summary, base)
    cache: dict = {_PROGRAM: _program_names(), _VOIDED: revisions.void_times(h.ledger), _PROVISIONAL: provisional}
    known_path = _inputs_file(h, base)
    known = _load_inputs(known_path)
    remember = dict(known)
    try:
        _write_periods(base, targets, profile, wh, cache, known, remember, summary, failures)
    finally:
        if remember != known:
            _save_inputs(known_path, remember)


#: Pending periods rendered together: their rows (and their reports' earlier periods') are read, the
#: periods rendered (several at once in forked workers) and published, and rows no later window needs
#: are dropped. Memory follows this window, not the number of periods in the home.
EXPORT_WINDOW = 5


def _source_plans(base: Path, targets: list[str], profile: str, wh: _Warehouse, cache: dict, known: dict
                  ) -> dict[str, tuple[str | None, str | None, tuple | None]]:
    """period -> (input key, source key, plan or None: read its rows and decide by the input key).

    By the source key (no row read): a period whose intact current revision was recorded with it is
    unchanged. A provisional folder is always rendered (its key does not cover the incomplete offices)."""
    if cache.get(_PROVISIONAL):
        return {pid: (None, None, None) for pid in targets}
    target = wh.source[1]
    label = target.label() if target is not None and target.is_postgres else "duckdb"
    sources = _InputKeys(wh, profile, cache[_PROGRAM], docs_url(), source=label)
    plans: dict = {}
    for pid in targets:
        source_key = sources.key(pid)
        fast = plan_by_source(base, pid, source_key, known)
        plans[pid] = (known[pid]["input_key"] if fast is not None else None, source_key, fast)
    return plans


def _keep_rows(wh: _Warehouse, cache: dict, inputs, needed: set[str]) -> None:
    """Drop every row (and what refers to rows: the report's memo, suppression's memo, the input
    keys' grouping) of the periods outside `needed`; the input keys' per-office digests stay."""
    for pid in [p for p in wh.rows if p not in needed]:
        del wh.rows[pid]
        wh.loaded.discard(pid)
        if inputs is not None:
            inputs.forget(pid)
    memo = cache.get(_REPORT_MEMO)
    if memo:
        for key in [k for k in memo if k[1] not in needed]:
            del memo[key]
    # suppression's memo: (office, period, rows) -> statuses
    for key in [k for k in cache if isinstance(k, tuple) and len(k) == 3 and k[1] not in needed]:
        del cache[key]


def _stream(base: Path, targets: list[str], profile: str, wh: _Warehouse, cache: dict, known: dict):
    """(period, (input key, source key, plan or None), rendered or None) of each target in order.

    The periods the source key cannot settle are taken EXPORT_WINDOW at a time: their rows (and
    those their files show) are read, their input keys decide, the others are rendered; then rows no
    longer needed are dropped, so a cold export of any number of periods holds a few periods' rows."""
    plans = _source_plans(base, targets, profile, wh, cache, known)
    pending = [pid for pid in targets if plans[pid][2] is None]
    inputs = _InputKeys(wh, profile, cache[_PROGRAM], docs_url()) if pending else None
    windows = [pending[i:i + EXPORT_WINDOW] for i in range(0, len(pending), EXPORT_WINDOW)]
    window_of = {pid: i for i, window in enumerate(windows) for pid in window}
    current, results = None, iter(())
    for pid in targets:
        w = window_of.get(pid)
        if w is not None and w != current:
            _finish(results)
            # the step runs with the cyclic GC paused (see write_extracts): the XLSX writer's cycles
            # go here; the youngest generation holds what was made since the last window, only that
            gc.collect(0)
            current, results = w, _render_window(base, windows[w], profile, wh, cache, known, inputs, plans)
        if plans[pid][2] is not None:  # settled by its source key, or by its input key in its window
            yield pid, plans[pid], None
            continue
        # rendered as it is consumed (each published before the next is taken: not a window of files
        # in memory at once)
        done, result = next(results)
        assert done == pid, (done, pid)
        yield pid, plans[pid], result
    _finish(results)
    gc.collect(0)


def _finish(results) -> None:
    """End a window's rendering: its workers exit now, not when the iterator is collected."""
    left = next(results, None)
    assert left is None, f"rendered but not published: {left[0]}"


def _render_window(base: Path, window: list[str], profile: str, wh: _Warehouse, cache: dict, known: dict,
                   inputs, plans: dict):
    """Read the window's rows (dropping those no longer needed), decide each period by its input key
    (`plans` updated), and return an iterator of (period, rendered) for those left to render."""
    needed = {p for pid in window for p in row_periods(pid, profile)}
    _keep_rows(wh, cache, inputs, needed)
    load_rows(wh, needed)
    for pid in window:
        key = inputs.key(pid)
        fast = None if cache.get(_PROVISIONAL) else _plan_by_inputs(base, pid, key, known)
        plans[pid] = (key, plans[pid][1], fast)
    todo = [pid for pid in window if plans[pid][2] is None]
    return zip(todo, _render(wh, todo, profile, cache, _build), strict=True)


def _write_periods(base: Path, targets: list[str], profile: str, wh: _Warehouse, cache: dict,
                   known: dict, remember: dict, summary: dict, failures: list) -> None:
    from exports import delivery
    from exports.suppression import SuppressionFailed

    for pid, (input_key, source_key, fast), result in _stream(base, targets, profile, wh, cache, known):
        if fast is not None:
            action, revision, old_folder = fast
        else:
            if isinstance(result, SuppressionFailed):  # not published rather than published unsafely
                summary["skipped"].append({"period": pid, "reason": f"public suppression failed: {result}"})
                continue
            rows, body, files = result
            summary["rendered"].append(pid)
            new_key = manifest.content_key(body, {n: manifest.sha256(b) for n, b in files.items()})
            action, revision, old_folder = _plan(base, pid, new_key)
        if action == "unchanged":
            summary["unchanged"].append({"period": pid, "revision": revision})
            folder = old_folder
        elif action == "relink":
            log.warning("%s/%s was missing: revision %d, intact and current, is linked again", base, pid, revision)
            folder = revisions.relink(base, pid, revision)
            summary["unchanged"].append({"period": pid, "revision": revision, "restored": "link"})
        else:
            n_changes = None
            changes: list = []
            previous = None
            if old_folder is not None and (old_folder / "indicators.csv").exists():
                changes = _changes(_old_values(old_folder), rows)
                files["CHANGES.csv"] = formats.render_changes(changes)
                n_changes = len(changes)
                previous = _read_manifest(old_folder)
            note = revisions.note(revision, previous, body, changes, wh.statuses, cache.get(_VOIDED, {}))
            files["report.html"] = report.with_revision(files["report.html"], note, _names(wh))
            body = {**body, "revision_note": {k: v for k, v in note.items() if k != "changes"}
                    | {"changes": len(changes)}}
            # the input key is not content (manifest.VOLATILE); a public folder does not carry it
            # (a digest of unsuppressed values): it is remembered in the home's state only
            files["manifest.json"] = manifest.finish(
                body if profile == "public" else {**body, "input_key": input_key}, revision, files)
            if action == "repair":
                log.warning("%s/%s (revision %d) was damaged: written again from the warehouse",
                            base, pid, revision)
            folder = revisions.publish(base, pid, revision, files, repair=action == "repair")
            summary["written"].append({
                "period": pid, "revision": revision, "offices": [o["office_code"] for o in body["offices"]],
                "rows": len(rows), "changes": n_changes, **({"repaired": True} if action == "repair" else {}),
            })
        remember[pid] = {"revision": revision, "manifest": _manifest_digest(folder), "input_key": input_key,
                         **({"source_key": source_key} if source_key else {})}
        if profile == "ministry" and delivery.location() and not cache.get(_PROVISIONAL):
            try:
                summary["delivery"].append(delivery.deliver(pid, folder))
            except Exception as exc:  # reported below, after every period is written
                failures.append(f"{pid}: {type(exc).__name__}: {exc}")
                summary["delivery"].append({"period": pid, "status": "failed",
                                            "location": delivery.redacted(delivery.location())})
