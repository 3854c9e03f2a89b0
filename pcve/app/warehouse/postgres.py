"""Publishing from a PostgreSQL warehouse: Parquet files read in one repeatable-read transaction
(no snapshot file: PostgreSQL serves readers itself), swapped in like those of DuckDB."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime

from pcve.app.warehouse.parquet import _PUBLISHED_PREFIXES, _swap_parquet
from pcve.app.warehouse.state import _PUBLISH_STATE, _main_tables, _write_state
from pcve.core import db
from pcve.core.home import Home

# PostgreSQL column types (information_schema) -> DuckDB types for the Parquet files.
_PG_TO_DUCKDB = {"character varying": "varchar", "text": "varchar", "bigint": "bigint", "integer": "integer",
                 "smallint": "smallint", "boolean": "boolean", "date": "date", "double precision": "double",
                 "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz"}


def _duckdb_type(data_type: str, precision, scale) -> str:
    if data_type == "numeric":
        # sum(bigint) is an unconstrained numeric on PostgreSQL (a hugeint on DuckDB)
        return f"decimal({precision},{scale})" if precision is not None else "hugeint"
    return _PG_TO_DUCKDB.get(data_type, "varchar")


def _publish_postgres(h: Home, built: dict) -> dict:
    """Parquet files of the dimensions, facts and marts from PostgreSQL, read in ONE repeatable-read
    transaction (a consistent state even while the pipeline writes), then swapped in like on DuckDB.
    No snapshot file: analysts query PostgreSQL itself, which serves concurrent readers."""
    import duckdb

    published = h.published
    stamp = f"{os.getpid()}-{time.time_ns()}"
    pq_dir = published / f".parquet-{built['fingerprint'][:12]}-{stamp}"
    pq_dir.mkdir()
    rows: dict[str, int] = {}
    try:
        with db.connect(h.root, read_only=True) as con, duckdb.connect() as duck:
            con.execute("begin transaction isolation level repeatable read read only")
            tables = [t for t in _main_tables(con) if t.startswith(_PUBLISHED_PREFIXES)]
            columns: dict[str, list[tuple[str, str]]] = {}
            for r in con.execute(
                    "select table_name, column_name, data_type, numeric_precision, numeric_scale "
                    "from information_schema.columns where table_schema = 'main' "
                    "order by table_name, ordinal_position").fetchall():
                columns.setdefault(r[0], []).append((r[1], _duckdb_type(*r[2:])))
            for t in tables:
                csv_path = pq_dir / f".{t}.csv"
                with open(csv_path, "wb") as fh:
                    con.copy_out_csv(f'select * from main."{t}"', fh)
                spec = "{" + ", ".join(f"'{c}': '{ty}'" for c, ty in columns[t]) + "}"
                src = (f"read_csv('{csv_path.as_posix()}', header = true, auto_detect = false, "
                       f"columns = {spec}, allow_quoted_nulls = false)")
                out = (pq_dir / f"{t}.parquet").as_posix().replace("'", "''")
                duck.execute(f"copy (select * from {src}) to '{out}' (format parquet)")
                rows[t] = duck.execute(f"select count(*) from '{out}'").fetchone()[0]
                csv_path.unlink()
            con.execute("commit")
    except BaseException:
        shutil.rmtree(pq_dir, ignore_errors=True)
        raise
    _swap_parquet(published, pq_dir)
    _write_state(h, _PUBLISH_STATE, {
        "fingerprint": built["fingerprint"],
        "published_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "tables": rows,
    })
    return {"published": True, "snapshot": None, "parquet": str(published / "parquet"),
            "tables": len(tables), "rows": rows,
            "note": "PostgreSQL warehouse: analysts query it directly; no snapshot file"}
