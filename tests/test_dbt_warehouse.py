"""The dbt warehouse end to end: a hand-made raw layer, a real `dbt build`, exact mart values.

The raw layer (two offices) exercises every rule of "which submission is current":
almaty (monthly)
  S1 2025-01 workbook, later superseded entirely by S2 (its values must never show)
  S2 2025-01 workbook: outreach + rehabilitation, events omitted (withdraws S1's events), 4 days late
  S3 2025-01 CSV of rehabilitation only: replaces S2's rehabilitation, keeps S2's outreach
  S4 2025-02 rejected workbook (rows present in raw must be ignored)
  S5 2025-02 workbook: outreach (6.25 % plan -> 6.3) and events
  S6 2025-03 workbook: outreach with a zero plan (no percentage) and one commission session
  S10 2025-03 CSV of outreach, voided (ignored)
turkistan (quarterly, reports from 2025-Q1)
  S7 2025-Q1 workbook: events, commission, commission tasks (5 of 16 on time -> 31.3)
  S8 2024-Q4 workbook before reports_from: complete all the same
  S9 2025-Q1 duplicate (ignored)
Every number asserted below was worked out by hand from these rows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingest.warehouse_init import init_warehouse
from pcve.app.warehouse import WarehouseBuildError, build, docs, publish
from pcve.core.config import load_config
from pcve.core.home import Home

pytestmark = pytest.mark.e2e  # real dbt and DuckDB: about 1.5 min for the file

AS_OF = date(2025, 5, 20)
ALMATY, ALMALY, ALATAU, AUEZOV = "750000000", "751110000", "751210000", "751310000"
TURKISTAN, TURKISTAN_CITY, KELES = "610000000", "611000000", "613900000"
FORMS = ("outreach", "rehabilitation", "events", "commission", "commission_tasks")

SUBMISSIONS = [
    # id, seq, office, period, kind, start, end, scope, file, received, status, errors, warnings
    ("S000001", 1, "almaty", "2025-01", "month", "2025-01-01", "2025-01-31", "workbook",
     "almaty_2025-01.xlsx", "2025-02-05 09:00:00", "accepted", 0, 0),
    ("S000002", 2, "almaty", "2025-01", "month", "2025-01-01", "2025-01-31", "workbook",
     "almaty_2025-01_v2.xlsx", "2025-02-14 10:00:00", "accepted", 0, 1),
    ("S000003", 3, "almaty", "2025-01", "month", "2025-01-01", "2025-01-31", "rehabilitation",
     "almaty_2025-01__rehabilitation.csv", "2025-02-20 11:00:00", "accepted", 0, 0),
    ("S000004", 4, "almaty", "2025-02", "month", "2025-02-01", "2025-02-28", "workbook",
     "almaty_2025-02.xlsx", "2025-03-03 12:00:00", "rejected", 2, 0),
    ("S000005", 5, "almaty", "2025-02", "month", "2025-02-01", "2025-02-28", "workbook",
     "almaty_2025-02_fixed.xlsx", "2025-03-05 12:00:00", "accepted", 0, 0),
    ("S000006", 6, "almaty", "2025-03", "month", "2025-03-01", "2025-03-31", "workbook",
     "almaty_2025-03.xlsx", "2025-04-08 08:30:00", "accepted", 0, 0),
    ("S000007", 7, "turkistan", "2025-Q1", "quarter", "2025-01-01", "2025-03-31", "workbook",
     "Туркестан АТК есеп 2025-Q1.xlsx", "2025-04-10 15:00:00", "accepted", 0, 0),
    ("S000008", 8, "turkistan", "2024-Q4", "quarter", "2024-10-01", "2024-12-31", "workbook",
     "turkistan_2024-Q4.xlsx", "2025-01-20 15:00:00", "accepted", 0, 0),
    ("S000009", 9, "turkistan", "2025-Q1", "quarter", "2025-01-01", "2025-03-31", "workbook",
     "turkistan copy 2025-Q1.xlsx", "2025-04-11 15:00:00", "duplicate", 0, 0),
    ("S000010", 10, "almaty", "2025-03", "month", "2025-03-01", "2025-03-31", "outreach",
     "almaty_2025-03__outreach.csv", "2025-04-09 08:30:00", "voided", 0, 0),
]

# forms each submission lists: a workbook lists all five, a CSV its own
PRESENT = {
    "S000001": {"outreach", "rehabilitation", "events"},
    "S000002": {"outreach", "rehabilitation"},
    "S000004": {"outreach"},
    "S000005": {"outreach", "events"},
    "S000006": {"outreach", "commission"},
    "S000007": {"events", "commission", "commission_tasks"},
    "S000008": {"commission"},
    "S000009": {"commission"},
}
CSV_FORMS = {"S000003": "rehabilitation", "S000010": "outreach"}

ROWS = {
    "outreach": ("kato, month, direction, adherents_new, conversations, conversations_planned", [
        ("S000001", ALMALY, "2025-01-01", "islamic", 100, 100, 100),
        ("S000002", ALMALY, "2025-01-01", "islamic", 10, 20, 40),
        ("S000002", ALATAU, "2025-01-01", "other", 5, 30, None),
        ("S000002", ALMATY, "2025-01-01", "islamic", 2, 4, 8),
        ("S000004", ALMALY, "2025-02-01", "islamic", 500, 500, 500),
        ("S000005", ALMALY, "2025-02-01", "islamic", 1, 5, 80),
        ("S000006", ALMALY, "2025-03-01", "islamic", 0, 0, 0),
        ("S000010", ALMALY, "2025-03-01", "islamic", 7, 7, 7),
    ]),
    "rehabilitation": ("kato, month, provider, enrolled_new, rehabilitated, withdrawn", [
        ("S000001", ALMALY, "2025-01-01", "center", 50, 50, None),
        ("S000002", ALMALY, "2025-01-01", "center", 3, 1, None),
        ("S000002", ALMATY, "2025-01-01", "imams", 1, 1, None),
        ("S000003", ALMALY, "2025-01-01", "center", 4, 2, 0),
        ("S000003", ALATAU, "2025-01-01", "university", 2, 1, None),
    ]),
    "events": ("kato, event_date, event_type, title, audience, teams, mosques, participants, "
               "participants_women, participants_adherents", [
        ("S000001", ALMALY, "2025-01-10", "sports", "Футбол", "general", 8, None, 999, 0, 0),
        ("S000005", ALMALY, "2025-02-11", "sports", "Мини-футбол лигасы", "youth", 4, 2, 50, 10, 2),
        ("S000005", ALMATY, "2025-02-20", "seminar", "Әйелдерге арналған семинар", "women", None, None,
         20, 20, None),
        ("S000007", TURKISTAN_CITY, "2025-02-05", "penitentiary", "Лекция в учреждении", "convicts",
         None, None, 30, 0, 3),
    ]),
    "commission": ("kato, meeting_date, body, chair, agenda_items, tasks_assigned", [
        ("S000006", ALMATY, "2025-03-12", "commission", "Аким", 3, 2),
        ("S000007", TURKISTAN, "2025-01-15", "commission", "Аким области", 4, 6),
        ("S000007", TURKISTAN, "2025-02-10", "working_group", None, 2, None),
        ("S000008", TURKISTAN, "2024-11-20", "commission", "Аким области", 5, 3),
        ("S000009", TURKISTAN, "2025-03-01", "commission", None, 9, 9),
    ]),
    "commission_tasks": ("kato, quarter, responsible, tasks_due, done_on_time, done_late", [
        ("S000007", TURKISTAN, "2025-Q1", "ДВП", 8, 5, 2),
        ("S000007", TURKISTAN, "2025-Q1", "Управление образования", 8, 0, 8),
    ]),
}


def make_raw_layer(warehouse: Path) -> None:
    """The raw layer above, written as ingest would (init_warehouse + plain inserts)."""
    con = duckdb.connect(str(warehouse))
    try:
        init_warehouse(con, load_config(), last_year=2026)
        con.executemany(
            "insert into raw.submissions (submission_id, seq, office_code, period, period_kind, period_start, "
            "period_end, scope, file_name, received_at, status, error_count, warning_count, sha256) "
            "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(*s, hashlib.sha256(s[8].encode()).hexdigest()) for s in SUBMISSIONS],
        )
        forms = []
        for sid, present in PRESENT.items():
            forms += [(sid, f, f in present, 0) for f in FORMS]
        forms += [(sid, f, True, 0) for sid, f in CSV_FORMS.items()]
        con.executemany("insert into raw.submission_forms values (?,?,?,?)", forms)
        for form, (cols, rows) in ROWS.items():
            n = len(cols.split(","))
            con.executemany(
                f"insert into raw.{form} (submission_id, sheet, row_number, {cols}) "
                f"values (?, ?, ?, {', '.join('?' * n)})",
                [(r[0], form, i + 5, *r[1:]) for i, r in enumerate(rows)],
            )
        con.executemany("insert into raw.submission_issues values (?,?,?,?,?,?,?,?)", [
            ("S000004", "error", "Беседы", 7, "E", "conversations", "gte", "fewer conversations than adherents"),
            ("S000004", "error", "Беседы", 8, "D", "adherents_new", "exact_number", "not an exact number"),
            ("S000002", "warning", "Лист1", None, None, None, "ignored_sheet", "sheet ignored"),
        ])
        con.executemany("insert into raw.validation_results values (?,?,?,?,?,?,?)", [
            ("S000002", "outreach", "expect_column_values_to_not_be_null", "kato", True, 3, 0),
            ("S000004", "outreach", "expect_column_pair_values_a_to_be_greater_than_b", "conversations",
             False, 1, 1),
        ])
    finally:
        con.close()


@pytest.fixture(scope="session")
def built_home(tmp_path_factory):
    """A home with the raw layer above and one real dbt build (about 10 s)."""
    home = Home.at(tmp_path_factory.mktemp("home")).ensure()
    make_raw_layer(home.warehouse)
    summary = build(home.root, as_of=AS_OF)
    return home, summary


def q(home: Home, sql: str, *params):
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def value(home: Home, indicator: str, kato: str, period: str):
    rows = q(home, "select numerator, denominator, value from main.mart_indicator_values "
                   "where indicator_code = ? and kato = ? and period_id = ?", indicator, kato, period)
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


# --------------------------------------------------------------------------- build



def _add_april_workbook(warehouse) -> None:
    """A late April 2025 Almaty workbook in the raw layer: one submission and one outreach row."""
    con = duckdb.connect(str(warehouse))
    con.execute("insert into raw.submissions values ('S000011', 11, 'almaty', '2025-04', 'month', "
                "'2025-04-01', '2025-04-30', 'workbook', 'almaty_2025-04.xlsx', ?, "
                "'2025-05-15 09:00:00', 'accepted', 0, 0)", ["ab" * 32])
    for f in FORMS:
        con.execute("insert into raw.submission_forms values ('S000011', ?, ?, 1)", [f, f == "outreach"])
    con.execute("insert into raw.outreach values ('S000011', 'outreach', 5, ?, '2025-04-01', "
                "'islamic', 3, 9, 10)", [ALMALY])
    con.close()

def test_build_runs_every_model_and_test(built_home):
    _, summary = built_home
    assert summary["built"] is True
    # staging 15 (9 raw tables of submissions and forms, 6 of configuration), intermediate 10 (5 of
    # them the current rows of a form), dimensions 9, facts 5, marts 2
    assert summary["models"] == 41
    assert summary["snapshots"] == 1
    assert summary["unit_tests"] == 10 and "unit_tests_skipped" not in summary  # a new home: they run
    # the not_null, unique, relationships and accepted_values checks of a model are one test node of
    # each kind (not_null_columns, unique_columns, relationships_columns, accepted_values_columns)
    assert summary["data_tests"] >= 110
    assert summary["selection"].startswith("all (full build: ")  # a new home: nothing to build upon
    assert summary["tests"] == summary["data_tests"] + summary["unit_tests"]
    # both offices sent something recently enough on the as-of date: no freshness warning
    assert summary["warnings"] == []


def test_mart_columns_are_the_contract(built_home):
    home, _ = built_home
    cols = q(home, "select column_name, data_type from information_schema.columns "
                   "where table_schema = 'main' and table_name = 'mart_indicator_values' order by ordinal_position")
    assert cols == [
        ("indicator_code", "VARCHAR"), ("office_code", "VARCHAR"), ("kato", "VARCHAR"),
        ("territory_level", "VARCHAR"), ("period_id", "VARCHAR"), ("period_kind", "VARCHAR"),
        ("period_start", "DATE"), ("period_end", "DATE"), ("unit", "VARCHAR"),
        ("numerator", "BIGINT"), ("denominator", "BIGINT"), ("value", "DECIMAL(20,1)"),
        ("count_value", "BIGINT"), ("dhis2_period_id", "VARCHAR"), ("sdmx_period_id", "VARCHAR"),
        # the incremental build's digest of the office's inputs (documented; never exported)
        ("inputs_digest", "VARCHAR"),
    ]
    cols = q(home, "select column_name from information_schema.columns where table_schema = 'main' "
                   "and table_name = 'mart_submission_completeness' order by ordinal_position")
    assert [c[0] for c in cols] == [
        "office_code", "period_id", "period_kind", "expected_submissions", "accepted_submissions",
        "is_complete", "missing_periods", "due_date", "is_overdue", "dhis2_period_id", "sdmx_period_id",
    ]


def test_current_submission_rules(built_home):
    home, _ = built_home
    # superseded workbook S1 never counts; S2's outreach stays although S3 replaced rehabilitation
    assert value(home, "OUT_ADHERENTS", ALMATY, "2025-01") == (17, None, Decimal("17.0"))
    assert value(home, "OUT_ADHERENTS", ALMALY, "2025-01") == (10, None, Decimal("10.0"))
    assert value(home, "OUT_ADHERENTS_ISLAMIC", ALMATY, "2025-01") == (12, None, Decimal("12.0"))
    assert value(home, "OUT_ADHERENTS_ISLAMIC", ALATAU, "2025-01") == (0, None, Decimal("0.0"))
    # the CSV (S3) replaced S2's rehabilitation: 4+2 enrolled, not 3+1 nor S1's 50
    assert value(home, "REH_ENROLLED", ALMATY, "2025-01") == (6, None, Decimal("6.0"))
    assert value(home, "REH_REHABILITATED", ALMALY, "2025-01") == (2, None, Decimal("2.0"))
    # S2 omitted events: S1's events are withdrawn, January has no event indicator at all
    assert value(home, "EVT_EVENTS", ALMATY, "2025-01") is None
    # rejected S4 and voided S10 are ignored
    assert value(home, "OUT_ADHERENTS", ALMALY, "2025-02") == (1, None, Decimal("1.0"))
    assert value(home, "OUT_CONVERSATIONS", ALMALY, "2025-03") == (0, None, Decimal("0.0"))
    # the duplicate S9 is ignored: one session in Q1, not two
    assert value(home, "COM_SESSIONS", TURKISTAN, "2025-Q1") == (1, None, Decimal("1.0"))


def test_percentages(built_home):
    home, _ = built_home
    # 5 / 80 = 6.25 % -> 6.3 (half-up)
    assert value(home, "OUT_PLAN_PCT", ALMALY, "2025-02") == (5, 80, Decimal("6.3"))
    # office total of January: (20+30+4) / (40+8) = 112.5 %; Alatau has no plan: 30 / 0 -> empty
    assert value(home, "OUT_PLAN_PCT", ALMATY, "2025-01") == (54, 48, Decimal("112.5"))
    assert value(home, "OUT_PLAN_PCT", ALATAU, "2025-01") == (30, 0, None)
    assert value(home, "OUT_PLAN_PCT", AUEZOV, "2025-01") == (0, 0, None)
    # March: 0 / 0 -> empty, not zero
    assert value(home, "OUT_PLAN_PCT", ALMATY, "2025-03") == (0, 0, None)
    # quarter from summed parts: Almaly (20+5+0)/(40+80+0) = 20.8 %, not the mean of 50 and 6.25
    assert value(home, "OUT_PLAN_PCT", ALMALY, "2025-Q1") == (25, 120, Decimal("20.8"))
    assert value(home, "OUT_PLAN_PCT", ALMATY, "2025-Q1") == (59, 128, Decimal("46.1"))
    # REH_RATE_PCT = rehabilitated / adherents engaged: 3/17 in January
    assert value(home, "REH_RATE_PCT", ALMATY, "2025-01") == (3, 17, Decimal("17.6"))
    assert value(home, "REH_RATE_PCT", ALMALY, "2025-01") == (2, 10, Decimal("20.0"))
    # February reported outreach but not rehabilitation: the percentage is absent
    assert value(home, "REH_RATE_PCT", ALMATY, "2025-02") is None
    assert value(home, "REH_REHABILITATED", ALMATY, "2025-02") is None
    # the quarter has both forms: 3 / (17+1+0)
    assert value(home, "REH_RATE_PCT", ALMATY, "2025-Q1") == (3, 18, Decimal("16.7"))
    assert value(home, "REH_RATE_PCT", ALMALY, "2025-Q1") == (2, 11, Decimal("18.2"))
    # commission tasks on time: 5 of 16 = 31.25 % -> 31.3; districts have no task rows
    assert value(home, "COM_TASKS_ON_TIME_PCT", TURKISTAN, "2025-Q1") == (5, 16, Decimal("31.3"))
    assert value(home, "COM_TASKS_ON_TIME_PCT", KELES, "2025-Q1") == (0, 0, None)


def test_counts_territories_and_rollups(built_home):
    home, _ = built_home
    # events in February: one in Almaly, one office-wide; the office row counts both
    assert value(home, "EVT_EVENTS", ALMATY, "2025-02") == (2, None, Decimal("2.0"))
    assert value(home, "EVT_EVENTS", ALMALY, "2025-02") == (1, None, Decimal("1.0"))
    assert value(home, "EVT_EVENTS", ALATAU, "2025-02") == (0, None, Decimal("0.0"))
    assert value(home, "EVT_PARTICIPANTS", ALMATY, "2025-02") == (70, None, Decimal("70.0"))
    assert value(home, "EVT_SPORTS_TEAMS", ALMATY, "2025-02") == (4, None, Decimal("4.0"))
    assert value(home, "EVT_WOMEN_EVENTS", ALMATY, "2025-02") == (1, None, Decimal("1.0"))
    assert value(home, "EVT_WOMEN_EVENTS", ALMALY, "2025-02") == (0, None, Decimal("0.0"))
    assert value(home, "EVT_WOMEN_REACHED", ALMATY, "2025-02") == (20, None, Decimal("20.0"))
    assert value(home, "EVT_SEMINARS", ALMATY, "2025-02") == (1, None, Decimal("1.0"))
    # quarter and year sum the months
    assert value(home, "OUT_ADHERENTS", ALMATY, "2025-Q1") == (18, None, Decimal("18.0"))
    assert value(home, "OUT_CONVERSATIONS", ALMATY, "2025") == (59, None, Decimal("59.0"))
    assert value(home, "EVT_EVENTS", ALMATY, "2025-Q1") == (2, None, Decimal("2.0"))
    assert value(home, "COM_SESSIONS", ALMATY, "2025") == (1, None, Decimal("1.0"))
    # quarterly office: quarter and year rows, never months
    assert value(home, "EVT_PENITENTIARY_REACHED", TURKISTAN_CITY, "2025-Q1") == (30, None, Decimal("30.0"))
    assert value(home, "EVT_PENITENTIARY_EVENTS", TURKISTAN, "2025") == (1, None, Decimal("1.0"))
    assert value(home, "COM_WG_MEETINGS", TURKISTAN, "2025-Q1") == (1, None, Decimal("1.0"))
    assert value(home, "COM_SESSIONS", TURKISTAN, "2024") == (1, None, Decimal("1.0"))
    assert q(home, "select count(*) from main.mart_indicator_values "
                   "where office_code = 'turkistan' and period_kind = 'month'") == [(0,)]
    # turkistan never reported outreach: no outreach-based row at all
    assert q(home, "select count(*) from main.mart_indicator_values "
                   "where office_code = 'turkistan' and indicator_code like 'OUT%'") == [(0,)]
    # January: 4 outreach + 2 rehabilitation counts + 2 percentages, for each of almaty's 9 territories
    assert q(home, "select count(*), count(distinct kato) from main.mart_indicator_values "
                   "where office_code = 'almaty' and period_id = '2025-01'") == [(63, 9)]
    # one row per indicator x office x territory x period
    assert q(home, "select count(*) - count(distinct indicator_code || office_code || kato || period_id) "
                   "from main.mart_indicator_values") == [(0,)]
    # the office row carries the root's territory level
    assert q(home, "select distinct territory_level from main.mart_indicator_values "
                   "where kato = ?", TURKISTAN) == [("region",)]


def test_submission_completeness(built_home):
    home, _ = built_home

    def row(office, period):
        rows = q(home, "select expected_submissions, accepted_submissions, is_complete, missing_periods, "
                       "due_date, is_overdue from main.mart_submission_completeness "
                       "where office_code = ? and period_id = ?", office, period)
        return rows[0] if rows else None

    assert row("almaty", "2025-Q1") == (3, 3, True, "", date(2025, 4, 10), False)
    assert row("almaty", "2025-02") == (1, 1, True, "", date(2025, 3, 10), False)
    assert row("almaty", "2025-04") == (1, 0, False, "2025-04", date(2025, 5, 10), True)
    assert row("almaty", "2025-05") == (1, 0, False, "2025-05", date(2025, 6, 10), False)
    assert row("almaty", "2025-06") is None  # not started on the as-of date
    assert row("almaty", "2025-Q2") == (3, 0, False, "2025-04,2025-05,2025-06", date(2025, 7, 10), False)
    assert row("almaty", "2024-Q4") == (3, 0, False, "2024-10,2024-11,2024-12", date(2025, 1, 10), True)
    assert row("almaty", "2025")[:3] == (12, 3, False)
    assert row("almaty", "2016-12") is None  # before reports_from and not complete
    assert row("turkistan", "2025-Q1") == (1, 1, True, "", date(2025, 4, 15), False)
    assert row("turkistan", "2025") == (4, 1, False, "2025-Q2,2025-Q3,2025-Q4", date(2026, 1, 15), False)
    # before reports_from (2025-Q1) but complete: listed all the same; its year is not complete
    assert row("turkistan", "2024-Q4") == (1, 1, True, "", date(2025, 1, 15), False)
    assert row("turkistan", "2024") is None
    counts = dict(q(home, "select office_code, count(*) from main.mart_submission_completeness group by 1"))
    # almaty: months 2017-01..2025-05 (101), quarters to 2025Q2 (34), years to 2025 (9)
    assert counts == {"almaty": 144, "turkistan": 4}
    assert q(home, "select count(*) from main.mart_submission_completeness "
                   "where office_code = 'turkistan' and period_kind = 'month'") == [(0,)]


def test_fct_submissions(built_home):
    home, _ = built_home
    rows = {r[0]: r[1:] for r in q(home, "select submission_id, status, is_current, days_late, "
                                         "located_error_count, expectations_failed from main.fct_submissions")}
    assert rows == {
        "S000001": ("superseded", False, 0, 0, 0),
        "S000002": ("accepted", True, 4, 0, 0),
        "S000003": ("accepted", True, 10, 0, 0),
        "S000004": ("rejected", False, 0, 2, 1),
        "S000005": ("accepted", True, 0, 0, 0),
        "S000006": ("accepted", True, 0, 0, 0),
        "S000007": ("accepted", True, 0, 0, 0),
        "S000008": ("accepted", True, 5, 0, 0),
        "S000009": ("duplicate", False, 0, 0, 0),
        "S000010": ("voided", False, 0, 0, 0),
    }
    assert q(home, "select due_date from main.fct_submissions where submission_id = 'S000007'") == [
        (date(2025, 4, 15),)]


def test_star_schema(built_home):
    home, _ = built_home
    assert q(home, "select count(*) from main.fct_events") == [(3,)]  # S5's two, S7's one
    assert q(home, "select activity_type, count(*) from main.fct_commission_activity group by 1 order by 1") == [
        ("meeting", 4), ("task_execution", 2)]
    assert q(home, "select territory_name_kk, is_office_root from main.dim_territory where kato = ?",
             ALMALY) == [("Алмалы ауданы", False)]
    # one period id style (the file-name token) with the DHIS2 and SDMX forms beside it
    assert q(home, "select period_kind, dhis2_period_id, sdmx_period_id, quarter_id, year_id from main.dim_period "
                   "where period_id = '2025-03'") == [("month", "202503", "2025-03", "2025-Q1", "2025")]
    assert q(home, "select dhis2_period_id, sdmx_period_id, quarter_id from main.dim_period "
                   "where period_id = '2025-Q1'") == [("2025Q1", "2025-Q1", "2025-Q1")]
    assert q(home, "select count(*) from main.dim_indicator") == [(len(load_config().indicators),)]
    assert q(home, "select formula from main.dim_indicator where indicator_code = 'EVT_WOMEN_EVENTS'") == [
        ("count(events.rows) where audience = women",)]
    assert q(home, "select count(*) from snapshots.snap_territory") == [(len(load_config().territories),)]


def test_build_skipped_when_nothing_changed(built_home):
    home, _ = built_home
    again = build(home.root, as_of=AS_OF)
    assert again["built"] is False and "unchanged" in again["reason"]
    # a new day changes completeness, so it is a reason to build
    from pcve.app.warehouse.state import _fingerprint

    assert _fingerprint(home, AS_OF)[0] != _fingerprint(home, date(2025, 5, 21))[0]


@pytest.mark.parametrize("prepared", [False, True], ids=["in-process", "prepared-process"])
def test_failing_build_names_the_failing_nodes(tmp_path, prepared):
    """A row on a territory that is not the office's fails the relationships test: build raises, with
    the same message whether dbt runs in this process or in the process `pcve run` prepares."""
    from pcve.app.warehouse import dbt_prepared

    home = Home.at(tmp_path / "bad").ensure()
    make_raw_layer(home.warehouse)
    con = duckdb.connect(str(home.warehouse))
    con.execute("insert into raw.outreach values ('S000005', 'outreach', 99, '999999999', '2025-02-01', "
                "'islamic', 1, 1, 1)")
    con.close()
    child = dbt_prepared.start(home.root, as_of=AS_OF) if prepared else None
    assert (child is not None) == prepared
    with pytest.raises(WarehouseBuildError) as err:
        build(home.root, as_of=AS_OF, prepared=child)
    if child is not None:
        assert child.answered and child.proc.returncode == 0  # it ran the build, answered and ended
    # the relationships of a model are one relationships_columns node, named after the model and its
    # foreign keys; its failing rows (in the message) name the column, the orphan value and the parent
    assert any(f.startswith("relationships_stg_submissions__outreach__kato (test: fail)") for f in err.value.failed), \
        err.value.failed
    message = str(err.value)
    assert "dbt build failed" in message and "relationships_stg_submissions__outreach__kato" in message
    assert "column_name=kato, orphan_value=999999999, missing_from=stg_config__territories.kato, n_rows=1" in message
    # the half-rebuilt warehouse is never published, and the next call builds again instead of skipping
    refused = publish(home.root)
    assert refused["published"] is False and "failed" in refused["reason"]
    assert not (home.published / "warehouse.duckdb").exists()
    state = json.loads((home.state / "dbt_build.json").read_text(encoding="utf-8"))
    assert state["failed"] is True and "relationships_stg_submissions__outreach__kato" in state["error"]


def test_a_null_in_a_required_column_fails_the_build(tmp_path):
    """The not_null checks folded into one not_null_columns test per model still fail the build."""
    home = Home.at(tmp_path / "null").ensure()
    make_raw_layer(home.warehouse)
    con = duckdb.connect(str(home.warehouse))
    # an outreach row without its direction: staging keeps it, the model's not_null check must not
    con.execute("insert into raw.outreach values ('S000005', 'outreach', 98, ?, '2025-02-01', "
                "null, 1, 1, 1)", [ALMALY])
    con.close()
    with pytest.raises(WarehouseBuildError) as err:
        build(home.root, as_of=AS_OF)
    assert any("not_null_columns_stg_submissions__outreach" in f for f in err.value.failed), err.value.failed
    assert "got 1 result" in str(err.value).lower()  # dbt's own message per failing node
    assert "direction=None" in str(err.value)  # and the failing row: which column is null


def test_new_data_alone_builds_only_what_depends_on_it(built_home, tmp_path):
    """Only raw data tables changed (same project, versions, as-of date, configuration): the build selects
    the nodes downstream of the changed tables. The dimensions and the snapshot (configuration only)
    are left as they were; the facts' relationships to them still run and still fail the build."""
    home0, _ = built_home
    home = Home.at(tmp_path / "copy")
    shutil.copytree(home0.root, home.root, symlinks=True)
    (home.root / ".writer.lock").unlink(missing_ok=True)
    dims_before = q(home, "select count(*) from main.dim_office")
    _add_april_workbook(home.warehouse)
    s = build(home.root, as_of=AS_OF)
    assert s["built"] is True and "data-only change" in s["selection"], s["selection"]
    assert "source:raw.outreach+" in s["selection"] and "source:raw.cfg_" not in s["selection"]
    # rebuilt: the tables downstream of the raw tables, int_form_measures, int_form_codes, 5 facts, 2 marts;
    # not: the 9 dimensions and every view (a view is its SQL: the same project leaves it in place)
    assert s["snapshots"] == 0 and s["models"] == 2 + 5 + 2
    assert 0 < s["data_tests"] < built_home[1]["data_tests"]
    assert q(home, "select count(*) from main.dim_office") == dims_before
    assert value(home, "OUT_PLAN_PCT", ALMALY, "2025-04") == (9, 10, Decimal("90.0"))
    assert q(home, "select is_complete from main.mart_submission_completeness "
                   "where office_code = 'almaty' and period_id = '2025-04'") == [(True,)]
    assert build(home.root, as_of=AS_OF)["built"] is False

    # a broken reference arriving with new data (April again, corrected): the fact's relationships test
    # runs and fails
    con = duckdb.connect(str(home.warehouse))
    con.execute("insert into raw.submissions select * replace ('S000012' as submission_id, 12 as seq) "
                "from raw.submissions where submission_id = 'S000011'")
    for table, change in (("submission_forms", ""), ("outreach", ", 'astrology' as direction")):
        con.execute(f"insert into raw.{table} select * replace ('S000012' as submission_id{change}) "
                    f"from raw.{table} where submission_id = 'S000011'")
    con.close()
    with pytest.raises(WarehouseBuildError) as err:
        build(home.root, as_of=AS_OF)
    failed = " ".join(err.value.failed)
    assert "relationships_fct_outreach__" in failed, failed
    assert "column_name=direction_code, orphan_value=astrology, missing_from=dim_direction.direction_code" in \
        str(err.value)
    # the data fixed again: the last build failed, so this one builds (and tests) everything
    con = duckdb.connect(str(home.warehouse))
    con.execute("update raw.outreach set direction = 'islamic' where submission_id = 'S000012'")
    con.close()
    s = build(home.root, as_of=AS_OF)
    assert s["selection"] == "all (full build: the last build failed or was interrupted)"
    assert s["models"] == 41 and s["snapshots"] == 1 and s["data_tests"] == built_home[1]["data_tests"]

    # a configuration change (a code label) and a new as-of date: everything, too
    con = duckdb.connect(str(home.warehouse))
    con.execute("update raw.cfg_codes set label_en = label_en || '.' where dimension = 'direction'")
    con.close()
    s = build(home.root, as_of=AS_OF)
    assert s["selection"] == "all (full build: configuration changed (raw.cfg_codes))", s["selection"]
    assert s["models"] == 41
    s = build(home.root, as_of=date(2025, 5, 21))
    assert s["selection"] == "all (full build: as-of date changed (2025-05-20 -> 2025-05-21))"


def test_docs_site(built_home):
    home, _ = built_home
    out = docs(home.root, as_of=AS_OF)
    site = home.docs / "dbt"
    assert {"index.html", "manifest.json", "catalog.json"} <= set(out["files"])
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((site / "catalog.json").read_text(encoding="utf-8"))
    models = [uid for uid in manifest["nodes"] if uid.startswith("model.")]
    assert len(models) == 41 and set(models) <= set(catalog["nodes"])
    # every model, and every column it really has (per the catalog), is documented
    for uid in models:
        node = manifest["nodes"][uid]
        assert node["description"], uid
        documented = {k.lower() for k, c in node["columns"].items() if c["description"]}
        assert {k.lower() for k in catalog["nodes"][uid]["columns"]} == documented, uid
    assert "exposure.pcve.ministry_extract" in manifest["exposures"]
    # the site documents the schema: with the project and the columns unchanged it is not generated again
    again = docs(home.root, as_of=AS_OF)
    assert "unchanged" in again["skipped"] and again["docs"] == out["docs"]
    assert "skipped" not in docs(home.root, as_of=AS_OF, force=True)


# --------------------------------------------------------------------------- publish

ANALYST = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    def snapshot():
        n = con.execute("select count(*) from main.fct_submissions").fetchone()[0]
        v = con.execute("select count(*), sum(numerator) from main.mart_indicator_values").fetchone()
        return f"{n} {v[0]} {v[1]}"
    print(snapshot(), flush=True)
    sys.stdin.readline()          # hold the connection open while the pipeline publishes
    print(snapshot(), flush=True)
""")


def test_publish_snapshot_and_parquet(built_home):
    home, _ = built_home
    first = publish(home.root)
    assert first["published"] is True
    snapshot = home.published / "warehouse.duckdb"
    # readable read-only while the main warehouse is open (by the pipeline, here by this test)
    main = duckdb.connect(str(home.warehouse))
    try:
        ro = duckdb.connect(str(snapshot), read_only=True)
        try:
            assert ro.execute("select count(*) from main.fct_submissions").fetchone() == (10,)
            assert ro.execute("select value from main.mart_indicator_values where indicator_code = "
                              "'OUT_PLAN_PCT' and kato = ? and period_id = '2025-02'", [ALMALY]).fetchone() == (
                Decimal("6.3"),)
        finally:
            ro.close()
    finally:
        main.close()
    names = sorted(p.name for p in (home.published / "parquet").iterdir())
    assert "mart_indicator_values.parquet" in names and "mart_submission_completeness.parquet" in names
    assert "fct_submissions.parquet" in names and "dim_territory.parquet" in names
    assert not any(n.startswith(("stg_", "int_")) for n in names)
    con = duckdb.connect()
    pq = (home.published / "parquet" / "mart_indicator_values.parquet").as_posix()
    assert con.execute(f"select count(*) from '{pq}'").fetchone()[0] == first["rows"]["mart_indicator_values"]
    con.close()
    assert publish(home.root)["published"] is False  # already current
    assert not list(home.published.glob("*.tmp"))


def test_republish_while_an_analyst_reads(built_home, tmp_path):
    """An analyst holds the snapshot open (another process) during a new build and publish."""
    home0, _ = built_home
    publish(home0.root)
    home = Home.at(tmp_path / "copy")
    shutil.copytree(home0.root, home.root, symlinks=True)
    (home.root / ".writer.lock").unlink(missing_ok=True)
    snapshot = home.published / "warehouse.duckdb"

    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(snapshot)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        before = analyst.stdout.readline().strip()
        assert before.startswith("10 ")
        # a late April workbook arrives: one more submission and its outreach row
        _add_april_workbook(home.warehouse)
        # a later as-of date: both offices have been silent too long, a warning, not a failure
        rebuilt = build(home.root, as_of=date(2025, 9, 1))
        assert rebuilt["built"] is True
        assert rebuilt["warnings"] == ["warn_office_submissions_stale"]
        # new data, same code: the unit tests (fixed inputs) passed on this code already, the data tests run
        assert rebuilt["unit_tests"] == 0 and "unchanged" in rebuilt["unit_tests_skipped"]
        assert rebuilt["data_tests"] == built_home[1]["data_tests"]
        started = time.monotonic()
        result = publish(home.root)  # must not wait for the analyst
        assert result["published"] is True and time.monotonic() - started < 30
        # the analyst's open connection still sees the old snapshot, whole and unchanged
        analyst.stdin.write("\n")
        analyst.stdin.flush()
        after = analyst.stdout.readline().strip()
        assert after == before
    finally:
        analyst.stdin.close()
        analyst.wait(timeout=30)
    assert analyst.returncode == 0
    # a new connection sees the new snapshot, complete
    ro = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert ro.execute("select count(*) from main.fct_submissions").fetchone() == (11,)
        assert ro.execute("select numerator, denominator, value from main.mart_indicator_values where "
                          "indicator_code = 'OUT_PLAN_PCT' and kato = ? and period_id = '2025-04'",
                          [ALMALY]).fetchone() == (9, 10, Decimal("90.0"))
        assert ro.execute("select is_complete from main.mart_submission_completeness where "
                          "office_code = 'almaty' and period_id = '2025-04'").fetchone() == (True,)
    finally:
        ro.close()
    pq = (home.published / "parquet" / "fct_submissions.parquet").as_posix()
    con = duckdb.connect()
    assert con.execute(f"select count(*) from '{pq}'").fetchone() == (11,)
    con.close()
    # only the new and the previous generation of Parquet folders remain
    assert len([p for p in home.published.glob(".parquet-*") if p.is_dir()]) <= 2
