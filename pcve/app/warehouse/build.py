"""`build(home)`: `dbt build` on the home's warehouse, skipped when nothing it depends on changed,
only the nodes downstream of changed raw data tables when only data changed."""

from __future__ import annotations

import os
import time
from datetime import date, datetime

from ingest.warehouse_init import init_warehouse
from pcve.app.warehouse import dbt_prepared, dbt_runner
from pcve.app.warehouse.dbt_runner import _code_key, _summarise
from pcve.app.warehouse.state import (
    _BUILD_STATE,
    _MARTS,
    _as_of,
    _build_parts,
    _dbt_relations,
    _digest,
    _read_state,
    _remember_raw,
    _selection,
    _write_state,
)
from pcve.core import db
from pcve.core.config import load_config
from pcve.core.faults import checkpoint
from pcve.core.home import Home


def _ensure_raw_layer(h: Home) -> None:
    """A home without a warehouse gets an empty raw layer, so a build on it succeeds (empty marts)."""
    if db.exists(h.root):
        return

    con = db.connect(h.root)
    try:
        init_warehouse(con, load_config())
    finally:
        con.close()


def build(home: str | os.PathLike, force: bool = False, as_of: str | date | None = None,
          prepared: dbt_prepared.Prepared | None = None) -> dict:
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

    `prepared` (pcve.app.warehouse.dbt_prepared, started by `pcve run` during the intake) runs the
    build on a project it has already parsed; without it, or if it cannot, dbt runs in this process.
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
                if not db.target(h.root).is_postgres:
                    # a view is its SQL alone, bound by name on DuckDB: a data-only change leaves each
                    # in place. PostgreSQL binds a view to its tables' identity, and dbt replaces a
                    # table by renaming the old one away and dropping it with cascade: its views go too.
                    command += ["--exclude", "config.materialized:view"]
            else:
                # a full build makes the incremental models (mart_indicator_values, by office) anew:
                # their code, the configuration or the as-of date may have changed (snapshots keep history)
                command += ["--full-refresh"]
            if unit_tests_current:
                command += ["--exclude-resource-type", "unit_test"]
            summary = prepared.run(command) if prepared is not None and prepared.as_of == day else None
            if summary is None:
                res = dbt_runner._invoke(h, command, day)
                summary = _summarise(res, "build", h)
                summary["dbt_process"] = "this"
            else:
                summary["dbt_process"] = "prepared"  # parsed during the intake
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
