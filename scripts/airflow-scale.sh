#!/usr/bin/env bash
# `make airflow-scale`: the scale profile on one machine, every part native (no Docker):
# PostgreSQL (metadata DB `pcve_airflow` + warehouse DB `pcve_scale`), redis-server on loopback,
# then `airflow api-server`, `scheduler`, `dag-processor`, `triggerer` and two `celery worker`s
# (pcve-worker-1, pcve-worker-2), each its own process, with the settings of
# config/airflow-scale.env (the file docker-compose.yml's services read too).
# Runs until Ctrl-C; `make airflow-stop` (another terminal) stops everything it started.
#
# Usage: scripts/airflow-scale.sh [HOME]   (default: $PCVE_HOME, else demo/)
# Settings (env): PCVE_SCALE_POSTGRES=postgres://user:password@host:port/db (a role that may create
# databases; unset: scripts/start-postgres.sh starts one, see PCVE_PG_PORT / PCVE_PG_DIR there),
# PCVE_AIRFLOW_PORT (UI/API, 8080), PCVE_REDIS_PORT (6379), PCVE_WORKER_LOG_PORT (8793, and the
# next one for the second worker), PCVE_TRIGGER_LOG_PORT (8795).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
HOME_DIR=$(realpath -m "${1:-${PCVE_HOME:-demo}}")

if ! command -v redis-server >/dev/null 2>&1; then
    echo "airflow-scale: redis-server missing: run \`make system-deps\` (Debian's redis-server)" >&2
    exit 1
fi
if [ -z "${PCVE_SCALE_POSTGRES:-}" ]; then
    # Started here, so tagged as this home's: `make airflow-stop` stops it with the rest. A server
    # that already runs keeps running.
    PCVE_SCALE_POSTGRES=$(PCVE_AIRFLOW_TAG="pcve-airflow:$HOME_DIR" bash scripts/start-postgres.sh)
fi
exec "$PY" -m pcve.app.airflow_runner scale --home "$HOME_DIR" --postgres "$PCVE_SCALE_POSTGRES"
