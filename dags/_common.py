"""What every pcve DAG shares: the home, the writer pool, retry policies, assets and alerting.

Wiring only: no pandas, GX, dbt or duckdb here (the DAG processor imports this
file on every parse). The work lives in `pcve.pipeline`, which tests import
directly.
"""

from __future__ import annotations

import html
import logging
import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Asset, AssetAlias

log = logging.getLogger("pcve.alerts")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_HOME = REPO / "demo"

# The one Airflow pool of one slot: only one task at a time touches the warehouse
# file (DuckDB allows a single writing process; runs must not interleave).
WRITER_POOL = "pcve_warehouse_writer"

OWNER = "pcve-data"
TIMEZONE = pendulum.timezone("Asia/Almaty")
START_DATE = pendulum.datetime(2017, 1, 1, tz=TIMEZONE)  # the first reporting period in config

# Retries: I/O steps (sources, warehouse, extracts) retry with exponential backoff;
# validation is deterministic, so a failed file is not retried. `pcve demo` runs the
# DAGs with `airflow dags test`, which waits out retry delays, so it sets
# PCVE_TASK_RETRIES=0.
IO_RETRIES = {
    "retries": int(os.getenv("PCVE_TASK_RETRIES", "3")),
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
}
NO_RETRIES = {"retries": 0}

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
ALERT_CALLBACK_ENV = "PCVE_ALERT_CALLBACK"  # dotted path of f(subject: str, body: str) -> None
ALERT_EMAIL_ENV = "PCVE_ALERT_EMAIL"  # comma-separated recipients for the default alert


def log_and_email(subject: str, body: str) -> None:
    """Default alert: a WARNING log line always; an e-mail through Airflow's SMTP settings
    ([smtp] section / smtp_default connection) only when PCVE_ALERT_EMAIL names recipients."""
    log.warning("PCVE ALERT: %s\n%s", subject, body)
    recipients = [r.strip() for r in os.getenv(ALERT_EMAIL_ENV, "").split(",") if r.strip()]
    if not recipients:
        return
    try:
        from airflow.utils.email import send_email

        send_email(to=recipients, subject=subject, html_content=f"<pre>{html.escape(body)}</pre>")
    except Exception:  # an unreachable mail server must not hide the alert itself
        log.exception("PCVE ALERT e-mail to %s failed; the alert is in this log", recipients)


def alert(subject: str, body: str) -> None:
    """Raise an alert through the configured callback (env PCVE_ALERT_CALLBACK), else log + e-mail."""
    path = os.getenv(ALERT_CALLBACK_ENV, "").strip()
    if not path:
        log_and_email(subject, body)
        return
    from airflow.sdk.module_loading import import_string

    import_string(path)(subject, body)


def on_task_failure(context) -> None:
    """on_failure_callback of every pcve task: which task of which run failed, and why."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    where = f"{task_id}[{map_index}]" if map_index is not None and map_index >= 0 else task_id
    run_id = getattr(dag_run, "run_id", None) or getattr(ti, "run_id", "?")
    error = context.get("exception")
    body = "\n".join(
        [
            f"DAG:       {dag_id}",
            f"task:      {where} (try {getattr(ti, 'try_number', '?')})",
            f"run:       {run_id}",
            f"home:      {home()}",
            f"error:     {type(error).__name__ + ': ' + str(error) if error else 'see the task log'}",
        ]
    )
    try:
        alert(f"[pcve] task failed: {dag_id}.{where}", body)
    except Exception:  # a broken alert callback must not mask the task's own failure
        log.exception("PCVE alert callback failed for %s.%s", dag_id, where)


DEFAULT_ARGS = {
    "owner": OWNER,
    "depends_on_past": False,
    "on_failure_callback": on_task_failure,
    **IO_RETRIES,
}

COMMON_DAG_KWARGS = {
    "start_date": START_DATE,
    "catchup": False,
    "max_active_runs": 1,
    "default_args": DEFAULT_ARGS,
}
