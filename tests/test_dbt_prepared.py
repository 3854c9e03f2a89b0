"""The dbt process `pcve run` prepares during the intake (pcve.app.warehouse.dbt_prepared): it is
never left behind, and what it builds is what dbt in the pipeline's own process builds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest

from pcve.app.warehouse import dbt_prepared
from pcve.core.home import Home

pytestmark = pytest.mark.e2e


def _gone(pid: int, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_an_unused_process_is_ended_at_once(tmp_path):
    """A run whose build is skipped closes it mid-parse: killed, reaped, no wait for the parse."""
    home = Home.at(tmp_path / "home").ensure()
    child = dbt_prepared.start(home.root, as_of=date(2025, 5, 20))
    assert child is not None
    t0 = time.monotonic()
    child.close()
    assert child.proc.returncode is not None and child.proc.returncode < 0  # killed by a signal
    assert time.monotonic() - t0 < 5
    assert _gone(child.proc.pid)


def test_it_dies_with_the_pipeline_process(tmp_path):
    """A run killed (kill -9, OOM) while dbt is being prepared leaves no dbt process behind."""
    home = Home.at(tmp_path / "home").ensure()
    code = ("import os, sys, time; from datetime import date; from pcve.app.warehouse import dbt_prepared\n"
            f"c = dbt_prepared.start({str(home.root)!r}, as_of=date(2025, 5, 20))\n"
            "print(c.proc.pid, flush=True); time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        assert not _gone(pid, within=0.2)  # running
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert _gone(pid)
    finally:
        parent.kill()
        parent.wait()


def test_off_by_setting_and_under_fault_injection(monkeypatch, tmp_path):
    home = Home.at(tmp_path / "home").ensure()
    monkeypatch.setenv("PCVE_DBT_PREPARE", "off")
    assert dbt_prepared.start(home.root) is None
    monkeypatch.setenv("PCVE_DBT_PREPARE", "on")
    monkeypatch.setenv("PCVE_FAULT_TRACE", str(tmp_path / "trace"))  # crash points count one process's hits
    assert dbt_prepared.start(home.root) is None
