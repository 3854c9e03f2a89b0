"""dbt on the home's warehouse, and the analysts' read-only copies of it.

- `build(home)` runs `dbt build` in-process (dbtRunner) on `<home>/warehouse.duckdb`, skipped when
  neither the raw layer, the dbt project nor the as-of date changed since the last successful build.
  The unit tests (fixed inputs, not the warehouse's data) run only when the code they test changed;
  when only data tables of the raw layer changed, only the nodes downstream of them are built.
- `publish(home)` copies the built warehouse to `<home>/published/warehouse.duckdb` and writes the
  dimensions, facts and marts to `<home>/published/parquet/<model>.parquet`, both replaced
  atomically, so analysts never block the pipeline and never see a half-built state.
- `docs(home)` writes the dbt documentation site to `<home>/docs/dbt/`, again only when the project
  or the warehouse's columns changed (new data alone leaves the documented schema as it was).

All three take the home's writer lock (DuckDB allows one writing process). Heavy imports (dbt,
duckdb) happen inside the functions so DAG files importing the pipeline parse fast.

One module per concern: build.py, state.py (skip fingerprint, state files, data-only selection),
dbt_runner.py (the in-process dbt invocation), publish.py, parquet.py, postgres.py (PostgreSQL
publish), docs.py.

On PostgreSQL (`PCVE_WAREHOUSE=postgres://…`, see pcve/core/db.py) dbt runs with the profile's `postgres`
target, and `publish` writes only the Parquet files: there is no snapshot file to copy, because
PostgreSQL itself serves concurrent readers a consistent state (MVCC) while the pipeline writes.
"""

from pcve.app.warehouse.build import build
from pcve.app.warehouse.dbt_runner import DBT_PROJECT_DIR, WarehouseBuildError
from pcve.app.warehouse.docs import docs
from pcve.app.warehouse.publish import publish

__all__ = ["DBT_PROJECT_DIR", "WarehouseBuildError", "build", "docs", "publish"]
