"""The same pipeline on both warehouse targets (pcve/core/db.py): the demo inbox run in-process
(`pcve.app.pipeline.run`) once on the embedded DuckDB file and once on PostgreSQL
(`PCVE_WAREHOUSE=postgres://…`). The ministry extracts must be byte-identical, and the raw
layer and the dbt tables must hold the same rows. PostgreSQL gets the inbox in two runs (the last
files received arrive second), so its tables come from a data-only incremental build: it must
leave them as a cold build of the whole inbox does (views included, which PostgreSQL, unlike DuckDB,
drops with the tables they read).

Needs a PostgreSQL server: `scripts/start-postgres.sh` starts one on 127.0.0.1:54329 and prints
its URL (the default here; another server: PCVE_TEST_POSTGRES=postgres://user:pass@host:port/db,
the role needs CREATEDB: each run gets a database of its own, dropped afterwards).
Without a server the test FAILS; PCVE_SKIP_POSTGRES=1 skips it instead.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from pcve.core import db
from pcve.core.home import Home
from pcve.demo import write_demo

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

DEFAULT_URL = "postgres://pcve:pcve@127.0.0.1:54329/pcve"  # what scripts/start-postgres.sh prints
# dbt tables compared row for row (snapshot timestamps differ by nature: dim_territory.valid_from).
VOLATILE_COLUMNS = {"valid_from", "dbt_valid_from", "dbt_updated_at", "dbt_scd_id",
                    # each target's own digest of an office's inputs (macros/incremental_by_office.sql)
                    "inputs_digest"}


def _server_url() -> str:
    url = os.getenv("PCVE_TEST_POSTGRES", "").strip()
    if not url and os.getenv(db.ENV, "").startswith("postgres"):
        url = os.environ[db.ENV]
    return url or DEFAULT_URL


def _unavailable(reason: str):
    if os.getenv("PCVE_SKIP_POSTGRES") == "1":
        pytest.skip(f"PCVE_SKIP_POSTGRES=1: {reason}")
    pytest.fail(f"{reason}\nStart a test server with `scripts/start-postgres.sh` (prints the URL), "
                f"or set PCVE_TEST_POSTGRES=postgres://…; PCVE_SKIP_POSTGRES=1 skips this test.",
                pytrace=False)


@pytest.fixture(scope="module")
def pg_url():
    """A fresh database on the test server, dropped afterwards; yields its URL."""
    try:
        import psycopg2
    except ImportError:
        _unavailable("psycopg2 is not installed (uv sync --group docker)")
    url = _server_url()
    t = db.target(url=url)
    try:
        admin = psycopg2.connect(host=t.host, port=t.port, user=t.user, password=t.password, dbname=t.dbname,
                                 connect_timeout=5)
    except psycopg2.OperationalError as exc:
        _unavailable(f"no PostgreSQL server reachable at {t.label()}: {str(exc).strip()}")
    admin.autocommit = True
    name = f"pcve_e2e_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f"create database {name} encoding 'UTF8' template template0")
    parts = urlsplit(url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
        admin.close()


LATE = 3  # the last workbooks received reach the PostgreSQL home in a second run


def _run(home: Path, monkeypatch, url: str | None, late: int = 0) -> list[dict]:
    """pipeline.run on the demo inbox; the `late` last files received held back for a second run
    (in the order received, so each submission gets the id it gets in one run)."""
    from pcve.app import pipeline

    if url:
        monkeypatch.setenv(db.ENV, url)
    else:
        monkeypatch.delenv(db.ENV, raising=False)
    h = Home.at(home).ensure()
    received = write_demo(h.inbox)  # deterministic bytes and modification times: the same inbox on both
    held = received[len(received) - late:] if late else []
    aside = home / "held-back"
    aside.mkdir()
    for f in held:
        f.rename(aside / f.name)
    runs = [pipeline.run(h.root)]
    if held:
        for f in held:
            (aside / f.name).rename(f)
        runs.append(pipeline.run(h.root))
    return runs


def _files(root: Path) -> dict[str, bytes]:
    """Every file under root, symlinks resolved (the period folders link to their revision)."""
    out = {}
    for d, _, names in os.walk(root, followlinks=True):
        for n in names:
            p = Path(d) / n
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def _norm(v):
    if isinstance(v, int) and not isinstance(v, bool):
        v = Decimal(v)  # a view's sum is an integer on DuckDB, a numeric on PostgreSQL: the same value
    if isinstance(v, Decimal):
        return ("dec", format(v.normalize(), "f"))
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _tables(con, schema: str) -> dict[str, list[tuple]]:
    names = [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = ? "
        "and table_type in ('BASE TABLE', 'VIEW')",
        [schema]).fetchall()]
    out = {}
    for t in sorted(names):
        con.execute(f'select * from {schema}."{t}"')
        cols = [d[0] for d in con.description]
        keep = [i for i, c in enumerate(cols) if c not in VOLATILE_COLUMNS]
        rows = [tuple(_norm(r[i]) for i in keep) for r in con.fetchall()]
        out[t] = sorted(rows, key=repr)
    return out


@pytest.fixture(scope="module")
def both(tmp_path_factory, pg_url):
    mp = pytest.MonkeyPatch()
    try:
        duck_home = tmp_path_factory.mktemp("duckdb-home")
        pg_home = tmp_path_factory.mktemp("postgres-home")
        duck = _run(duck_home, mp, None)
        pg = _run(pg_home, mp, pg_url, late=LATE)
    finally:
        mp.undo()
    return {"duckdb": (duck_home, duck), "postgres": (pg_home, pg), "url": pg_url}


def test_pipeline_ran_on_each_target(both):
    (duck,) = both["duckdb"][1]
    first, pg = both["postgres"][1]
    for summary in (duck, first, pg):
        assert summary["warehouse"]["built"]
        assert summary["exports"]["written"]
    assert duck["intake"]["files"] == 29
    assert (first["intake"]["files"], pg["intake"]["files"]) == (29 - LATE, LATE)
    # the second PostgreSQL build was the incremental one, views rebuilt with their tables
    assert pg["warehouse"]["selection"].startswith("source:raw."), pg["warehouse"]["selection"]
    # PostgreSQL: no warehouse file and no snapshot in the home, but the analysts' Parquet files
    pg_home = both["postgres"][0]
    assert not (pg_home / "warehouse.duckdb").exists()
    assert pg["published"]["published"] and pg["published"]["snapshot"] is None
    assert (pg_home / "published" / "parquet" / "mart_indicator_values.parquet").exists()
    duck_rows = duck["published"]["rows"]
    assert pg["published"]["rows"] == duck_rows


def test_extracts_are_byte_identical(both):
    duck = _files(both["duckdb"][0] / "exports")
    pg = _files(both["postgres"][0] / "exports")
    assert sorted(duck) == sorted(pg)
    assert any(p.endswith("manifest.json") for p in duck)
    differ = [p for p in sorted(duck) if duck[p] != pg[p]]
    assert not differ, f"extract files differ between DuckDB and PostgreSQL: {differ[:10]}"


def test_raw_layer_and_dbt_tables_and_views_hold_the_same_rows(both):
    with db.connect(both["duckdb"][0], read_only=True, t=db.target(url="", home=both["duckdb"][0])) as duck, \
            db.connect(t=db.target(url=both["url"]), read_only=True) as pg:
        for schema in ("raw", "intermediate", "main"):
            a, b = _tables(duck, schema), _tables(pg, schema)
            assert sorted(a) == sorted(b), schema
            assert a[{"raw": "submissions", "intermediate": "int_form_measures"}.get(schema, "mart_indicator_values")], \
                schema
            for t in a:
                assert a[t] == b[t], f"{schema}.{t} differs between DuckDB and PostgreSQL"


def test_bulk_load_round_trips_awkward_values_on_both(pg_url, tmp_path):
    """COPY's text format and DuckDB's DataFrame scan keep None apart from '' and carry tabs,
    newlines, backslashes, quotes and Cyrillic/Kazakh letters unchanged."""
    cols = [("k", "integer"), ("s", "varchar"), ("d", "date"), ("b", "boolean"), ("n", "bigint")]
    rows = [(1, None, None, None, None), (2, "", date(2017, 3, 1), True, 0),
            (3, "a\tb\nc\\d\r\"e'", date(2025, 12, 31), False, -(2**40)), (4, "Әңгімелесу ұйым «№1»", None, True, 7)]
    got = {}
    for name, con in (("duckdb", db.connect(path=tmp_path / "w.duckdb")),
                      ("postgres", db.connect(t=db.target(url=pg_url)))):
        with con:
            con.execute("create schema if not exists t")
            con.execute("drop table if exists t.x")
            con.execute("create table t.x (k integer, s varchar, d date, b boolean, n bigint)")
            with con.transaction():
                con.bulk_insert("t.x", cols, rows)
            got[name] = con.execute("select * from t.x order by k").fetchall()
            assert con.query("select count(*) as n from t.x where s = ?", [""]) == [{"n": 1}]
            con.execute("drop schema t cascade")
    assert got["duckdb"] == got["postgres"] == rows


def test_target_from_the_url(monkeypatch):
    monkeypatch.delenv(db.PASSWORD_ENV, raising=False)
    t = db.target(url="postgresql://u%40x:p%2Fw@db.example:6543/pcve")
    assert (t.kind, t.user, t.password, t.host, t.port, t.dbname) == ("postgres", "u@x", "p/w", "db.example", 6543, "pcve")
    assert "p/w" not in t.label()
    monkeypatch.setenv(db.PASSWORD_ENV, "from-env")
    assert db.target(url="postgres://u@h/d").password == "from-env"
    assert db.dbt_env(db.target(url="postgres://u@h/d"))["PCVE_WAREHOUSE_PORT"] == "5432"
    assert db.target(url="", home=Path("/tmp/x")).path == Path("/tmp/x/warehouse.duckdb")
    with pytest.raises(ValueError):
        db.target(url="mysql://u@h/d")
