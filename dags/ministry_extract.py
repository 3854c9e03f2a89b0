"""ministry_extract: the extract folders for the ministry, per period whose inputs changed."""

from __future__ import annotations

from _common import COMMON_DAG_KWARGS, NO_RETRIES, RETRIES, TIMEOUTS, WAREHOUSE, WRITER_POOL, home, report_run
from airflow.sdk import Param, dag, get_current_context, task

from pcve.app import pipeline

DOC_MD = """
### ministry_extract — `exports/<period>/` for the ministry

Scheduled on the asset `pcve://warehouse/` (updated by `warehouse_build`'s `publish`, and by
`pcve_maintenance`'s rebuild).

| task | calls | retries | pool |
|---|---|---|---|
| `export` | `pipeline.export(home, periods)` | transient errors, backoff | `pcve_warehouse_writer` |
| `report` | one failure digest for the run, then fails it | none | – |

Without periods it writes the extract of every period with a complete office whose
inputs changed (newly complete, corrected, a late office) and leaves the others untouched.
It runs in the writer pool because it reads the warehouse file, which DuckDB does not
share with a writing process.

**Params.** `periods`: re-run these periods only, one per line: `2025-Q1` (a quarter) or `2017`
(a year: the year and its four quarters). A month is refused when the run is triggered
(extracts are per quarter and year). From the CLI:
`airflow dags trigger ministry_extract --conf '{"periods": ["2017", "2018-Q1"]}'`.

**Backfill.** None: the DAG is scheduled on an asset, and an extract depends on the warehouse
as it is, not on a date. For a range of periods, list them in one trigger.
"""

# Years and quarters only: a month has no extract, so the trigger form refuses it.
PERIOD_PATTERN = r"^[0-9]{4}(-?[Qq][1-4])?$"


@dag(
    dag_id="ministry_extract",
    schedule=[WAREHOUSE],
    description="Write the ministry extracts of the periods whose inputs changed (or the ones asked for)",
    doc_md=DOC_MD,
    tags=["pcve", "exports", "ministry"],
    params={
        "periods": Param(
            [],
            type="array",
            items={"type": "string", "pattern": PERIOD_PATTERN},
            title="Periods",
            description="Re-run only these: 2025-Q1 (a quarter) or 2017 (the year and its quarters). "
                        "Empty = every changed period.",
        ),
    },
    **COMMON_DAG_KWARGS,
)
def ministry_extract():
    @task(**RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["export"], pool=WRITER_POOL)
    def export(params=None) -> dict:
        requested = [str(p) for p in (params or {}).get("periods") or []]
        periods = pipeline.extract_periods(requested) if requested else None  # ConfigError: no retry
        return pipeline.export(home(), periods=periods)

    @task(**NO_RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["quick"], trigger_rule="all_done")
    def report() -> None:
        report_run(get_current_context())

    export() >> report()


ministry_extract()
