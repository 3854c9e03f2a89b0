"""`make bench` machinery on a tiny workload: the report is written with every section.
Timings are never asserted (they depend on the machine)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import SECTIONS

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.e2e
def test_quick_bench_writes_every_section(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--quick", "--out", str(out),
                           "--work", str(tmp_path / "work")],
                          cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    text = (out / "BENCHMARKS.md").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert section in text, section
    assert (tmp_path / "work" / "bench_results.json").exists()
    # every DAG file of the project is timed, and every target has a verdict
    for dag in (p.name for p in (REPO / "dags").glob("*.py") if not p.name.startswith("_")):
        assert f"dags/{dag}" in text
    targets = text.split("## Targets", 1)[1].split("\n## ", 1)[0]
    assert targets.count("met**") >= 5
