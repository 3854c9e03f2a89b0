"""pcve_maintenance: an engineer's levers from the UI (requeue, void, re-export, rebuild)."""

from __future__ import annotations

from _common import (
    COMMON_DAG_KWARGS,
    NO_RETRIES,
    OFFICE_ALIAS,
    RETRIES,
    TIMEOUTS,
    WRITER_POOL,
    home,
    office_asset,
    report_run,
)
from airflow.sdk import Param, dag, get_current_context, task

from pcve.app import pipeline

DOC_MD = """
### pcve_maintenance — requeue, void, re-export or rebuild, from the UI

Manual only (*Trigger* ▸ fill the form). One task, `maintain`, calls
`pipeline.maintain(home, action, office, periods, reason)` in the `pcve_warehouse_writer` pool.

| action | does | then |
|---|---|---|
| `requeue` | the latest quarantined file of each period is processed again (after a pipeline fix) | the office's asset: `warehouse_build`, then `ministry_extract` |
| `void` | each period's current accepted submission is withdrawn; the period falls back to the previous one. `reason` is required and kept in the ledger | likewise |
| `re-export` | the extracts of those periods are written again (a month means its quarter and year) | – |
| `rebuild` | the warehouse is rebuilt from the archive and the ledger, then built, published, exported (office and periods unused) | – |

**Params.** `office` (from `config/offices.yml`), `periods` (one per line: `2017-03`, `2025-Q1`,
`2017`), `action`, `reason`. From the CLI:
`airflow dags trigger pcve_maintenance --conf '{"action": "void", "office": "almaty", "periods": ["2017-03"], "reason": "sent by mistake"}'`.
The same levers without Airflow: `pcve requeue`, `pcve void`, `pcve export`, `pcve rebuild`.
**Backfill:** none (no schedule).
"""


@dag(
    dag_id="pcve_maintenance",
    schedule=None,
    description="Engineers' levers: requeue or void an office's periods, re-export, rebuild",
    doc_md=DOC_MD,
    tags=["pcve", "maintenance"],
    params={
        "action": Param("requeue", type="string", enum=list(pipeline.MAINTENANCE_ACTIONS), title="Action"),
        "office": Param(pipeline.offices()[0], type="string", enum=pipeline.offices(), title="Office"),
        "periods": Param([], type="array", items={"type": "string", "pattern": r"^[0-9]{4}(-?(0[1-9]|1[0-2]|[Qq][1-4]))?$"},
                         title="Periods", description="2017-03, 2025-Q1 or 2017, one per line (not for rebuild)."),
        "reason": Param("", type="string", maxLength=500, title="Reason",
                        description="Why (required for void; kept in the ledger)."),
    },
    **COMMON_DAG_KWARGS,
)
def pcve_maintenance():
    @task(**RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["maintenance"], pool=WRITER_POOL, outlets=[OFFICE_ALIAS])
    def maintain(params=None, outlet_events=None) -> dict:
        p = params or {}
        result = pipeline.maintain(home(), p.get("action"), p.get("office"), list(p.get("periods") or []),
                                   p.get("reason") or "")
        for office in result["changed_offices"]:
            outlet_events[OFFICE_ALIAS].add(office_asset(office), extra={"maintenance": p.get("action")})
        return result

    @task(**NO_RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["quick"], trigger_rule="all_done")
    def report() -> None:
        report_run(get_current_context())

    maintain() >> report()


pcve_maintenance()
