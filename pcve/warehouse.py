"""dbt on the home's warehouse, and the analysts' read-only copies of it.

- `build(home)` runs `dbt build` in-process (dbtRunner) on `<home>/warehouse.duckdb`, skipped when
  neither the raw layer, the dbt project nor the as-of date changed since the last successful build.
- `publish(home)` copies the built warehouse to `<home>/published/warehouse.duckdb` and writes the
  dimensions, facts and marts to `<home>/published/parquet/<model>.parquet`, both replaced
  atomically, so analysts never block the pipeline and never see a half-built state.
- `docs(home)` writes the dbt documentation site to `<home>/docs/dbt/`.

All three take the home's writer lock (DuckDB allows one writing process). Heavy imports (dbt,
duckdb) happen inside the functions so DAG files importing the pipeline parse fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from datetime import date, datetime
from pathlib import Path

from pcve.home import Home

DBT_PROJECT_DIR = Path(os.getenv("PCVE_DBT_PROJECT_DIR", Path(__file__).resolve().parents[1] / "dbt_project"))
# Files and folders of dbt_project/ that are outputs, not part of the project's definition.
_PROJECT_OUTPUTS = {"target", "logs", "dbt_packages", ".user.yml"}
# Tables published as Parquet: the star schema and the marts (not staging or intermediate views).
_PUBLISHED_PREFIXES = ("dim_", "fct_", "mart_")
_BUILD_STATE = "dbt_build.json"
_PUBLISH_STATE = "published.json"
_MARTS = ("mart_indicator_values", "mart_submission_completeness")

# dbt-core is not safe to invoke concurrently within one process.
_DBT_INVOCATION = threading.Lock()


class WarehouseBuildError(RuntimeError):
    """`dbt build` (or another dbt command) failed; the message names the failing nodes."""

    def __init__(self, message: str, failed: list[str] | None = None):
        super().__init__(message)
        self.failed = failed or []


# --------------------------------------------------------------------------- helpers


def _as_of(as_of: str | date | None) -> date:
    if as_of is None:
        from pcve.periods import today_almaty

        return today_almaty()
    if isinstance(as_of, datetime):
        return as_of.date()
    if isinstance(as_of, date):
        return as_of
    return date.fromisoformat(str(as_of))


def _read_state(h: Home, name: str) -> dict:
    try:
        return json.loads((h.state / name).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _write_state(h: Home, name: str, data: dict) -> None:
    h.state.mkdir(parents=True, exist_ok=True)
    tmp = h.state / f".{name}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, h.state / name)


def _project_hash(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """Hash of every file that defines the dbt project (not its target/ or logs/ outputs)."""
    digest = hashlib.sha256()
    files = []
    for path in project_dir.rglob("*"):
        rel = path.relative_to(project_dir)
        if path.is_file() and not (set(rel.parts) & _PROJECT_OUTPUTS) and "__pycache__" not in rel.parts:
            files.append((rel.as_posix(), path))
    for rel, path in sorted(files):
        digest.update(rel.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _connect(path: Path, read_only: bool = False):
    import duckdb

    return duckdb.connect(str(path), read_only=read_only)


def _ensure_raw_layer(h: Home) -> None:
    """A home without a warehouse gets an empty raw layer, so a build on it succeeds (empty marts)."""
    if h.warehouse.exists():
        return
    from ingest.warehouse_init import init_warehouse
    from pcve.config import load_config

    con = _connect(h.warehouse)
    try:
        init_warehouse(con, load_config())
    finally:
        con.close()


def _raw_fingerprint(con) -> dict[str, str]:
    """Row count and an order-independent content hash of every table of the raw layer."""
    tables = [r[0] for r in con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'raw' and table_type = 'BASE TABLE' order by table_name"
    ).fetchall()]
    out = {}
    for t in tables:
        n, h = con.execute(f'select count(*), coalesce(sum(hash(t)), 0) from raw."{t}" as t').fetchone()
        out[t] = f"{n}:{h}"
    return out


def _main_tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'main' and table_type = 'BASE TABLE' order by table_name"
    ).fetchall()]


def _fingerprint(h: Home, as_of: date) -> tuple[str, bool]:
    """(fingerprint of what a build depends on, whether the marts exist in the warehouse)."""
    con = _connect(h.warehouse)
    try:
        raw = _raw_fingerprint(con)
        tables = set(_main_tables(con))
    finally:
        con.close()
    payload = {"raw": raw, "project": _project_hash(), "as_of": as_of.isoformat()}
    fp = hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()
    return fp, all(m in tables for m in _MARTS)


def _dbt_args(h: Home, command: list[str], as_of: date) -> list[str]:
    return [
        *command,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(h.state / "dbt_target"),
        "--log-path", str(h.state / "dbt_logs"),
        "--threads", "1",
        "--vars", json.dumps({"as_of": as_of.isoformat()}),
        "--no-use-colors",
        "--quiet",
    ]


def _invoke(h: Home, command: list[str], as_of: date):
    """Run one dbt command in-process on the home's warehouse; returns the dbtRunnerResult."""
    from dbt.cli.main import dbtRunner

    args = _dbt_args(h, command, as_of)
    with _DBT_INVOCATION:
        previous = os.environ.get("PCVE_WAREHOUSE_PATH")
        os.environ["PCVE_WAREHOUSE_PATH"] = str(h.warehouse)
        try:
            return dbtRunner().invoke(args)
        finally:
            _release_duckdb()
            if previous is None:
                os.environ.pop("PCVE_WAREHOUSE_PATH", None)
            else:
                os.environ["PCVE_WAREHOUSE_PATH"] = previous


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation.

    dbt-duckdb caches one environment (and its database instance) per process; left open, it makes
    every later `duckdb.connect(warehouse, read_only=True)` here fail ("different configuration")
    and keeps the file locked against other processes until exit.
    """
    import gc

    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing cached
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            try:
                env.close()
            except Exception:  # best effort: the instance also dies with its last handle
                pass
    gc.collect()


def _node_label(result) -> str:
    node = getattr(result, "node", None)
    return getattr(node, "name", None) or getattr(node, "unique_id", None) or "?"


def _summarise(res, command: str) -> dict:
    """Counts per resource type, warnings; raises WarehouseBuildError naming failing nodes."""
    results = list(getattr(res.result, "results", None) or [])
    failed, skipped, warned = [], [], []
    counts = {"models": 0, "tests": 0, "unit_tests": 0, "snapshots": 0, "seeds": 0}
    kinds = {"model": "models", "test": "tests", "unit_test": "unit_tests", "snapshot": "snapshots",
             "seed": "seeds"}
    for r in results:
        status = str(getattr(r.status, "value", r.status)).lower()
        kind = str(getattr(getattr(r, "node", None), "resource_type", "")).lower().split(".")[-1]
        if status in ("error", "fail", "runtime error"):
            failed.append(f"{_node_label(r)} ({kind}: {status})")
        elif status == "skipped":
            skipped.append(_node_label(r))
        else:
            if status == "warn":
                warned.append(_node_label(r))
            if kind in kinds:
                counts[kinds[kind]] += 1
    if failed or not res.success:
        detail = "; ".join(failed) if failed else str(res.exception or "unknown error")
        more = f" ({len(skipped)} nodes skipped)" if skipped else ""
        raise WarehouseBuildError(f"dbt {command} failed: {detail}{more}", failed)
    return {**counts, "tests": counts["tests"] + counts["unit_tests"], "data_tests": counts["tests"],
            "warnings": sorted(warned)}


# --------------------------------------------------------------------------- public API


def build(home: str | os.PathLike, force: bool = False, as_of: str | date | None = None) -> dict:
    """`dbt build` on the home's warehouse (models, snapshot, data tests, unit tests).

    Skipped (`{"built": False, "reason": ...}`) when the raw layer, the dbt project and the as-of date
    (completeness and lateness depend on it; default today in Asia/Almaty) are those of the last
    successful build and the marts exist. Raises WarehouseBuildError naming the failing nodes.
    """
    h = Home.at(home).ensure()
    day = _as_of(as_of)
    with h.writer_lock():
        _ensure_raw_layer(h)
        fp, marts_exist = _fingerprint(h, day)
        last = _read_state(h, _BUILD_STATE)
        if not force and last.get("fingerprint") == fp and marts_exist and not last.get("failed"):
            return {"built": False, "reason": "raw layer, dbt project and as-of date unchanged since the "
                    f"last successful build ({last.get('built_at')})", "fingerprint": fp[:16]}
        started = time.monotonic()
        try:
            res = _invoke(h, ["build"], day)
            summary = _summarise(res, "build")
        except BaseException as exc:
            # dbt build replaces each model before testing it, so a failed build leaves the
            # warehouse half-rebuilt: remember that, so nothing publishes it and the next call builds.
            _write_state(h, _BUILD_STATE, {
                **last, "failed": True, "failed_fingerprint": fp,
                "failed_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "error": str(exc)[:2000],
            })
            raise
        summary.update({
            "built": True, "as_of": day.isoformat(), "fingerprint": fp[:16],
            "seconds": round(time.monotonic() - started, 1),
        })
        _write_state(h, _BUILD_STATE, {
            "fingerprint": fp, "as_of": day.isoformat(),
            "built_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            **{k: summary[k] for k in ("models", "tests", "unit_tests", "snapshots")},
        })
        return summary


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_parquet(published: Path, new_dir: Path) -> None:
    """Point published/parquet at new_dir with one atomic rename of a symlink, then drop old copies.

    Readers resolve `parquet/<model>.parquet` through the link at open time, so they see the old set
    or the new set, never a mixture; files they hold open stay readable after the old dir is gone.
    """
    link = published / "parquet"
    if link.exists() and not link.is_symlink():  # a plain folder from elsewhere: move it aside once
        os.replace(link, published / f".parquet-legacy-{os.getpid()}-{time.time_ns()}")
    tmp_link = published / f".parquet-link-{os.getpid()}-{time.time_ns()}"
    os.symlink(new_dir.name, tmp_link, target_is_directory=True)
    os.replace(tmp_link, link)
    # keep the previous generation a little longer for readers that resolved the link just before
    old = sorted((p for p in published.glob(".parquet-*") if p.is_dir() and not p.is_symlink() and p != new_dir),
                 key=lambda p: p.stat().st_mtime)
    for leftover in published.glob(".parquet-link-*"):  # from an interrupted swap
        leftover.unlink(missing_ok=True)
    for stale in old[:-1]:
        shutil.rmtree(stale, ignore_errors=True)


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
        if last.get("fingerprint") == built["fingerprint"] and target.exists() and (published / "parquet").is_dir():
            return {"published": False, "reason": "published snapshot is already the last build",
                    "fingerprint": built["fingerprint"][:16]}
        published.mkdir(parents=True, exist_ok=True)

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

        # 2. Parquet from the copy (read-only), into a fresh folder
        pq_dir = published / f".parquet-{built['fingerprint'][:12]}-{stamp}"
        pq_dir.mkdir()
        try:
            ro = _connect(tmp, read_only=True)
            try:
                tables = [t for t in _main_tables(ro) if t.startswith(_PUBLISHED_PREFIXES)]
                rows = {}
                for t in tables:
                    out = (pq_dir / f"{t}.parquet").as_posix().replace("'", "''")
                    ro.execute(f"copy (select * from main.\"{t}\") to '{out}' (format parquet)")
                    rows[t] = ro.execute(f'select count(*) from main."{t}"').fetchone()[0]
            finally:
                ro.close()
        except BaseException:
            tmp.unlink(missing_ok=True)
            shutil.rmtree(pq_dir, ignore_errors=True)
            raise

        # 3. swap both in: each is one atomic rename
        os.replace(tmp, target)
        _swap_parquet(published, pq_dir)
        _write_state(h, _PUBLISH_STATE, {
            "fingerprint": built["fingerprint"],
            "published_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "tables": rows,
        })
        return {"published": True, "snapshot": str(target), "parquet": str(published / "parquet"),
                "tables": len(tables), "rows": rows}


def docs(home: str | os.PathLike, as_of: str | date | None = None) -> dict:
    """`dbt docs generate` on the home's warehouse; the site is copied to `<home>/docs/dbt/`."""
    h = Home.at(home).ensure()
    day = _as_of(as_of)
    with h.writer_lock():
        _ensure_raw_layer(h)
        res = _invoke(h, ["docs", "generate", "--static"], day)
        if not res.success:
            raise WarehouseBuildError(f"dbt docs generate failed: {res.exception or 'see ' + str(h.state / 'dbt_logs')}")
        src = h.state / "dbt_target"
        out = h.docs / "dbt"
        tmp = h.docs / f".dbt.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        copied = []
        for name in ("index.html", "static_index.html", "manifest.json", "catalog.json"):
            if (src / name).exists():
                shutil.copy2(src / name, tmp / name)
                copied.append(name)
        old = h.docs / f".dbt.{os.getpid()}.old"
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
        return {"docs": str(out), "files": copied}
