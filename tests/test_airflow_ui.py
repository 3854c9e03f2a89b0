"""`make airflow` serves the UI over the project's DAGs: start it for real
(`airflow standalone` through the same runner the Makefile calls), poll the REST
API until every component is healthy, list the DAGs and the import errors, then stop it with
`make airflow-stop` and check that no process of it is left."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from pcve.airflow_runner import start_standalone, stop_standalone, tagged_pids, wait_until_healthy

REPO = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.e2e, pytest.mark.airflow]

EXPECTED = {"office_intake", "warehouse_build", "ministry_extract", "submission_deadlines"}


def _free_port(preferred: int = 8080) -> int:
    # 8080 is what `make airflow` uses; a busy 8080 (a developer's own UI) must not fail the suite.
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=15) as r:
        assert r.status == 200
        return json.loads(r.read())


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_make_airflow_serves_every_dag_and_airflow_stop_leaves_nothing(tmp_path):
    port = _free_port()
    log = tmp_path / "standalone.log"
    home = tmp_path / "home"
    proc = start_standalone(home, port=port, log_path=log)
    try:
        health = wait_until_healthy(port=port, timeout=300, proc=proc)
        assert health["metadatabase"]["status"] == "healthy"
        dag_ids = set()
        for _ in range(60):  # the DAG processor may still be on its first pass
            dag_ids = {d["dag_id"] for d in _get(port, "/api/v2/dags?limit=100")["dags"]}
            if EXPECTED <= dag_ids:
                break
            time.sleep(2)
        assert EXPECTED <= dag_ids, (dag_ids, log.read_text(errors="replace")[-3000:])
        errors = _get(port, "/api/v2/importErrors")
        assert errors["total_entries"] == 0, errors

        running = " | ".join(_cmdline(p) for p in tagged_pids(home)).replace("_", "-")
        for component in ("scheduler", "api-server", "triggerer", "dag-processor"):
            assert component in running, (component, running)
        # what a developer types in another terminal
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        stop = subprocess.run(["make", "--no-print-directory", "airflow-stop", f"HOME_DIR={home}"], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=120)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert "stopped" in stop.stdout, stop.stdout
        # `make airflow` itself ends, successfully, as after Ctrl-C
        assert proc.wait(60) == 0, log.read_text(errors="replace")[-3000:]
        left = {p: _cmdline(p) for p in tagged_pids(home)}
        assert left == {}, left
    finally:
        stop_standalone(proc, home=home)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the UI must be stopped"
