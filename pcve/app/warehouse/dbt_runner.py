"""Running dbt in-process on a home's warehouse: its arguments, the one invocation at a time, the
DuckDB handle dbt-duckdb keeps, and the summary (or WarehouseBuildError) of what it did.

Heavy imports (dbt) happen inside the functions: DAG files importing the pipeline parse fast."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import date
from pathlib import Path

from pcve.core import db
from pcve.core.errors import PermanentError
from pcve.core.faults import checkpoint
from pcve.core.faults import enabled as faults_enabled
from pcve.core.home import Home
from pcve.core.settings import settings

DBT_PROJECT_DIR = settings().dbt_project_dir


# Files and folders of dbt_project/ that are outputs, not part of the project's definition.
_PROJECT_OUTPUTS = {"target", "logs", "dbt_packages", ".user.yml"}


# dbt-core is not safe to invoke concurrently within one process.
_DBT_INVOCATION = threading.Lock()


class WarehouseBuildError(PermanentError, RuntimeError):
    """`dbt build` (or another dbt command) failed; the message names the failing nodes.
    Permanent: a failed test or model fails the same way again (an out-of-memory build needs a knob)."""

    def __init__(self, message: str, failed: list[str] | None = None):
        super().__init__(message)
        self.failed = failed or []


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
        "--threads", settings().dbt_threads if t.is_postgres else "1",
        "--vars", json.dumps({"as_of": as_of.isoformat()}),
        "--no-use-colors",
        # No console logger (dbt formats and scrubs every event for it even with --quiet, only to drop
        # it): failures reach the caller through WarehouseBuildError, with dbt's message per node.
        # The file log keeps info level (each node's start, result and errors); debug level (every
        # statement) costs about a second a build: PCVE_DBT_LOG_LEVEL_FILE=debug when troubleshooting.
        "--log-level", "none",
        "--log-level-file", settings().dbt_log_level_file,
    ]


def _invoke(h: Home, command: list[str], as_of: date, manifest=None):
    """Run one dbt command in-process on the home's warehouse (on `manifest`, a parsed project, if
    given: no parse); returns the dbtRunnerResult."""
    from dbt.cli.main import dbtRunner

    args = _dbt_args(h, command, as_of)
    env = db.dbt_env(db.target(h.root))  # what profiles.yml reads: the DuckDB path or PG parameters
    with _DBT_INVOCATION:
        previous = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            callbacks = [_dbt_checkpoint] if faults_enabled() else []
            return dbtRunner(manifest=manifest, callbacks=callbacks).invoke(args)
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
            why += (f" (DuckDB's memory limit is {settings().duckdb_memory_limit}: raise it with "
                    "PCVE_DUCKDB_MEMORY_LIMIT, e.g. 1GB, and run again)")
        raise WarehouseBuildError(f"dbt {command} failed: {detail}{more}{why}", failed)
    return {**counts, "tests": counts["tests"] + counts["unit_tests"], "data_tests": counts["tests"],
            "warnings": sorted(warned)}


def _dbt_checkpoint(event) -> None:
    """Fault injection (pcve.core.faults): crash points after each dbt node, mid-build.

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
