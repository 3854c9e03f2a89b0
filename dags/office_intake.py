"""office_intake: new workbooks from every office's source into the warehouse's raw layer."""

from __future__ import annotations

from datetime import timedelta

from _common import (
    COMMON_DAG_KWARGS,
    NO_RETRIES,
    OFFICE_ALIAS,
    RETRIES,
    TIMEOUTS,
    WRITER_POOL,
    deadline,
    home,
    office_asset,
    report_run,
)
from airflow.sdk import Param, dag, get_current_context, task

from pcve.app import pipeline
from pcve.core.errors import ConfigError
from pcve.core.settings import settings

DOC_MD = """
### office_intake — from each office's inbox to the raw layer

One run: for every configured office (`config/offices.yml`, mapped at run time over
`pcve.app.pipeline.offices()`), find the new files in its source, cut them into **chunks**
(`PCVE_INTAKE_CHUNK_FILES` files, 200 by default; larger when a backlog would need more than
`PCVE_INTAKE_MAX_CHUNKS` = 64 staging tasks, so any backlog maps a bounded number of tasks),
**stage** each chunk (archive by sha256, parse, validate with GX batched per form), then
**load** every office's staged files in order in one task (accept/reject, one transaction,
quarantine + error report).

| task | calls | retries | pool |
|---|---|---|---|
| `list_offices` | `pipeline.offices()` | none | – |
| `discover` (one per office) | `pipeline.discover(home, office)` | transient errors, backoff | – |
| `plan_chunks` | `pipeline.plan_chunks(discovered)` | none | – |
| `stage` (one per chunk) | `pipeline.stage_chunk(home, office, refs)` | transient errors, backoff | – |
| `load` (every office, in order) | `pipeline.load_chunks(home, offices, plan, staged)` | transient errors, backoff | `pcve_warehouse_writer` |
| `report` | one failure digest for the run, then fails it | none | – |

**Order.** A chunk that fails to stage (after its retries) holds back its office's files from
that chunk on: they are not decided in this run (the `load` summary lists them under
`held_back`), and the next run stages them again, in order. A later file therefore never
becomes an office's submission before an earlier one. Other offices load as usual.
Submission ids follow the offices' order and the files' order: one load task for all.

**Assets.** `load` updates the asset `pcve://office/<office>` (through the alias
`pcve_office_accepted`) only when it accepted at least one submission; `warehouse_build`
is scheduled on those assets. A run that finds nothing new emits no event and builds nothing.

A rejected file is not a failure: it lands in `quarantine/<office>/` with its
`.errors.csv`. A *failed* task fails the run through `report`, which sends one digest.

**Identifiers.** Nothing here carries a raw file name: discovery masks IIN- and phone-shaped
parts and passes an opaque `file_id`; chunk labels are `office i/n (k files)`.

**Params.** `offices`: only these office codes (empty = all).

**Schedule and backfill.** Daily at 06:00 Asia/Almaty (`PCVE_INTAKE_SCHEDULE`: another cron, or
`none` when a file-arrival hook triggers it through the REST API), `catchup=False`. The logical date
selects nothing: a run takes whatever is new in the sources. A backfill of this DAG therefore
does nothing a single trigger would not; do not backfill it. Re-process a quarantined file or
void a submission with `pcve_maintenance`.

The home is env `PCVE_HOME` (default: the project's `demo/`).
"""


# PCVE_INTAKE_SCHEDULE: a cron expression, or "none" where intake is triggered from outside
# (a file-arrival hook calling the REST API); daily at 06:00 Asia/Almaty by default.
_SCHEDULE = settings().intake_schedule


@dag(
    dag_id="office_intake",
    schedule=None if _SCHEDULE.lower() in ("", "none") else _SCHEDULE,
    description="New office workbooks: discover, stage (parse + validate) per chunk, load in order",
    doc_md=DOC_MD,
    tags=["pcve", "intake"],
    params={
        "offices": Param(
            [],
            type="array",
            items={"type": "string", "enum": pipeline.offices()},
            title="Offices",
            description="Only these office codes; empty = every configured office.",
        )
    },
    deadline=deadline("office_intake", timedelta(hours=2)),  # intake/build not finished in its window
    **COMMON_DAG_KWARGS,
)
def office_intake():
    @task(**NO_RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["quick"])
    def list_offices(params=None) -> list[str]:
        configured = pipeline.offices()
        wanted = [str(o) for o in (params or {}).get("offices") or []]
        unknown = sorted(set(wanted) - set(configured))
        if unknown:
            raise ConfigError(f"unknown office code(s) {unknown}; configured: {configured}")
        return [o for o in configured if not wanted or o in wanted]

    @task(**RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["discover"], map_index_template="{{ task.op_kwargs['office'] }}")
    def discover(office: str) -> dict:
        return {"office": office, "files": pipeline.discover(home(), office)}

    @task(**NO_RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["quick"], trigger_rule="all_done")
    def plan_chunks(discovered) -> list[dict]:
        # all_done: an office whose source failed contributes nothing; the others go on.
        return pipeline.plan_chunks([d for d in discovered or [] if d])

    @task(**RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["stage"], map_index_template="{{ task.op_kwargs['label'] }}")
    def stage(office: str, chunk: int, of: int, refs: list[dict], label: str) -> dict:
        return {"office": office, "chunk": chunk, "staged": pipeline.stage_chunk(home(), office, refs)}

    # One task for every office, in the offices' order (not mapped): writes are serialised anyway
    # (one writer), and submission ids must not depend on which office's task the scheduler ran first.
    # all_done: a failed chunk holds back its office's later files; everything before it loads.
    @task(**RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["load"], pool=WRITER_POOL, outlets=[OFFICE_ALIAS],
          trigger_rule="all_done")
    def load(offices: list[str], plan: list[dict], staged, outlet_events=None) -> dict:
        result = pipeline.load_chunks(home(), offices or [], plan or [], [s for s in staged or [] if s])
        for office, summary in result["offices"].items():
            accepted = len(summary.get("accepted") or [])
            if accepted:
                outlet_events[OFFICE_ALIAS].add(office_asset(office), extra={"accepted": accepted})
        return result

    @task(**NO_RETRIES, multiple_outputs=False, execution_timeout=TIMEOUTS["quick"], trigger_rule="all_done")
    def report() -> None:
        ctx = get_current_context()
        loaded = ctx["ti"].xcom_pull(task_ids="load") or {}
        held = loaded.get("held_back") or {}
        summary = "\n".join(f"held back: {o}: {h['files']} file(s), {h['reason']}; {h['next']}"
                            for o, h in sorted(held.items()))
        report_run(ctx, summary)

    offices = list_offices()
    discovered = discover.expand(office=offices)
    chunks = plan_chunks(discovered)
    staged = stage.expand_kwargs(chunks)
    loaded = load(offices, chunks, staged)
    [offices, discovered, chunks, staged, loaded] >> report()


office_intake()
