#!/usr/bin/env bash
# `make airflow`: the Airflow UI on http://localhost:8080 over the project's DAGs and home.
# Migrates the embedded SQLite DB under <home>/airflow/ once, creates the writer pool, then
# runs `airflow standalone` (api-server, scheduler, dag-processor, triggerer) until Ctrl-C.
# Usage: scripts/airflow-standalone.sh [HOME]   (default: $PCVE_HOME, else demo/)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
exec "$PY" -m pcve.app.airflow_runner standalone --home "${1:-${PCVE_HOME:-demo}}"
