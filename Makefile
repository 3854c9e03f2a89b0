# Two commands for a newcomer: `make demo` and `make test`. Both set up first.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
HOME_DIR ?= demo
# Some shells export PYTHONDONTWRITEBYTECODE: every run would then recompile Airflow, GX and dbt on import.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup system-deps demo test test-fast lint bench airflow airflow-stop airflow-scale clean

$(UV):
	python3 -m pip install --user --quiet uv || python3 -m pip install --quiet uv

# Installs exactly the locked set (uv.lock) into .venv, with the project itself editable; the docker
# group too (psycopg2, dbt-postgres: tests/test_postgres_e2e.py runs the pipeline on PostgreSQL).
setup: $(UV)
	@UV=$$(command -v uv || echo $(HOME)/.local/bin/uv); \
	  $$UV sync --frozen --python 3.11 --group docker --quiet && echo "setup: .venv ready ($$($(PY) --version))"

demo: setup
	$(VENV)/bin/pcve demo --home $(HOME_DIR)

# sqlfluff compiles the models with dbt's templater on an in-memory DuckDB (dbt_project/lint/profiles.yml):
# no home, warehouse or environment needed
lint: setup
	$(VENV)/bin/ruff check .
	cd dbt_project && ../$(VENV)/bin/sqlfluff lint . --disable-progress-bar --nocolor

# System packages for the browser/LibreOffice/PostgreSQL tests (Debian's; a no-op when present).
system-deps:
	bash scripts/install-system-deps.sh

# The whole suite, with a throwaway PostgreSQL on loopback for the second warehouse target.
test: setup lint system-deps
	@url=$$(bash scripts/start-postgres.sh) || exit 1; \
	  PCVE_TEST_POSTGRES=$$url $(VENV)/bin/pytest -q; rc=$$?; \
	  bash scripts/start-postgres.sh stop >/dev/null 2>&1 || true; exit $$rc

# The unit tier: no browser, LibreOffice, Airflow, server, dbt or pipeline run (markers: pyproject.toml).
test-fast: setup
	$(VENV)/bin/pytest -q -m "not e2e and not slow"

bench: setup
	$(PY) -m bench.run

# Ctrl-C (or `make airflow-stop` from another terminal) stops every process it started.
airflow: setup
	$(PY) -m pcve.airflow_runner standalone --home $(HOME_DIR)

# The scale profile natively: PostgreSQL, redis, api-server, scheduler, dag-processor, triggerer and
# two Celery workers (config/airflow-scale.env, shared with docker-compose.yml). Ctrl-C stops it.
airflow-scale: setup system-deps
	bash scripts/airflow-scale.sh $(HOME_DIR)

# Stops whatever `make airflow` or `make airflow-scale` started on HOME_DIR: SIGTERM, a bounded
# wait (PCVE_AIRFLOW_STOP_GRACE, 20 s), SIGKILL; nothing is left running.
airflow-stop:
	$(PY) -m pcve.airflow_runner stop --home $(HOME_DIR)

clean:
	rm -rf $(HOME_DIR) .pytest_cache .ruff_cache
