"""dbt on the home's warehouse, and the analysts' read-only copies of it.

- `build(home)` runs `dbt build` in-process (dbtRunner) on `<home>/warehouse.duckdb`, skipped when
  neither the raw layer, the dbt project nor the as-of date changed since the last successful build.
  The unit tests (fixed inputs, not the warehouse's data) run only when the code they test changed;
  when only data tables of the raw layer changed, only the nodes downstream of them are built.
- `publish(home)` copies the built warehouse to `<home>/published/warehouse.duckdb` and writes the
  dimensions, facts and marts to `<home>/published/parquet/<model>.parquet`, both replaced
  atomically, so analysts never block the pipeline and never see a half-built state.
- `docs(home)` writes the dbt documentation site to `<home>/docs/dbt/`, again only when the project
  or the warehouse's columns changed (new data alone leaves the documented schema as it was).

All three take the home's writer lock (DuckDB allows one writing process). Heavy imports (dbt,
duckdb) happen inside the functions so DAG files importing the pipeline parse fast.

On PostgreSQL (`PCVE_WAREHOUSE=postgres://…`, see pcve/db.py) dbt runs with the profile's `postgres`
target, and `publish` writes only the Parquet files: there is no snapshot file to copy, because
PostgreSQL itself serves concurrent readers a consistent state (MVCC) while the pipeline writes.
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

from pcve import db
from pcve.errors import PermanentError
from pcve.faults import checkpoint
from pcve.faults import enabled as faults_enabled
from pcve.home import Home

DBT_PROJECT_DIR = Path(os.getenv("PCVE_DBT_PROJECT_DIR", Path(__file__).resolve().parents[1] / "dbt_project"))
# Files and folders of dbt_project/ that are outputs, not part of the project's definition.
_PROJECT_OUTPUTS = {"target", "logs", "dbt_packages", ".user.yml"}
# Tables published as Parquet: the star schema and the marts (not staging or intermediate views).
_PUBLISHED_PREFIXES = ("dim_", "fct_", "mart_")
_BUILD_STATE = "dbt_build.json"
_DOCS_STATE = "dbt_docs.json"
_PUBLISH_STATE = "published.json"
_MARTS = ("mart_indicator_values", "mart_submission_completeness")

# dbt-core is not safe to invoke concurrently within one process.
_DBT_INVOCATION = threading.Lock()


class WarehouseBuildError(PermanentError, RuntimeError):
    """`dbt build` (or another dbt command) failed; the message names the failing nodes.
    Permanent: a failed test or model fails the same way again (an out-of-memory build needs a knob)."""

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
    from pcve.safe_io import atomic_write

    atomic_write(h.state / name, json.dumps(data, indent=2, sort_keys=True))


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
    if db.exists(h.root):
        return
    from ingest.warehouse_init import init_warehouse
    from pcve.config import load_config

    con = db.connect(h.root)
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
    # DuckDB: sum of row hashes; PostgreSQL: md5 of the sorted rows' md5s (both order-independent)
    digest = ("coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '0')"
              if getattr(con, "kind", "duckdb") == "postgres" else "coalesce(sum(hash(t)), 0)")
    out = {}
    for t in tables:
        n, h = con.execute(f'select count(*), {digest} from raw."{t}" as t').fetchone()
        out[t] = f"{n}:{h}"
    return out


def _main_tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'main' and table_type = 'BASE TABLE' order by table_name"
    ).fetchall()]


# Schemas dbt builds into (see macros/generate_schema_name.sql and dbt_project.yml).
_DBT_SCHEMAS = ("main", "staging", "intermediate", "snapshots")


def _dbt_relations(con) -> list[str]:
    """Every table and view dbt made (`schema.name`), to tell whether a model went missing."""
    schemas = ", ".join(f"'{s}'" for s in _DBT_SCHEMAS)
    return [f"{r[0]}.{r[1]}" for r in con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({schemas}) order by 1, 2"
    ).fetchall()]


_RAW_STATE = "raw_fingerprint.json"


def _file_stamp(h: Home, t) -> list | None:
    """The DuckDB file's size, modification time and inode, and its write-ahead log's (rows written
    but not yet checkpointed live there); None on PostgreSQL or without a file."""
    if t.is_postgres:
        return None
    try:
        st = h.warehouse.stat()
    except OSError:
        return None
    try:
        wal = h.warehouse.with_name(h.warehouse.name + ".wal").stat()
        wal_stamp = [wal.st_size, wal.st_mtime_ns, wal.st_ino]
    except OSError:
        wal_stamp = None
    return [st.st_size, st.st_mtime_ns, st.st_ino, wal_stamp]


def _remember_raw(h: Home, raw: dict) -> None:
    """Record `raw` (the raw layer's fingerprint, computed under the writer lock) against the file as
    it is now: nothing that writes raw rows has run since, so while the file is untouched it holds."""
    stamp = _file_stamp(h, db.target(h.root))
    if stamp is not None:
        _write_state(h, _RAW_STATE, {"stamp": stamp, "raw": raw})


def _build_parts(h: Home, as_of: date) -> dict:
    """What a build depends on, part by part, and what the warehouse holds now.

    `raw`: row count and content hash per raw table; `project`: hash of the dbt project; `as_of`;
    `target` (PostgreSQL only); `relations`: the tables and views dbt made that exist now.

    The raw fingerprint reads every raw table; it is reused when the DuckDB file is exactly as it was
    when it was last computed (same size, modification time and inode): a run with nothing new.
    """
    t = db.target(h.root)
    saved = _read_state(h, _RAW_STATE)
    stamp = _file_stamp(h, t)
    con = db.connect(t=t)
    try:
        raw = saved["raw"] if stamp is not None and saved.get("stamp") == stamp else _raw_fingerprint(con)
        relations = _dbt_relations(con)
    finally:
        con.close()
    _remember_raw(h, raw)  # connecting may touch the file: record it as left
    payload = {"raw": raw, "project": _project_hash(), "as_of": as_of.isoformat()}
    if t.is_postgres:
        payload["target"] = t.label()
    return {**payload, "relations": relations}


def _digest(parts: dict) -> str:
    payload = {k: parts[k] for k in ("raw", "project", "as_of", "target") if k in parts}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def _fingerprint(h: Home, as_of: date) -> tuple[str, bool]:
    """(fingerprint of what a build depends on, whether the marts exist in the warehouse)."""
    parts = _build_parts(h, as_of)
    return _digest(parts), all(f"main.{m}" in parts["relations"] for m in _MARTS)


def _code_key(h: Home) -> str:
    """What the unit tests' outcome depends on: the dbt project, dbt and its adapter, the target.

    Unit tests run on fixed inputs given in the project (not on the warehouse's data), so a build
    on new data with the same code cannot change their result.
    """
    from importlib.metadata import PackageNotFoundError, version

    t = db.target(h.root)
    versions = []
    for pkg in ("dbt-core", f"dbt-{t.kind}", t.kind if t.kind == "duckdb" else "psycopg2-binary"):
        try:
            versions.append(f"{pkg}={version(pkg)}")
        except PackageNotFoundError:
            versions.append(f"{pkg}=?")
    payload = {"project": _project_hash(), "versions": versions, "target": t.kind}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def _dbt_args(h: Home, command: list[str], as_of: date) -> list[str]:
    t = db.target(h.root)
    return [
        *command,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", t.kind,  # an output of dbt_project/profiles.yml: duckdb or postgres
        "--target-path", str(h.state / "dbt_target"),
        "--log-path", str(h.state / "dbt_logs"),
        "--threads", os.getenv("PCVE_DBT_THREADS", "4") if t.is_postgres else "1",
        "--vars", json.dumps({"as_of": as_of.isoformat()}),
        "--no-use-colors",
        # No console logger (dbt formats and scrubs every event for it even with --quiet, only to drop
        # it): failures reach the caller through WarehouseBuildError, with dbt's message per node.
        # The file log keeps info level (each node's start, result and errors); debug level (every
        # statement) costs about a second a build: PCVE_DBT_LOG_LEVEL_FILE=debug when troubleshooting.
        "--log-level", "none",
        "--log-level-file", os.getenv("PCVE_DBT_LOG_LEVEL_FILE", "info"),
    ]


def _invoke(h: Home, command: list[str], as_of: date):
    """Run one dbt command in-process on the home's warehouse; returns the dbtRunnerResult."""
    from dbt.cli.main import dbtRunner

    args = _dbt_args(h, command, as_of)
    env = db.dbt_env(db.target(h.root))  # what profiles.yml reads: the DuckDB path or PG parameters
    with _DBT_INVOCATION:
        previous = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            callbacks = [_dbt_checkpoint] if faults_enabled() else []
            return dbtRunner(callbacks=callbacks).invoke(args)
        finally:
            _release_duckdb()
            for k, v in previous.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


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


def _failing_rows(h: Home, results: list, limit: int = 3) -> dict[str, str]:
    """The first rows a failed data test returned, by node name, for the error message.

    A folded test (not_null_columns, unique_columns, relationships_columns, accepted_values_columns)
    checks several columns in one node: its rows say which column broke and with which value, while
    dbt's own message only counts them. Best effort: a query that fails here is left out.
    """
    tests = [r for r in results
             if str(getattr(r.status, "value", r.status)).lower() == "fail"
             and getattr(getattr(r, "node", None), "compiled_code", None)]
    if not tests:
        return {}
    out = {}
    try:
        with db.connect(h.root, read_only=not db.target(h.root).is_postgres) as con:
            for r in tests[:20]:
                sql = r.node.compiled_code.strip().rstrip(";")
                try:
                    rows = con.query(f"select * from ({sql}) as failing limit {limit}")
                except Exception:  # noqa: BLE001 - only a better message is lost (autocommit on PostgreSQL)
                    continue
                out[_node_label(r)] = "; ".join(
                    ", ".join(f"{k}={v}" for k, v in row.items()) for row in rows)
    except Exception:  # noqa: BLE001 - the warehouse cannot be opened: dbt's messages only
        pass
    return out


def _summarise(res, command: str, h: Home | None = None) -> dict:
    """Counts per resource type, warnings; raises WarehouseBuildError naming failing nodes (and, given
    the home, the first failing rows of each failed test)."""
    results = list(getattr(res.result, "results", None) or [])
    failed, skipped, warned, messages = [], [], [], []
    counts = {"models": 0, "tests": 0, "unit_tests": 0, "snapshots": 0, "seeds": 0}
    kinds = {"model": "models", "test": "tests", "unit_test": "unit_tests", "snapshot": "snapshots",
             "seed": "seeds"}
    for r in results:
        status = str(getattr(r.status, "value", r.status)).lower()
        kind = str(getattr(getattr(r, "node", None), "resource_type", "")).lower().split(".")[-1]
        if status in ("error", "fail", "runtime error"):
            failed.append(f"{_node_label(r)} ({kind}: {status})")
            message = " ".join(str(getattr(r, "message", None) or "").split())
            if message:
                messages.append(f"{_node_label(r)}: {message[:300]}")
        elif status == "skipped":
            skipped.append(_node_label(r))
        else:
            if status == "warn":
                warned.append(_node_label(r))
            if kind in kinds:
                counts[kinds[kind]] += 1
    if failed or not res.success:
        rows = _failing_rows(h, results) if h is not None and failed else {}
        for label, sample in rows.items():
            messages = [f"{m} First failing rows: {sample}" if m.startswith(f"{label}: ") else m
                        for m in messages]
        detail = "; ".join(failed) if failed else str(res.exception or "unknown error")
        more = f" ({len(skipped)} nodes skipped)" if skipped else ""
        why = ("\n" + "\n".join(messages[:20])) if messages else ""
        if "Out of Memory" in f"{detail}{why}":
            why += (f" (DuckDB's memory limit is {os.getenv('PCVE_DUCKDB_MEMORY_LIMIT', '384MB')}: raise it with "
                    "PCVE_DUCKDB_MEMORY_LIMIT, e.g. 1GB, and run again)")
        raise WarehouseBuildError(f"dbt {command} failed: {detail}{more}{why}", failed)
    return {**counts, "tests": counts["tests"] + counts["unit_tests"], "data_tests": counts["tests"],
            "warnings": sorted(warned)}


def _dbt_checkpoint(event) -> None:
    """Fault injection (pcve.faults): crash points after each dbt node, mid-build.

    `dbt.node` counts every node of the process's dbt commands (its n-th hit moves whenever the
    project gains or loses a node); `dbt.node.<unique_id>` names one node, e.g.
    `dbt.node.model.pcve.mart_indicator_values:1` (after that model is built, before its tests) or
    `…:2` (the same node again, in the `dbt docs generate` that follows a build).
    """
    if event.info.name == "NodeFinished":
        checkpoint("dbt.node")
        uid = getattr(getattr(event.data, "node_info", None), "unique_id", "")
        if uid:
            checkpoint(f"dbt.node.{uid}")


# Raw tables mirrored from config/ (offices, territories, indicators, codes, calendar): the
# dimensions are built from them alone. A change to one of them is a configuration change.
_CONFIG_TABLE_PREFIX = "cfg_"


def _selection(last: dict, parts: dict, code: str, force: bool) -> tuple[list[str], str]:
    """(`--select` arguments for dbt build, [] = every node; why that selection).

    A data-only change (same dbt project, dbt, adapter, target and as-of date as the last successful
    build, which left every model in place; only data tables of the raw layer changed) builds the
    nodes downstream of the changed raw tables: their staging views, facts and marts, and every
    data test touching them, the relationships from the facts to the dimensions included. The
    dimensions and the snapshot, built from the configuration tables alone, are then exactly what
    the last build made, so they and their own tests are left as they are. Anything else builds all.
    """
    def full(why: str) -> tuple[list[str], str]:
        return [], f"all (full build: {why})"

    if force:
        return full("forced")
    if not last.get("raw") or not last.get("code"):
        return full("no previous successful build to build upon")
    if last.get("failed"):
        return full("the last build failed or was interrupted")
    if last["code"] != code:
        return full("dbt project, dbt, adapter or target changed")
    if last.get("as_of") != parts["as_of"]:
        return full(f"as-of date changed ({last.get('as_of')} -> {parts['as_of']})")
    if last.get("target") != parts.get("target"):
        return full("another warehouse target")
    missing = sorted(set(last.get("relations") or []) - set(parts["relations"]))
    if missing or not last.get("relations"):
        return full(f"models missing from the warehouse ({', '.join(missing[:5]) or 'unknown'})")
    old, new = last["raw"], parts["raw"]
    changed = sorted(t for t in set(old) | set(new) if old.get(t) != new.get(t))
    config = [t for t in changed if t.startswith(_CONFIG_TABLE_PREFIX)]
    if config:
        return full(f"configuration changed (raw.{', raw.'.join(config)})")
    if not changed:
        return full("nothing changed in the raw layer")  # only reached when a mart went missing
    select = [f"source:raw.{t}+" for t in changed]
    return select, f"{' '.join(select)} (data-only change: only these raw data tables changed)"


# --------------------------------------------------------------------------- public API


def build(home: str | os.PathLike, force: bool = False, as_of: str | date | None = None) -> dict:
    """`dbt build` on the home's warehouse (models, snapshot, data tests, unit tests).

    Skipped (`{"built": False, "reason": ...}`) when the raw layer, the dbt project and the as-of date
    (completeness and lateness depend on it; default today in Asia/Almaty) are those of the last
    successful build and the marts exist. Raises WarehouseBuildError naming the failing nodes.

    The unit tests run on fixed inputs of their own, not on the warehouse's data: they run when the
    code they test (the dbt project, dbt, the adapter, the target) differs from that of the last
    build in which they passed, and are left out of a build that only brings new data (or a new
    as-of date), `force` included.

    When only data tables of the raw layer changed since the last successful build (same project,
    versions, target, as-of date, configuration tables, every model still in place), only the nodes
    downstream of the changed tables are built and tested (`--select source:raw.<table>+ …`): the
    dimensions and the snapshot come from the configuration alone and stay as they were. Any other
    change, `force`, or a failed or interrupted last build, builds and tests everything. The summary's
    `selection` says which it was and why.
    """
    h = Home.at(home).ensure()
    day = _as_of(as_of)
    with h.writer_lock():
        _ensure_raw_layer(h)
        parts = _build_parts(h, day)
        fp = _digest(parts)
        marts_exist = all(f"main.{m}" in parts["relations"] for m in _MARTS)
        last = _read_state(h, _BUILD_STATE)
        if not force and last.get("fingerprint") == fp and marts_exist and not last.get("failed"):
            return {"built": False, "reason": "raw layer, dbt project and as-of date unchanged since the "
                    f"last successful build ({last.get('built_at')})", "fingerprint": fp[:16]}
        started = time.monotonic()
        code = _code_key(h)
        unit_tests_current = last.get("unit_tests_passed_for") == code
        select, selection = _selection(last, parts, code, force)
        # Until it finishes, a build counts as failed: killed mid-way (kill -9, OOM, power) it leaves
        # the models half-replaced, and the state must not still vouch for the last good build.
        _write_state(h, _BUILD_STATE, {
            **last, "failed": True, "failed_fingerprint": fp,
            "failed_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "error": "interrupted: the build did not finish",
        })
        try:
            with db.connect(h.root) as con:
                con.analyze("raw")  # PostgreSQL: planner statistics for the new rows (a no-op on DuckDB)
            command = ["build", "--no-write-json"]  # nothing reads run_results/manifest.json of a build
            if select:
                command += ["--select", *select]
            if unit_tests_current:
                command += ["--exclude-resource-type", "unit_test"]
            res = _invoke(h, command, day)
            summary = _summarise(res, "build", h)
        except BaseException as exc:
            # dbt build replaces each model before testing it, so a failed build leaves the
            # warehouse half-rebuilt: remember that, so nothing publishes it and the next call builds.
            _write_state(h, _BUILD_STATE, {
                **last, "failed": True, "failed_fingerprint": fp,
                "failed_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "error": str(exc)[:2000],
            })
            raise
        checkpoint("build.done")
        summary.update({
            "built": True, "as_of": day.isoformat(), "fingerprint": fp[:16], "selection": selection,
            "seconds": round(time.monotonic() - started, 1),
        })
        if unit_tests_current:
            summary["unit_tests_skipped"] = ("dbt project, dbt and target unchanged since they last passed "
                                             f"({last.get('unit_tests_passed_at')})")
        _remember_raw(h, parts["raw"])  # dbt wrote the file, but no raw row
        if not select:  # what a full build made: a data-only build must find all of it in place
            with db.connect(h.root) as con:
                relations = _dbt_relations(con)
        else:
            relations = last["relations"]
        _write_state(h, _BUILD_STATE, {
            "fingerprint": fp, "as_of": day.isoformat(),
            "built_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            **{k: summary[k] for k in ("models", "tests", "unit_tests", "snapshots")},
            "selection": selection,
            # the parts of the fingerprint, to tell a data-only change from any other next time
            "raw": parts["raw"], "code": code, "relations": relations,
            **({"target": parts["target"]} if "target" in parts else {}),
            "unit_tests_passed_for": code,
            "unit_tests_passed_at": (last.get("unit_tests_passed_at") if unit_tests_current
                                     else datetime.now().astimezone().isoformat(timespec="seconds")),
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


def _parquet_ok(link: Path, tables: dict) -> bool:
    """Every Parquet file the last publish wrote is still there."""
    return link.is_dir() and all((link / f"{t}.parquet").is_file() for t in tables)


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


def _schema_fingerprint(h: Home) -> str:
    """Hash of every column of the warehouse (what the docs' catalog lists), not of its data."""
    with db.connect(h.root) as con:
        rows = con.execute(
            "select table_catalog, table_schema, table_name, column_name, data_type, ordinal_position "
            "from information_schema.columns where table_schema not in ('information_schema', 'pg_catalog') "
            "order by 1, 2, 3, 6").fetchall()
    return hashlib.sha256(json.dumps([[str(v) for v in r] for r in rows]).encode("utf-8")).hexdigest()


_DOCS_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")


def docs(home: str | os.PathLike, as_of: str | date | None = None, force: bool = False) -> dict:
    """`dbt docs generate` on the home's warehouse; the site is copied to `<home>/docs/dbt/`.

    The site documents the project and the schema (models, columns, their types and tests), not the
    data: it is generated again only when the dbt project, dbt, the target or the warehouse's columns
    changed since it was written, or when it is missing (`{"docs": ..., "skipped": reason}` else).
    """
    h = Home.at(home).ensure()
    day = _as_of(as_of)
    with h.writer_lock():
        _ensure_raw_layer(h)
        out = h.docs / "dbt"
        key = hashlib.sha256(f"{_code_key(h)}:{_schema_fingerprint(h)}".encode()).hexdigest()
        last = _read_state(h, _DOCS_STATE)
        present = [name for name in _DOCS_FILES if (out / name).is_file()]
        if (not force and last.get("key") == key
                and {"index.html", "manifest.json", "catalog.json"} <= set(present)):
            return {"docs": str(out), "files": present, "skipped": "dbt project and warehouse schema "
                    f"unchanged since the docs were generated ({last.get('generated_at')})"}
        res = _invoke(h, ["docs", "generate", "--static"], day)
        if not res.success:
            raise WarehouseBuildError(f"dbt docs generate failed: {res.exception or 'see ' + str(h.state / 'dbt_logs')}")
        src = h.state / "dbt_target"
        tmp = h.docs / f".dbt.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        copied = []
        for name in _DOCS_FILES:
            if (src / name).exists():
                shutil.copy2(src / name, tmp / name)
                copied.append(name)
        old = h.docs / f".dbt.{os.getpid()}.old"
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
        _write_state(h, _DOCS_STATE, {
            "key": key, "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        })
        return {"docs": str(out), "files": copied}
