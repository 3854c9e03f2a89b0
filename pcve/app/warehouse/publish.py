"""`publish(home)`: the analysts' read-only copies of the last successful build, swapped in
atomically: `published/warehouse.duckdb` and the Parquet files of the dimensions, facts and marts."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime
from pathlib import Path

from pcve.app.warehouse.parquet import _PUBLISHED_PREFIXES, _parquet_ok, _swap_parquet
from pcve.app.warehouse.postgres import _publish_postgres
from pcve.app.warehouse.state import (
    _BUILD_STATE,
    _MARTS,
    _PUBLISH_STATE,
    _main_tables,
    _read_state,
    _write_state,
)
from pcve.core import db
from pcve.core.faults import checkpoint
from pcve.core.home import Home
from pcve.core.settings import settings


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _connect(path: Path, read_only: bool = False) -> db.Connection:
    """A DuckDB file (the home's warehouse, a snapshot being written or published), as every other
    connection: through pcve.core.db."""
    return db.connect(path=path, read_only=read_only)


def _snapshot_ok(path: Path) -> bool:
    """The published snapshot is there and opens with its marts (not deleted, cut short or overwritten)."""
    if not path.is_file():
        return False
    try:
        con = _connect(path, read_only=True)
        try:
            return set(_MARTS) <= set(_main_tables(con))
        finally:
            con.close()
    except Exception:  # a damaged file fails in many ways: publish it again
        return False




def publish(home: str | os.PathLike) -> dict:
    """Replace the analysts' snapshot and Parquet files with the last successful build.

    `published/warehouse.duckdb` is written as a temp file in the same folder and renamed over the old
    one; the Parquet files are written to a new folder and swapped in through the `parquet` symlink.
    Readers holding the old snapshot open keep reading it unchanged and do not block this.
    Skipped when the published copy is already that of the last build.
    """
    h = Home.at(home).ensure()
    with h.writer_lock():
        built = _read_state(h, _BUILD_STATE)
        if built.get("failed"):
            return {"published": False, "reason": "the last warehouse build failed "
                    f"({built.get('failed_at')}); the published snapshot stays the last good one"}
        if not built.get("fingerprint"):
            return {"published": False, "reason": "no successful warehouse build yet"}
        published = h.published
        for stale in published.glob(".warehouse.duckdb.*.tmp"):  # left by an interrupted publish
            stale.unlink(missing_ok=True)
        target = published / "warehouse.duckdb"
        last = _read_state(h, _PUBLISH_STATE)
        on_postgres = db.target(h.root).is_postgres  # no snapshot file: PostgreSQL serves readers itself
        if (last.get("fingerprint") == built["fingerprint"] and (on_postgres or _snapshot_ok(target))
                and _parquet_ok(published / "parquet", last.get("tables") or {})):
            return {"published": False, "reason": "published snapshot is already the last build",
                    "fingerprint": built["fingerprint"][:16]}
        published.mkdir(parents=True, exist_ok=True)
        if on_postgres:
            return _publish_postgres(h, built)

        # 1. make the warehouse file self-contained (no pending WAL), then copy it under a temp name
        con = _connect(h.warehouse)
        try:
            con.execute("checkpoint")
        finally:
            con.close()
        stamp = f"{os.getpid()}-{time.time_ns()}"
        tmp = published / f".warehouse.duckdb.{stamp}.tmp"
        shutil.copyfile(h.warehouse, tmp)
        _fsync(tmp)
        checkpoint("publish.copied")

        # 2. Parquet from the copy (read-only), into a fresh folder
        pq_dir = published / f".parquet-{built['fingerprint'][:12]}-{stamp}"
        pq_dir.mkdir()
        try:
            ro = _connect(tmp, read_only=True)
            try:
                # One thread and DuckDB's configured limit: each thread of a COPY holds its own row
                # groups, so the default (every core, 80% of RAM) made this step the run's peak,
                # growing with the marts (1,315 MiB at 24,637 workbooks); one thread is as fast here.
                ro.execute("set threads = 1")
                ro.execute("set memory_limit = '" + settings().duckdb_memory_limit.replace("'", "''") + "'")
                tables = [t for t in _main_tables(ro) if t.startswith(_PUBLISHED_PREFIXES)]
                rows = {}
                for t in tables:
                    out = (pq_dir / f"{t}.parquet").as_posix().replace("'", "''")
                    ro.execute(f"copy (select * from main.\"{t}\") to '{out}' (format parquet)")
                    rows[t] = ro.execute(f'select count(*) from main."{t}"').fetchone()[0]
                    checkpoint("publish.parquet")
            finally:
                ro.close()
        except BaseException:
            tmp.unlink(missing_ok=True)
            shutil.rmtree(pq_dir, ignore_errors=True)
            raise

        # 3. swap both in: each is one atomic rename
        os.replace(tmp, target)
        checkpoint("publish.snapshot")
        _swap_parquet(published, pq_dir)
        checkpoint("publish.swapped")
        _write_state(h, _PUBLISH_STATE, {
            "fingerprint": built["fingerprint"],
            "published_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "tables": rows,
        })
        return {"published": True, "snapshot": str(target), "parquet": str(published / "parquet"),
                "tables": len(tables), "rows": rows}
