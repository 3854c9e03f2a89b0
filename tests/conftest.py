"""Shared test set-up.

Hypothesis profiles: `make test` runs a fixed seed (derandomized, no example database) so a failure is
reproducible and the run time bounded; PCVE_FUZZ=long explores far more examples.

`inprocess_home`: one demo home per session, built by `pcve demo --in-process` (real GX, dbt and DuckDB,
no Airflow). Tests read it and must not change it; a test that changes a home builds its own.
The test tiers (markers) are registered in pyproject.toml and described in the README's "Tests".
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("long", max_examples=2000, database=None, print_blob=True)
settings.load_profile("long" if os.getenv("PCVE_FUZZ") == "long" else "ci")

REPO = Path(__file__).resolve().parents[1]
# What these need is never part of the unit tier, so each implies e2e (markers: pyproject.toml).
_IMPLY_E2E = ("browser", "office", "airflow", "postgres")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.get_closest_marker(m) for m in _IMPLY_E2E) and not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def inprocess_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("demo-inprocess")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # import-time compile would double the run time
    p = subprocess.run([sys.executable, "-m", "pcve.cli", "demo", "--in-process", "--home", str(home)], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=1500)
    if p.returncode != 0:
        raise AssertionError(f"pcve demo --in-process exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-5000:]}")
    # piped, as `make demo | tee`: the phases' lines are kept for test_e2e_demo's phase test
    (home.parent / "demo-inprocess.stderr").write_text(p.stderr)
    return home
