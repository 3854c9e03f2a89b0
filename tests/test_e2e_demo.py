"""End to end on the demo data, with nothing mocked: `pcve demo` writes the demo
workbooks and runs the real DAGs with `airflow dags test` (SQLite metadata DB),
real GX suites and a real `dbt build` on DuckDB; the tests then read the files
the pipeline wrote. The published briefing figures (../shared/spec/
published-figures.md) are asserted from the extracts and the fact tables."""

from __future__ import annotations

import csv
import filecmp
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.airflow]

REPO = Path(__file__).resolve().parents[1]
PCVE = [sys.executable, "-m", "pcve.cli"]


def _pcve(*args, home: Path, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # import-time compile would double the run time
    p = subprocess.run([*PCVE, *args, "--home", str(home)], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=1500)
    if check and p.returncode != 0:
        raise AssertionError(f"pcve {' '.join(args)} exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-5000:]}")
    return p


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("demo-airflow")
    # piped, as `make demo | tee`: the phases' lines are kept for test_phases_are_named_as_they_start
    (home.parent / "demo-airflow.stderr").write_text(_pcve("demo", home=home).stderr)
    return home


# inprocess_home: the session's shared in-process demo home (tests/conftest.py)


def _indicators(home: Path, period: str) -> dict[tuple[str, str, str], dict]:
    with (home / "exports" / period / "indicators.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {(r["indicator_code"], r["office_code"], r["kato"]): r for r in csv.DictReader(fh)}


def _value(home: Path, period: str, code: str, office: str, kato: str) -> str:
    return _indicators(home, period)[(code, office, kato)]["value"]


ALMATY, TURKISTAN = "750000000", "610000000"


def test_the_demo_ran_through_airflow(airflow_home):
    # The Airflow metadata DB was created under the home and the three DAGs ran there.
    assert (airflow_home / "airflow").is_dir()
    dbs = list((airflow_home / "airflow").glob("*.db"))
    assert dbs, "no SQLite metadata database under HOME/airflow"
    periods = sorted(p.name for p in (airflow_home / "exports").iterdir() if not p.name.startswith("."))
    assert periods == ["2017", "2017Q1", "2017Q2", "2017Q3", "2017Q4", "2018", "2018Q1", "2018Q2", "2018Q3",
                       "2018Q4", "2025Q1", "2025Q2", "2025Q3"]
    for p in periods:
        for f in ("indicators.csv", "indicators.xlsx", "dhis2.json", "sdmx.csv", "manifest.json"):
            assert (airflow_home / "exports" / p / f).is_file(), (p, f)


def test_almaty_2017_published_figures(airflow_home):
    v = lambda code: _value(airflow_home, "2017", code, "almaty", ALMATY)  # noqa: E731
    assert v("OUT_ADHERENTS_ISLAMIC") == "570"
    assert v("OUT_ADHERENTS") == "570"
    assert v("REH_REHABILITATED") == "245"
    assert v("REH_RATE_PCT") == "43.0"
    assert v("EVT_SPORTS_TEAMS") == "403"
    assert 13400 <= int(v("EVT_SPORTS_PARTICIPANTS")) <= 13600
    assert int(v("EVT_WOMEN_EVENTS")) > 200
    assert 1450 <= int(v("EVT_WOMEN_REACHED")) <= 1550
    assert v("EVT_PENITENTIARY_EVENTS") == "49"
    assert v("EVT_PENITENTIARY_REACHED") == "1113"
    row = _indicators(airflow_home, "2017")[("REH_RATE_PCT", "almaty", ALMATY)]
    assert (row["numerator"], row["denominator"], row["conf_status"]) == ("245", "570", "F")


def test_turkistan_2025_q1_to_q3_published_figures(airflow_home):
    total = lambda code: sum(int(_value(airflow_home, q, code, "turkistan", TURKISTAN))  # noqa: E731
                             for q in ("2025Q1", "2025Q2", "2025Q3"))
    assert total("COM_SESSIONS") == 3
    assert total("COM_WG_MEETINGS") == 19
    assert total("EVT_SEMINARS") == 3
    assert total("EVT_CAMPAIGNS") >= 1
    # No annual 2025 extract: Q4 is still missing.
    assert not (airflow_home / "exports" / "2025").exists()


def test_figures_no_indicator_carries_are_in_the_fact_tables(airflow_home):
    con = duckdb.connect(str(airflow_home / "published" / "warehouse.duckdb"), read_only=True)
    try:
        league = con.execute(
            "select teams, mosques, participants, participants_adherents from fct_events "
            "where office_code = 'almaty' and event_type_code = 'sports' and mosques is not null "
            "and extract(year from event_date) = 2017").fetchall()
        assert len(league) == 1
        teams, mosques, participants, adherents = league[0]
        assert (teams, mosques) == (403, 48) and participants > 2500 and adherents > 360
        plan = con.execute("select sum(conversations_planned) from fct_outreach where office_code = 'almaty' "
                           "and extract(year from month_start) = 2018").fetchone()[0]
        assert plan >= 1000
        providers = {r[0] for r in con.execute(
            "select distinct provider_code from fct_rehabilitation where extract(year from month_start) = 2017").fetchall()}
        assert {"center", "university", "imams"} <= providers
        titles = [r[0] for r in con.execute(
            "select event_title from fct_events where office_code = 'turkistan' and event_type_code = 'campaign'").fetchall()]
        assert "Терроризмге жол жоқ!" in titles  # Kazakh text byte for byte (NFC)
        agenda = con.execute(
            "select agenda_items from fct_commission_activity where office_code = 'turkistan' "
            "and body_code = 'commission' and meeting_date between date '2025-07-01' and date '2025-09-30'").fetchall()
        assert agenda == [(4,)]
    finally:
        con.close()


def test_rejected_and_superseded_files_are_kept_and_reported(airflow_home):
    q = airflow_home / "quarantine" / "almaty"
    assert (q / "almaty_2018-05_алғашқы.xlsx").is_file()
    report = (q / "almaty_2018-05_алғашқы.xlsx.errors.csv").read_text(encoding="utf-8-sig")
    header = report.splitlines()[0].split(",")
    assert header[:4] == ["severity", "sheet", "row", "column"]
    assert "qualified_number" in report and "2500-нан астам" in report
    # The office gets the report back in its own source.
    assert (airflow_home / "inbox" / "almaty" / "_reports" / "almaty_2018-05_алғашқы.xlsx.errors.html").is_file()
    st = json.loads(_pcve("status", "--json", home=airflow_home).stdout)
    almaty = st["offices"]["almaty"]
    assert almaty["counts"]["rejected"] == 1 and almaty["counts"]["superseded"] == 1
    nov = {s["file"]: s["status"] for s in almaty["periods"]["2017-11"]["received"]}
    assert nov == {"almaty_2017-11.xlsx": "superseded", "almaty_2017-11_түзетілген.xlsx": "accepted"}
    assert st["offices"]["turkistan"]["missing"][0]["period"] == "2025-Q4"
    manifest = json.loads((airflow_home / "exports" / "2017" / "manifest.json").read_text())
    used = {s["file_name"] for s in manifest["submissions"]}
    assert "almaty_2017-11_түзетілген.xlsx" in used and "almaty_2017-11.xlsx" not in used


def test_in_process_run_writes_the_same_extracts_as_airflow(airflow_home, inprocess_home):
    for period in sorted(p.name for p in (airflow_home / "exports").iterdir() if not p.name.startswith(".")):
        a, b = airflow_home / "exports" / period, inprocess_home / "exports" / period
        names = sorted(x.name for x in a.iterdir())
        assert names == sorted(x.name for x in b.iterdir())
        match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
        assert not mismatch and not errors, (period, mismatch, errors)


def test_a_rerun_with_nothing_new_builds_nothing_and_changes_no_extract(inprocess_home):
    before = {p: p.resolve() for p in (inprocess_home / "exports").iterdir() if not p.name.startswith(".")}
    out = json.loads(_pcve("run", "--json", home=inprocess_home).stdout)
    assert out["intake"]["files"] == 0
    assert out["warehouse"]["built"] is False
    assert out["exports"]["written"] == []
    after = {p: p.resolve() for p in before}
    assert before == after


def test_a_second_airflow_run_with_nothing_new_builds_nothing_and_changes_no_extract(airflow_home):
    from pcve.airflow_runner import run_pipeline_via_airflow

    state = airflow_home / "state" / "dbt_build.json"
    built_before = json.loads(state.read_text())["built_at"]
    links = {p.name: os.readlink(p) for p in (airflow_home / "exports").iterdir() if p.is_symlink()}
    revisions = sorted(str(p) for p in (airflow_home / "exports" / ".revisions").rglob("r*"))
    ledger_before = (airflow_home / "ledger.jsonl").read_bytes()
    run_pipeline_via_airflow(airflow_home)
    assert json.loads(state.read_text())["built_at"] == built_before, "dbt build ran with nothing new"
    assert {p.name: os.readlink(p) for p in (airflow_home / "exports").iterdir() if p.is_symlink()} == links
    assert sorted(str(p) for p in (airflow_home / "exports" / ".revisions").rglob("r*")) == revisions
    assert (airflow_home / "ledger.jsonl").read_bytes() == ledger_before


def _phase_lines(stderr: str) -> list[str]:
    return [line.split("] ", 1)[1] for line in stderr.splitlines() if re.match(r"\[\s*[0-9.]+s\] ", line)]


def test_phases_are_named_as_they_start_one_line_each_when_piped(airflow_home, inprocess_home):
    from pcve.demo import demo_submissions
    from pcve.pipeline import PHASES

    inproc = _phase_lines((inprocess_home.parent / "demo-inprocess.stderr").read_text())
    assert [line.split(":")[0] for line in inproc] == list(PHASES)
    assert inproc[0] == f"intake: {len(demo_submissions())} file(s)"
    via_airflow = _phase_lines((airflow_home.parent / "demo-airflow.stderr").read_text())
    assert via_airflow == ["intake, validation (office_intake)", "warehouse build, publish (warehouse_build)",
                           "extracts (ministry_extract)"]
    # every phase of the run is named, in order, by the DAG that carries it out
    assert ", ".join(line.split(" (")[0] for line in via_airflow) == ", ".join(PHASES)
