"""The pipeline's public steps. Airflow tasks and the `pcve` command call these
same functions, so what runs in Airflow is what the tests run.

Every function takes the home (a path) and returns a small JSON-serialisable
summary (safe for XCom: counts, ids, file names, never cell values).
Heavy imports (pandas, GX, dbt, duckdb) happen inside the functions, not at
import time, so DAG files that import this module parse fast.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ingest.sources import SourceError, SourceRefused, SourceUnavailable

log = logging.getLogger("pcve.pipeline")

__all__ = ["SourceError", "SourceRefused", "SourceUnavailable"]  # what a remote office's failure raises

# The phases of a run, in order, as `phase` callbacks receive them.
PHASES = ("intake", "validation", "warehouse build", "publish", "extracts")


def offices() -> list[str]:
    """Codes of the configured offices."""
    from pcve.config import load_config

    return sorted(load_config().offices)


def discover(home: str | Path, office: str) -> list[dict]:
    """New files in the office's source, in processing order (first seen, mtime, name)."""
    from ingest.intake import discover as _discover

    return _discover(home, office)


def stage(home: str | Path, file_ref: dict) -> dict:
    """Archive, parse and validate one file; writes nothing to the warehouse."""
    from ingest.intake import stage_files

    return stage_files(home, [file_ref])[0]


def load(home: str | Path, office: str, staged: list[dict]) -> dict:
    """Decide and load staged files of one office in order: one transaction per submission."""
    from ingest.intake import load_staged

    return load_staged(home, office, staged)


def load_all(home: str | Path, grouped: list[dict]) -> dict[str, dict]:
    """Decide and load the staged files of several offices ([{"office", "staged"}], in that order)
    in one transaction: submission ids follow the offices' order, whatever runs first elsewhere."""
    from ingest.intake import load_offices

    return load_offices(home, {g["office"]: g["staged"] for g in grouped})


def intake(home: str | Path, only_offices: list[str] | None = None, progress=None, phase=None) -> dict:
    """discover + stage (validated in batches) + load, for every office. An office whose source
    fails is left out, with its error under offices.<office>.source_error (see `source_errors`)."""
    from ingest.intake import intake as _intake

    return _intake(home, only_offices=only_offices, progress=progress, phase=phase)


def build_warehouse(home: str | Path, force: bool = False) -> dict:
    """`dbt build` on the warehouse, skipped when neither the raw layer nor the project changed."""
    from pcve.home import Home
    from pcve.warehouse import build, docs

    result = build(home, force=force)
    # a run killed while writing the docs leaves none: the next run writes them even if the build is skipped
    if result.get("built") or not (Home.at(home).docs / "dbt" / "index.html").exists():
        # The analysts' documentation follows every real build (it reads the catalog of the new tables).
        result["docs"] = docs(home).get("docs")
    return result


def publish(home: str | Path) -> dict:
    """Atomically replace the analysts' read-only snapshot and the marts' Parquet files."""
    from pcve.warehouse import publish as _publish

    return _publish(home)


def export(home: str | Path, periods: list[str] | None = None, profile: str = "ministry",
           out: str | Path | None = None, provisional: bool = False) -> dict:
    """Write the extract of every period with a complete office whose content changed
    (`provisional`: of the given periods not complete yet, under HOME/provisional/)."""
    from exports.extract import write_extracts

    return write_extracts(home, periods=periods, profile=profile, out=out, provisional=provisional)


def overdue(home: str | Path, as_of: str | None = None) -> list[dict]:
    """Submissions past their due day and not received."""
    from pcve.status import overdue as _overdue

    return _overdue(home, as_of=as_of)


def rebuild(home: str | Path) -> dict:
    """Rebuild the warehouse from archive + ledger, then dbt build, publish, re-export."""
    from ingest.rebuild import rebuild_raw, stamp_warehouse
    from pcve.home import Home

    h = Home.at(home)
    with h.writer_lock():
        summary = {"raw": rebuild_raw(h.root)}
        summary["warehouse"] = build_warehouse(h.root, force=True)
        summary["published"] = publish(h.root)
        summary["exports"] = export(h.root)
        stamp_warehouse(h.root)
    return summary


def run(home: str | Path, progress=None, phase=None) -> dict:
    """The whole pipeline in-process: intake, dbt build, publish, extracts.

    `phase(name, total)`, if given, is called as each phase starts (PHASES; total: files, or None);
    `progress(n)` as files are read. The summary carries each step's wall time in seconds under
    "timings"."""
    phase = phase or (lambda name, total=None: None)
    import time

    from ingest.rebuild import check_warehouse, discard_undecided, rebuild_raw, stamp_warehouse
    from pcve.home import Home

    h = Home.at(home).ensure()
    timings: dict[str, float] = {}

    memory: dict[str, int] = {}

    def timed(name, fn, *a, **kw):
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            timings[name] = round(time.perf_counter() - t0, 3)
            memory[name] = _max_rss_mib()  # this process's peak so far: the step that raised it shows

    with h.writer_lock():
        summary: dict = {}
        # a run killed between a warehouse commit and its ledger decision: undo, intake redoes it
        if undone := discard_undecided(h.root):
            summary["undecided_discarded"] = undone
        problem = check_warehouse(h.root)
        if problem:
            # The warehouse is derived: rebuild it from the archive and the ledger, then go on.
            log.warning("%s: rebuilding the warehouse from the archive and the ledger", problem)
            summary["rebuilt"] = {"reason": problem, **timed("rebuild", rebuild_raw, h.root)}
        summary["intake"] = timed("intake", intake, h.root, progress=progress, phase=phase)
        # after a rebuild every dbt object is made again (on PostgreSQL the old raw schema was renamed aside)
        phase("warehouse build", None)
        summary["warehouse"] = timed("dbt_build", build_warehouse, h.root, force="rebuilt" in summary)
        phase("publish", None)
        summary["published"] = timed("publish", publish, h.root)  # no-op when already current
        phase("extracts", None)
        key = _exports_key(h)
        if key and _exports_current(h, key):
            # Nothing reached the warehouse since the last export: the extracts cannot differ.
            summary["exports"] = {"written": [], "unchanged": _exports_state(h)["periods"],
                                  "skipped": "warehouse unchanged since the last export"}
        else:
            summary["exports"] = timed("exports", export, h.root)
            _save_exports_state(h, key, summary["exports"])
        stamp_warehouse(h.root)  # the file as this run leaves it: the next run's check is cheap
    summary["timings"] = timings
    summary["peak_rss_mib"] = memory
    return summary


def _max_rss_mib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # Linux: KiB


def _exports_state(h) -> dict:
    import json

    try:
        return json.loads((h.state / "exports.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _exports_key(h) -> str | None:
    """The last successful dbt build's fingerprint (raw layer + project + as-of day), or None."""
    import json

    try:
        build = json.loads((h.state / "dbt_build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if build.get("failed") or not build.get("fingerprint"):
        return None
    return f"{build['fingerprint']}:{build.get('as_of', '')}"


def _exports_current(h, key: str) -> bool:
    """The extracts were written from this very warehouse state and are all still in place."""
    state = _exports_state(h)
    if state.get("key") != key:
        return False
    import hashlib
    import json

    for period in state.get("periods", []):
        folder = h.exports / period
        try:
            files = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]
            for name, digest in files.items():
                if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
                    return False  # damaged: let the export step repair it
        except (OSError, ValueError, KeyError):
            return False  # deleted or unreadable: likewise
    return True


def _save_exports_state(h, key: str | None, result: dict) -> None:
    import json

    if not key:
        return
    periods = sorted(p.name for p in h.exports.iterdir()
                     if not p.name.startswith(".") and p.name != "public" and (p / "manifest.json").is_file())
    from pcve.safe_io import atomic_write

    atomic_write(h.state / "exports.json", json.dumps({"key": key, "periods": periods}, indent=2))
