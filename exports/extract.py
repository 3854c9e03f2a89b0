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
whose *inputs* are unchanged is not even rendered: its input key (a digest of
everything its files are made from, :class:`_InputKeys`) equals the one its
intact current revision was rendered from (``input_key`` of the ministry's
manifest, and ``<home>/state/export_inputs/``).
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
import hashlib
import json
import logging
import operator
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from exports import formats, manifest, report, revisions
from exports.formats import Row
from pcve.home import Home
from pcve.periods import ALMATY_TZ, Period, parse_period

log = logging.getLogger("pcve.exports")

PROFILES = ("ministry", "public")
EXCLUDED_STATUSES = ("rejected", "duplicate", "voided")


class DeliveryError(RuntimeError):
    """The extracts were written, but copying some of them to the ministry failed."""

    def __init__(self, message: str, summary: dict):
        super().__init__(message)
        self.summary = summary


@dataclass
class _Warehouse:
    """Everything the extracts need, read in one read-only session."""

    rows: dict[str, list[Row]]  # period id -> rows (all offices)
    completeness: dict[str, dict[str, dict]]  # period id -> office -> completeness row
    submissions: list[dict]
    forms: dict[str, list[str]]  # submission id -> forms present
    validation: dict[str, list[dict]]  # submission id -> its failed results (all the extract lists)
    offices: dict[str, dict]
    structure: object  # suppression.Structure
    versions: list[dict] = field(default_factory=list)  # accepted submissions, current and superseded (report)
    validation_counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # sid -> (results, unexpected)
    territories: list[dict] = field(default_factory=list)  # cfg_territories (DHIS2 and SDMX structure)
    indicators: list[dict] = field(default_factory=list)  # cfg_indicators in catalogue order
    statuses: dict[str, dict] = field(default_factory=dict)  # every submission: id -> status, file, times


def _period_sort(pid: str) -> tuple:
    p = parse_period(pid)
    return (p.year, 0 if p.kind == "quarter" else 1, p.number)


def _read_warehouse(path: Path, target=None) -> _Warehouse:
    """`path`: the DuckDB file; `target`: a pcve.db.Target (PostgreSQL: read in one snapshot)."""
    from exports.suppression import Structure
    from pcve import db

    if target is not None and target.is_postgres:
        con = db.connect(t=target, read_only=True)
        path = target.label()
        con.execute("begin transaction isolation level repeatable read read only")
    else:
        if not path.exists():
            raise FileNotFoundError(f"no warehouse at {path}: run the pipeline (pcve run) first")
        con = db.connect(path=path, read_only=True)
    try:
        q = con.query

        try:
            offices = {r["office_code"]: r for r in q(
                "select office_code, root_kato, name_en, name_kk, name_ru, periodicity, due_days "
                "from raw.cfg_offices")}
            ind_rows = q("select indicator_code, sort_order, unit, name_en, name_kk, name_ru from raw.cfg_indicators")
            term_rows = q("select indicator_code, role, form, measure, filter_column, filter_value "
                          "from raw.cfg_indicator_terms")
            terr_rows = q("select kato, office_code, level, parent_kato, name_en, name_kk, name_ru "
                          "from raw.cfg_territories")
            mart = q("""
                select v.indicator_code, v.office_code, v.kato, v.territory_level, v.dhis2_period_id as period_id,
                       v.period_kind, v.unit, v.numerator, v.denominator, v.value,
                       i.sort_order, i.name_kk as ind_kk, i.name_ru as ind_ru, i.name_en as ind_en,
                       i.unit_kk, i.unit_ru, i.unit_en,
                       t.name_kk as ter_kk, t.name_ru as ter_ru, t.name_en as ter_en
                from main.mart_indicator_values v
                left join raw.cfg_indicators i on i.indicator_code = v.indicator_code
                left join raw.cfg_territories t on t.kato = v.kato
                where v.period_kind in ('quarter', 'year')""")
            compl = q("""
                select office_code, dhis2_period_id as period_id, period_kind, expected_submissions,
                       accepted_submissions, is_complete, missing_periods
                from main.mart_submission_completeness where period_kind in ('quarter', 'year')""")
            excluded = ", ".join(f"'{s}'" for s in EXCLUDED_STATUSES)
            subs = q(f"""
                select submission_id, office_code, period_id as period, file_name, sha256, received_at, status,
                       error_count, warning_count
                from main.fct_submissions where is_current and status not in ({excluded})""")
            fct_cols = {r["column_name"] for r in q(
                "select column_name from information_schema.columns "
                "where table_schema = 'main' and table_name = 'fct_submissions'")}
            versions = q(f"""
                select submission_id, office_code, period_id as period, received_at, status,
                       {'due_date' if 'due_date' in fct_cols else 'null as due_date'}
                from main.fct_submissions where status in ('accepted', 'superseded')""")
            statuses = q("select submission_id, office_code, period_id as period, file_name, received_at, status "
                         "from main.fct_submissions")
            forms = q("select submission_id, form, present from raw.submission_forms")
            # ~50 results per workbook: counted in SQL; only the failed ones are listed in the extract
            vres = q("select submission_id, form, expectation, column_name, success, element_count, "
                     "unexpected_count from raw.validation_results where not success")
            vcount = {r["submission_id"]: (int(r["n"]), int(r["unexpected"])) for r in q(
                "select submission_id, count(*) as n, sum(coalesce(unexpected_count, 0)) as unexpected "
                "from raw.validation_results group by submission_id")}
        except db.MissingTable as exc:
            raise RuntimeError(f"the warehouse at {path} lacks a table the extracts read "
                               f"(run dbt build first): {exc}") from exc
    finally:
        con.close()
    # fct_submissions.received_at has its zone (timestamptz), which each driver returns in its own
    # tzinfo: the Almaty wall time raw keeps, so input keys and files match on every target
    for rec in (*subs, *versions, *statuses):
        rec["received_at"] = _almaty_wall(rec["received_at"])

    roots = {o: r["root_kato"] for o, r in offices.items()}
    rows: dict[str, list[Row]] = {}
    parsed: dict[str, Period] = {}
    # names, codes and units repeat in every period's rows: one string object each, not one per row
    # (the rows are held for the whole step, and forked render workers copy what they touch)
    shared = {}
    one = shared.setdefault
    for m in mart:
        m = {k: one(v, v) if isinstance(v, str) else v for k, v in m.items()}
        p = parsed.get(m["period_id"])
        if p is None:
            p = parsed[m["period_id"]] = parse_period(m["period_id"])
        value = None if m["value"] is None else Decimal(str(m["value"]))
        if m["unit"] == "percent" and m["numerator"] is not None and m["denominator"] is not None:
            # recomputed exactly from the summed parts (half-up, one decimal): no float rounding
            value = formats.percent(m["numerator"], m["denominator"])
        rows.setdefault(m["period_id"], []).append(Row(
            indicator_code=m["indicator_code"], office_code=m["office_code"], kato=str(m["kato"]),
            period=p.dhis2, period_sdmx=p.sdmx, freq=p.freq, unit=m["unit"],
            sort_order=int(m["sort_order"] or 0), is_root=str(m["kato"]) == roots.get(m["office_code"]),
            territory_level=m["territory_level"] or "", value=value,
            numerator=None if m["numerator"] is None else int(m["numerator"]),
            denominator=None if m["denominator"] is None else int(m["denominator"]),
            indicator_name_kk=m["ind_kk"] or "", indicator_name_ru=m["ind_ru"] or "",
            indicator_name_en=m["ind_en"] or "", territory_name_kk=m["ter_kk"] or "",
            territory_name_ru=m["ter_ru"] or "", territory_name_en=m["ter_en"] or "",
            unit_name_kk=m["unit_kk"] or "", unit_name_ru=m["unit_ru"] or "", unit_name_en=m["unit_en"] or "",
        ))
    for pid in rows:
        rows[pid].sort(key=lambda r: (r.office_code, r.sort_order, r.indicator_code, not r.is_root, r.kato))

    completeness: dict[str, dict[str, dict]] = {}
    for c in compl:
        completeness.setdefault(c["period_id"], {})[c["office_code"]] = c
    form_map: dict[str, list[str]] = {}
    for f in forms:
        if f["present"]:
            form_map.setdefault(f["submission_id"], []).append(f["form"])
    validation: dict[str, list[dict]] = {}
    for v in vres:
        validation.setdefault(v["submission_id"], []).append(v)

    terms: dict[str, dict[str, tuple]] = {}
    for t in term_rows:
        terms.setdefault(t["indicator_code"], {})[t["role"]] = (
            t["form"], t["measure"], t["filter_column"], t["filter_value"])
    children: dict[str, list[str]] = {}
    for t in sorted(terr_rows, key=lambda r: r["kato"]):
        if t["kato"] != roots.get(t["office_code"]):
            children.setdefault(t["office_code"], []).append(t["kato"])
    structure = Structure(
        terms=terms, units={i["indicator_code"]: i["unit"] for i in ind_rows},
        children={o: tuple(k) for o, k in children.items()}, roots=roots)
    for v in versions:
        v["received_at"] = _received(v["received_at"])
        v["due_date"] = None if v["due_date"] is None else str(v["due_date"])[:10]
        v["period"] = str(v["period"])
    versions.sort(key=lambda v: (v["office_code"], v["period"], v["submission_id"]))
    indicators = sorted(({k: (str(v) if k != "sort_order" else int(v or 0)) if v is not None else None
                          for k, v in i.items()} for i in ind_rows),
                        key=lambda i: (i["sort_order"], i["indicator_code"]))
    territories = sorted(({k: None if v is None else str(v) for k, v in t.items()} for t in terr_rows),
                         key=lambda t: t["kato"])
    status_map = {s["submission_id"]: {**s, "period": str(s["period"]), "received_at": _received(s["received_at"])}
                  for s in statuses}
    return _Warehouse(rows, completeness, subs, form_map, validation, offices, structure, versions, vcount,
                      territories, indicators, status_map)


def _complete_offices(wh: _Warehouse, pid: str) -> list[str]:
    return sorted(o for o, c in wh.completeness.get(pid, {}).items() if c["is_complete"])


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


def _within(token: str, period: Period) -> bool:
    try:
        p = parse_period(str(token))
    except ValueError:
        return False
    return period.start <= p.start and p.end <= period.end


def _almaty_wall(ts):
    """An aware datetime as the naive Asia/Almaty wall time; anything else unchanged."""
    if getattr(ts, "tzinfo", None) is not None:
        return ts.astimezone(ALMATY_TZ).replace(tzinfo=None)
    return ts


def _received(ts) -> str:
    if ts is None:
        return ""
    if hasattr(ts, "tzinfo") and ts.tzinfo is None:
        ts = ts.replace(tzinfo=ALMATY_TZ)
    elif hasattr(ts, "astimezone"):
        ts = ts.astimezone(ALMATY_TZ)
    return ts.isoformat()


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


def _changes(old: dict[tuple[str, str, str], str], rows: list[Row]) -> list[tuple[str, str, str, str, str]]:
    out = []
    seen = set()
    for r in rows:
        seen.add(r.key)
        if r.key not in old or old[r.key] != r.value_text:
            out.append((*r.key, old.get(r.key, ""), r.value_text))
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
    return sorted({r.office_code for r in wh.rows.get(pid, [])})


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

    raw = (os.getenv(DOCS_URL_ENV) or "").strip()
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
        from pcve.config import load_config

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
           ) -> tuple[list[Row], dict, dict[str, bytes]]:
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
    return rows, body, files


# --- input keys: deciding "unchanged" without rendering -------------------------------------------

#: Files besides exports/ whose code shapes the extract files (period ids, SDMX periods, sub-periods).
_CODE_ALSO = ("pcve/periods.py",)
_code_digest: str | None = None


def code_version() -> str:
    """A digest of the exporter: the source of every file under exports/ (and pcve/periods.py), the
    version of the XLSX writer and of zlib. Any change to how the files are rendered changes it, so
    every period is rendered again (and, its content unchanged, stays the same revision)."""
    global _code_digest
    if _code_digest is None:
        import zlib
        from importlib import metadata

        here = Path(__file__).resolve().parent
        files = sorted(p for p in here.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and not p.name.startswith("."))
        files += [here.parent / name for name in _CODE_ALSO]
        h = hashlib.sha256()
        for p in files:
            h.update(f"{p.relative_to(here.parent)}\0".encode())
            h.update(hashlib.sha256(p.read_bytes()).digest() if p.exists() else b"-")
        try:
            writer = metadata.version("xlsxwriter")
        except metadata.PackageNotFoundError:
            writer = "unknown"
        h.update(f"xlsxwriter={writer};zlib={zlib.ZLIB_RUNTIME_VERSION}".encode())
        _code_digest = h.hexdigest()
    return _code_digest


#: Every field of a Row, in order (its repr, without the field names and the dataclass machinery).
_ROW_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(Row)))


def _canon(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, default=repr, separators=(",", ":")).encode("utf-8")


class _InputKeys:
    """The input key of a period: a sha256 over everything its folder is rendered from.

    That is the period's rows of its complete offices and the completeness of every office (body,
    offices left out), the rows its report shows of earlier periods (each as its own folder selects
    them; in the public profile every complete office's rows and a year's quarters, which suppression
    reads), the submissions, validation results, forms and versions the provenance and the report
    read, the offices and indicator structure, the program's names, the profile and the exporter's
    code (:func:`code_version`). Equal keys give equal files, so an intact revision recorded with the
    same key is current without rendering anything. Digests of rows and submissions are computed once
    per run and shared by every period that reads them."""

    def __init__(self, wh: _Warehouse, profile: str, program: dict):
        self.wh, self.profile = wh, profile
        st = wh.structure
        self.static = hashlib.sha256(_canon({
            "code": code_version(), "profile": profile, "program": program, "offices": wh.offices,
            "territories": wh.territories, "indicators": wh.indicators, "docs": docs_url(),
            "structure": {"terms": {k: sorted(v.items()) for k, v in st.terms.items()}, "units": st.units,
                          "children": st.children, "roots": st.roots},
        })).digest()
        self._rows: dict[tuple[str, str], bytes] = {}
        self._by_office: dict[str, dict[str, list[Row]]] = {}
        self._subs: dict[str, list[tuple[object, object, bytes]]] = {}
        for s in wh.submissions:
            sid = s["submission_id"]
            parts = [_canon(s), _canon(sorted(wh.forms.get(sid, [])))]
            parts.append(_canon(list(wh.validation_counts.get(sid, (0, 0)))))
            parts += sorted(_canon(v) for v in wh.validation.get(sid, []))  # read in no set order
            self._add(self._subs, s, hashlib.sha256(b"\n".join(parts)).digest())
        self._versions: dict[str, list[tuple[object, object, bytes]]] = {}
        for v in wh.versions:
            self._add(self._versions, v, hashlib.sha256(_canon(v)).digest())

    @staticmethod
    def _add(index: dict, rec: dict, digest: bytes) -> None:
        try:
            p = parse_period(str(rec["period"]))
            span = (p.start, p.end)
        except ValueError:
            span = (None, None)  # never within a period, as _within says
        index.setdefault(rec["office_code"], []).append((*span, digest))

    def _row_digest(self, pid: str, office: str) -> bytes:
        key = (pid, office)
        if key not in self._rows:
            if pid not in self._by_office:
                groups: dict[str, list[Row]] = {}
                for r in self.wh.rows.get(pid, []):
                    groups.setdefault(r.office_code, []).append(r)
                self._by_office[pid] = groups
            fields = _ROW_FIELDS
            text = repr([fields(r) for r in self._by_office[pid].get(office, [])])
            self._rows[key] = hashlib.sha256(text.encode("utf-8")).digest()
        return self._rows[key]

    def _period_rows(self, h, pid: str, offices: list[str] | None) -> None:
        """What _period_rows(pid) reads: the rows of its complete offices (only `offices` among them
        when given: the ministry's history rows are filtered so), a year's quarters in public."""
        wh = self.wh
        complete = _complete_offices(wh, pid)
        chosen = complete if offices is None else [o for o in offices if o in complete]
        h.update(_canon([pid, complete, chosen]))
        for o in chosen:
            h.update(self._row_digest(pid, o))
        if self.profile == "public":
            period = parse_period(pid)
            if period.kind == "year":
                for q in period.sub_periods("quarter"):
                    h.update(q.dhis2.encode())
                    for o in chosen:
                        h.update(self._row_digest(q.dhis2, o))

    def key(self, pid: str) -> str:
        wh = self.wh
        period = parse_period(pid)
        offices = _complete_offices(wh, pid)
        h = hashlib.sha256(self.static)
        h.update(_canon([pid, sorted(wh.completeness.get(pid, {}).items())]))
        public = self.profile == "public"
        # public: suppression protects every complete office's cells together, so all are read
        self._period_rows(h, pid, None if public else offices)
        for hp in report.history_periods(period):
            self._period_rows(h, hp, None if public else offices)
        for index in (self._subs, self._versions):
            h.update(b"|")
            h.update(b"".join(sorted(
                digest for o in offices for start, end, digest in index.get(o, [])
                if start is not None and period.start <= start and end <= period.end)))
        return h.hexdigest()


def _inputs_file(h: Home, base: Path) -> Path:
    """Where the input keys of a base folder's revisions are remembered (in the home's state, never
    in the extract tree: a public key is a digest of unsuppressed values)."""
    return h.state / "export_inputs" / (hashlib.sha256(str(base).encode()).hexdigest()[:20] + ".json")


def _load_inputs(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_inputs(path: Path, data: dict) -> None:
    """Best effort: without the file the next run renders (and finds unchanged) what it cannot tell."""

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        from pcve.safe_io import atomic_write

        atomic_write(path, json.dumps(data, sort_keys=True, indent=1))
    except OSError as exc:
        log.warning("could not remember the extracts' input keys in %s: %s", path, exc)


def _manifest_digest(folder: Path) -> str | None:
    try:
        return manifest.sha256((folder / "manifest.json").read_bytes())
    except OSError:
        return None


def _recorded_keys(known: dict, pid: str, revision: int, folder: Path, m: dict) -> set:
    """The input keys an intact revision is known to be rendered from: its manifest's, and the one
    remembered for this very manifest (a revision whose content was found unchanged under another key,
    e.g. after the exporter's code changed)."""
    keys = {m.get("input_key")}
    entry = known.get(pid)
    if isinstance(entry, dict) and entry.get("revision") == revision \
            and entry.get("manifest") == _manifest_digest(folder):
        keys.add(entry.get("input_key"))
    keys.discard(None)
    return keys


def _plan_by_inputs(base: Path, pid: str, input_key: str, known: dict) -> tuple[str, int, Path] | None:
    """("unchanged" | "relink", N, folder) when revision N, intact, was rendered from `input_key`:
    nothing to render. None: render, and let :func:`_plan` decide from the content."""
    cur = revisions.current(base, pid)
    if cur is not None:
        rev, folder = cur
        m = revisions.intact(folder)
        if m is not None and input_key in _recorded_keys(known, pid, rev, folder, m):
            return "unchanged", rev, folder
        return None
    last = revisions.latest_intact(base, pid)
    if last is not None and input_key in _recorded_keys(known, pid, *last):
        return "relink", last[0], last[1]
    return None


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
    input key (:class:`_InputKeys`) differs from the one its current revision was rendered from, or
    that revision is not intact (damaged: repaired from the rendered files); the content key then
    decides as before whether it is a new revision.

    ``provisional``: the given periods that are not complete, every office with rows in them, written
    under ``<home>/provisional/`` (``out`` replaces it), the rows of an incomplete office marked
    provisional in every file; never delivered.

    Raises :class:`DeliveryError` (after writing everything) when a configured
    delivery to the ministry failed.
    """
    from pcve import db

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
        # The warehouse's rows stay alive for the whole step: read with the cyclic GC paused, then
        # frozen, it stops rescanning them on every collection (half of the XLSX rendering time at
        # 20 offices); what the step drops is still freed by reference counting.
        was = gc.isenabled()
        gc.disable()
        try:
            wh = _read_warehouse(h.warehouse, db.target(h.root))
            gc.freeze()
        finally:
            if was:
                gc.enable()
        try:
            _write_all(h, base, wh, periods, profile, summary, failures, provisional)
        finally:
            gc.unfreeze()
    if failures:
        raise DeliveryError("delivery to the ministry failed for " + "; ".join(failures), summary)
    return summary


def _write_all(h, base: Path, wh: _Warehouse, periods, profile: str, summary: dict, failures: list,
               provisional: bool = False) -> None:
    targets = _select_provisional(wh, periods, summary) if provisional else _select(wh, periods, summary, base)
    cache: dict = {_PROGRAM: _program_names(), _VOIDED: revisions.void_times(h.ledger), _PROVISIONAL: provisional}
    inputs = _InputKeys(wh, profile, cache[_PROGRAM])
    known_path = _inputs_file(h, base)
    known = _load_inputs(known_path)
    remember = dict(known)
    try:
        _write_periods(base, targets, profile, wh, cache, inputs, known, remember, summary, failures)
    finally:
        if remember != known:
            _save_inputs(known_path, remember)

RENDER_POOL_MIN_PERIODS = 4  # fewer: rendering in this process costs less than starting workers

_RENDER_STATE: tuple | None = None  # (warehouse, profile, cache) for forked render workers


def _render(wh: _Warehouse, pids: list[str], profile: str, cache: dict):
    """(rows, body, files) of each period in order, or its SuppressionFailed. Several periods are
    rendered by forked worker processes (one per usable CPU, PCVE_RENDER_WORKERS): rendering is
    pure Python, ~1 s a period at 20 offices. Forked, so the warehouse read once is shared, not
    re-read or pickled; only when this process runs no other thread (a fork copies held locks)
    and no fault injection is armed (its checkpoints must fire here)."""
    import multiprocessing

    from pcve.faults import enabled as faults_enabled
    from pcve.procs import can_fork, usable_cpus

    workers = int(os.getenv("PCVE_RENDER_WORKERS", "0") or 0) or _workers_within_budget(usable_cpus())
    if len(pids) < RENDER_POOL_MIN_PERIODS or workers < 2 or faults_enabled() or not can_fork():
        for pid in pids:
            yield _render_one(wh, pid, profile, cache)
        return
    from concurrent.futures import ProcessPoolExecutor

    global _RENDER_STATE
    _RENDER_STATE = (wh, profile, cache)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(_render_in_worker, pids)
    finally:
        _RENDER_STATE = None


def _workers_within_budget(cpus: int) -> int:
    """As many render workers as CPUs, but only as many as fit in the pipeline's memory budget
    (PCVE_MEMORY_BUDGET_MB, default 1024): a forked worker copies the pages it touches (the rows it
    reads, its own XLSX and report), measured at about a quarter of this process's resident size."""
    budget = int(os.getenv("PCVE_MEMORY_BUDGET_MB", "1024") or 1024)
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) // 1024
    except (OSError, StopIteration, ValueError):
        return 1  # cannot tell: render here
    per_worker = max(100, rss // 4)
    return max(1, min(cpus, (budget - rss) // per_worker))


def _render_in_worker(pid: str):
    wh, profile, cache = _RENDER_STATE
    return _render_one(wh, pid, profile, cache)


def _render_one(wh: _Warehouse, pid: str, profile: str, cache: dict):
    from exports.suppression import SuppressionFailed

    try:
        return _build(wh, pid, profile, cache)
    except SuppressionFailed as exc:
        return exc


def _write_periods(base: Path, targets: list[str], profile: str, wh: _Warehouse, cache: dict,
                   inputs: _InputKeys, known: dict, remember: dict, summary: dict, failures: list) -> None:
    from exports import delivery
    from exports.suppression import SuppressionFailed

    # a provisional folder is always rendered (its input key does not cover the incomplete offices)
    plans = {pid: (key := inputs.key(pid), None if cache.get(_PROVISIONAL) else _plan_by_inputs(base, pid, key, known))
             for pid in targets}
    built = _render(wh, [pid for pid in targets if plans[pid][1] is None], profile, cache)
    for pid in targets:
        input_key, fast = plans[pid]
        if fast is not None:
            action, revision, old_folder = fast
        else:
            result = next(built)
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
        remember[pid] = {"revision": revision, "manifest": _manifest_digest(folder), "input_key": input_key}
        if profile == "ministry" and delivery.location() and not cache.get(_PROVISIONAL):
            try:
                summary["delivery"].append(delivery.deliver(pid, folder))
            except Exception as exc:  # reported below, after every period is written
                failures.append(f"{pid}: {type(exc).__name__}: {exc}")
                summary["delivery"].append({"period": pid, "status": "failed",
                                            "location": delivery.redacted(delivery.location())})
