"""Every value the demo publishes, checked against tests/oracle.py: the extracts (indicators.csv,
dhis2.json, sdmx.csv of every folder, ministry and public profile) and the fact tables of the
warehouse. The oracle recomputes them from the demo's scenario data and the spec
(../shared/spec/indicators.md) without reading the warehouse; the home is the session's shared
in-process demo (tests/conftest.py)."""

from __future__ import annotations

import csv
import json
import shutil
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pcve.config import load_config
from pcve.demo import demo_submissions
from tests.oracle import (
    Cell,
    current_submissions,
    extract_cells,
    fact_rows,
    fmt_value,
    norm_period,
    public_primary,
)

pytestmark = pytest.mark.e2e  # reads the warehouse and extracts of a full pipeline run

Key = tuple[str, str, str, str]  # (period, indicator, office, kato)


@pytest.fixture(scope="module")
def oracle() -> dict[Key, Cell]:
    return extract_cells()


@pytest.fixture(scope="module")
def public_exports(inprocess_home, oracle, tmp_path_factory) -> Path:
    """The public profile of every demo period, exported from a copy of the shared home (an export keeps
    input keys under state/, and the shared home is read-only for tests)."""
    from pcve import pipeline

    home = tmp_path_factory.mktemp("public-home") / "home"
    shutil.copytree(inprocess_home, home, symlinks=True)
    out = tmp_path_factory.mktemp("public")
    periods = sorted({k[0] for k in oracle})
    summary = pipeline.export(home, periods=periods, profile="public", out=out)
    assert sorted(norm_period(w["period"]) for w in summary["written"]) == periods
    return out


def _folders(base: Path) -> dict[str, Path]:
    return {norm_period(p.name): p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")
            and p.name != "public"}


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _read_extract(folder: Path, pid: str) -> tuple[dict, dict, dict]:
    """indicators.csv, dhis2.json and sdmx.csv of one folder, keyed like the oracle."""
    ind = {}
    for r in _csv(folder / "indicators.csv"):
        key = (norm_period(r["period"]), r["indicator_code"], r["office_code"], r["kato"])
        assert key not in ind, f"{folder.name}: duplicate row {key}"
        ind[key] = r
    office_of = {k[3]: k[2] for k in ind}  # a KATO code belongs to one office
    dhis = {}
    for v in json.loads((folder / "dhis2.json").read_text(encoding="utf-8"))["dataValues"]:
        key = (norm_period(v["period"]), v["dataElement"], office_of.get(v["orgUnit"], "?"), v["orgUnit"])
        assert key not in dhis, f"{folder.name}: duplicate data value {key}"
        dhis[key] = v["value"]
    sdmx = {}
    for r in _csv(folder / "sdmx.csv"):
        key = (norm_period(r["TIME_PERIOD"]), r["INDICATOR"], office_of.get(r["REF_AREA"], "?"), r["REF_AREA"])
        assert r["FREQ"] == ("Q" if "-Q" in pid else "A"), (folder.name, r)
        assert key not in sdmx, f"{folder.name}: duplicate observation {key}"
        sdmx[key] = r
    return ind, dhis, sdmx


def _expected_row(c: Cell) -> dict:
    return {"value": fmt_value(c.value), "numerator": fmt_value(c.numerator),
            "denominator": fmt_value(c.denominator), "unit": c.unit}


def test_every_ministry_extract_value_is_the_oracles(inprocess_home, oracle):
    folders = _folders(inprocess_home / "exports")
    assert sorted(folders) == sorted({k[0] for k in oracle})  # exactly the complete periods
    compared = 0
    for pid, folder in sorted(folders.items()):
        want = {k: c for k, c in oracle.items() if k[0] == pid}
        ind, dhis, sdmx = _read_extract(folder, pid)
        assert set(ind) == set(want), (pid, sorted(set(ind) ^ set(want))[:10])
        assert set(sdmx) == set(want), (pid, sorted(set(sdmx) ^ set(want))[:10])
        # DHIS2 carries the values there are: an empty percentage has no data value
        assert set(dhis) == {k for k, c in want.items() if c.value is not None}, pid
        for k, c in want.items():
            r = ind[k]
            assert {f: r[f] for f in ("value", "numerator", "denominator", "unit")} == _expected_row(c), (k, r)
            assert r["conf_status"] == "F", k  # the ministry profile suppresses nothing
            assert sdmx[k]["OBS_VALUE"] == fmt_value(c.value) and sdmx[k]["CONF_STATUS"] == "F", k
            # SDMX observation status: A (normal) for a value, M (missing) for an empty percentage
            assert sdmx[k]["OBS_STATUS"] == ("M" if c.value is None else "A"), k
            if c.value is not None:
                assert dhis[k] == fmt_value(c.value), k
            compared += 1
    assert compared == len(oracle)


def _built_on(cfg) -> dict[str, list[str]]:
    """{percentage indicator: the count indicators that are its numerator or denominator}."""
    terms = {ind.value: ind.code for ind in cfg.indicators if not ind.is_percent}
    return {ind.code: [terms[t] for t in (ind.numerator, ind.denominator) if t in terms]
            for ind in cfg.indicators if ind.is_percent}


def test_every_public_extract_value_is_the_oracles_or_suppressed(public_exports, oracle):
    cfg = load_config()
    primary = public_primary(oracle)
    folders = _folders(public_exports)
    assert sorted(folders) == sorted({k[0] for k in oracle})
    status: dict[Key, str] = {}
    for pid, folder in sorted(folders.items()):
        want = {k: c for k, c in oracle.items() if k[0] == pid}
        ind, dhis, sdmx = _read_extract(folder, pid)
        assert set(ind) == set(want) == set(sdmx), pid
        for k, c in want.items():
            r, s = ind[k], sdmx[k]
            status[k] = r["conf_status"]
            assert s["CONF_STATUS"] == r["conf_status"], k
            if k in primary:
                assert r["conf_status"] == "A", (k, c)  # a person count from 1 to 4
            if r["conf_status"] == "F":
                assert {f: r[f] for f in ("value", "numerator", "denominator", "unit")} == _expected_row(c), k
                assert s["OBS_VALUE"] == fmt_value(c.value), k
                assert dhis.get(k) == (None if c.value is None else fmt_value(c.value)), k
            else:
                assert r["conf_status"] in ("A", "D"), (k, r["conf_status"])
                assert r["conf_status"] == "D" or k in primary, k  # A is for 1..4 only
                assert (r["value"], r["numerator"], r["denominator"], s["OBS_VALUE"]) == ("", "", "", ""), k
                assert k not in dhis, k
    assert {k for k, v in status.items() if v == "A"} == primary
    # a percentage built on a suppressed count is suppressed with it
    for pct, counts in _built_on(cfg).items():
        for (pid, code, office, kato), v in status.items():
            if code == pct and any(status.get((pid, c, office, kato), "F") != "F" for c in counts):
                assert v != "F", (pid, pct, office, kato)


def test_no_suppressed_public_value_is_the_office_total_minus_the_published_districts(public_exports, oracle):
    """The simplest recomputation: an office total and all but one district published, and nothing
    office-wide, give the last district by subtraction; secondary suppression must prevent it."""
    cfg = load_config()
    roots = {o: cfg.offices[o].root_kato for o in cfg.offices}
    status = {}
    for pid, folder in _folders(public_exports).items():
        for k, r in _read_extract(folder, pid)[0].items():
            status[k] = r["conf_status"]
    groups: dict[tuple[str, str, str], list[Key]] = {}
    for k in oracle:
        groups.setdefault((k[0], k[1], k[2]), []).append(k)
    checked = 0
    for (pid, code, office), keys in groups.items():
        if oracle[keys[0]].unit != "persons":
            continue
        root = (pid, code, office, roots[office])
        districts = [k for k in keys if k != root]
        office_wide = oracle[root].value - sum(oracle[k].value for k in districts)
        hidden = [k for k in districts if status[k] != "F"]
        if status[root] == "F" and office_wide == 0:
            assert len(hidden) != 1, (hidden, oracle[hidden[0]])
            checked += 1
    assert checked > 0


def _facts(con, table: str, cols: str, where: str = "true") -> list[tuple]:
    return con.execute(f"select {cols} from main.{table} where {where}").fetchall()


def _nfc(v):
    return unicodedata.normalize("NFC", v) if isinstance(v, str) else v


def _month(d: date) -> str:
    return f"{d.year}-{d.month:02d}"


def test_every_fact_table_row_is_the_oracles(inprocess_home):
    """Fact rows as multisets: office, territory, the row's own period and submission period (either
    period style), and every measure; extra columns in the tables are ignored."""
    rows = fact_rows()
    cfg = load_config()
    root = {o: cfg.offices[o].root_kato for o in cfg.offices}
    con = duckdb.connect(str(inprocess_home / "warehouse.duckdb"), read_only=True)
    try:
        def got(table, cols, where="true"):
            return Counter(tuple(norm_period(v) if i in (2, 3) else _nfc(v) for i, v in enumerate(r))
                           for r in _facts(con, table, cols, where))

        head = "office_code, kato, period_id, submission_period_id"
        want = Counter((r["_office"], r["kato"], _month(r["month"]), r["_period"], r["month"], r["direction"],
                        r["adherents_new"], r["conversations"], r["conversations_planned"]) for r in rows["outreach"])
        assert got("fct_outreach", f"{head}, month_start, direction_code, adherents_new, conversations, "
                                   "conversations_planned") == want
        want = Counter((r["_office"], r["kato"], _month(r["month"]), r["_period"], r["month"], r["provider"],
                        r["enrolled_new"], r["rehabilitated"], r["withdrawn"]) for r in rows["rehabilitation"])
        assert got("fct_rehabilitation", f"{head}, month_start, provider_code, enrolled_new, rehabilitated, "
                                         "withdrawn") == want
        want = Counter((r["_office"], r["kato"], _month(r["event_date"]), r["_period"], r["event_date"],
                        r["event_type"], r["audience"], _nfc(r.get("title")), r.get("teams"), r.get("mosques"),
                        r["participants"], r.get("participants_women"), r.get("participants_adherents"))
                       for r in rows["events"])
        assert got("fct_events", f"{head}, event_date, event_type_code, audience_code, event_title, teams, mosques, "
                                 "participants, participants_women, participants_adherents") == want
        # office-wide forms: submitted under the office's root territory
        want = Counter((r["_office"], root[r["_office"]], _month(r["meeting_date"]), r["_period"], "meeting",
                        r["meeting_date"], r["body"], _nfc(r["chair"]), r["agenda_items"], r["tasks_assigned"])
                       for r in rows.get("commission", []))
        assert got("fct_commission_activity", f"{head}, activity_type, meeting_date, body_code, chair, agenda_items, "
                                              "tasks_assigned", "activity_type = 'meeting'") == want
        want = Counter((r["_office"], root[r["_office"]], r["quarter"], r["_period"], _nfc(r["responsible"]),
                        r["tasks_due"], r["done_on_time"], r["done_late"]) for r in rows.get("commission_tasks", []))
        assert got("fct_commission_activity", f"{head}, responsible, tasks_due, done_on_time, done_late",
                   "activity_type <> 'meeting'") == want
    finally:
        con.close()


def test_every_submission_in_the_fact_table_has_the_oracles_status(inprocess_home):
    """Every demo file, rejected draft and superseded first version included: its office, period,
    received time and the status the scenario says the pipeline must give it; current = the latest
    accepted of its office and period."""
    subs = demo_submissions()
    current = {id(s) for s in current_submissions(subs)}
    want = Counter((s.office, norm_period(s.period.token), _nfc(s.file_name), s.received, s.status,
                    id(s) in current) for s in subs)
    con = duckdb.connect(str(inprocess_home / "warehouse.duckdb"), read_only=True)
    try:
        got = Counter((o, norm_period(p), _nfc(f), rec, st, cur) for o, p, f, rec, st, cur in con.execute(
            "select office_code, period_id, file_name, received_at_local, status, is_current "
            "from main.fct_submissions").fetchall())
    finally:
        con.close()
    assert got == want


def test_the_indicator_mart_holds_the_oracles_value_for_every_extract_cell(inprocess_home, oracle):
    """The mart behind the extracts, for every period an extract publishes (it holds months and
    incomplete periods too, which no extract shows and the oracle does not compute)."""
    con = duckdb.connect(str(inprocess_home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("select indicator_code, office_code, kato, period_id, value, numerator, denominator "
                           "from main.mart_indicator_values").fetchall()
    finally:
        con.close()
    periods = {k[0] for k in oracle}
    mart = {}
    for code, office, kato, pid, value, num, den in rows:
        if norm_period(pid) in periods:
            key = (norm_period(pid), code, office, kato)
            assert key not in mart, key
            mart[key] = (value, num, den)
    assert set(mart) == set(oracle)
    for k, c in oracle.items():
        value, num, den = mart[k]
        assert (None if value is None else float(value)) == (None if c.value is None else float(c.value)), (k, value)
        assert num == c.numerator, (k, num)
        assert (den if c.unit == "percent" else None) == c.denominator, (k, den)
