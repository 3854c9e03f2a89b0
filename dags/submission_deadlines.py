"""submission_deadlines: every morning, which offices are late with which period."""

from __future__ import annotations

from _common import COMMON_DAG_KWARGS, NO_RETRIES, RETRIES, TIMEOUTS, home, report_run, send_alert
from airflow.sdk import dag, get_current_context, task

from pcve.app import pipeline
from pcve.app.notify import mark_sent, overdue_digests
from pcve.core.periods import ALMATY_TZ, today_almaty

DOC_MD = """
### submission_deadlines — overdue submissions, every morning

Daily at 09:00 Asia/Almaty. A submission is overdue when its period ended more than the
office's `due_days` ago (`config/offices.yml`) and nothing was accepted for it.

| task | calls | retries | pool |
|---|---|---|---|
| `find_overdue` | `pipeline.overdue(home, as_of=<logical date, Almaty>)`: the ledger as it stood that day (files received by then), and config; not the warehouse | transient errors, backoff | – |
| `notify_overdue` | one digest per office whose set of overdue periods changed since its last digest (`pcve.app.notify`), through the alert channels | transient errors, backoff | – |
| `report` | one failure digest for the run, then fails it | none | – |

**Alerts.** `PCVE_ALERT_EMAIL` (recipients; Airflow's `SmtpNotifier` over the connection
`PCVE_SMTP_CONN_ID`, default `smtp_default`) and/or `PCVE_ALERT_WEBHOOK_CONN` (an http
connection; JSON is POSTed to it). With neither, the task fails saying so, unless
`PCVE_ALERTS=log`. A failed send fails the task (retried with backoff) and the digest is sent
again: what was sent is recorded in the home (`state/overdue_digests.json`) only after the send.
The same set of overdue periods is never sent twice; an office that catches up is cleared.

**Backfill.** `airflow backfill create --dag-id submission_deadlines --from-date 2025-04-01
--to-date 2025-04-30` computes what was overdue on each of those days (the task's XCom) and
sends nothing: a backfill is for looking back, not for alerting again.
"""


@dag(
    dag_id="submission_deadlines",
    schedule="0 9 * * *",
    description="Daily: offices whose submission is past its due day, one digest per office when that changes",
    doc_md=DOC_MD,
    tags=["pcve", "deadlines", "alerts"],
    **COMMON_DAG_KWARGS,
)
def submission_deadlines():
    @task(**RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["quick"])
    def find_overdue(logical_date=None) -> dict:

        as_of = (logical_date.astimezone(ALMATY_TZ).date() if logical_date else today_almaty()).isoformat()
        return {"as_of": as_of, "overdue": pipeline.overdue(home(), as_of=as_of)}

    @task(**RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["quick"])
    def notify_overdue(found: dict) -> dict:

        ctx = get_current_context()
        run_type = getattr(ctx.get("dag_run"), "run_type", None)  # DagRunType.BACKFILL_JOB: value "backfill"
        if str(getattr(run_type, "value", run_type) or "").lower() == "backfill":
            return {"as_of": found["as_of"], "overdue": len(found["overdue"]), "sent": [], "backfill": True}
        sent = []
        for digest in overdue_digests(home(), found["overdue"], found["as_of"]):
            if digest["subject"]:
                send_alert(ctx, digest["subject"], digest["body"])  # raises: recorded only when sent
                sent.append(digest["office"])
            mark_sent(home(), digest)
        return {"as_of": found["as_of"], "overdue": len(found["overdue"]), "sent": sent}

    @task(**NO_RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["quick"], trigger_rule="all_done")
    def report() -> None:
        report_run(get_current_context())

    notify_overdue(find_overdue()) >> report()


submission_deadlines()
