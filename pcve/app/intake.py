"""Intake: find new files in each office's source, archive, parse, validate
(batched per form), decide, load, and tell the office.

Steps are split the way Airflow runs them: `discover` and `stage_files` never
write the warehouse (they can run in parallel, one mapped task per file);
`load_staged` writes it, in the files' order, under the home's writer lock.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import time
from dataclasses import fields
from datetime import date
from pathlib import Path

from expectations.datadocs import publish_data_docs
from expectations.validate import validate_batch
from ingest import ledger as L
from ingest import sources
from ingest.load import load_batch, set_status
from ingest.messages import render
from ingest.parse import FileParser, internal_error_file
from ingest.reader import Limits
from ingest.reports import _params, errors_csv, errors_html, receipt_html
from ingest.sandbox import parse_sandboxed
from ingest.warehouse_init import init_warehouse
from pcve.core import config, db
from pcve.core.config import Config, load_config
from pcve.core.faults import checkpoint
from pcve.core.faults import enabled as faults_enabled
from pcve.core.home import Home
from pcve.core.model import Issue, ParsedFile
from pcve.core.periods import parse_period, today_almaty
from pcve.core.privacy import mask
from pcve.core.procs import may_have_children, usable_cpus
from pcve.core.safe_io import atomic_write
from pcve.core.settings import settings

log = logging.getLogger("pcve.intake")


# ---------------------------------------------------------------- discover
def discover(home, office: str) -> list[dict]:
    """New files of one office, ordered by modification time, then name (forms.md)."""
    h = Home.at(home)
    cfg = load_config()
    location = cfg.offices[office].source_location(h.root)
    if "://" not in location:
        Path(location).mkdir(parents=True, exist_ok=True)
    done, undecided = _ledger_index(h)
    done = done.get(office, set())
    refs = []
    for f in sources.list_files(location, office):
        if (_record_name(f["name"]), f["size"], f["mtime"]) in done or (f["name"], f["size"], f["mtime"]) in done:
            continue  # same name, size and time as a decided file: not read again
        refs.append({"office": office, "location": location, **f})
    refs += _stranded(h, undecided.get(office, []), office, location, refs)
    refs.sort(key=lambda r: (r["mtime"], r["name"]))
    return refs


#: ledger path -> (its stat, decided files by office, undecided receipts by office): a run discovers
#: every office in turn, and each would otherwise fold the whole ledger again (O(offices x events))
_LEDGER_INDEX: dict[str, tuple] = {}


def _ledger_index(h: Home) -> tuple[dict[str, set], dict[str, list]]:
    """(office -> {(file name, size, mtime)} of its decided files, office -> [(received event, its
    submission)] not decided yet), from the ledger as it is now."""
    try:
        st = os.stat(h.ledger)
        stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    except FileNotFoundError:
        stamp = None
    cached = _LEDGER_INDEX.get(str(h.ledger))
    if cached is not None and stamp is not None and cached[0] == stamp:
        return cached[1], cached[2]
    state = L.LedgerState.load(h.ledger)
    done: dict[str, set] = {}
    undecided: dict[str, list] = {}
    final = L.DECISIONS | {"voided"}
    for e in state.events:
        if e.get("event") != "received":
            continue
        sub = state.submissions[e["submission_id"]]
        # ledger names are privacy-masked (see _record_name); entries written before that hold the name as is
        if sub.status in final:
            done.setdefault(e["office"], set()).add((e["file_name"], e.get("size"), e.get("mtime")))
        elif sub.status == "received":
            undecided.setdefault(e["office"], []).append((e, sub))
    if stamp is not None:
        _LEDGER_INDEX[str(h.ledger)] = (stamp, done, undecided)
    return done, undecided


def _stranded(h: Home, undecided: list, office: str, location: str, found: list[dict]) -> list[dict]:
    """Files received (in the ledger, archived) but never decided, e.g. after a crash, that are no
    longer in the source: read again from the archive, so every received file ends decided."""
    seen = {(_record_name(r["name"]), r["size"], r["mtime"]) for r in found}
    out = []
    for e, sub in undecided:
        if (e["file_name"], e.get("size"), e.get("mtime")) in seen:
            continue
        archived = h.archive / sub.sha256[:2] / sub.sha256
        if not archived.is_file():
            continue
        seen.add((e["file_name"], e.get("size"), e.get("mtime")))
        out.append({"office": office, "location": location, "fetch_from": str(archived.parent),
                    "name": e["file_name"], "path": str(archived), "mtime": e.get("mtime", 0),
                    "size": e.get("size", 0)})
    return out


# ---------------------------------------------------------------- stage
def _staged_path(h: Home, office: str, sha: str, name: str) -> Path:
    return h.staging / office / f"{sha[:16]}__{sources.safe_name(name)}.json"


def _jsonable(v):
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, set):
        return sorted(v)
    return v


def _rows_json(pf: ParsedFile) -> dict:
    return {form: [{k: _jsonable(v) for k, v in r.items() if k != "_parse_errors"} for r in rows]
            for form, rows in pf.rows.items()}


def stage_files(home, refs: list[dict], today: date | None = None, progress=None,
                timings: dict | None = None, in_memory: bool = False,
                unavailable: dict | None = None, phase=None) -> list[dict]:
    """Archive, parse and validate files (GX once per form for the whole batch).
    `timings`, if given, receives the seconds spent reading, validating and staging.
    `in_memory`: the staged result rides in the returned dict ("doc") instead of a file under
    staging/ (intake() loads in the same process; Airflow's load task needs the file).
    `unavailable`: a dict to receive {office: SourceError} for offices whose source failed while
    their files were fetched (their files are skipped, fetched again next run); without it the
    error is raised (Airflow's stage task: the task is retried). Any other failure to fetch one
    file holds that file (and its office's later files) for the next run.
    `phase(name, total)`: called as validation starts (see pcve.app.pipeline.PHASES)."""
    clock = time.perf_counter()

    h = Home.at(home).ensure()
    cfg = load_config()
    today = today or today_almaty()
    state = L.LedgerState.load(h.ledger)
    decided = {k for k, sub in state.key_index().items() if sub.status in L.DECISIONS | {"voided"}}
    parsed: list[tuple[dict, ParsedFile, str]] = []
    results: list[dict | None] = [None] * len(refs)
    slots: list[int] = []
    with _gc_paused():  # the chunk's rows are many small objects: see _gc_paused
        jobs: list[tuple[int, dict, Path, str]] = []
        fresh: list[Path] = []  # archived by this call: flushed to disk together, below
        for n, ref in enumerate(refs):
            if unavailable is not None and ref["office"] in unavailable:
                results[n] = {**_ref_summary(ref), "skipped": "source unavailable"}
                continue
            try:
                tmp, sha = sources.fetch(ref.get("fetch_from", ref["location"]), ref["path"], h.archive / ".incoming",
                                         office=None if "fetch_from" in ref else ref["office"])
                checkpoint("stage.fetched")
                archived = sources.archive_file(tmp, sha, h.archive, sync=False)
            except sources.SourceError as exc:
                if unavailable is None:
                    raise
                unavailable[ref["office"]] = exc
                results[n] = {**_ref_summary(ref), "skipped": "source unavailable"}
                continue
            except Exception as exc:  # unreadable now: nothing of it is known, tried next run
                log.warning("%s: could not fetch %r (%s): held for the next run", ref["office"],
                            _record_name(ref["name"]), type(exc).__name__)
                results[n] = {**_ref_summary(ref), "held": f"fetch failed: {type(exc).__name__}", "failed": True}
                if progress:
                    progress(1)
                continue
            fresh.append(archived)
            checkpoint("stage.archived")
            if (ref["office"], _record_name(ref["name"]), sha) in decided or (ref["office"], ref["name"], sha) in decided:
                results[n] = {**_ref_summary(ref), "sha256": sha, "skipped": "already processed"}
                if progress:
                    progress(1)
            else:
                jobs.append((n, ref, archived, sha))
        sources.sync_archive(h.archive, fresh)  # durable before any ledger event names them (load)
        for (n, ref, _, sha), pf in zip(jobs, _parse_all(cfg, jobs), strict=True):
            checkpoint("stage.parsed")
            parsed.append((ref, pf, sha))
            slots.append(n)
            if progress:
                progress(1)
        t_read = time.perf_counter()
        if phase and parsed:
            phase("validation", None)
        summaries = _validate(cfg, [pf for _, pf, _ in parsed], today) if parsed else []
        checkpoint("stage.validated")
        t_validated = time.perf_counter()
        for slot, (ref, pf, sha), summ in zip(slots, parsed, summaries, strict=True):
            staged = {
                "ref": _ref_summary(ref), "sha256": sha, "file_name": _record_name(ref["name"]), "office": ref["office"],
                "period": pf.period.token if pf.period else None, "scope": pf.scope,
                "rows": _rows_json(pf),
                "issues": [_fields(i) for i in pf.issues],
                "summaries": [_fields(s) for s in summ],
                "validation": getattr(pf, "validation", {}),  # per-form GX result, privacy-masked (Data Docs)
            }
            result = {**_ref_summary(ref), "sha256": sha,
                      "period": staged["period"], "errors": len(pf.errors), "warnings": len(pf.warnings)}
            if in_memory:
                result["doc"] = staged
            else:
                path = _staged_path(h, ref["office"], sha, _record_name(ref["name"]))
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, json.dumps(staged, ensure_ascii=False))
                result["staged"] = str(path)
            checkpoint("stage.staged")
            results[slot] = result
    if timings is not None:
        timings["read_parse"] = timings.get("read_parse", 0.0) + t_read - clock  # incl. fetch + archive
        timings["validate"] = timings.get("validate", 0.0) + t_validated - t_read
        timings["stage_write"] = timings.get("stage_write", 0.0) + time.perf_counter() - t_validated
    return results  # type: ignore[return-value]


PARSE_POOL_MIN_FILES = 64  # below this, starting the processes costs more than they save


def _parse_workers(n_files: int) -> int:
    """Child processes reading and parsing a batch: the CPUs this process may use (at most 4), or
    PCVE_PARSE_WORKERS; one for small batches and where this process may not have worker children
    (a Celery task: the one child is then a plain subprocess, see ingest/sandbox.py)."""

    if n_files < PARSE_POOL_MIN_FILES or not may_have_children():
        return 1
    if (n := settings().parse_workers) is not None:
        return max(1, n)

    return usable_cpus()


def _parse_all(cfg: Config, jobs: list[tuple[int, dict, Path, str]]):
    """Parsed files in the jobs' order. Each file is read and parsed in a child process under the
    configured limits (ingest/sandbox.py): a bomb, a hang or a crash ends as that file's rejection.
    Under fault injection the files are parsed here instead: the checkpoints must fire in the
    process the test kills."""
    if not jobs:
        return []
    if faults_enabled():
        parsers: dict[str, FileParser] = {}
        out = []
        for _, ref, archived, _ in jobs:
            if ref["office"] not in parsers:
                parsers[ref["office"]] = FileParser(cfg, ref["office"])
            out.append(parsers[ref["office"]].parse(archived, ref["name"]))
        return out

    work = [(ref["office"], str(archived), ref["name"]) for _, ref, archived, _ in jobs]
    return parse_sandboxed(work, Limits.from_config(cfg.limits), workers=_parse_workers(len(jobs)),
                           config_dir=str(config.CONFIG_DIR))


def _validate(cfg: Config, files: list[ParsedFile], today: date) -> list:
    """GX once per form for the whole batch; if that fails, file by file, so that a fault on one
    file's rows rejects that file (internal_error, stage validate) and not the batch."""

    try:
        return validate_batch(cfg, files, today, file_results=data_docs_mode())
    except Exception as exc:
        log.error("batch validation failed (%s): validating file by file", type(exc).__name__)
    out = []
    for pf in files:
        try:
            out.append(validate_batch(cfg, [pf], today, file_results=data_docs_mode())[0])
        except Exception as exc:

            bad = internal_error_file(pf.office, pf.file_name, "validate", exc)
            pf.rows, pf.issues = {}, pf.issues + bad.issues
            out.append([])
    return out


@contextlib.contextmanager
def _gc_paused():
    """Python's cyclic GC rescans every live object each time enough new ones appear: with a chunk of
    parsed rows alive that is ~30% of the parse time. Reference counting still frees what is
    dropped; the collector runs once afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _fields(obj) -> dict:
    """A dataclass as a dict, one level deep: dataclasses.asdict deep-copies every value (a third of
    the staging time for a batch's ~50 expectation summaries per workbook), and nothing mutates them."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _ref_summary(ref: dict) -> dict:
    # what Airflow keeps as XCom (a table): names privacy-masked like everywhere the pipeline writes them
    return {"office": ref["office"], "name": _record_name(ref["name"]), "mtime": ref["mtime"], "size": ref["size"],
            "location": ref["location"], "path": _record_name(ref["path"])}


def _record_name(name: str) -> str:
    """A file name as the pipeline records it (ledger, warehouse, reports, logs, quarantine, XCom):
    IIN-shaped numbers and phones masked (privacy rule). Two names differing only there are
    told apart by their bytes (sha256) or, at discovery, their size and time."""

    return mask(name)


def _parsed_from_staged(cfg: Config, st: dict) -> ParsedFile:
    period = parse_period(st["period"]) if st["period"] else None
    pf = ParsedFile(st["office"], st["file_name"], period, st["scope"], st["rows"])
    pf.issues = [Issue(**i) for i in st["issues"]]
    return pf


# ---------------------------------------------------------------- load
def load_staged(home, office: str, staged: list[dict], docs_later: list | None = None) -> dict:
    """Decide and load the staged files of one office, in order. Returns what happened."""
    return load_offices(home, {office: staged}, docs_later=docs_later)[office]


def load_offices(home, staged_by_office: dict[str, list[dict]], docs_later: list | None = None) -> dict[str, dict]:
    """Decide and load staged files, each office's in its files' order, in ONE warehouse transaction.

    `docs_later`: a list to receive the files for the validation Data Docs instead of
    publishing them now (intake() publishes every chunk's files at once: the site's index
    is rebuilt per publish).

    Order of writes, so that a kill anywhere is recovered by re-running: ledger 'received'
    (ids and seqs, one fsync) → one warehouse transaction → per file: quarantine and reports,
    staged file removed → ledger decisions (one fsync). A file without a decision is processed
    again under the same id; the run's first step removes the warehouse rows of undecided ids.
    One transaction for the batch rather than one per submission: each commit of DuckDB or
    PostgreSQL costs milliseconds, more than the rows of a workbook."""

    h = Home.at(home).ensure()
    cfg = load_config()
    outs: dict[str, dict] = {}
    plans: list[tuple] = []
    with h.writer_lock():
        state = L.LedgerState.load(h.ledger)
        index = _LedgerIndex(state)
        received_events: list[dict] = []
        for office, staged in staged_by_office.items():
            outs[office] = out = {"office": office, "accepted": [], "rejected": [], "duplicate": [], "skipped": []}
            plans.extend(_plan_office(h, cfg, state, index, office, staged, out, received_events))
        if received_events:
            L.append_many(h.ledger, received_events)
            for _ in received_events:
                checkpoint("load.received")
        if plans:
            con = db.connect(h.root)  # the home's DuckDB file, or PostgreSQL (PCVE_WAREHOUSE)
            try:
                init_warehouse(con, cfg)
                _load_isolated(con, cfg, plans)
                decisions = [_decided_safely(h, cfg, p, outs[p[1]["office"]]) for p in plans]
                L.append_many(h.ledger, decisions)
                for d in decisions:
                    checkpoint("load.decided")
                    _log_decision(d)
                con.checkpoint()
            finally:
                con.close()
            docs = [{"office": p[1]["office"], "file_name": p[1]["file_name"], "period": p[1]["period"],
                     "validation": p[1].get("validation") or {}, "submission_id": p[3]["submission_id"]}
                    for p in plans]  # what the Data Docs need, not the rows
            if docs_later is None:
                _publish_validation_docs(h, docs)
            else:
                docs_later.extend(docs)
    for out in outs.values():
        out["changed"] = bool(out["accepted"])
    return outs


class _LedgerIndex:
    """Lookups the loader makes per file, answered from dicts (the ledger grows with every run)."""

    def __init__(self, state: L.LedgerState):
        self.done = {(s.office, s.file_name, s.sha256) for s in state.submissions.values()
                     if s.status in L.DECISIONS | {"voided"}}
        self.undecided = {(s.office, s.file_name, s.sha256): s for s in state.submissions.values()
                          if s.status == "received"}
        self.current: dict[tuple, tuple[int, str]] = {}  # (office, period, scope) -> (seq, sha256) accepted
        for s in state.submissions.values():
            if s.status == "accepted":
                key = (s.office, s.period, s.scope)
                if key not in self.current or s.seq > self.current[key][0]:
                    self.current[key] = (s.seq, s.sha256)
        self.next_seq = state.next_seq


def _staged_doc(item: dict) -> dict | None:
    if "doc" in item:
        return item["doc"]
    if "staged" not in item or not Path(item["staged"]).exists():
        return None
    return json.loads(Path(item["staged"]).read_text(encoding="utf-8"))


def _plan_office(h: Home, cfg: Config, state: L.LedgerState, index: _LedgerIndex, office: str,
                 staged: list[dict], out: dict, received_events: list[dict]) -> list[tuple]:
    """Decide each staged file of one office (accepted, rejected or duplicate), in order."""

    items = [s for s in staged if s and s.get("office") == office]
    items.sort(key=lambda s: (s["mtime"], s["name"]))
    plans = []
    held = False
    for item in items:
        if item.get("held") or (held and "skipped" not in item):
            # Not read this run: it and the office's later files wait for the next run, so that an
            # older file is never decided after a newer one of the same period (nothing recorded).
            held = True
            out.setdefault("held", []).append(item["name"])
            if "staged" in item:
                Path(item["staged"]).unlink(missing_ok=True)
            continue
        st = _staged_doc(item)
        if st is None:
            out["skipped"].append(item["name"])
            continue
        key = (office, st["file_name"], st["sha256"])
        if key in index.done:
            out["skipped"].append(st["file_name"])
            if "staged" in item:
                Path(item["staged"]).unlink(missing_ok=True)
            continue
        index.done.add(key)
        pf = _parsed_from_staged(cfg, st)
        sub = _received(index, state, item, st, received_events)
        current_key = (office, st["period"], st["scope"])
        if pf.errors:
            status = "rejected"
            st["rows"] = {}  # nothing of a rejected file reaches the warehouse: only its record and issues
        elif index.current.get(current_key, (0, None))[1] == st["sha256"]:
            status = "duplicate"
            st["rows"] = {}
        else:
            status = "accepted"
            index.current[current_key] = (sub["seq"], st["sha256"])
        st["issues"] = [{**i, "message": render(i["rule"], "en", _params(cfg, pf, Issue(**i), "en"))}
                        for i in st["issues"]]
        period = parse_period(st["period"]) if st["period"] else None
        row = {
            "submission_id": sub["submission_id"], "seq": sub["seq"], "office_code": office,
            "period": st["period"], "period_kind": period.kind if period else None,
            "period_start": period.start if period else None, "period_end": period.end if period else None,
            "scope": st["scope"], "file_name": st["file_name"], "sha256": st["sha256"],
            "received_at": sub["received_at"], "status": status,
            "error_count": len(pf.errors), "warning_count": len(pf.warnings),
        }
        plans.append((item, st, pf, sub, {"office": office, "status": status}, row))
    return plans


def data_docs_mode() -> str:
    """Which validation results get GX Data Docs pages (PCVE_DATA_DOCS): `failed` (default: files
    with a failed expectation, the ones someone has to look at), `all`, or `off`."""
    mode = settings().data_docs
    return mode if mode in ("failed", "all", "off") else "failed"


def _publish_validation_docs(h: Home, staged: list[dict]) -> None:
    """GX Data Docs under <home>/docs/validation/. A failure here never undoes a decision.

    GX renders ~30 ms of pages per result (three per workbook): for every accepted workbook that
    would cost more than reading, validating and loading it. Its results are in the warehouse
    (raw.validation_results) either way; the pages are for the failures unless asked for."""
    mode = data_docs_mode()
    if mode == "off":
        return
    if mode == "failed":
        staged = [s for s in staged
                  if any(not r.get("success", True) for r in (s.get("validation") or {}).values())]
    if not staged:
        return
    try:

        publish_data_docs(h.root, staged)
    except Exception as exc:  # docs are a view of results already stored in the warehouse
        log.warning("validation Data Docs not updated: %s", exc)


def _load_isolated(con, cfg: Config, plans: list[tuple]) -> None:
    """The batch in one transaction; if the database refuses it, each file in its own, and a file
    whose rows it still refuses becomes a rejection (internal_error, stage load) with only its
    record and issues loaded: one file never stops the batch, and no undecided rows remain."""

    try:
        load_batch(con, cfg, [(p[5], p[1]) for p in plans])
        return
    except Exception as exc:  # rolled back by load_batch
        log.error("batch load failed (%s): loading file by file", type(exc).__name__)
    for n, p in enumerate(plans):
        try:
            load_batch(con, cfg, [(p[5], p[1])])
            continue
        except Exception as exc:
            bad = internal_error_file(p[1]["office"], p[1]["file_name"], "load", exc)
        item, st, pf, sub, decision, row = p
        pf.rows, pf.issues = {}, pf.issues + bad.issues
        st["rows"] = {}
        st["issues"] = st["issues"] + [{**_fields(i), "message": render(i.rule, "en", i.params)} for i in bad.issues]
        row.update(status="rejected", error_count=len(pf.errors))
        plans[n] = (item, st, pf, sub, {**decision, "status": "rejected"}, row)
        load_batch(con, cfg, [(row, st)])


def _decided_safely(h: Home, cfg: Config, plan: tuple, out: dict) -> dict:
    item, st, pf, sub, decision, _ = plan
    try:
        return _decided(h, cfg, decision["office"], item, st, pf, sub, decision["status"], out)
    except Exception as exc:  # the warehouse holds the decision: it stands, the engineers are told
        log.error("%s %s: quarantine or report not written (%s)", decision["office"], sub["submission_id"],
                  type(exc).__name__)
        if "staged" in item:
            Path(item["staged"]).unlink(missing_ok=True)
        key = "rejected" if decision["status"] == "rejected" else decision["status"]
        out[key].append({"submission_id": sub["submission_id"], "file": st["file_name"], "period": st["period"]})
        return {"event": decision["status"], "submission_id": sub["submission_id"], "at": L.now_iso(),
                "errors": len(pf.errors), "warnings": len(pf.warnings),
                "rules": sorted({i.rule for i in pf.errors}),
                "_log": (decision["office"], st["file_name"], st["period"])}


def _decided(h: Home, cfg: Config, office: str, item: dict, st: dict, pf: ParsedFile, sub: dict, status: str,
             out: dict) -> dict:
    """After the warehouse commit: quarantine and reports to the office. Returns the ledger
    decision, which the caller appends (all of a batch with one fsync)."""

    checkpoint("load.committed")  # in the warehouse, not yet in the ledger
    decision = {"event": status, "submission_id": sub["submission_id"], "at": L.now_iso(),
                "errors": len(pf.errors), "warnings": len(pf.warnings),
                "rules": sorted({i.rule for i in pf.errors})}
    location = item["location"]
    if status == "rejected":
        privacy = any(i.rule.startswith("privacy") for i in pf.errors)
        qpath = _quarantine(h, cfg, office, st, pf, privacy)
        checkpoint("load.quarantined")
        decision.update({"quarantine_path": str(qpath.relative_to(h.root)), "privacy": privacy})
        _write_back(h, office, location, st["file_name"] + ".errors.csv", errors_csv(cfg, pf))
        _write_back(h, office, location, st["file_name"] + ".errors.html", errors_html(cfg, pf))
        out["rejected"].append({"submission_id": sub["submission_id"], "file": st["file_name"],
                                "errors": len(pf.errors), "rules": decision["rules"]})
    else:
        _write_back(h, office, location, st["file_name"] + ".receipt.html",
                    receipt_html(cfg, pf, sub["submission_id"], status))
        out[status].append({"submission_id": sub["submission_id"], "file": st["file_name"], "period": st["period"]})
    checkpoint("load.reported")
    # Gone before the decision: killed in between, the file is undecided and simply staged again;
    # after it, a kill would leave the staged rows of a decided file behind for ever.
    if "staged" in item:
        Path(item["staged"]).unlink(missing_ok=True)
    # for the log line after the decision is durable (not stored in the ledger)
    decision["_log"] = (office, st["file_name"], st["period"])
    return decision


def _log_decision(d: dict) -> None:
    office, file_name, period = d.pop("_log")
    # %r: a file name is the office's text; newlines or terminal escapes in it must not forge log lines
    log.info("%s %s %r (%s): %s, %d error(s), %d warning(s)", office, d["submission_id"], file_name,
             period, d["event"], d["errors"], d["warnings"])


def _received(index: _LedgerIndex, state: L.LedgerState, item: dict, st: dict, events: list[dict]) -> dict:
    """Give the file its seq and submission id (reusing them after a crash mid-decision).
    The 'received' event goes to `events`, appended to the ledger by the caller."""
    key = (st["office"], st["file_name"], st["sha256"])
    if (s := index.undecided.pop(key, None)) is not None:
        return {"submission_id": s.submission_id, "seq": s.seq, "received_at": s.received_at}
    seq = index.next_seq
    index.next_seq += 1
    sub = {"submission_id": f"S{seq:06d}", "seq": seq, "received_at": sources.received_at(item["mtime"])}
    event = {
        "event": "received", **sub, "office": st["office"], "file_name": st["file_name"], "sha256": st["sha256"],
        "size": item["size"], "mtime": item["mtime"], "period": st["period"], "scope": st["scope"],
        "at": L.now_iso(),
    }
    events.append(event)
    state.submissions[sub["submission_id"]] = L.Submission(
        sub["submission_id"], seq, st["office"], st["file_name"], st["sha256"], sub["received_at"],
        st["period"], st["scope"])
    state.events.append(event)
    return sub


def _quarantine(h: Home, cfg: Config, office: str, st: dict, pf: ParsedFile, privacy: bool) -> Path:

    qdir = h.quarantine / office
    qdir.mkdir(parents=True, exist_ok=True)
    name = sources.safe_name(st["file_name"])
    stem, ext = os.path.splitext(name)
    archived = h.archive / st["sha256"][:2] / st["sha256"]
    target, n = qdir / name, 1
    # A later, different file of the same name becomes <stem>~2<ext>; never overwrite.
    while target.exists() and _sha256(target) != st["sha256"]:
        n += 1
        target = qdir / f"{stem}~{n}{ext}"
    sources.copy_local(archived, target)
    atomic_write(target.parent / (target.name + ".errors.csv"), errors_csv(cfg, pf))
    atomic_write(target.parent / (target.name + ".errors.html"), errors_html(cfg, pf))
    if privacy:
        os.chmod(target, 0o600)  # readable by its owner only; purged after the retention period
    return target


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_back(h: Home, office: str, location: str, name: str, data: bytes) -> None:
    try:
        sources.write_back(location, name, data, office=office)
    except sources.ReportsRefused:
        # _reports is a symlink or a file: nothing written through it; the report kept in quarantine
        log.warning("%s: the office's _reports is a symlink or not a folder: refused; report %r kept in "
                    "quarantine/%s/_reports", office, name, office)
        try:
            folder = h.quarantine / office / sources.REPORTS_DIR
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(folder / sources.safe_name(name), data)
        except OSError as exc:
            log.warning("could not keep report %r in quarantine: %s", name, type(exc).__name__)
    except Exception as exc:  # unwritable or unreachable: the decision stands (ledger and quarantine hold it)
        log.warning("could not write %r back to the office's source: %s", name, type(exc).__name__)


# ---------------------------------------------------------------- all offices
def intake(home, only_offices: list[str] | None = None, progress=None, phase=None) -> dict:
    cfg = load_config()
    offices = only_offices or sorted(cfg.offices)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    # An office whose source fails (unreachable, refused) is left out of this run, with its error
    # in the summary; the other offices go on. Its files stay where they are for the next run.
    failed: dict[str, sources.SourceError] = {}
    refs = []
    for o in offices:
        try:
            refs.extend(discover(home, o))
        except sources.SourceError as exc:
            failed[o] = exc
            log.warning("%s: %s", o, exc)
    timings["discover"] = time.perf_counter() - t0
    result: dict = {"files": len(refs), "offices": {}}
    for k in ("load", "data_docs"):
        timings[k] = 0.0
    # In chunks of files (each office's files stay in order: refs are office by office, oldest first):
    # what a chunk holds in memory (parsed rows, GX frames and results) is freed before the next,
    # and GX still validates a whole chunk per form. Decisions are the same as for one batch
    # (each load reads the ledger the previous one wrote), as when Airflow stages file by file.
    if phase:
        phase("intake", len(refs))
    for start in range(0, len(refs), INTAKE_CHUNK):
        if phase and start:
            phase("intake", len(refs) - start)  # the next chunk: reading again
        staged = stage_files(home, refs[start:start + INTAKE_CHUNK], progress=progress, timings=timings,
                             in_memory=True, unavailable=failed, phase=phase)
        staged = [s for s in staged if s.get("skipped") != "source unavailable"]
        t0 = time.perf_counter()
        docs: list[dict] = []
        by_office = {o: [s for s in staged if s["office"] == o] for o in offices}
        by_office = {o: mine for o, mine in by_office.items() if mine or o not in result["offices"]}
        for o, out in load_offices(home, by_office, docs_later=docs).items():
            _merge_office(result["offices"], o, out)
        del staged, by_office  # the chunk's rows: freed before the next chunk is read
        timings["load"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        if docs:
            _publish_validation_docs(Home.at(home), docs)
        timings["data_docs"] += time.perf_counter() - t0
    missing = [o for o in offices if o not in result["offices"]]
    if missing:
        result["offices"].update(load_offices(home, {o: [] for o in missing}))
    for o, exc in failed.items():
        result["offices"][o]["source_error"] = {"type": type(exc).__name__, "message": str(exc),
                                                "transient": isinstance(exc, sources.SourceUnavailable)}
    result["source_errors"] = sorted(failed)
    result["changed"] = any(v["changed"] for v in result["offices"].values())
    result["timings"] = {k: round(v, 3) for k, v in timings.items()}
    return result


INTAKE_CHUNK = 500  # files staged, validated, loaded and documented together by intake()


def _merge_office(offices: dict, office: str, out: dict) -> None:
    if office not in offices:
        offices[office] = out
        return
    acc = offices[office]
    for k, v in out.items():
        if isinstance(v, list):
            acc.setdefault(k, []).extend(v)
    acc["changed"] = bool(acc.get("changed")) or bool(out.get("changed"))


# ---------------------------------------------------------------- engineers' tools
def void(home, submission_id: str, reason: str = "") -> dict:
    """Withdraw an accepted submission: the period falls back to what was current before it."""

    h = Home.at(home)
    with h.writer_lock():
        state = L.LedgerState.load(h.ledger)
        sub = state.submissions.get(submission_id)
        if sub is None:
            raise ValueError(f"no submission {submission_id}; see `pcve status` for ids")
        if sub.status != "accepted":
            raise ValueError(f"{submission_id} is {sub.status}; only an accepted submission can be voided")
        L.append(h.ledger, {"event": "voided", "submission_id": submission_id, "at": L.now_iso(),
                            "reason": reason[:500]})
        con = db.connect(h.root)
        try:
            set_status(con, submission_id, "voided")
        finally:
            con.close()
    return {"voided": submission_id, "office": sub.office, "period": sub.period, "file": sub.file_name}


def requeue(home, quarantined: str | Path) -> dict:
    """Process a quarantined file again (after a fix to the pipeline, not to the file)."""
    h = Home.at(home)
    target = Path(quarantined).resolve()
    with h.writer_lock():
        state = L.LedgerState.load(h.ledger)
        match = [s for s in state.submissions.values()
                 if s.quarantine_path and (h.root / s.quarantine_path).resolve() == target]
        if not match:
            raise ValueError(f"{quarantined} is not a quarantined submission of {h.root}")
        sub = max(match, key=lambda s: s.seq)
        L.append(h.ledger, {"event": "requeued", "submission_id": sub.submission_id, "at": L.now_iso()})
        received = next(e for e in state.events
                        if e.get("event") == "received" and e["submission_id"] == sub.submission_id)
        archived = h.archive / sub.sha256[:2] / sub.sha256
        ref = {"office": sub.office, "location": str(archived.parent), "path": str(archived),
               "name": sub.file_name, "mtime": received.get("mtime", 0), "size": received.get("size", 0)}
        staged = stage_files(h.root, [ref])
        # Reports go back to the office's own source, not to the archive folder.
        office_loc = load_config().offices[sub.office].source_location(h.root)
        for s in staged:
            s["location"] = office_loc
        result = load_staged(h.root, sub.office, staged)
    return {"requeued": sub.submission_id, **result}


def purge_privacy_quarantine(home, retention_days: int | None = None) -> list[str]:
    """Delete files rejected under the privacy rule once their retention has passed (logged)."""
    from datetime import datetime, timedelta

    h = Home.at(home)
    days = retention_days if retention_days is not None else settings().privacy_retention_days
    state = L.LedgerState.load(h.ledger)
    purged_ids = {e["submission_id"] for e in state.events if e.get("event") == "purged"}
    now = datetime.fromisoformat(L.now_iso())
    out = []
    for s in state.submissions.values():
        if not (s.privacy and s.quarantine_path and s.decided_at) or s.submission_id in purged_ids:
            continue
        if datetime.fromisoformat(s.decided_at) + timedelta(days=days) > now:
            continue
        target = h.root / s.quarantine_path
        for p in (target, target.with_name(target.name + ".errors.csv"), target.with_name(target.name + ".errors.html")):
            p.unlink(missing_ok=True)
        archived = h.archive / s.sha256[:2] / s.sha256
        archived.unlink(missing_ok=True)  # the privacy rule outranks the archive: the content must go
        L.append(h.ledger, {"event": "purged", "submission_id": s.submission_id, "at": L.now_iso(),
                            "retention_days": days})
        log.warning("purged %s (%r) after %d days: rejected under the privacy rule", s.submission_id,
                    s.file_name, days)
        out.append(s.submission_id)
    return out
