"""What an analyst gets from the published DuckDB file (issue 17, "Analysts"), after a real dbt
build and publish of tests/test_dbt_warehouse.py's hand-made raw layer (its session fixture):
counts as BIGINT, every table and column documented in the file itself, received times with
their zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from pcve.warehouse import publish
from tests.test_dbt_warehouse import ALMALY, SUBMISSIONS, built_home  # noqa: F401  (the shared build)

pytestmark = pytest.mark.e2e

# ingest/sources.py stores received_at as Asia/Almaty wall time; Almaty was UTC+6 until 2024-03-01
# and UTC+5 since (tz database 2024a): every SUBMISSIONS time is of 2025.
ALMATY_2025 = timezone(timedelta(hours=5))


@pytest.fixture(scope="module")
def snapshot(built_home):  # noqa: F811
    home, _ = built_home
    publish(home.root)
    con = duckdb.connect(str(home.published / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def _model_tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'main' order by 1").fetchall()]


def test_counts_are_bigint_rates_decimal(snapshot):
    con = snapshot
    types = dict(((t, c), d) for t, c, d in con.execute(
        "select table_name, column_name, data_type from duckdb_columns() where schema_name = 'main'").fetchall())
    # no count anywhere in facts and marts comes back as DECIMAL or HUGEINT (int128)
    for (table, column), dtype in types.items():
        if table.startswith(("fct_", "mart_")) and column != "value":
            assert not dtype.startswith(("DECIMAL", "HUGEINT", "DOUBLE")), (table, column, dtype)
    for col in ("numerator", "denominator", "count_value"):
        assert types[("mart_indicator_values", col)] == "BIGINT"
    assert types[("mart_indicator_values", "value")] == "DECIMAL(20,1)"  # rates keep their decimal
    for col in ("expected_submissions", "accepted_submissions"):
        assert types[("mart_submission_completeness", col)] == "BIGINT"
    for col in ("error_count", "located_error_count", "expectations_failed", "current_form_count", "days_late"):
        assert types[("fct_submissions", col)] == "BIGINT", col
    # the values themselves: Python ints for counts, equal to the numerator; null for percentages
    rows = con.execute("select unit, numerator, value, count_value from main.mart_indicator_values").fetchall()
    assert rows and any(u != "percent" for u, *_ in rows) and any(u == "percent" for u, *_ in rows)
    for unit, numerator, value, count_value in rows:
        if unit == "percent":
            assert count_value is None
        else:
            assert type(count_value) is int and count_value == numerator == value


def test_every_table_and_column_carries_its_description(snapshot):
    con = snapshot
    tables = _model_tables(con)
    assert {"mart_indicator_values", "mart_submission_completeness", "fct_submissions", "dim_period"} <= set(tables)
    # every column of every model, view, snapshot and raw table (the form tables' measures too)
    undocumented = con.execute("""
        select schema_name, table_name, column_name from duckdb_columns()
        where schema_name in ('main', 'raw', 'snapshots', 'staging', 'intermediate') and not internal
            and coalesce(trim(comment), '') = ''""").fetchall()
    assert undocumented == []
    assert con.execute("""select count(*) from duckdb_columns() where schema_name = 'raw'
        and table_name = 'events' and column_name = 'participants_women'""").fetchone() == (1,)
    views = con.execute("""select schema_name, view_name, coalesce(trim(comment), '') from duckdb_views()
        where schema_name in ('staging', 'intermediate')""").fetchall()
    assert views and [v for v in views if not v[2]] == []
    no_comment = con.execute("""
        select schema_name, table_name from duckdb_tables()
        where schema_name in ('main', 'raw', 'snapshots') and coalesce(trim(comment), '') = ''""").fetchall()
    assert no_comment == []
    # the comment is the dbt description, not a placeholder
    (comment,) = con.execute("select comment from duckdb_columns() where schema_name = 'main' and "
                             "table_name = 'mart_indicator_values' and column_name = 'count_value'").fetchone()
    assert "bigint" in comment and "percentages" in comment
    raw_cols = con.execute("select count(*), count(nullif(trim(comment), '')) from duckdb_columns() "
                           "where schema_name = 'raw' and table_name = 'submissions'").fetchone()
    assert raw_cols[0] > 10 and raw_cols[0] == raw_cols[1]


def test_received_at_has_its_zone(snapshot):
    con = snapshot
    (dtype,) = con.execute("select data_type from duckdb_columns() where schema_name = 'main' and "
                           "table_name = 'fct_submissions' and column_name = 'received_at'").fetchone()
    assert dtype == "TIMESTAMP WITH TIME ZONE"
    got = {sid: (at, local) for sid, at, local in con.execute(
        "select submission_id, received_at, received_at_local from main.fct_submissions").fetchall()}
    assert set(got) == {s[0] for s in SUBMISSIONS}
    for s in SUBMISSIONS:
        at, local = got[s[0]]
        wall = datetime.fromisoformat(s[9])
        assert at.tzinfo is not None and local.tzinfo is None
        # the same instant as the Almaty wall time ingest stored, whatever the session's zone
        assert at == wall.replace(tzinfo=ALMATY_2025) and local == wall
    # an analyst in UTC sees the instant in UTC; lateness is still judged on the Almaty date
    con.execute("set TimeZone = 'UTC'")
    (utc,) = con.execute("select cast(received_at as varchar) from main.fct_submissions "
                         "where submission_id = 'S000002'").fetchone()
    assert utc == "2025-02-14 05:00:00+00"
    assert con.execute("select days_late from main.fct_submissions where submission_id = 'S000002'").fetchone() == (4,)


PERIOD_STYLE = {"month": r"^\d{4}-\d{2}$", "quarter": r"^\d{4}-Q[1-4]$", "year": r"^\d{4}$"}
DHIS2_STYLE = {"month": r"^\d{6}$", "quarter": r"^\d{4}Q[1-4]$", "year": r"^\d{4}$"}


def test_one_period_style_with_dhis2_and_sdmx_beside_it(snapshot):
    """Every table keys on one period id, written as `pcve status` and missing_periods write it
    (2025-01, 2025-Q1, 2025); the DHIS2 and SDMX forms are their own columns (issue 17)."""
    con = snapshot
    tables = [t for (t,) in con.execute(
        "select table_name from information_schema.columns where table_schema = 'main' "
        "and column_name = 'period_id' order by 1").fetchall()]
    assert {"mart_indicator_values", "mart_submission_completeness", "fct_outreach", "fct_rehabilitation",
            "fct_events", "fct_commission_activity", "fct_submissions", "dim_period"} <= set(tables)
    # no second spelling of the same period left over (the old `period` / `period_token` columns)
    assert con.execute("select table_name, column_name from information_schema.columns where table_schema = "
                       "'main' and column_name in ('period', 'period_token')").fetchall() == []
    for table in tables:
        rows = con.execute(f"select distinct p.period_kind, t.period_id, t.dhis2_period_id, t.sdmx_period_id "
                           f"from main.{table} t join main.dim_period p using (period_id)").fetchall()
        assert rows, table
        for kind, pid, dhis2, sdmx in rows:
            assert re.match(PERIOD_STYLE[kind], pid), (table, pid)
            assert re.match(DHIS2_STYLE[kind], dhis2), (table, dhis2)
            # DHIS2 drops the dash (201901, 2019Q1); SDMX TIME_PERIOD is the period id itself
            assert (dhis2, sdmx) == (pid.replace("-", ""), pid), (table, pid, dhis2, sdmx)
    missing = con.execute("select missing_periods from main.mart_submission_completeness "
                          "where missing_periods <> ''").fetchall()
    tokens = {t for (m,) in missing for t in m.split(",")}
    assert tokens and all(re.match(PERIOD_STYLE["month"], t) or re.match(PERIOD_STYLE["quarter"], t) for t in tokens)
    kinds = {k for (k,) in con.execute("select distinct p.period_kind from main.mart_indicator_values "
                                       "join main.dim_period p using (period_id)").fetchall()}
    assert kinds == {"month", "quarter", "year"}
