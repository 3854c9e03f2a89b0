"""Deterministic crash points for the fault-injection tests (tests/test_faults.py).

`checkpoint(name)` is called at named points of a run: during a read, between
validation and load, inside a load transaction, between a commit and its ledger
decision, during `dbt build`, while publishing, while writing an extract.
With ``PCVE_FAULT_POINT=<name>:<n>`` in the environment the process kills
itself with SIGKILL (no cleanup, no flush: what a power cut or an OOM kill
leaves) the n-th time it reaches that point; ``<name>`` alone means the first
time. Unset, a checkpoint is one dictionary lookup.

``PCVE_FAULT_TRACE=<file>`` appends the name of every checkpoint reached, one a
line, so a test can list the points a run passes through.
"""

from __future__ import annotations

import os
import signal

from pcve.core.settings import settings

ENV = "PCVE_FAULT_POINT"
TRACE_ENV = "PCVE_FAULT_TRACE"

_hits: dict[str, int] = {}


def checkpoint(name: str) -> None:
    """Die here (SIGKILL) if PCVE_FAULT_POINT names this point and this is its n-th hit."""
    spec, trace = settings().fault_point, settings().fault_trace
    if not spec and not trace:
        return
    n = _hits[name] = _hits.get(name, 0) + 1
    if trace:
        with open(trace, "a", encoding="utf-8") as fh:
            fh.write(f"{name}:{n}\n")
    if spec:
        point, sep, count = spec.rpartition(":")
        if not sep or not count.isdigit():
            point, count = spec, "1"
        if point == name and n == int(count):
            os.kill(os.getpid(), signal.SIGKILL)


def enabled() -> bool:
    """Whether any checkpoint can fire or is traced (lets callers skip costly hooks)."""
    s = settings()
    return bool(s.fault_point or s.fault_trace)
