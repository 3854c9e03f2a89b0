# Two commands for a newcomer: `make demo` and `make test`. Both set up first.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
HOME_DIR ?= demo

.PHONY: setup demo test test-fast lint bench airflow clean

$(UV):
	python3 -m pip install --user --quiet uv || python3 -m pip install --quiet uv

# Installs exactly the locked set (uv.lock) into .venv, with the project itself editable.
setup: $(UV)
	@UV=$$(command -v uv || echo $(HOME)/.local/bin/uv); \
	  $$UV sync --frozen --python 3.11 --quiet && echo "setup: .venv ready ($$($(PY) --version))"

demo: setup
	$(VENV)/bin/pcve demo --home $(HOME_DIR)

lint: setup
	$(VENV)/bin/ruff check .

test: setup lint
	$(VENV)/bin/pytest -q

test-fast: setup
	$(VENV)/bin/pytest -q -m "not e2e"

bench: setup
	$(PY) -m bench.run

airflow: setup
	$(PY) -m pcve.airflow_runner standalone --home $(HOME_DIR)

clean:
	rm -rf $(HOME_DIR) .pytest_cache .ruff_cache
