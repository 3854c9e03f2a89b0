"""The wheel works without the checkout (issue 14): `uv build` it, install it alone into a fresh
virtualenv, and from a folder outside the checkout run `pcve --help`, load the configuration and find
the dbt project and the DAGs (pcve/core/paths.py: the wheel's pcve/_data/)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
UV = shutil.which("uv") or str(Path.home() / ".local/bin/uv")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not Path(UV).exists():
        pytest.skip("uv is not installed (make setup installs it)")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([UV, "build", "--wheel", "--out-dir", str(out), str(REPO)], check=True, capture_output=True)
    (whl,) = out.glob("*.whl")
    return whl


def test_wheel_carries_the_project_folders_and_no_build_output(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for tracked in ("config/offices.yml", "config/territories.csv", "dbt_project/dbt_project.yml",
                    "dbt_project/profiles.yml", "dags/_common.py", "dags/office_intake.py"):
        assert f"pcve/_data/{tracked}" in names, tracked
    assert not [n for n in names if "/target/" in n or "/logs/" in n or "__pycache__" in n]
    assert "pcve/app/cli.py" in names and "pcve/core/paths.py" in names


def test_installed_wheel_runs_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([UV, "pip", "install", "--python", str(py), "--no-deps", "--offline", str(wheel)],
                   check=True, capture_output=True)
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # The dependencies (Airflow, dbt, GX…) from this environment, after the wheel's own files; a path
    # line in a .pth is not scanned for .pth files, so the checkout's editable hook stays out.
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCVE_") and k != "PYTHONPATH"}

    help_out = subprocess.run([str(venv / "bin" / "pcve"), "--help"], cwd=outside, env=env, capture_output=True,
                              text=True)
    assert help_out.returncode == 0, help_out.stderr
    assert "Exit codes" in help_out.stdout

    probe = ("import json, pcve, pcve.core.paths as p\n"
             "from pcve.core.config import load_config\n"
             "from pcve.core.settings import settings\n"
             "cfg = load_config()\n"
             "print(json.dumps({'pcve': pcve.__file__, 'checkout': str(p.CHECKOUT),\n"
             "  'config': str(p.project_dir('config')), 'dbt': str(p.project_dir('dbt_project')),\n"
             "  'dags': str(p.project_dir('dags')), 'offices': sorted(cfg.offices),\n"
             "  'home': str(settings().home)}))\n")
    r = subprocess.run([str(py), "-c", probe], cwd=outside, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert Path(got["pcve"]).is_relative_to(venv) and got["checkout"] == "None"
    data = Path(got["pcve"]).parent / "_data"
    assert got["config"] == str(data / "config") and (data / "config" / "offices.yml").is_file()
    assert got["dbt"] == str(data / "dbt_project") and (data / "dbt_project" / "dbt_project.yml").is_file()
    assert got["dags"] == str(data / "dags")
    expected_offices = sorted(yaml.safe_load((REPO / "config/offices.yml").read_text())["offices"])
    assert got["offices"] == expected_offices
    assert got["home"] == str(outside / "demo")  # no checkout: demo/ in the working directory
