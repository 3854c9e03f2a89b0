"""Writing decided submissions into the raw layer: one transaction per batch.

Idempotent per submission id (rows of the id are deleted first), so a run
interrupted anywhere can simply be re-run: the ledger says what was decided,
the warehouse converges to it.
"""

from __future__ import annotations

from ingest.raw_schema import LINEAGE, RAW_SCHEMA, form_columns
from pcve.core import db
from pcve.core.config import Config
from pcve.core.faults import checkpoint


def submission_tables(cfg: Config) -> list[str]:
    """The raw tables whose rows belong to a submission (its id in `submission_id`)."""
    return ["submissions", "submission_forms", "submission_issues", "validation_results", *cfg.forms]


def delete_submission(con, cfg: Config, submission_id: str) -> None:
    for table in submission_tables(cfg):
        con.execute(f"delete from {RAW_SCHEMA}.{table} where submission_id = ?", [submission_id])


def _form_rows(cfg: Config, form_name: str, submission_id: str, rows: list[dict]) -> list[tuple]:
    cols = [c for c, _ in form_columns(cfg.forms[form_name])]
    form = cfg.forms[form_name]
    quarter_cols = {c.name for c in form.columns if c.type == "quarter"}
    out = []
    for r in rows:
        vals = [submission_id, r["_sheet"], r["_row"]]
        for c in cols:
            v = r.get(c)
            if c in quarter_cols and v is not None:
                # staged as the quarter's first day (for range checks); stored as 2025-Q3
                v = f"{v[:4]}-Q{(int(v[5:7]) - 1) // 3 + 1}"
            vals.append(v)
        out.append(tuple(vals))
    return out


def _bulk_insert(con, table: str, columns: list[tuple[str, str]], data: list[tuple], target: str | None = None) -> None:
    """Append rows by the database's bulk path (pcve/core/db.py): DuckDB a DataFrame scan (a per-row insert
    costs ~0.3 ms), PostgreSQL COPY FROM STDIN. Values travel as text and are cast to the table's types."""
    db.wrap(con).bulk_insert(target or f"{RAW_SCHEMA}.{table}", columns, data)


_ISSUE_COLS = [("submission_id", "varchar"), ("severity", "varchar"), ("sheet", "varchar"),
               ("row_number", "integer"), ("column_letter", "varchar"), ("column_name", "varchar"),
               ("rule", "varchar"), ("message", "varchar")]
_RESULT_COLS = [("submission_id", "varchar"), ("form", "varchar"), ("expectation", "varchar"),
                ("column_name", "varchar"), ("success", "boolean"), ("element_count", "integer"),
                ("unexpected_count", "integer")]


def _submission_tables(cfg: Config, sub: dict, staged: dict) -> dict[str, list[tuple]]:
    """Every raw row one decided submission contributes, by table."""
    sid = sub["submission_id"]
    out: dict[str, list[tuple]] = {"submissions": [tuple(sub[c] for c, _ in _SUBMISSION_COLS)]}
    if sub["status"] == "accepted":
        forms = list(cfg.forms) if sub["scope"] == "workbook" else [sub["scope"]]
        out["submission_forms"] = [(sid, f, f in staged["rows"], len(staged["rows"].get(f, []))) for f in forms]
        for form_name, rows in staged["rows"].items():
            if rows:
                out[form_name] = _form_rows(cfg, form_name, sid, rows)
    out["submission_issues"] = [
        (sid, i["severity"], i.get("sheet"), i.get("row"), i.get("col"), i.get("column"), i["rule"], i["message"])
        for i in staged["issues"]]
    out["validation_results"] = [
        (sid, x["form"], x["expectation"], x["column"], x["success"], x["element_count"], x["unexpected_count"])
        for x in staged["summaries"]]
    return {t: rows for t, rows in out.items() if rows}


_SUBMISSION_COLS = [("submission_id", "varchar"), ("seq", "integer"), ("office_code", "varchar"),
                    ("period", "varchar"), ("period_kind", "varchar"), ("period_start", "date"),
                    ("period_end", "date"), ("scope", "varchar"), ("file_name", "varchar"),
                    ("sha256", "varchar"), ("received_at", "timestamp"), ("status", "varchar"),
                    ("error_count", "integer"), ("warning_count", "integer")]
_FORMS_COLS = [("submission_id", "varchar"), ("form", "varchar"), ("present", "boolean"), ("row_count", "integer")]


def _columns(cfg: Config, table: str) -> list[tuple[str, str]]:
    fixed = {"submissions": _SUBMISSION_COLS, "submission_forms": _FORMS_COLS,
             "submission_issues": _ISSUE_COLS, "validation_results": _RESULT_COLS}
    return fixed.get(table) or LINEAGE + form_columns(cfg.forms[table])


def load_batch(con, cfg: Config, decided: list[tuple[dict, dict]]) -> None:
    """Load decided submissions in ONE TRANSACTION: all of them or none.

    The batch's rows go to temp tables first (one DataFrame scan or COPY per table), then into
    the raw tables by one insert-select each, inside the transaction, after the rows of any id
    already there are deleted (a re-run after a crash: replace, never duplicate)."""
    con = db.wrap(con)  # DuckDB or PostgreSQL (PCVE_WAREHOUSE): the same steps on both
    per_sub = [_submission_tables(cfg, sub, staged) for sub, staged in decided]
    tables = sorted({t for d in per_sub for t in d})
    for t in tables:
        stage = con.temp_table(f"stage_{t}", like=f"{RAW_SCHEMA}.{t}")
        rows = [r for d in per_sub for r in d.get(t, [])]
        _bulk_insert(con, t, _columns(cfg, t), rows, target=stage)
    ids = [sub["submission_id"] for sub, _ in decided]
    existing = {r[0] for r in con.execute(f"select submission_id from {RAW_SCHEMA}.submissions").fetchall()}
    again = [sid for sid in ids if sid in existing]
    con.execute("begin")
    try:
        if again:  # every id of the batch has its row in stage_submissions
            ids_sql = f"select submission_id from {con.qualified_temp('stage_submissions')}"
            for table in submission_tables(cfg):
                con.execute(f"delete from {RAW_SCHEMA}.{table} where submission_id in ({ids_sql})")
        for t in tables:
            con.execute(f"insert into {RAW_SCHEMA}.{t} select * from {con.qualified_temp(f'stage_{t}')}")
        for _ in ids:
            checkpoint("load.in_transaction")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    for t in tables:
        con.execute(f"drop table if exists {con.qualified_temp(f'stage_{t}')}")


def load_submission(con, cfg: Config, sub: dict, staged: dict) -> None:
    load_batch(con, cfg, [(sub, staged)])


def set_status(con, submission_id: str, status: str) -> None:
    con.execute(f"update {RAW_SCHEMA}.submissions set status = ? where submission_id = ?", [status, submission_id])
