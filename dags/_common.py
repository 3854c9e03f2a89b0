"""What every pcve DAG shares: the home, the writer pool, retry policies, assets and alerting.

Wiring only: no pandas, GX, dbt or duckdb here (the DAG processor imports this
file on every parse). The work lives in `pcve.pipeline`, which tests import
directly.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Asset, AssetAlias, ExceptionRetryPolicy, RetryAction, RetryRule
from airflow.sdk.definitions.callback import SyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

from pcve.errors import PermanentError, TransientError
from pcve.notify import NoAlertChannel, send_alert  # noqa: F401 (the DAG files' alerting API)

log = logging.getLogger("pcve.alerts")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_HOME = REPO / "demo"

# The one Airflow pool of one slot: only one task at a time touches the warehouse
# file (DuckDB allows a single writing process; runs must not interleave).
WRITER_POOL = "pcve_warehouse_writer"

OWNER = "pcve-data"
TIMEZONE = pendulum.timezone("Asia/Almaty")
START_DATE = pendulum.datetime(2017, 1, 1, tz=TIMEZONE)  # the first reporting period in config

# Retries follow the error, not the task (pcve/errors.py): a PermanentError (configuration, data,
# a failed dbt test) or a ValueError/KeyError/TypeError fails at once; a TransientError or an
# OSError (I/O, a locked file, a source that does not answer) retries with exponential backoff.
# Anything else gets the task's retries. `airflow dags test` waits out retry delays, so
# `pcve demo` and the tests set PCVE_TASK_RETRIES=0. PCVE_TASK_RETRY_DELAY: the first retry's delay in
# seconds (60; each next one doubles, at most 30 min); a test on a cluster sets a short one.
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(exception=[PermanentError, ValueError, KeyError, TypeError], action=RetryAction.FAIL,
                  reason="permanent: the same input fails the same way; fix it, then re-run"),
        RetryRule(exception=[TransientError, OSError], action=RetryAction.RETRY,
                  reason="transient: I/O or an unreachable source, retried with backoff"),
    ],
)
RETRIES = {
    "retries": int(os.getenv("PCVE_TASK_RETRIES", "3")),
    "retry_delay": timedelta(seconds=float(os.getenv("PCVE_TASK_RETRY_DELAY", "60") or 60)),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    "retry_policy": RETRY_POLICY,
}
IO_RETRIES = RETRIES  # the name the DAG files used before the policy existed
NO_RETRIES = {"retries": 0}

# execution_timeout per kind of task, from BENCHMARKS.md (2 cores, 2,390 workbooks: a cold run
# in 94 s, dbt build ~40 s): ~10x the largest measured step, so only a hang trips it, and a
# hung fetch or build frees the single writer slot. PCVE_TIMEOUT_SCALE multiplies them all.
_SCALE = float(os.getenv("PCVE_TIMEOUT_SCALE", "1") or 1)
TIMEOUTS = {
    "quick": timedelta(minutes=5 * _SCALE),  # config reads, planning, alerts
    "discover": timedelta(minutes=10 * _SCALE),  # listing a remote source
    "stage": timedelta(minutes=30 * _SCALE),  # one chunk: fetch, parse, validate
    "load": timedelta(minutes=30 * _SCALE),
    "build": timedelta(minutes=60 * _SCALE),
    "publish": timedelta(minutes=15 * _SCALE),
    "export": timedelta(minutes=30 * _SCALE),
    "maintenance": timedelta(minutes=120 * _SCALE),  # a rebuild re-reads the whole archive
}


# Assets. An office's asset is updated when its intake accepted something; the
# warehouse asset when a build was published. Extra on the events: counts only.
OFFICE_ALIAS = AssetAlias("pcve_office_accepted")
WAREHOUSE = Asset(uri="pcve://warehouse/", name="pcve_warehouse")


def office_asset(office: str) -> Asset:
    return Asset(uri=f"pcve://office/{office}", name=f"pcve_office_{office}")


def home() -> str:
    """The pipeline home: env PCVE_HOME, else the project's demo/ folder (read at run time)."""
    return str(Path(os.getenv("PCVE_HOME") or DEFAULT_HOME).expanduser().resolve())


# ---------------------------------------------------------------- alerting
# Channels and sending live in pcve.notify (the triggerer and executors import it for the
# deadline callbacks too); see its module doc and the README's Alerts section.
def deadline(dag_id: str, window: timedelta) -> DeadlineAlert | None:
    """Alert when a run has not finished `window` after it was queued (a hang, a stuck pool).

    None under PCVE_DEADLINES=off, which pcve.airflow_runner.dags_test sets: `airflow dags test`
    (3.3.2) crashes at the end of a successful run of a DAG with a DeadlineAlert (dagrun.py looks
    the alert up by id, and the unserialized DAG it tests holds the object, not an id)."""
    if os.getenv("PCVE_DEADLINES", "on").strip().lower() == "off":
        return None
    hours = window.total_seconds() / 3600
    return DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=window,
                         callback=SyncCallback("pcve.notify.deadline_missed",
                                               kwargs={"dag_id": dag_id, "window": f"{hours:g} h"}))


def _run_failures(context) -> list[str]:
    """The failed task instances of this run, as `task[label]`."""
    ti = context["ti"]
    states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
    return sorted(k for k, v in states.items() if str(v) in ("failed", "upstream_failed")
                  and not k.startswith(ti.task_id))


def report_run(context, summary: str = "") -> None:
    """The last task of every pcve DAG (trigger rule all_done): when a task of the run failed,
    one digest for the run through the alert channels, then this task fails, failing the run."""
    from airflow.sdk.exceptions import AirflowFailException

    failed = _run_failures(context)
    if not failed:
        return
    ti, dag_run = context["ti"], context.get("dag_run")
    body = "\n".join([
        f"DAG:     {ti.dag_id}",
        f"run:     {ti.run_id} ({getattr(dag_run, 'run_type', '?')})",
        f"home:    {home()}",
        f"failed:  {', '.join(failed)}",
        *( [summary] if summary else []),
        "Each failed task's log says why; a permanent error (configuration, data, a failed dbt test) "
        "needs a fix before a re-run, a transient one was retried with backoff before it failed.",
    ])
    sent = send_alert(context, f"[pcve] {ti.dag_id} run failed: {', '.join(failed)}", body)
    raise AirflowFailException(f"{len(failed)} task(s) of this run failed: {', '.join(failed)} "
                               f"(digest sent through {sent} channel(s))")


def log_failure(context) -> None:
    """on_failure_callback of every task: one log line (the digest comes from the run's last task)."""
    ti = context.get("ti") or context.get("task_instance")
    log.error("pcve task failed: %s.%s[%s]: %s", getattr(ti, "dag_id", "?"), getattr(ti, "task_id", "?"),
              getattr(ti, "map_index", -1), type(context.get("exception")).__name__)


DEFAULT_ARGS = {
    "owner": OWNER,
    "depends_on_past": False,
    "on_failure_callback": log_failure,
    **RETRIES,
    "execution_timeout": TIMEOUTS["quick"],
}

COMMON_DAG_KWARGS = {
    "start_date": START_DATE,
    "catchup": False,
    "max_active_runs": 1,
    "default_args": DEFAULT_ARGS,
}
