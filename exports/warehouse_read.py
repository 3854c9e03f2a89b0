"""The extracts' read of the warehouse (read-only): everything but the indicator rows in one read,
with a digest of each period's rows per office computed in SQL, then the rows themselves only for
the periods that will be rendered (and the earlier periods their reports show).

A run that changes one workbook renders a handful of periods: reading every period's rows (tens of
thousands of Row objects at 20 offices) cost most of its export step and as much memory as a cold run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from exports import formats
from exports.formats import Row
from pcve.core import db
from pcve.core.periods import ALMATY_TZ, Period, parse_period
from pcve.core.settings import settings

EXCLUDED_STATUSES = ("rejected", "duplicate", "voided")

#: The indicator rows of quarters and years with every name the files print (one row per Row).
_MART = """
    select v.indicator_code, v.office_code, v.kato, v.territory_level, v.dhis2_period_id as period_id,
           v.period_kind, v.unit, v.numerator, v.denominator, v.value,
           i.sort_order, i.name_kk as ind_kk, i.name_ru as ind_ru, i.name_en as ind_en,
           i.unit_kk, i.unit_ru, i.unit_en,
           t.name_kk as ter_kk, t.name_ru as ter_ru, t.name_en as ter_en
    from main.mart_indicator_values v
    left join raw.cfg_indicators i on i.indicator_code = v.indicator_code
    left join raw.cfg_territories t on t.kato = v.kato
    where v.period_kind in ('quarter', 'year')"""

#: Every column a Row is made from (the period's own fields and is_root follow from the period id
#: and the offices, which the input key covers apart), NULL told apart from any text.
_DIGEST_COLUMNS = ("indicator_code", "office_code", "kato", "territory_level", "unit", "numerator",
                   "denominator", "value", "sort_order", "ind_kk", "ind_ru", "ind_en", "unit_kk", "unit_ru",
                   "unit_en", "ter_kk", "ter_ru", "ter_en")
_ROW_TEXT = " || chr(31) || ".join(f"coalesce(cast({c} as varchar), chr(30))" for c in _DIGEST_COLUMNS)
#: A digest of a (period, office)'s rows, independent of their order. PostgreSQL: md5 of the sorted row
#: texts. DuckDB: the row count with two sums of 64-bit hashes of each row's text (no sort, no text
#: built per group: the sorted form held ~2 GB at 24,637 workbooks). The text of a number is the
#: target's own, so a digest is compared only with one made on the same target (the run state records
#: the target with it), never written into an extract.
_ROWS_DIGEST_POSTGRES = f"md5(string_agg({_ROW_TEXT}, chr(10) order by {_ROW_TEXT}))"
_ROWS_DIGEST_DUCKDB = (f"count(*) || ':' || sum(hash({_ROW_TEXT})) || ':' "
                       f"|| sum(hash(chr(29) || {_ROW_TEXT}))")


def _open(path, target):

    if target is not None and target.is_postgres:
        con = db.connect(t=target, read_only=True)
        con.execute("begin transaction isolation level repeatable read read only")
        return con, target.label()
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run the pipeline (pcve run) first")
    con = db.connect(path=path, read_only=True)
    # DuckDB's default would let a read grow to 80% of the machine's memory (a global setting of the
    # database instance, so SET, not a connection config another open connection could contradict)
    con.execute("set memory_limit = '" + settings().duckdb_memory_limit.replace("'", "''") + "'")
    con.execute("set enable_progress_bar = false")  # a long read would draw one over the CLI's own
    return con, path


@dataclass
class Warehouse:
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
    # (period id, office) -> digest of its rows, computed by the warehouse (input keys without the rows)
    row_digests: dict[tuple[str, str], str] = field(default_factory=dict)
    row_offices: dict[str, set[str]] = field(default_factory=dict)  # period id -> offices with rows
    loaded: set[str] = field(default_factory=set)  # the period ids whose rows are in `rows`
    source: tuple = (None, None)  # (DuckDB path, pcve.core.db.Target): where load_rows reads


def period_sort(pid: str) -> tuple:
    p = parse_period(pid)
    return (p.year, 0 if p.kind == "quarter" else 1, p.number)


def read_warehouse(path: Path, target=None) -> Warehouse:
    """Everything but the rows (see :func:`load_rows`). `path`: the DuckDB file; `target`: a
    pcve.core.db.Target (PostgreSQL: read in one snapshot; the export step holds the writer lock, so the
    rows read later come from the same state)."""
    from exports.suppression import Structure

    con, label = _open(path, target)
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
            digest = _ROWS_DIGEST_POSTGRES if con.kind == "postgres" else _ROWS_DIGEST_DUCKDB
            digests = q(f"select period_id, office_code, {digest} as digest from ({_MART}) m "
                        "group by period_id, office_code")
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
            raise RuntimeError(f"the warehouse at {label} lacks a table the extracts read "
                               f"(run dbt build first): {exc}") from exc
    finally:
        con.close()
    # fct_submissions.received_at has its zone (timestamptz), which each driver returns in its own
    # tzinfo: the Almaty wall time raw keeps, so input keys and files match on every target
    for rec in (*subs, *versions, *statuses):
        rec["received_at"] = almaty_wall(rec["received_at"])

    roots = {o: r["root_kato"] for o, r in offices.items()}
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
        v["received_at"] = received(v["received_at"])
        v["due_date"] = None if v["due_date"] is None else str(v["due_date"])[:10]
        v["period"] = str(v["period"])
    versions.sort(key=lambda v: (v["office_code"], v["period"], v["submission_id"]))
    indicators = sorted(({k: (str(v) if k != "sort_order" else int(v or 0)) if v is not None else None
                          for k, v in i.items()} for i in ind_rows),
                        key=lambda i: (i["sort_order"], i["indicator_code"]))
    territories = sorted(({k: None if v is None else str(v) for k, v in t.items()} for t in terr_rows),
                         key=lambda t: t["kato"])
    status_map = {s["submission_id"]: {**s, "period": str(s["period"]), "received_at": received(s["received_at"])}
                  for s in statuses}
    row_digests = {(d["period_id"], d["office_code"]): d["digest"] for d in digests}
    row_offices: dict[str, set[str]] = {}
    for pid, office in row_digests:
        row_offices.setdefault(pid, set()).add(office)
    return Warehouse({}, completeness, subs, form_map, validation, offices, structure, versions, vcount,
                     territories, indicators, status_map, row_digests, row_offices, set(), (path, target))


def load_rows(wh: Warehouse, pids) -> None:
    """Read the rows of the given periods into `wh.rows` (those not read yet), sorted as the files list them."""

    want = sorted({str(p) for p in pids} - wh.loaded)
    if not want:
        return
    for pid in want:
        parse_period(pid)  # only period ids reach the query's text
    listed = ", ".join(f"'{pid}'" for pid in want)
    con, label = _open(*wh.source)
    try:
        try:
            batches = con.stream(f"select * from ({_MART}) m where period_id in ({listed})")
            _add_rows(wh, batches)
        except db.MissingTable as exc:
            raise RuntimeError(f"the warehouse at {label} lacks a table the extracts read "
                               f"(run dbt build first): {exc}") from exc
    finally:
        con.close()
    wh.loaded.update(want)


def _add_rows(wh: Warehouse, batches) -> None:
    """The mart's rows, batch by batch (a window's rows as dicts at once cost more memory than the
    rows themselves), into `wh.rows`, each period's sorted as the files list them."""
    rows: dict[str, list[Row]] = {}
    parsed: dict[str, Period] = {}
    # Names and units follow from the indicator and the territory: one tuple of string objects each,
    # not one string per row (the rows are held while their window is rendered, and forked render
    # workers copy what they touch); codes are shared alike.
    indicator_parts: dict[tuple, tuple] = {}
    territory_parts: dict[tuple, tuple] = {}
    one = {}.setdefault
    roots = wh.structure.roots
    percent = formats.percent
    for cols, batch in batches:
        for values in batch:
            m = dict(zip(cols, values, strict=True))
            ind = (m["indicator_code"], m["unit"], m["sort_order"], m["ind_kk"], m["ind_ru"], m["ind_en"],
                   m["unit_kk"], m["unit_ru"], m["unit_en"])
            ip = indicator_parts.get(ind)
            if ip is None:
                ip = indicator_parts[ind] = (ind[0], ind[1], int(ind[2] or 0), *(x or "" for x in ind[3:]))
            ter = (m["kato"], m["territory_level"], m["ter_kk"], m["ter_ru"], m["ter_en"])
            tp = territory_parts.get(ter)
            if tp is None:
                tp = territory_parts[ter] = (str(ter[0]), ter[1] or "", *(x or "" for x in ter[2:]))
            pid = m["period_id"]
            p = parsed.get(pid)
            if p is None:
                p = parsed[pid] = parse_period(pid)
            office = one(m["office_code"], m["office_code"])
            value, numerator, denominator = m["value"], m["numerator"], m["denominator"]
            if value is not None and not isinstance(value, Decimal):
                value = Decimal(str(value))
            if ip[1] == "percent" and numerator is not None and denominator is not None:
                # recomputed exactly from the summed parts (half-up, one decimal): no float rounding
                value = percent(numerator, denominator)
            rows.setdefault(pid, []).append(Row(
                indicator_code=ip[0], office_code=office, kato=tp[0],
                period=p.dhis2, period_sdmx=p.sdmx, freq=p.freq, unit=ip[1],
                sort_order=ip[2], is_root=tp[0] == roots.get(office),
                territory_level=tp[1], value=value,
                numerator=None if numerator is None else int(numerator),
                denominator=None if denominator is None else int(denominator),
                indicator_name_kk=ip[3], indicator_name_ru=ip[4], indicator_name_en=ip[5],
                territory_name_kk=tp[2], territory_name_ru=tp[3], territory_name_en=tp[4],
                unit_name_kk=ip[6], unit_name_ru=ip[7], unit_name_en=ip[8],
            ))
    for pid in rows:
        rows[pid].sort(key=lambda r: (r.office_code, r.sort_order, r.indicator_code, not r.is_root, r.kato))
    wh.rows.update(rows)


def complete_offices(wh: Warehouse, pid: str) -> list[str]:
    return sorted(o for o, c in wh.completeness.get(pid, {}).items() if c["is_complete"])


def within(token: str, period: Period) -> bool:
    try:
        p = parse_period(str(token))
    except ValueError:
        return False
    return period.start <= p.start and p.end <= period.end


def almaty_wall(ts):
    """An aware datetime as the naive Asia/Almaty wall time; anything else unchanged."""
    if getattr(ts, "tzinfo", None) is not None:
        return ts.astimezone(ALMATY_TZ).replace(tzinfo=None)
    return ts


def received(ts) -> str:
    if ts is None:
        return ""
    if hasattr(ts, "tzinfo") and ts.tzinfo is None:
        ts = ts.replace(tzinfo=ALMATY_TZ)
    elif hasattr(ts, "astimezone"):
        ts = ts.astimezone(ALMATY_TZ)
    return ts.isoformat()

