"""Run the GX suites over parsed submissions, a whole batch per form at once.

GX costs ~60 ms per validation call whatever the size, so files are not
validated one by one: the rows of every file of a batch go into one pandas
frame per form, each row tagged with a batch-wide row id (`_rid`), and each
failure is mapped back to its file, sheet, Excel row and column.

Privacy: the parser has already replaced flagged cells by None and set the
`_privacy` column to "<letter>:<rule>" tags, so no IIN or phone value ever
reaches GX, its results or anything stored from them.
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from expectations.suites import SUITES_DIR, derived_sum_column, load_suite_dict
from pcve.core.config import Config
from pcve.core.model import Issue, ParsedFile
from pcve.core.privacy import mask

log = logging.getLogger("pcve.validate")
_GX = None  # (context, {form: (batch_definition, suite)}) built once per process
_memo = threading.local()  # .on: the configurations of this thread's current validate call
_memo_installed = False
_shipped: dict = {}  # GX's own attributes while the memos replace them


@dataclass
class ExpectationSummary:
    form: str
    expectation: str
    column: str | None
    success: bool
    element_count: int
    unexpected_count: int


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _context(cfg: Config):
    global _GX
    if _GX is not None:
        return _GX
    _quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _quiet_gx()  # GX sets its loggers up on import
    try:  # GX's progress bars (off) still start tqdm's monitor thread, which would make the
        import tqdm  # intake's parser pool spawn its workers instead of forking them

        tqdm.tqdm.monitor_interval = 0
    except ImportError:
        pass
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    ds = ctx.data_sources.add_pandas("pcve_submissions")
    suites = {}
    for form in cfg.forms:
        asset = ds.add_dataframe_asset(form)
        bd = asset.add_batch_definition_whole_dataframe(f"{form}_batch")
        spec = load_suite_dict(form, SUITES_DIR)
        suite = gx.ExpectationSuite(name=spec["name"], meta=spec.get("meta", {}))
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        for e in spec["expectations"]:
            conf = ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e["meta"])
            suite.add_expectation(conf.to_domain_obj())
        suites[form] = (bd, ctx.suites.add(suite))
    _GX = (ctx, suites)
    return _GX


def reuse_configurations() -> None:
    """For a long-lived process (the portal's warm check), two memos over GX's bookkeeping, which
    is most of a warm check (the data of an office workbook is a few dozen rows):

    - an Expectation's `configuration` (a pydantic dict, a class-name conversion) is rebuilt ~90
      times per expectation per validate call: computed once per expectation object within one
      call (`_configurations_memoised`). The expectations are built fresh from the suite at each
      call and not changed during it; the memo holds each object (its id cannot be reused
      meanwhile) and is dropped when the call ends;
    - a metric's id (IDDict.to_id: its kwargs made JSON-serialisable, dumped and hashed, ~800 per
      form) is a function of the kwargs' content alone: kept across calls, keyed by that content
      when it is plain data (str, int, float, bool, None, lists and str-keyed dicts of them; any
      other value is hashed as GX does).

    Intake's processes never install them: `pcve validate` and intake run GX as shipped, and
    tests/test_portal_check.py compares the two."""
    global _memo_installed
    if _memo_installed:
        return
    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations.expectation import Expectation

    built = Expectation.configuration.fget

    def configuration(self):
        memo = getattr(_memo, "on", None)
        if memo is None:
            return built(self)
        hit = memo.get(id(self))
        if hit is None:
            hit = memo[id(self)] = (self, built(self))
        return hit[1]

    hashed = IDDict.to_id
    ids: dict = {}

    def to_id(self, id_keys=None, id_ignore_keys=None):
        if id_keys is not None or id_ignore_keys is not None or len(self) < 2:
            return hashed(self, id_keys, id_ignore_keys)
        try:
            key = (frozenset(self._id_ignore_keys), _plain(self))
        except _NotPlain:
            return hashed(self)
        hit = ids.get(key)
        if hit is None:
            if len(ids) > 100_000:  # kwargs of past suites: a bound, not an expected size
                ids.clear()
            hit = ids[key] = hashed(self)
        return hit

    _shipped.update(configuration=Expectation.configuration, to_id=IDDict.to_id)
    Expectation.configuration = property(configuration, doc=Expectation.configuration.__doc__)
    IDDict.to_id = to_id
    _memo_installed = True


def shipped_gx() -> None:
    """Undo `reuse_configurations`: GX as shipped again (a warm checker stopping in a process
    that goes on, e.g. a test session)."""
    global _memo_installed
    if not _memo_installed:
        return
    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations.expectation import Expectation

    Expectation.configuration = _shipped.pop("configuration")
    IDDict.to_id = _shipped.pop("to_id")
    _memo_installed = False


class _NotPlain(Exception):
    pass


def _plain(value):
    """A hashable image of plain data that tells apart what GX's JSON would (1, 1.0, True, -0.0)."""
    if value is None or isinstance(value, (str, bool, int)):
        return (type(value), value)
    if isinstance(value, float):
        return (float, repr(value))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_plain(v) for v in value))
    if isinstance(value, dict):
        if not all(type(k) is str for k in value):
            raise _NotPlain
        return (dict, tuple(sorted((k, _plain(v)) for k, v in value.items())))
    raise _NotPlain


@contextmanager
def _configurations_memoised():
    _memo.on = {} if _memo_installed else None
    try:
        yield
    finally:
        _memo.on = None


def _frame(cfg: Config, form_name: str, items: list[tuple[int, ParsedFile, dict]], today: date):
    import pandas as pd

    form = cfg.forms[form_name]
    data: dict[str, list] = {"_rid": [], "kato": [], "_period_start": [], "_period_end": [], "_today": [],
                             "_privacy": []}
    cols = [c for c in form.columns if c.type != "territory"]
    for c in cols:
        data[c.name] = []
    for rid, pf, row in items:
        data["_rid"].append(rid)
        data["kato"].append(row.get("kato"))
        p = pf.period
        data["_period_start"].append(pd.Timestamp(p.start) if p else pd.NaT)
        data["_period_end"].append(pd.Timestamp(p.end) if p else pd.NaT)
        data["_today"].append(pd.Timestamp(today))
        data["_privacy"].append(row.get("_privacy"))
        for c in cols:
            v = row.get(c.name)
            if c.type in ("month", "date", "quarter"):
                v = pd.Timestamp(v) if isinstance(v, date) else pd.NaT
            elif c.type == "int":
                v = float(v) if v is not None else float("nan")
            data[c.name].append(v)
    df = pd.DataFrame(data)
    for c in cols:
        for rule in c.rules:
            if isinstance(rule, tuple) and "sum_with" in dict(rule):
                other = dict(rule)["sum_with"]
                df[derived_sum_column(other, c.name)] = df[other] + df[c.name]
    return df


def _shown(row: dict, column: str | None):
    """The offending value as the office wrote it (the parser keeps it), else the canonical one."""
    if column is None:
        return None
    raw = (row.get("_raw") or {}).get(column)
    if raw is not None:
        return raw
    value = row.get("kato" if column == "territory" else column)
    if value is None:
        return None
    return value.strftime("%d.%m.%Y") if isinstance(value, date) else str(value)


def validate_batch(cfg: Config, files: list[ParsedFile], today: date,
                   file_results: str = "all") -> list[list[ExpectationSummary]]:
    """Validate every parsed file; append located issues to each file; return per-file summaries.

    Each file also gets `pf.validation`: per form, its own GX validation result (a JSON dict of
    an ExpectationSuiteValidationResult, cut out of the batch's), in which failing values are
    shown as the office wrote them and located by cell; privacy-flagged values never reach GX.
    `file_results`: "all" (every file and form), "failed" (only forms with a failed expectation:
    what the Data Docs show by default, ~50 result dicts per workbook spared) or "off".
    """
    summaries: list[list[ExpectationSummary]] = [[] for _ in files]
    by_form: dict[str, list[tuple[int, ParsedFile, dict]]] = {}
    owner: dict[int, int] = {}
    rid = 0
    for fi, pf in enumerate(files):
        for form_name, rows in pf.rows.items():
            for row in rows:
                by_form.setdefault(form_name, []).append((rid, pf, row))
                owner[rid] = fi
                rid += 1
    if not by_form:
        return summaries
    _, suites = _context(cfg)
    for form_name, items in by_form.items():
        bd, suite = suites[form_name]
        df = _frame(cfg, form_name, items, today)
        rows_by_rid = {r: (pf, row) for r, pf, row in items}
        per_file_count: dict[int, int] = {}
        for r, _pf, _row in items:
            per_file_count[owner[r]] = per_file_count.get(owner[r], 0) + 1
        with _configurations_memoised():
            result = bd.get_batch(batch_parameters={"dataframe": df}).validate(
                suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["_rid"],
                                      "partial_unexpected_count": 0})
        per_file_results: dict[int, list[dict]] = {fi: [] for fi in per_file_count}
        for res in result.results:
            conf = res.expectation_config
            meta = conf.meta or {}
            column = meta.get("column")
            rule = meta.get("rule", conf.type)
            failed: dict[int, list[tuple[str, object]]] = {}
            raised = bool((res.exception_info or {}).get("raised_exception"))
            for hit in (res.result or {}).get("unexpected_index_list") or []:
                r = int(hit["_rid"])
                pf, row = rows_by_rid[r]
                col = row["_cols"].get(column)
                if rule == "privacy":  # the flagged cells, from the parser's tags ("D:privacy_iin")
                    cell = ", ".join(Issue("error", rule, sheet=row["_sheet"], row=row["_row"], col=t.split(":")[0]).cell
                                     for t in (row.get("_privacy") or "").split(",") if t)
                else:
                    cell = Issue("error", rule, sheet=row["_sheet"], row=row["_row"], col=col).cell
                # never a privacy-flagged value: the privacy expectation shows only its cells
                failed.setdefault(owner[r], []).append((cell, None if rule == "privacy" else _shown(row, column)))
                if rule == "privacy":
                    continue  # already reported, located, by the parser; the value is never repeated
                if rule == "in_period" and any(i.rule == "period_mismatch" for i in pf.issues):
                    continue  # one error names both periods (forms.md), not one per cell
                if column in row.get("_parse_errors", ()):
                    continue  # the cell's own parse error says it better
                pf.issues.append(Issue(
                    "error", rule, sheet=row["_sheet"], row=row["_row"],
                    col=col, column=column, value=_shown(row, column),
                    params={"expectation": conf.type, "period": pf.period.token if pf.period else ""},
                ))
            if raised:
                # A pipeline fault, not the office's: the files cannot be judged (requeue after the fix).
                log.error("GX expectation %s on %s raised: %s", conf.type, form_name,
                          (res.exception_info or {}).get("exception_message", "")[:200])
                for fi in per_file_count:
                    files[fi].issues.append(Issue("error", "validation_error", column=column,
                                                  params={"expectation": conf.type, "form": form_name}))
            conf_json = conf.to_json_dict()
            for fi, n in per_file_count.items():
                hits = failed.get(fi, [])
                ok = not hits and not raised
                summaries[fi].append(ExpectationSummary(form_name, conf.type, column, ok, n, len(hits)))
                per_file_results[fi].append(_file_result(conf_json, ok, n, hits, raised))
        for fi, results in per_file_results.items():
            if file_results == "all" or (file_results == "failed" and not all(r["success"] for r in results)):
                files[fi].validation[form_name] = _suite_result(suite.name, files[fi], form_name, results, result)
    return summaries


def _file_result(conf_json: dict, ok: bool, n: int, hits: list[tuple[str, object]], raised: bool) -> dict:
    counts: dict = {}
    for _, v in hits:
        counts[v] = counts.get(v, 0) + 1
    k = len(hits)
    result = {
        "element_count": n, "unexpected_count": k,
        "unexpected_percent": round(100.0 * k / n, 4) if n else 0.0,
        "partial_unexpected_list": [v for _, v in hits[:20]],
        "partial_unexpected_counts": [{"value": v, "count": c} for v, c in list(counts.items())[:20]],
        "unexpected_index_list": [{"value": v, "cell": cell} for cell, v in hits],
        "unexpected_index_column_names": ["cell"],
    }
    return {"success": ok, "expectation_config": conf_json, "result": result, "meta": {},
            "exception_info": {"raised_exception": raised, "exception_message": None, "exception_traceback": None}}


def _suite_result(suite_name: str, pf: ParsedFile, form_name: str, results: list[dict], batch_result) -> dict:

    ok = sum(1 for r in results if r["success"])
    return {
        "success": ok == len(results),
        "results": results,
        "suite_name": suite_name,
        "suite_parameters": {},
        "statistics": {"evaluated_expectations": len(results), "successful_expectations": ok,
                       "unsuccessful_expectations": len(results) - ok,
                       "success_percent": round(100.0 * ok / len(results), 2) if results else None},
        "meta": {
            "great_expectations_version": (batch_result.meta or {}).get("great_expectations_version"),
            "validation_time": str((batch_result.meta or {}).get("validation_time") or ""),
            "pcve": {"office": pf.office, "file_name": mask(pf.file_name), "form": form_name,
                     "period": pf.period.token if pf.period else None, "scope": pf.scope},
        },
    }
