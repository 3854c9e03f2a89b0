"""Worker processes for the CPU-bound steps (parsing workbooks, rendering extracts): how many,
and whether they may be forked."""

from __future__ import annotations

import os


def usable_cpus(cap: int = 4) -> int:
    """The CPUs this process may run on (its affinity, where the OS tells it), at most `cap`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, cap))


def may_have_children() -> bool:
    """False in a daemonic process, which multiprocessing forbids to start any: a task run by a
    Celery prefork worker (the scale profile) is one."""
    import multiprocessing

    return not multiprocessing.current_process().daemon


def can_fork() -> bool:
    """Fork is available and this process runs no other thread: a fork copies the locks another
    thread (e.g. rich's refresh) may hold at that moment; and it may have children at all."""
    import multiprocessing
    import threading

    return (threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
            and may_have_children())


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's malloc_trim). A step that built large
    objects and dropped them (GX's validation, dbt's manifest, DuckDB's results) otherwise leaves the
    process as large as its peak for the steps after it. Elsewhere (no glibc): nothing to do."""
    import ctypes

    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)
