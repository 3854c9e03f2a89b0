"""submission_deadlines: every morning, which offices are late with which period."""

from __future__ import annotations

from _common import COMMON_DAG_KWARGS, IO_RETRIES, alert, home
from airflow.sdk import dag, task

from pcve import pipeline

DOC_MD = """
### submission_deadlines — overdue submissions, every morning

Daily at 09:00 Asia/Almaty. A submission is overdue when its period ended more than the
office's `due_days` ago (`config/offices.yml`) and nothing was accepted for it.

| task | calls | retries | pool |
|---|---|---|---|
| `find_overdue` | `pipeline.overdue(home, as_of=<logical date, Almaty>)` (reads the ledger and config, not the warehouse) | I/O backoff | – |
| `alert_overdue` | the alert callback, when anything is overdue | I/O backoff | – |

**Alerting.** `PCVE_ALERT_CALLBACK` = dotted path of a function `f(subject, body)`; by
default the alert is a WARNING in the task log plus an e-mail through Airflow's SMTP
settings (`[smtp]` / `smtp_default`) to `PCVE_ALERT_EMAIL` (comma-separated) when set.
The same callback receives every task failure of every pcve DAG (`on_failure_callback`).

**Backfill.** The logical date is the "as of" day, so
`airflow backfill create --dag-id submission_deadlines --from-date 2025-04-01 --to-date 2025-04-30`
replays what was overdue on each day of April (alerts included).
"""


MAX_PERIODS_LISTED = 12


def _office(item: dict) -> str:
    return str(item.get("office") or item.get("office_code") or "?")


def _describe(items: list[dict]) -> list[str]:
    """One line per office: how many periods are overdue, the oldest and the latest ones."""
    lines = []
    for office in sorted({_office(i) for i in items}):
        mine = sorted((i for i in items if _office(i) == office), key=lambda i: str(i.get("period")))
        shown = [f"{i.get('period')} (due {i.get('due') or i.get('due_date') or '?'}"
                 + (f", {i['days_overdue']} days late)" if i.get("days_overdue") is not None else ")")
                 for i in mine[-MAX_PERIODS_LISTED:]]
        more = f" … and {len(mine) - MAX_PERIODS_LISTED} earlier" if len(mine) > MAX_PERIODS_LISTED else ""
        lines.append(f"- {office}: {len(mine)} period(s) overdue: {', '.join(shown)}{more}")
    return lines


@dag(
    dag_id="submission_deadlines",
    schedule="0 9 * * *",
    description="Daily: offices whose submission is past its due day, raised as an alert",
    doc_md=DOC_MD,
    tags=["pcve", "deadlines", "alerts"],
    **COMMON_DAG_KWARGS,
)
def submission_deadlines():
    @task(**IO_RETRIES, multiple_outputs=False)
    def find_overdue(logical_date=None) -> list[dict]:
        from pcve.periods import ALMATY_TZ

        as_of = logical_date.astimezone(ALMATY_TZ).date().isoformat() if logical_date else None
        return pipeline.overdue(home(), as_of=as_of)

    @task(**IO_RETRIES, multiple_outputs=False)
    def alert_overdue(overdue: list[dict]) -> int:
        if not overdue:
            return 0
        offices = sorted({_office(i) for i in overdue})
        subject = f"[pcve] {len(overdue)} overdue submission(s): {', '.join(offices)}"
        body = "Submissions past their due day and not received:\n" + "\n".join(_describe(overdue))
        alert(subject, body)
        return len(overdue)

    alert_overdue(find_overdue())


submission_deadlines()
