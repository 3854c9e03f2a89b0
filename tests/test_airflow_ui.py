"""`make airflow` serves the UI over the project's DAGs: start it for real
(`airflow standalone` through the same runner the Makefile calls), poll the REST
API until every component is healthy, list the DAGs and the import errors, stop it."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest

from pcve.airflow_runner import start_standalone, stop_standalone, wait_until_healthy

pytestmark = pytest.mark.e2e

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


def test_make_airflow_serves_every_dag_without_import_errors(tmp_path):
    port = _free_port()
    log = tmp_path / "standalone.log"
    proc = start_standalone(tmp_path / "home", port=port, log_path=log)
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
    finally:
        stop_standalone(proc)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the UI must be stopped"
