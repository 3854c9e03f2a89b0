"""ministry_extract: the extract folders for the ministry, per period whose inputs changed."""

from __future__ import annotations

from _common import COMMON_DAG_KWARGS, IO_RETRIES, WAREHOUSE, WRITER_POOL, home
from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowFailException

from pcve import pipeline

DOC_MD = """
### ministry_extract — `exports/<period>/` for the ministry

Scheduled on the asset `pcve://warehouse/` (updated by `warehouse_build`'s `publish`).

| task | calls | retries | pool |
|---|---|---|---|
| `export` | `pipeline.export(home, periods)` | I/O backoff | `pcve_warehouse_writer` |

Without a period it writes the extract of every period with a complete office whose
inputs changed (newly complete, corrected, a late office) and leaves the others untouched.
It runs in the writer pool because it reads the warehouse file, which DuckDB does not
share with a writing process.

**Params.** `period`: re-run one period only — `2025-Q1`, `2017` (a year) or `2017-03`.
From the UI: *Trigger* ▸ fill *period*. From the CLI:
`airflow dags trigger ministry_extract --conf '{"period": "2025-Q1"}'`.
A range of periods is one trigger per period (asset-scheduled DAGs cannot be backfilled;
backfill `office_intake` or `submission_deadlines` instead).
"""

PERIOD_PATTERN = r"^[0-9]{4}(-?(0[1-9]|1[0-2]|[Qq][1-4]))?$"


@dag(
    dag_id="ministry_extract",
    schedule=[WAREHOUSE],
    description="Write the ministry extracts of the periods whose inputs changed (or one period)",
    doc_md=DOC_MD,
    tags=["pcve", "exports", "ministry"],
    params={
        "period": Param(
            None,
            type=["null", "string"],
            pattern=PERIOD_PATTERN,
            title="Period",
            description="Re-run only this period: 2025-Q1, 2017 or 2017-03. Empty = every changed period.",
        ),
    },
    **COMMON_DAG_KWARGS,
)
def ministry_extract():
    @task(**IO_RETRIES, multiple_outputs=False, pool=WRITER_POOL)
    def export(params=None) -> dict:
        period = ((params or {}).get("period") or "").strip()
        periods = None
        if period:
            from pcve.periods import parse_period

            try:
                periods = [parse_period(period).token]
            except ValueError as e:
                raise AirflowFailException(str(e)) from None
        return pipeline.export(home(), periods=periods)

    export()


ministry_extract()
