"""The DAGs in dags/: they load, they are wired as the architecture says, and they parse fast.

The DagBag is built in a subprocess (with the embedded Airflow environment of a temporary
home) so that no Airflow configuration leaks into other tests and sys.modules is clean.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pcve.airflow_runner import DAGS_FOLDER, PIPELINE_DAGS, WRITER_POOL, airflow_env

pytestmark = pytest.mark.airflow  # DagBag and `airflow` subprocesses: the e2e tier

REPO = Path(__file__).resolve().parents[1]
DAG_FILES = sorted(p.name for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))
EXPECTED_DAGS = {"office_intake", "warehouse_build", "ministry_extract", "submission_deadlines", "pcve_maintenance"}
HEAVY = ("pandas", "great_expectations", "dbt", "duckdb")

# Tasks that write (or read, which DuckDB does not allow beside a writing process) the warehouse.
WAREHOUSE_TASKS = {
    ("office_intake", "load"),
    ("warehouse_build", "build"),
    ("warehouse_build", "publish"),
    ("ministry_extract", "export"),
    ("pcve_maintenance", "maintain"),
}
IO_TASKS = {("office_intake", "discover"), ("office_intake", "stage"), *WAREHOUSE_TASKS}

_PROBE = r"""
import json, sys
from pathlib import Path
dags = Path(sys.argv[1])
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.serialization.encoders import coerce_to_core_timetable
def assets_of(cond):
    if cond is None:
        return []
    if hasattr(cond, "objects"):
        return [u for o in cond.objects for u in assets_of(o)]
    return [getattr(cond, "uri", None) or getattr(cond, "name", None)]
bag = BundleDagBag(dag_folder=str(dags), bundle_path=dags, bundle_name="dags-folder")
out = {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}, "dags": {},
       "heavy": sorted(m for m in sys.modules if m.split(".")[0] in __HEAVY__), "cycles": {}}
for dag in bag.dags.values():
    try:
        dag.check_cycle()
    except Exception as e:
        out["cycles"][dag.dag_id] = str(e)
    cond = getattr(dag.timetable, "asset_condition", None)
    out["dags"][dag.dag_id] = {
        "file": Path(dag.fileloc).name,
        "owner": dag.owner,
        "tags": sorted(dag.tags),
        "doc_md": dag.doc_md or "",
        "timetable": type(dag.timetable).__name__,
        "periodic": bool(coerce_to_core_timetable(dag.timetable).periodic),  # what backfill checks
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "params": sorted(dag.params.keys()),
        "deadlines": [[d.interval.total_seconds(), d.callback.path, d.callback.kwargs] for d in dag.deadline or []],
        "schedule_assets": sorted(assets_of(cond)),
        "tasks": {
            t.task_id: {
                "owner": t.owner,
                "pool": t.pool,
                "retries": t.retries,
                "backoff": float(t.retry_exponential_backoff or 0),
                "max_retry_delay": str(t.max_retry_delay) if t.max_retry_delay else None,
                "on_failure_callback": bool(t.on_failure_callback),
                "execution_timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                "retry_policy": t.retry_policy.serialize() if getattr(t, "retry_policy", None) else None,
                "upstream": sorted(t.upstream_task_ids),
                "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                "outlets": [getattr(o, "uri", None) or getattr(o, "name", None) for o in t.outlets],
                "mapped": bool(getattr(t, "is_mapped", False)) or type(t).__name__.endswith("MappedOperator"),
                "multiple_outputs": bool(getattr(t, "multiple_outputs", False)
                                         or (getattr(t, "partial_kwargs", None) or {}).get("multiple_outputs")),
            }
            for t in dag.tasks
        },
    }
print("PROBE_JSON=" + json.dumps(out))
""".replace("__HEAVY__", repr(HEAVY))

# One DAG file in a fresh interpreter: airflow itself is imported first (the DAG processor
# has it loaded already), then the file's own parse is timed.
_PARSE_ONE = r"""
import runpy, sys, time
sys.path.insert(0, sys.argv[1])
from airflow.sdk import DAG, Asset, AssetAlias, AssetAny, Param, dag, task  # noqa: F401
t0 = time.perf_counter()
runpy.run_path(sys.argv[2], run_name="pcve_dag_under_test")
took = time.perf_counter() - t0
heavy = sorted(m for m in sys.modules if m.split(".")[0] in __HEAVY__)
print(f"PARSE_SECONDS={took:.4f}")
print("HEAVY=" + ",".join(heavy))
""".replace("__HEAVY__", repr(HEAVY))


def _env(tmp: Path) -> dict:
    env = airflow_env(tmp / "home")
    env.pop("PCVE_TASK_RETRIES", None)  # the production retry policy, not the `dags test` one
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def _python(code: str, *args: str, env: dict) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=str(REPO),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def bag(tmp_path_factory) -> dict:
    out = _python(_PROBE, str(DAGS_FOLDER), env=_env(tmp_path_factory.mktemp("dagbag")))
    line = next(x for x in out.splitlines() if x.startswith("PROBE_JSON="))
    return json.loads(line.removeprefix("PROBE_JSON="))


def _task(bag, dag_id, task_id) -> dict:
    return bag["dags"][dag_id]["tasks"][task_id]


def test_no_import_errors_and_every_dag_present(bag):
    assert bag["import_errors"] == {}
    assert set(bag["dags"]) == EXPECTED_DAGS
    assert set(PIPELINE_DAGS) <= set(bag["dags"])


def test_no_cycles(bag):
    assert bag["cycles"] == {}


def test_no_heavy_library_imported_by_the_dagbag(bag):
    assert bag["heavy"] == []


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_owner_tags_docs_and_alerting(bag, dag_id):
    d = bag["dags"][dag_id]
    assert d["owner"] == "pcve-data"
    assert "pcve" in d["tags"] and len(d["tags"]) >= 2
    assert len(d["doc_md"]) > 200 and dag_id in d["doc_md"]
    assert d["max_active_runs"] == 1
    assert d["catchup"] is False
    for task_id, t in d["tasks"].items():
        assert t["owner"] == "pcve-data", task_id
        assert t["on_failure_callback"], f"{dag_id}.{task_id} has no on_failure_callback"
        # a hung fetch or build must not hold the writer slot for ever
        assert t["execution_timeout"] and t["execution_timeout"] <= 3 * 3600, f"{dag_id}.{task_id}"
        # A summary is one XCom: no key-per-field copies of the library's return values.
        assert not t["multiple_outputs"], f"{dag_id}.{task_id} pushes multiple outputs"


@pytest.mark.parametrize("dag_id,task_id", sorted(WAREHOUSE_TASKS))
def test_every_warehouse_task_runs_in_the_writer_pool(bag, dag_id, task_id):
    assert _task(bag, dag_id, task_id)["pool"] == WRITER_POOL


def test_only_warehouse_tasks_hold_the_writer_pool(bag):
    holders = {(d, t) for d, dag in bag["dags"].items() for t, ti in dag["tasks"].items()
               if ti["pool"] == WRITER_POOL}
    assert holders == WAREHOUSE_TASKS


@pytest.mark.parametrize("dag_id,task_id", sorted(IO_TASKS))
def test_io_tasks_retry_with_exponential_backoff(bag, dag_id, task_id):
    t = _task(bag, dag_id, task_id)
    assert t["retries"] >= 2
    assert t["backoff"] > 1
    assert t["max_retry_delay"]


@pytest.mark.parametrize("dag_id,task_id", sorted(IO_TASKS))
def test_retries_follow_the_error_hierarchy(bag, dag_id, task_id):
    """Permanent errors (configuration, data, a failed dbt test) fail at once; transient ones retry."""
    rules = _task(bag, dag_id, task_id)["retry_policy"]["rules"]
    fail = next(r for r in rules if r["action"] == "fail")
    retry = next(r for r in rules if r["action"] == "retry")
    assert rules.index(fail) < rules.index(retry)  # first match wins: a permanent OSError subclass still fails
    assert "pcve.errors.PermanentError" in fail["exception"]
    assert "pcve.errors.TransientError" in retry["exception"] and "builtins.OSError" in retry["exception"]


def test_the_error_hierarchy_maps_to_retry_decisions():
    from airflow.sdk import RetryAction

    sys.path.insert(0, str(DAGS_FOLDER))
    try:
        import _common
    finally:
        sys.path.remove(str(DAGS_FOLDER))
    from pcve.errors import ConfigError, TransientError
    from pcve.home import HomeLocked
    from pcve.warehouse import WarehouseBuildError

    class SourceUnavailable(TransientError, OSError):  # how ingest/sources.py may define its own
        pass

    decide = lambda e: _common.RETRY_POLICY.evaluate(e, 1, 4).action  # noqa: E731
    for permanent in (WarehouseBuildError("dbt test failed"), ConfigError("bad office"), ValueError("x")):
        assert decide(permanent) is RetryAction.FAIL, permanent
    for transient in (SourceUnavailable("sftp down"), HomeLocked("busy"), PermissionError("locked"), TimeoutError()):
        assert decide(transient) is RetryAction.RETRY, transient


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_every_run_ends_in_one_report(bag, dag_id):
    """The last task sees every other one finish and sends the run's one failure digest."""
    tasks = bag["dags"][dag_id]["tasks"]
    report = tasks["report"]
    assert report["trigger_rule"] == "all_done"
    downstream_of_something = {u for t in tasks.values() for u in t["upstream"]}
    assert set(tasks) - downstream_of_something == {"report"}  # the only leaf


def test_office_intake_maps_over_offices_and_files(bag):
    tasks = bag["dags"]["office_intake"]["tasks"]
    assert {t for t, ti in tasks.items() if ti["mapped"]} == {"discover", "stage"}
    # one load for every office, in their order: submission ids never depend on task scheduling
    assert not tasks["load"]["mapped"]
    # a failed chunk holds back its office's later files; what staged before it still loads
    assert tasks["load"]["trigger_rule"] == "all_done"
    assert tasks["plan_chunks"]["trigger_rule"] == "all_done"
    assert tasks["load"]["outlets"] == ["pcve_office_accepted"]  # the alias of the office assets


@pytest.mark.parametrize("dag_id", ["office_intake", "warehouse_build"])
def test_intake_and_build_alert_when_not_finished_in_their_window(bag, dag_id):
    (seconds, path, kwargs), = bag["dags"][dag_id]["deadlines"]
    assert 0 < seconds <= 4 * 3600 and kwargs["dag_id"] == dag_id
    from airflow.sdk.module_loading import import_string

    assert callable(import_string(path))  # the callback the triggerer/executor will import


def test_assets_chain_the_pipeline(bag):
    from pcve.pipeline import offices

    dags = bag["dags"]
    assert dags["office_intake"]["periodic"] is True  # backfillable
    assert dags["warehouse_build"]["schedule_assets"] == sorted(f"pcve://office/{o}" for o in offices())
    assert dags["warehouse_build"]["tasks"]["publish"]["outlets"] == ["pcve://warehouse/"]
    assert dags["ministry_extract"]["schedule_assets"] == ["pcve://warehouse/"]
    assert "periods" in dags["ministry_extract"]["params"]
    assert dags["pcve_maintenance"]["tasks"]["maintain"]["outlets"] == ["pcve_office_accepted"]
    assert dags["pcve_maintenance"]["params"] == ["action", "office", "periods", "reason"]
    assert dags["submission_deadlines"]["periodic"] is True


@pytest.mark.parametrize("dag_file", DAG_FILES)
def test_dag_file_parses_fast_without_heavy_imports(tmp_path, dag_file):
    out = _python(_PARSE_ONE, str(DAGS_FOLDER), str(DAGS_FOLDER / dag_file), env=_env(tmp_path))
    values = dict(line.split("=", 1) for line in out.splitlines() if line.startswith(("PARSE_", "HEAVY=")))
    assert values["HEAVY"] == "", f"{dag_file} imports {values['HEAVY']} at parse time"
    # The explicit bound: a DAG file takes less than one second to parse.
    assert float(values["PARSE_SECONDS"]) < 1.0, f"{dag_file} took {values['PARSE_SECONDS']} s to parse"


def test_airflow_env_is_self_contained(tmp_path):
    env = airflow_env(tmp_path / "h", base={"AIRFLOW_CONFIG": "/elsewhere/airflow.cfg", "PATH": os.defpath})
    home = (tmp_path / "h").resolve()
    assert env["PCVE_HOME"] == str(home)
    assert env["AIRFLOW_HOME"] == str(home / "airflow")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS_FOLDER)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{home / 'airflow' / 'airflow.db'}"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__UNIT_TEST_MODE"] == "False"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert "AIRFLOW_CONFIG" not in env


_ALERT = r"""
import sys
sys.path.insert(0, sys.argv[1])
import _common
try:
    print("SENT", _common.send_alert({}, "[pcve] subject", "body line"))
except _common.NoAlertChannel as e:
    print("NO CHANNEL", e)
"""


def test_without_an_alert_channel_the_alert_fails_saying_what_to_set(tmp_path):
    env = _env(tmp_path)
    for k in ("PCVE_ALERT_EMAIL", "PCVE_ALERT_WEBHOOK_CONN", "PCVE_ALERTS"):
        env.pop(k, None)
    out = _python(_ALERT, str(DAGS_FOLDER), env=env)
    assert "NO CHANNEL" in out and "PCVE_ALERT_EMAIL" in out and "PCVE_ALERT_WEBHOOK_CONN" in out
    env["PCVE_ALERTS"] = "log"  # a developer's machine: the log is enough
    assert "SENT 0" in _python(_ALERT, str(DAGS_FOLDER), env=env)
