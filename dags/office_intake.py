"""office_intake: new workbooks from every office's source into the warehouse's raw layer."""

from __future__ import annotations

from _common import (
    COMMON_DAG_KWARGS,
    IO_RETRIES,
    NO_RETRIES,
    OFFICE_ALIAS,
    WRITER_POOL,
    home,
    office_asset,
)
from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowFailException

from pcve import pipeline

DOC_MD = """
### office_intake — from each office's inbox to the raw layer

One run: for every configured office (`config/offices.yml`, mapped at run time over
`pcve.pipeline.offices()`), find the new files in its source, then **stage** each file
(archive by sha256, parse, validate with GX; mapped over files, so one broken file fails
only its own task instance), then **load** each office's staged files in order
(accept/reject, one transaction for the batch, quarantine + error report).

| task | calls | retries | pool |
|---|---|---|---|
| `list_offices` | `pipeline.offices()` | none | – |
| `discover` (one per office) | `pipeline.discover(home, office)` | I/O backoff | – |
| `list_files` | flattens the discovered files | none | – |
| `stage` (one per file) | `pipeline.stage(home, file_ref)` | **none** (validation) | – |
| `group_by_office` | staged results per office, in discovery order | none | – |
| `load` (every office, in order) | `pipeline.load_all(home, grouped)` | I/O backoff | `pcve_warehouse_writer` |
| `fail_if_any_task_failed` | fails the run when any task failed | none | – |

**Assets.** `load` updates the asset `pcve://office/<office>` (through the alias
`pcve_office_accepted`) only when it accepted at least one submission; `warehouse_build`
is scheduled on those assets. A run that finds nothing new emits no event and builds nothing.

A rejected file is not a failure: it lands in `quarantine/<office>/` with its
`.errors.csv`. A *failed* task (unreadable source, a crash while staging) fails the run
through `fail_if_any_task_failed`, after every other file was still processed.

**Params.** `offices`: only these office codes (empty = all).

**Schedule and backfill.** Daily at 06:00 Asia/Almaty, `catchup=False` (intake picks up
whatever is new; the logical date selects nothing). Re-running a range of days, from the
CLI: `airflow backfill create --dag-id office_intake --from-date 2025-01-01 --to-date 2025-01-31
--reprocess-behavior completed`, or in the UI: *Trigger ▸ Backfill*. It is idempotent: files
already in the ledger are not received twice.

The home is env `PCVE_HOME` (default: the project's `demo/`).
"""


def _file_label(ref: dict) -> str:
    for key in ("name", "file_name", "filename", "path", "uri", "sha256"):
        if ref.get(key):
            return str(ref[key]).rsplit("/", 1)[-1]
    return "file"


def _accepted_count(summary) -> int:
    """How many submissions an office's load summary accepted (an int, or a list of accepted ids)."""
    if not isinstance(summary, dict):
        return 0
    accepted = summary.get("accepted", 0)
    if isinstance(accepted, list | tuple | set | dict):
        return len(accepted)
    try:
        return int(accepted or 0)
    except (TypeError, ValueError):
        return 0


@dag(
    dag_id="office_intake",
    schedule="0 6 * * *",
    description="New office workbooks: discover, stage (parse + validate) per file, load per office",
    doc_md=DOC_MD,
    tags=["pcve", "intake"],
    params={
        "offices": Param(
            [],
            type="array",
            items={"type": "string"},
            title="Offices",
            description="Only these office codes (one per line); empty = every configured office.",
        )
    },
    **COMMON_DAG_KWARGS,
)
def office_intake():
    @task(**NO_RETRIES, multiple_outputs=False)
    def list_offices(params=None) -> list[str]:
        configured = pipeline.offices()
        wanted = [str(o) for o in (params or {}).get("offices") or []]
        unknown = sorted(set(wanted) - set(configured))
        if unknown:
            raise AirflowFailException(f"unknown office code(s) {unknown}; configured: {configured}")
        return [o for o in configured if not wanted or o in wanted]

    @task(**IO_RETRIES, multiple_outputs=False, map_index_template="{{ task.op_kwargs['office'] }}")
    def discover(office: str) -> dict:
        return {"office": office, "files": pipeline.discover(home(), office)}

    @task(**NO_RETRIES, multiple_outputs=False, trigger_rule="all_done")
    def list_files(discovered) -> list[dict]:
        # all_done: an office whose source failed contributes nothing; the others go on.
        return [
            {"office": d["office"], "file_ref": ref, "label": f"{d['office']}/{_file_label(ref)}"}
            for d in (discovered or [])
            for ref in d["files"]
        ]

    @task(**NO_RETRIES, multiple_outputs=False, map_index_template="{{ task.op_kwargs['label'] }}")
    def stage(office: str, file_ref: dict, label: str) -> dict:
        return {"office": office, "staged": pipeline.stage(home(), file_ref)}

    @task(**NO_RETRIES, multiple_outputs=False, trigger_rule="all_done")
    def group_by_office(offices: list[str], staged) -> list[dict]:
        # all_done: a file that failed to stage is left out; its office's other files load.
        by_office: dict[str, list] = {o: [] for o in offices}
        for item in staged or []:
            by_office.setdefault(item["office"], []).append(item["staged"])
        return [{"office": o, "staged": s} for o, s in by_office.items() if s]

    # One task for every office, in the offices' order (not mapped): writes are serialised anyway
    # (one writer), and submission ids must not depend on which office's task the scheduler ran first.
    @task(**IO_RETRIES, multiple_outputs=False, pool=WRITER_POOL, outlets=[OFFICE_ALIAS])
    def load(grouped: list[dict], outlet_events=None) -> dict:
        summaries = pipeline.load_all(home(), grouped or [])
        for office, summary in summaries.items():
            accepted = _accepted_count(summary)
            if accepted:
                outlet_events[OFFICE_ALIAS].add(office_asset(office), extra={"accepted": accepted})
        return summaries

    # The failed task already alerted: this one only marks the run failed, without a second alert.
    @task(**NO_RETRIES, multiple_outputs=False, trigger_rule="one_failed", on_failure_callback=None)
    def fail_if_any_task_failed() -> None:
        raise AirflowFailException(
            "a task of this run failed (see the failed task's log); every other file was still processed"
        )

    offices = list_offices()
    discovered = discover.expand(office=offices)
    files = list_files(discovered)
    staged = stage.expand_kwargs(files)
    grouped = group_by_office(offices, staged)
    loaded = load(grouped)
    [offices, discovered, files, staged, grouped, loaded] >> fail_if_any_task_failed()


office_intake()
