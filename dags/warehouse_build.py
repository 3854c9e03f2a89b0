"""warehouse_build: dbt build over the raw layer, then publish the analysts' snapshot."""

from __future__ import annotations

from datetime import timedelta

from _common import (
    COMMON_DAG_KWARGS,
    NO_RETRIES,
    RETRIES,
    TIMEOUTS,
    WAREHOUSE,
    WRITER_POOL,
    deadline,
    home,
    office_asset,
    report_run,
)
from airflow.sdk import AssetAny, Param, dag, get_current_context, task

from pcve.app import pipeline

DOC_MD = """
### warehouse_build — dbt build, then publish

Scheduled on the office assets (`pcve://office/<office>`, **any** of them): it runs when
an `office_intake` run accepted at least one submission.

| task | calls | retries | pool |
|---|---|---|---|
| `build` | `pipeline.build_warehouse(home, force)` — `dbt build` in-process; skipped when neither the raw layer nor the dbt project changed | transient errors, backoff | `pcve_warehouse_writer` |
| `publish` | `pipeline.publish(home)` — atomically replaces `published/warehouse.duckdb` and the marts' Parquet | transient errors, backoff | `pcve_warehouse_writer` |
| `report` | one failure digest for the run, then fails it | none | – |

A failed dbt test or model is permanent (`WarehouseBuildError`): no retry; a locked file or
an I/O error retries with backoff. **Backfill:** none (asset-scheduled; a build is of the
raw layer as it is). `pcve_maintenance` with `rebuild` rebuilds from the archive and ledger.

`publish` updates the asset `pcve://warehouse/`, on which `ministry_extract` is scheduled
(the extract itself writes only the periods whose inputs changed, so an event after a
skipped build changes nothing).

**Params.** `force`: rebuild even when nothing changed (e.g. after editing a dbt model in place).

**Why not astronomer-cosmos (one task per dbt model).** Decided against, for now:
1. *One writer.* DuckDB allows one writing process per file; Cosmos runs each model as its
   own `dbt` process, and parallel model tasks on one `.duckdb` fail with lock /
   TransactionContext errors. Forcing them through a 1-slot pool would serialise ~30 model
   tasks, each paying dbt's start-up cost.
2. *Parse time.* Cosmos renders the dbt project when the DAG file is parsed (`dbt ls` or
   `manifest.json`): slow parses get the DAG processor killed, and a manifest missing on a
   fresh checkout silently yields an empty DAG. Our DAG files must parse in under a second.
3. *In-process build with a skip.* `pipeline.build_warehouse` runs `dbt build` in-process
   and skips it when nothing changed: the same call as `pcve run`, so what runs in Airflow
   is what the tests run. It is also not in the locked dependencies.

Per-model visibility instead: the `build` task log carries dbt's per-model lines and its
XCom the build summary; `dbt docs` are published under the home's `docs/`. Revisit when
the warehouse runs on PostgreSQL only (no single-file writer), with Cosmos' `LoadMode.DBT_MANIFEST`
from a manifest built in CI.
"""


@dag(
    dag_id="warehouse_build",
    schedule=AssetAny(*(office_asset(o) for o in pipeline.offices())),
    description="dbt build (skipped when nothing changed) and publish the read-only snapshot",
    doc_md=DOC_MD,
    tags=["pcve", "warehouse", "dbt"],
    params={
        "force": Param(False, type="boolean", title="Force",
                       description="Run dbt build even when neither the raw layer nor the project changed."),
    },
    deadline=deadline("warehouse_build", timedelta(hours=2)),  # intake/build not finished in its window
    **COMMON_DAG_KWARGS,
)
def warehouse_build():
    # A failed dbt test or model is a WarehouseBuildError (permanent): no retry, the digest says which node.
    @task(**RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["build"], pool=WRITER_POOL)
    def build(params=None) -> dict:
        return pipeline.build_warehouse(home(), force=bool((params or {}).get("force")))

    @task(**RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["publish"], pool=WRITER_POOL, outlets=[WAREHOUSE])
    def publish() -> dict:
        return pipeline.publish(home())

    @task(**NO_RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["quick"], trigger_rule="all_done")
    def report() -> None:
        report_run(get_current_context())

    build() >> publish() >> report()


warehouse_build()
