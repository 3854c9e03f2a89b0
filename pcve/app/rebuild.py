"""The warehouse is derived, never the only copy: rebuild its raw layer from
the archive (received files by sha256) and the ledger (every decision).

Decisions are replayed, not re-taken: a file accepted in 2017 stays accepted
even though the rules' "today" has moved on.
"""

from __future__ import annotations

import logging
import os
from datetime import date

from expectations.validate import validate_batch
from ingest import ledger as L
from ingest.load import delete_submission, load_batch
from ingest.messages import render
from ingest.parse import FileParser
from ingest.reports import _params
from ingest.warehouse_init import init_warehouse
from pcve.app.intake import _jsonable
from pcve.core import db
from pcve.core.config import load_config
from pcve.core.home import Home
from pcve.core.model import ParsedFile
from pcve.core.periods import parse_period, today_almaty
from pcve.core.safe_io import atomic_write

log = logging.getLogger("pcve.rebuild")


def check_warehouse(home) -> str | None:
    """None when the raw layer agrees with the ledger; otherwise what is wrong."""

    h = Home.at(home)
    state = L.LedgerState.load(h.ledger)
    decided = {sid: s.status for sid, s in state.submissions.items() if s.status in L.DECISIONS | {"voided"}}
    t = db.target(h.root)
    if not t.is_postgres and not h.warehouse.exists():
        return "warehouse file is missing" if decided else None
    try:
        con = db.connect(t=t, read_only=True)
    except Exception as exc:  # a damaged file fails in many ways; all mean "rebuild"
        if t.is_postgres:
            raise  # an unreachable server is not mended by a rebuild
        return f"warehouse cannot be opened ({type(exc).__name__})"
    try:
        rows = dict(con.execute("select submission_id, status from raw.submissions").fetchall())
    except db.MissingTable:
        if t.is_postgres and not decided:
            return None  # a new, empty database: intake creates the raw layer
        return "warehouse raw layer is missing"
    except Exception as exc:
        return f"warehouse raw layer unreadable ({type(exc).__name__})"
    finally:
        con.close()
    if rows != decided:
        missing = len(set(decided) - set(rows))
        extra = len(set(rows) - set(decided))
        differ = sum(1 for k in set(rows) & set(decided) if rows[k] != decided[k])
        return f"raw layer disagrees with the ledger ({missing} missing, {extra} unknown, {differ} differ)"
    if not t.is_postgres and _stamp(h) != _saved_stamp(h):
        return _scan_tables(h)
    return None


def _scan_tables(h: Home) -> str | None:
    """Read every table of the DuckDB file to its last block: a file cut short can still open and
    answer for the tables stored before the cut (the raw layer) while the marts are gone."""
    try:
        con = db.connect(path=h.warehouse, read_only=True)
    except Exception as exc:
        return f"warehouse cannot be opened ({type(exc).__name__})"
    try:
        tables = con.execute("select schema_name, table_name from duckdb_tables() where not temporary "
                             "order by 1, 2").fetchall()
        for schema, table in tables:
            try:
                con.execute(f'select count(*), bit_xor(hash(columns(*))) from "{schema}"."{table}"').fetchall()
            except Exception as exc:
                return f"warehouse table {schema}.{table} unreadable ({type(exc).__name__})"
    finally:
        con.close()
    return None


def _stamp(h: Home) -> list | None:
    try:
        st = h.warehouse.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _saved_stamp(h: Home) -> list | None:
    import json

    try:
        return json.loads((h.state / "warehouse_stamp.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stamp_warehouse(home) -> None:
    """Record the warehouse file as this run leaves it (size, modification time): the next run reads
    every table only when the file changed since (a crash mid-write, or damage from outside)."""
    import json

    h = Home.at(home)
    stamp = _stamp(h)
    if stamp is None:
        return

    h.state.mkdir(parents=True, exist_ok=True)
    atomic_write(h.state / "warehouse_stamp.json", json.dumps(stamp))


def discard_undecided(home) -> list[str]:
    """Remove from the raw layer the submissions the ledger has not decided, and return their ids.

    A run killed between a submission's warehouse commit and its ledger decision leaves such
    rows (so does a requeued file's old record): the ledger is the truth, and the next intake
    loads an undecided file again under the same id. Without this, the disagreement would make
    the next run rebuild the whole raw layer for what is a normal crash-resume."""
    h = Home.at(home)
    with h.writer_lock():
        return _discard_undecided(h)


def _discard_undecided(h: Home) -> list[str]:

    state = L.LedgerState.load(h.ledger)
    undecided = {sid for sid, s in state.submissions.items() if s.status not in L.DECISIONS | {"voided"}}
    if not undecided:
        return []
    try:
        if not db.exists(h.root):
            return []
        con = db.connect(h.root)
    except Exception:  # unreadable: check_warehouse reports it and the raw layer is rebuilt
        return []
    try:
        try:
            present = {r[0] for r in con.execute("select submission_id from raw.submissions").fetchall()}
        except Exception:
            return []
        gone = sorted(present & undecided)
        if gone:
            cfg = load_config()
            con.execute("begin")
            for sid in gone:
                delete_submission(con, cfg, sid)
            con.execute("commit")
            con.checkpoint()
            log.info("removed %d submission(s) the ledger has not decided (resumed by intake): %s",
                     len(gone), ", ".join(gone))
        return gone
    finally:
        con.close()


def rebuild_raw(home, today: date | None = None) -> dict:
    """Recreate the raw layer from archive + ledger. The damaged one is kept aside: the DuckDB file
    renamed, on PostgreSQL the schema `raw` renamed to `raw_damaged_<time>`."""

    h = Home.at(home)
    cfg = load_config()
    t = db.target(h.root)
    with h.writer_lock():
        state = L.LedgerState.load(h.ledger)
        subs = sorted((s for s in state.submissions.values() if s.status in L.DECISIONS | {"voided"}),
                      key=lambda s: s.seq)
        if t.is_postgres:
            _raw_schema_aside(t)
        elif h.warehouse.exists():
            aside = h.warehouse.with_name(f"warehouse.damaged-{L.now_iso().replace(':', '')}.duckdb")
            os.replace(h.warehouse, aside)
            log.warning("moved the damaged warehouse aside to %s", aside.name)
        for wal in h.root.glob("warehouse.duckdb.wal"):
            wal.unlink()
        missing_files = [s.submission_id for s in subs
                         if not (h.archive / s.sha256[:2] / s.sha256).exists() and s.status != "rejected"]
        if missing_files:
            raise RuntimeError(f"archive is missing files of accepted submissions: {missing_files[:5]}")
        parsers: dict[str, FileParser] = {}
        parsed = []
        for s in subs:
            archived = h.archive / s.sha256[:2] / s.sha256
            if s.office not in parsers:
                parsers[s.office] = FileParser(cfg, s.office)
            parser = parsers[s.office]
            if archived.exists():
                pf = parser.parse(archived, s.file_name)
            else:  # a privacy-rejected file purged after its retention: its record stays, content gone

                pf = ParsedFile(s.office, s.file_name, parse_period(s.period) if s.period else None, s.scope)
            parsed.append((s, pf))
        received = {e["submission_id"]: e for e in state.events if e.get("event") == "received"}
        # Validation as on the day each file was decided would need that day; the decision is the ledger's.
        summaries = validate_batch(cfg, [pf for _, pf in parsed], today or today_almaty())
        tmp = h.warehouse.with_name("warehouse.rebuild.duckdb")
        tmp.unlink(missing_ok=True)
        con = db.connect(t=t) if t.is_postgres else db.connect(path=tmp)
        try:
            init_warehouse(con, cfg)
            decided = []
            for (s, pf), summ in zip(parsed, summaries, strict=True):
                status = "accepted" if s.status == "voided" else s.status
                period = parse_period(s.period) if s.period else None
                issues = [{"severity": i.severity, "sheet": i.sheet, "row": i.row, "col": i.col,
                           "column": i.column, "rule": i.rule,
                           "message": render(i.rule, "en", _params(cfg, pf, i, "en"))} for i in pf.issues]
                staged = {"rows": pf.rows if status == "accepted" else {}, "issues": issues,
                          "summaries": [vars(x) for x in summ]}
                row = {"submission_id": s.submission_id, "seq": s.seq, "office_code": s.office,
                       "period": s.period, "period_kind": period.kind if period else None,
                       "period_start": period.start if period else None,
                       "period_end": period.end if period else None, "scope": s.scope,
                       "file_name": s.file_name, "sha256": s.sha256,
                       "received_at": received[s.submission_id]["received_at"], "status": status,
                       "error_count": s.errors, "warning_count": s.warnings}
                decided.append((row, _jsonable_rows(staged)))
            load_batch(con, cfg, decided)
            voided = [s.submission_id for s, _ in parsed if s.status == "voided"]
            if voided:
                con.executemany("update raw.submissions set status = 'voided' where submission_id = ?",
                                [[v] for v in voided])
            con.checkpoint()
        finally:
            con.close()
        if not t.is_postgres:
            os.replace(tmp, h.warehouse)
    return {"rebuilt": True, "submissions": len(subs)}


def _raw_schema_aside(t) -> None:
    """PostgreSQL: rename the schema `raw` (if any) to raw_damaged_<time>; init_warehouse makes a new one."""
    import re


    with db.connect(t=t) as con:
        if con.execute("select 1 from information_schema.schemata where schema_name = 'raw'").fetchall():
            aside = "raw_damaged_" + re.sub(r"\D", "", L.now_iso())[:14]
            con.execute(f"alter schema raw rename to {aside}")
            log.warning("renamed the damaged raw layer aside to schema %s", aside)


def _jsonable_rows(staged: dict) -> dict:

    staged["rows"] = {f: [{k: _jsonable(v) for k, v in r.items() if k != "_parse_errors"} for r in rows]
                      for f, rows in staged["rows"].items()}
    return staged
