"""The pipeline's public steps. Airflow tasks and the `pcve` command call these
same functions, so what runs in Airflow is what the tests run.

Every function takes the home (a path) and returns a small JSON-serialisable
summary (safe for XCom: counts, ids, file names, never cell values).
Heavy imports (pandas, GX, dbt, duckdb) and the stage modules this layer joins
(pcve.app.intake, .rebuild, .warehouse, exports.extract) happen inside the
functions, not at import time, so DAG files that import this module parse fast.
Lazy for start-up speed only: no cycle needs them (.importlinter, acyclic).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from ingest.sources import SourceError, SourceRefused, SourceUnavailable
from pcve.core.config import load_config
from pcve.core.errors import ConfigError
from pcve.core.home import Home
from pcve.core.periods import Period, parse_period
from pcve.core.privacy import mask
from pcve.core.procs import release_free_memory
from pcve.core.safe_io import atomic_write
from pcve.core.settings import settings

log = logging.getLogger("pcve.pipeline")

__all__ = ["SourceError", "SourceRefused", "SourceUnavailable"]  # what a remote office's failure raises

# The phases of a run, in order, as `phase` callbacks receive them.
PHASES = ("intake", "validation", "warehouse build", "publish", "extracts")


def offices() -> list[str]:
    """Codes of the configured offices."""

    return sorted(load_config().offices)


def discover(home: str | Path, office: str) -> list[dict]:
    """New files in the office's source, in processing order (first seen, mtime, name), as Airflow
    may keep them: the name privacy-masked, no path; `file_id` finds the file again (stage_chunk)."""
    from pcve.app.intake import discover as _discover

    return [{"office": office, "file_id": _file_id(r), "name": mask(r["name"]), "mtime": r["mtime"],
             "size": r["size"]} for r in _discover(home, office)]


def _file_id(ref: dict) -> str:
    """An opaque handle of a discovered file: the raw name never leaves the source's listing."""
    import hashlib

    key = f"{ref['office']}\0{ref['path']}\0{ref['mtime']}\0{ref['size']}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]


CHUNK_FILES_ENV = "PCVE_INTAKE_CHUNK_FILES"  # files per staging task (Airflow), 200 by default
MAX_CHUNKS_ENV = "PCVE_INTAKE_MAX_CHUNKS"  # staging tasks per run at most, 64 by default


def plan_chunks(discovered: list[dict], chunk_files: int | None = None,
                max_chunks: int | None = None) -> list[dict]:
    """Cut each office's discovered files ([{"office", "files"}]) into chunks, in order: one staging
    task per chunk. Chunks hold `chunk_files` files, more when the backlog would need more than
    `max_chunks` tasks, so a run maps a bounded number of tasks whatever the backlog (Airflow's
    `max_map_length` is 1,024)."""
    import math

    size = max(1, chunk_files or settings().intake_chunk_files)
    cap = max(1, max_chunks or settings().intake_max_chunks)
    counts = [n for d in discovered if d and (n := len(d.get("files") or []))]
    while sum(math.ceil(n / size) for n in counts) > max(cap, len(counts)):
        size = math.ceil(size * 1.25)  # one chunk per office at worst: the count of offices bounds it
    out = []
    for d in discovered:
        files = (d or {}).get("files") or []
        k = math.ceil(len(files) / size)
        for i in range(k):
            part = files[i * size:(i + 1) * size]
            out.append({"office": d["office"], "chunk": i, "of": k, "refs": part,
                        "label": f"{d['office']} {i + 1}/{k} ({len(part)} files)"})
    return out


def stage_chunk(home: str | Path, office: str, refs: list[dict]) -> list[dict]:
    """Archive, parse and validate one chunk of an office's files (GX batched per form); writes
    nothing to the warehouse. Results in the refs' order, each with its `file_id`; a file gone
    from the source since discovery comes back as {"file_id", "vanished": True}."""
    from pcve.app.intake import INTAKE_CHUNK, stage_files
    from pcve.app.intake import discover as _discover

    listing = {_file_id(r): r for r in _discover(home, office)}
    out: list[dict] = []
    batch: list[tuple[str, dict]] = []

    def flush():
        if batch:
            staged = stage_files(home, [r for _, r in batch])
            out.extend({**s, "file_id": fid} for (fid, _), s in zip(batch, staged, strict=True))
            batch.clear()

    for ref in refs:
        real = listing.get(ref["file_id"])
        if real is None:
            flush()
            out.append({"file_id": ref["file_id"], "name": ref["name"], "vanished": True})
            continue
        batch.append((ref["file_id"], real))
        if len(batch) >= INTAKE_CHUNK:  # bounded memory within a large chunk
            flush()
    flush()
    return out


def load_chunks(home: str | Path, offices: list[str], plan: list[dict], staged: list[dict]) -> dict:
    """Decide and load the staged chunks of every office, offices in the given order, in one
    transaction (`load_all`). `staged`: [{"office", "chunk", "staged"}] of the chunks that staged;
    a chunk of `plan` missing there failed, and it and its office's later chunks are held back:
    they are staged again by the next run (nothing is lost, and no later file of an office is
    ever decided before an earlier one, which would make it the older submission)."""
    got = {(s["office"], s["chunk"]): s["staged"] for s in staged or [] if s}
    grouped: list[dict] = []
    held_back: dict[str, dict] = {}
    for office in offices:
        chunks = sorted((c for c in plan or [] if c["office"] == office), key=lambda c: c["chunk"])
        items: list[dict] = []
        for c in chunks:
            results = got.get((office, c["chunk"]))
            failed_at = None if results is None else next(
                (i for i, r in enumerate(results) if r.get("failed")), None)
            if results is not None and failed_at is None:
                items.extend(r for r in results if not r.get("vanished"))
                continue
            if results is not None:  # a file of the chunk failed on its own: the ones before it load
                items.extend(r for r in results[:failed_at] if not r.get("vanished"))
                _drop_staged(results[failed_at:])
            first = failed_at or 0
            later = [c2 for c2 in chunks if c2["chunk"] > c["chunk"]]
            for c2 in later:  # staged, but must wait behind the failed file
                _drop_staged(got.get((office, c2["chunk"])) or [])
            held_back[office] = {
                "files": len(c["refs"]) - first + sum(len(c2["refs"]) for c2 in later),
                "reason": f"chunk {c['chunk'] + 1}/{c['of']} failed to stage"
                          + (f" at its file {first + 1} ({c['refs'][first]['name']})" if results is not None else ""),
                "next": "they are staged again by the next run, in order",
            }
            log.warning("%s: %d file(s) held back: %s", office, held_back[office]["files"],
                        held_back[office]["reason"])
            break
        grouped.append({"office": office, "staged": items})
    summaries = load_all(home, grouped)
    return {"offices": summaries, "held_back": held_back,
            "accepted": sum(len(s.get("accepted") or []) for s in summaries.values())}


def _drop_staged(results: list[dict]) -> None:
    for r in results:
        if r.get("staged"):
            Path(r["staged"]).unlink(missing_ok=True)


def stage(home: str | Path, file_ref: dict) -> dict:
    """Archive, parse and validate one file (a raw discovery ref); writes nothing to the warehouse."""
    from pcve.app.intake import stage_files

    return stage_files(home, [file_ref])[0]


def load(home: str | Path, office: str, staged: list[dict]) -> dict:
    """Decide and load staged files of one office in order: one transaction per submission."""
    from pcve.app.intake import load_staged

    return load_staged(home, office, staged)


def load_all(home: str | Path, grouped: list[dict]) -> dict[str, dict]:
    """Decide and load the staged files of several offices ([{"office", "staged"}], in that order)
    in one transaction: submission ids follow the offices' order, whatever runs first elsewhere."""
    from pcve.app.intake import load_offices

    return load_offices(home, {g["office"]: g["staged"] for g in grouped})


def intake(home: str | Path, only_offices: list[str] | None = None, progress=None, phase=None) -> dict:
    """discover + stage (validated in batches) + load, for every office. An office whose source
    fails is left out, with its error under offices.<office>.source_error (see `source_errors`)."""
    from pcve.app.intake import intake as _intake

    return _intake(home, only_offices=only_offices, progress=progress, phase=phase)


def build_warehouse(home: str | Path, force: bool = False, prepared=None) -> dict:
    """`dbt build` on the warehouse, skipped when neither the raw layer nor the project changed
    (`prepared`: a dbt process that has parsed the project, pcve.app.warehouse.dbt_prepared)."""
    from pcve.app.warehouse import build, docs

    result = build(home, force=force, prepared=prepared)
    # a run killed while writing the docs leaves none: the next run writes them even if the build is skipped
    if result.get("built") or not (Home.at(home).docs / "dbt" / "index.html").exists():
        # The analysts' documentation follows every real build (it reads the catalog of the new tables).
        result["docs"] = docs(home).get("docs")
    return result


def publish(home: str | Path) -> dict:
    """Atomically replace the analysts' read-only snapshot and the marts' Parquet files."""
    from pcve.app.warehouse import publish as _publish

    return _publish(home)


def export(home: str | Path, periods: list[str] | None = None, profile: str = "ministry",
           out: str | Path | None = None, provisional: bool = False) -> dict:
    """Write the extract of every period with a complete office whose content changed
    (`provisional`: of the given periods not complete yet, under HOME/provisional/)."""
    from exports.extract import write_extracts

    return write_extracts(home, periods=periods, profile=profile, out=out, provisional=provisional)


def extract_periods(requested: list[str]) -> list[str]:
    """The extract periods of a request: a quarter is itself, a year is itself and its four
    quarters. Months have no ministry extract: a ConfigError says so (no silent no-op)."""

    out: list[str] = []
    for text in requested:
        try:
            p = parse_period(str(text))
        except ValueError as e:
            raise ConfigError(str(e)) from None
        if p.kind == "month":
            raise ConfigError(f"{text!r} is a month: extracts are per quarter and year "
                              f"(ask for {p.quarter().token} or {p.year})")
        for q in [p] + ([Period("quarter", p.year, n) for n in range(1, 5)] if p.kind == "year" else []):
            if q.token not in out:
                out.append(q.token)
    return out


MAINTENANCE_ACTIONS = ("requeue", "void", "re-export", "rebuild")


def maintain(home: str | Path, action: str, office: str | None = None, periods: list[str] | None = None,
             reason: str = "") -> dict:
    """An engineer's lever on one office's periods (the `pcve_maintenance` DAG):

    - requeue: process again the latest quarantined file of each period (after a pipeline fix);
    - void: withdraw each period's current accepted submission (a reason is required);
    - re-export: write the extracts of those periods again (a month means its quarter and year);
    - rebuild: rebuild the warehouse from the archive and the ledger (office and periods unused).

    Returns a summary with `changed_offices`: the offices whose raw layer changed (their assets
    are emitted, so warehouse_build and then ministry_extract follow)."""

    if action not in MAINTENANCE_ACTIONS:
        raise ConfigError(f"unknown action {action!r}; one of {', '.join(MAINTENANCE_ACTIONS)}")
    if action == "rebuild":
        return {"action": action, "result": rebuild(home), "changed_offices": []}
    if office not in offices():
        raise ConfigError(f"unknown office {office!r}; configured: {offices()}")
    try:
        wanted = [parse_period(p) for p in periods or []]
    except ValueError as e:
        raise ConfigError(str(e)) from None
    if not wanted:
        raise ConfigError(f"{action} needs at least one period")
    if action == "re-export":
        tokens = [p.token for p in wanted if p.kind != "month"]
        tokens += [t for p in wanted if p.kind == "month" for t in (p.quarter().token, str(p.year))]
        return {"action": action, "result": export(home, periods=extract_periods(tokens)), "changed_offices": []}
    if action == "void" and not reason.strip():
        raise ConfigError("void needs a reason (it is kept in the ledger)")
    from ingest.ledger import LedgerState
    from pcve.app.intake import requeue, void
    from pcve.app.status import effective_status

    h = Home.at(home)
    state = LedgerState.load(h.ledger)
    eff = effective_status(state)
    tokens = {p.token for p in wanted}
    mine = sorted((s for s in state.submissions.values() if s.office == office and s.period in tokens),
                  key=lambda s: s.seq)
    done, nothing = [], []
    for token in sorted(tokens):
        subs = [s for s in mine if s.period == token]
        if action == "void":
            targets = [s for s in subs if eff[s.submission_id] == "accepted"]
            for s in targets:
                done.append(void(h.root, s.submission_id, reason=reason))
        else:
            targets = [s for s in subs if s.status == "rejected" and s.quarantine_path][-1:]
            for s in targets:
                r = requeue(h.root, h.root / s.quarantine_path)
                done.append({"requeued": r["requeued"], "accepted": len(r.get("accepted") or []),
                             "rejected": len(r.get("rejected") or [])})
        if not targets:
            nothing.append(token)
    return {"action": action, "office": office, "done": done, "nothing_to_do": nothing,
            "changed_offices": [office] if done else []}


def overdue(home: str | Path, as_of: str | None = None) -> list[dict]:
    """Submissions past their due day and not received."""
    from pcve.app.status import overdue as _overdue

    return _overdue(home, as_of=as_of)


def rebuild(home: str | Path) -> dict:
    """Rebuild the warehouse from archive + ledger, then dbt build, publish, re-export."""
    from pcve.app.rebuild import rebuild_raw, stamp_warehouse

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

    from pcve.app.rebuild import check_warehouse, discard_undecided, rebuild_raw, stamp_warehouse
    from pcve.app.warehouse import dbt_prepared

    h = Home.at(home).ensure()
    timings: dict[str, float] = {}

    memory: dict[str, int] = {}
    prepared = None

    def on_phase(name, total=None):
        # new files: dbt is imported and the project parsed in a second process while they are read
        nonlocal prepared
        if name == "intake" and total and prepared is None:
            prepared = dbt_prepared.start(h.root)
        phase(name, total)

    def timed(name, fn, *a, **kw):
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            timings[name] = round(time.perf_counter() - t0, 3)
            memory[name] = _max_rss_mib()  # this process's peak so far: the step that raised it shows
            release_free_memory()  # what the step freed is not held through the next ones

    with h.writer_lock(), contextlib.ExitStack() as stack:
        stack.callback(lambda: prepared and prepared.close())  # never left running, whatever happens
        summary: dict = {}
        # a run killed between a warehouse commit and its ledger decision: undo, intake redoes it
        if undone := discard_undecided(h.root):
            summary["undecided_discarded"] = undone
        problem = check_warehouse(h.root)
        if problem:
            # The warehouse is derived: rebuild it from the archive and the ledger, then go on.
            log.warning("%s: rebuilding the warehouse from the archive and the ledger", problem)
            summary["rebuilt"] = {"reason": problem, **timed("rebuild", rebuild_raw, h.root)}
        summary["intake"] = timed("intake", intake, h.root, progress=progress, phase=on_phase)
        # after a rebuild every dbt object is made again (on PostgreSQL the old raw schema was renamed aside)
        phase("warehouse build", None)
        summary["warehouse"] = timed("dbt_build", build_warehouse, h.root, force="rebuilt" in summary,
                                     prepared=prepared)
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
    """The extracts were written from this very warehouse state and are all still in place.

    Checked by what the last export recorded of each file (its size, modification time and inode):
    a no-op run does not read the extracts again. A file written or replaced since changes its
    inode or time; a state without those records (an older one) is checked by content, as before."""
    state = _exports_state(h)
    if state.get("key") != key:
        return False
    import hashlib
    import json

    stats = state.get("stats")
    if isinstance(stats, dict) and sorted(stats) == sorted(state.get("periods", [])):
        return all(_file_stats(h.exports / period) == recorded for period, recorded in stats.items())
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


def _file_stats(folder) -> dict | None:
    """The folder's revision (where its link points) and [size, mtime_ns, inode] of each file; None
    when it cannot be read."""
    import os

    try:
        out = {"->": os.readlink(folder) if os.path.islink(folder) else ""}
        with os.scandir(folder) as it:
            for e in it:
                st = e.stat()
                out[e.name] = [st.st_size, st.st_mtime_ns, st.st_ino]
        return out
    except OSError:
        return None


def _save_exports_state(h, key: str | None, result: dict) -> None:
    import json

    if not key:
        return
    periods = sorted(p.name for p in h.exports.iterdir()
                     if not p.name.startswith(".") and p.name != "public" and (p / "manifest.json").is_file())

    stats = {p: _file_stats(h.exports / p) for p in periods}
    atomic_write(h.state / "exports.json", json.dumps({"key": key, "periods": periods, "stats": stats}, indent=2))
