"""Writing one decided submission into the raw layer: one transaction each.

Idempotent per submission id (rows of the id are deleted first), so a run
interrupted anywhere can simply be re-run: the ledger says what was decided,
the warehouse converges to it.
"""

from __future__ import annotations

from ingest.raw_schema import RAW_SCHEMA, form_columns
from pcve.config import Config


def delete_submission(con, cfg: Config, submission_id: str) -> None:
    for table in ["submissions", "submission_forms", "submission_issues", "validation_results", *cfg.forms]:
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


def load_submission(con, cfg: Config, sub: dict, staged: dict) -> None:
    """sub: the submissions row (dict); staged: the staged file (rows, issues, summaries)."""
    sid = sub["submission_id"]
    con.execute("begin")
    try:
        delete_submission(con, cfg, sid)
        cols = ["submission_id", "seq", "office_code", "period", "period_kind", "period_start", "period_end",
                "scope", "file_name", "sha256", "received_at", "status", "error_count", "warning_count"]
        con.execute(f"insert into {RAW_SCHEMA}.submissions ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
                    [sub[c] for c in cols])
        if sub["status"] in ("accepted",):
            forms = list(cfg.forms) if sub["scope"] == "workbook" else [sub["scope"]]
            con.executemany(
                f"insert into {RAW_SCHEMA}.submission_forms values (?, ?, ?, ?)",
                [(sid, f, f in staged["rows"], len(staged["rows"].get(f, []))) for f in forms])
            for form_name, rows in staged["rows"].items():
                data = _form_rows(cfg, form_name, sid, rows)
                if data:
                    n = len(data[0])
                    con.executemany(f"insert into {RAW_SCHEMA}.{form_name} values ({', '.join('?' * n)})", data)
        issues = [
            (sid, i["severity"], i.get("sheet"), i.get("row"), i.get("col"), i.get("column"), i["rule"], i["message"])
            for i in staged["issues"]
        ]
        if issues:
            con.executemany(f"insert into {RAW_SCHEMA}.submission_issues values (?, ?, ?, ?, ?, ?, ?, ?)", issues)
        results = [
            (sid, s["form"], s["expectation"], s["column"], s["success"], s["element_count"], s["unexpected_count"])
            for s in staged["summaries"]
        ]
        if results:
            con.executemany(f"insert into {RAW_SCHEMA}.validation_results values (?, ?, ?, ?, ?, ?, ?)", results)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def set_status(con, submission_id: str, status: str) -> None:
    con.execute(f"update {RAW_SCHEMA}.submissions set status = ? where submission_id = ?", [status, submission_id])
