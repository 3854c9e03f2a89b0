"""Rendering several periods at once: forked worker processes that share the warehouse read once."""

from __future__ import annotations

from exports.warehouse_read import Warehouse
from pcve.core.faults import enabled as faults_enabled
from pcve.core.procs import can_fork, usable_cpus
from pcve.core.settings import settings

RENDER_POOL_MIN_PERIODS = 4  # fewer: rendering in this process costs less than starting workers...
RENDER_POOL_MIN_ROWS = 20_000  # ...unless they are this large (~1 s a period at 20 offices, ~6 s at 200)

_RENDER_STATE: tuple | None = None  # (warehouse, profile, cache, build) for forked render workers


def render(wh: Warehouse, pids: list[str], profile: str, cache: dict, build):
    """(rows, body, files) of each period in order, or its SuppressionFailed. Several periods are
    rendered by forked worker processes (one per usable CPU, PCVE_RENDER_WORKERS): rendering is
    pure Python, ~1 s a period at 20 offices. Forked, so the warehouse read once is shared, not
    re-read or pickled; only when this process runs no other thread (a fork copies held locks)
    and no fault injection is armed (its checkpoints must fire here). `build(wh, pid, profile, cache)`
    renders one period (exports.extract passes its own: this module only schedules)."""
    import multiprocessing


    workers = settings().render_workers or workers_within_budget(usable_cpus())
    large = len(pids) >= 2 and sum(len(wh.rows.get(pid, ())) for pid in pids) >= RENDER_POOL_MIN_ROWS
    if (len(pids) < RENDER_POOL_MIN_PERIODS and not large) or workers < 2 or faults_enabled() or not can_fork():
        for pid in pids:
            yield _render_one(wh, pid, profile, cache, build)
        return
    from concurrent.futures import ProcessPoolExecutor

    global _RENDER_STATE
    _RENDER_STATE = (wh, profile, cache, build)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(_render_in_worker, pids)
    finally:
        _RENDER_STATE = None


def workers_within_budget(cpus: int) -> int:
    """As many render workers as CPUs, but only as many as fit in the pipeline's memory budget
    (PCVE_MEMORY_BUDGET_MB, default 1024): a forked worker copies the pages it touches (the rows it
    reads, its own XLSX and report), measured at about a quarter of this process's resident size."""
    budget = settings().memory_budget_mb
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) // 1024
    except (OSError, StopIteration, ValueError):
        return 1  # cannot tell: render here
    per_worker = max(100, rss // 4)
    return max(1, min(cpus, (budget - rss) // per_worker))


def _render_in_worker(pid: str):
    wh, profile, cache, build = _RENDER_STATE
    return _render_one(wh, pid, profile, cache, build)


def _render_one(wh: Warehouse, pid: str, profile: str, cache: dict, build):
    from exports.suppression import SuppressionFailed

    try:
        return build(wh, pid, profile, cache)
    except SuppressionFailed as exc:
        return exc
