"""The warehouse database, whichever one configuration names.

- `PCVE_WAREHOUSE` unset or empty: the embedded default, the home's DuckDB file
  (`<home>/warehouse.duckdb`): one writing process, readers use the published snapshot.
- `PCVE_WAREHOUSE=postgres://user:password@host:port/dbname` (or `postgresql://`): that
  PostgreSQL database, for many writers' workers and many concurrent readers. A password
  left out of the URL comes from `PCVE_WAREHOUSE_PASSWORD`, else libpq's own (PGPASSWORD,
  ~/.pgpass). One database per home: the home's ledger is what its raw layer must agree with.

`connect()` returns a `Connection` with the same small DB-API-ish surface on both: `execute`
(`?` placeholders on both), `executemany`, `fetchall`/`fetchone`/`description`,
`begin`/`commit`/`rollback` (or `execute("begin")` etc. as SQL: the PostgreSQL connection runs
in autocommit mode, so transactions are exactly the explicit ones, as on DuckDB),
`bulk_insert` (DuckDB: a DataFrame scan; PostgreSQL: COPY FROM STDIN) and `temp_table`.
Schemas are the same on both: `raw` (ingest), `main` (dimensions, facts, marts), `staging`,
`intermediate`, `snapshots` (dbt; see dbt_project/macros/generate_schema_name.sql).
"""

from __future__ import annotations

import io
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pcve.core.errors import ConfigError, PermanentError
from pcve.core.home import Home
from pcve.core.settings import settings

ENV = "PCVE_WAREHOUSE"
PASSWORD_ENV = "PCVE_WAREHOUSE_PASSWORD"
# What dbt_project/profiles.yml's `postgres` output reads (set from PCVE_WAREHOUSE by dbt_env()).
DBT_ENV = ("PCVE_WAREHOUSE_HOST", "PCVE_WAREHOUSE_PORT", "PCVE_WAREHOUSE_USER", "PCVE_WAREHOUSE_PASSWORD",
           "PCVE_WAREHOUSE_DBNAME")


class MissingTable(PermanentError, RuntimeError):
    """A table or schema the query names does not exist (on either database)."""


@dataclass(frozen=True)
class Target:
    kind: str  # "duckdb" | "postgres"
    path: Path | None = None  # duckdb
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str | None = None
    dbname: str = ""

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgres"

    def label(self) -> str:
        """Where the warehouse is, without the password (for logs and summaries)."""
        if self.is_postgres:
            return f"postgres://{self.user}@{self.host}:{self.port}/{self.dbname}"
        return str(self.path)


def target(home=None, url: str | None = None) -> Target:
    """The configured warehouse: PCVE_WAREHOUSE (or `url`), else the home's DuckDB file."""
    url = (url if url is not None else settings().warehouse).strip()
    if not url or url.lower() in ("duckdb", "embedded"):

        return Target("duckdb", path=Home.at(home).warehouse)
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ConfigError(f"{ENV} must be empty (embedded DuckDB) or postgres://user:password@host:port/db, "
                         f"got scheme {parts.scheme!r}")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or not parts.hostname:
        raise ConfigError(f"{ENV} needs a host and a database name: postgres://user:password@host:port/db")
    password = unquote(parts.password) if parts.password is not None else settings().warehouse_password or None
    return Target("postgres", host=parts.hostname, port=parts.port or 5432,
                  user=unquote(parts.username or os.getenv("PGUSER", "postgres")),
                  password=password, dbname=dbname)


def dbt_env(t: Target) -> dict[str, str]:
    """Environment for dbt_project/profiles.yml: the DuckDB path, or the PostgreSQL parameters."""
    if not t.is_postgres:
        return {"PCVE_WAREHOUSE_PATH": str(t.path)}
    return dict(zip(DBT_ENV, (t.host, str(t.port), t.user, t.password or os.getenv("PGPASSWORD", ""), t.dbname),
                    strict=True))


def connect(home=None, read_only: bool = False, path: str | os.PathLike | None = None,
            t: Target | None = None) -> Connection:
    """Open the warehouse. `path` forces a DuckDB file (rebuild's temp file, a published snapshot)."""
    if path is not None:
        t = Target("duckdb", path=Path(path))
    t = t or target(home)
    if t.is_postgres:
        import psycopg2

        kw = {"host": t.host, "port": t.port, "user": t.user, "dbname": t.dbname,
              "application_name": "pcve", "connect_timeout": 10}
        if t.password is not None:
            kw["password"] = t.password
        raw = psycopg2.connect(**kw)
        raw.set_session(readonly=read_only, autocommit=True)
        return PostgresConnection(raw, t)
    import duckdb

    return DuckDBConnection(duckdb.connect(str(t.path), read_only=read_only), t)


def wrap(con) -> Connection:
    """A `Connection` for `con`: itself, or a plain duckdb connection (as tests open them)."""
    if isinstance(con, Connection):
        return con
    return DuckDBConnection(con, Target("duckdb"))


def exists(home=None, t: Target | None = None) -> bool:
    """Whether the warehouse has been created (file, or raw layer in the PostgreSQL database)."""
    t = t or target(home)
    if not t.is_postgres:
        return t.path.exists()
    with connect(t=t, read_only=True) as con:
        return bool(con.execute("select 1 from information_schema.tables where table_schema = 'raw' "
                                "and table_name = 'submissions'").fetchall())


def _text(v) -> str:
    """One value as text for a cast or a COPY: ISO dates, 'true'/'false'."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime | date):
        return v.isoformat()
    return str(v)


class Connection:
    kind = ""

    def __init__(self, raw, t: Target):
        self.raw = raw
        self.target = t

    # -- transactions
    def begin(self) -> None:
        self.execute("begin")

    def commit(self) -> None:
        self.execute("commit")

    def rollback(self) -> None:
        self.execute("rollback")

    @contextmanager
    def transaction(self):
        self.begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def query(self, sql: str, params=None) -> list[dict]:
        """Rows as dicts keyed by column name."""
        self.execute(sql, params)
        cols = [d[0] for d in self.description]
        return [dict(zip(cols, r, strict=True)) for r in self.fetchall()]

    def stream(self, sql: str, params=None, size: int = 10_000):
        """(column names, then batches of at most `size` row tuples): a large result is never all in
        memory at once as Python objects (DuckDB hands it over chunk by chunk)."""
        self.execute(sql, params)
        cols = [d[0] for d in self.description]
        while batch := self.fetchmany(size):
            yield cols, batch

    def qualified_temp(self, name: str) -> str:
        raise NotImplementedError

    def temp_table(self, name: str, like: str) -> str:
        """(Re)create an empty temp table with the columns of `like`; returns its qualified name."""
        q = self.qualified_temp(name)
        self.execute(f"drop table if exists {q}")
        self.execute(f"create temp table {name} as select * from {like} limit 0")
        return q

    def checkpoint(self) -> None:
        """Make committed data durable in the main file (DuckDB); nothing to do on PostgreSQL."""

    def analyze(self, schema: str) -> None:
        """Fresh planner statistics for a schema's tables (PostgreSQL, after bulk loads); DuckDB keeps its own."""


class DuckDBConnection(Connection):
    kind = "duckdb"

    def execute(self, sql: str, params=None) -> DuckDBConnection:
        import duckdb

        try:
            self.raw.execute(sql, params) if params is not None else self.raw.execute(sql)
        except duckdb.CatalogException as exc:
            raise MissingTable(str(exc)) from exc
        return self

    def executemany(self, sql: str, rows) -> None:
        self.raw.executemany(sql, rows)

    def fetchall(self) -> list[tuple]:
        return self.raw.fetchall()

    def fetchmany(self, size: int) -> list[tuple]:
        return self.raw.fetchmany(size)

    def fetchone(self):
        return self.raw.fetchone()

    @property
    def description(self):
        return self.raw.description

    def close(self) -> None:
        self.raw.close()

    def qualified_temp(self, name: str) -> str:
        return f"temp.main.{name}"

    def checkpoint(self) -> None:
        self.raw.execute("checkpoint")

    def bulk_insert(self, table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> None:
        """Append rows through a DataFrame scan: DuckDB's fast path (a per-row insert costs ~0.3 ms).
        Values travel as text and SQL casts them to the table's types, so pandas never guesses."""
        import pandas as pd

        names = [c for c, _ in columns]
        frame = pd.DataFrame([[None if v is None else _text(v) for v in row] for row in rows],
                             columns=names, dtype=object)
        select = ", ".join(f"cast({c} as {t})" for c, t in columns)
        self.raw.register("pcve_rows", frame)
        try:
            self.raw.execute(f"insert into {table} ({', '.join(names)}) select {select} from pcve_rows")
        finally:
            self.raw.unregister("pcve_rows")


_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class PostgresConnection(Connection):
    kind = "postgres"

    def __init__(self, raw, t: Target):
        super().__init__(raw, t)
        self._cur = raw.cursor()

    @staticmethod
    def _sql(sql: str, params) -> str:
        # DB-API qmark (as on DuckDB) -> psycopg2's format style; our SQL has no '?' in literals.
        return sql if params is None else re.sub(r"\?", "%s", sql.replace("%", "%%"))

    def execute(self, sql: str, params=None) -> PostgresConnection:
        import psycopg2.errors

        try:
            self._cur.execute(self._sql(sql, params), params)
        except (psycopg2.errors.UndefinedTable, psycopg2.errors.InvalidSchemaName) as exc:
            raise MissingTable(str(exc).strip()) from exc
        return self

    def executemany(self, sql: str, rows) -> None:
        from psycopg2.extras import execute_batch

        execute_batch(self._cur, self._sql(sql, ()), rows, page_size=1000)

    def fetchall(self) -> list[tuple]:
        return self._cur.fetchall()

    def fetchmany(self, size: int) -> list[tuple]:
        return self._cur.fetchmany(size)

    def fetchone(self):
        return self._cur.fetchone()

    @property
    def description(self):
        return self._cur.description

    def close(self) -> None:
        try:
            self._cur.close()
        finally:
            self.raw.close()

    def qualified_temp(self, name: str) -> str:
        return f"pg_temp.{name}"

    def analyze(self, schema: str) -> None:
        for (t,) in self.execute("select table_name from information_schema.tables where table_schema = ? "
                                 "and table_type = 'BASE TABLE'", [schema]).fetchall():
            self.execute(f'analyze {schema}."{t}"')

    def bulk_insert(self, table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> None:
        """COPY FROM STDIN (text format): PostgreSQL's bulk path; the server casts to the column types."""
        if not rows:
            return
        buf = io.StringIO()
        for row in rows:
            buf.write("\t".join("\\N" if v is None else _text(v).translate(_COPY_ESCAPE) for v in row))
            buf.write("\n")
        buf.seek(0)
        names = ", ".join(c for c, _ in columns)
        self._cur.copy_expert(f"copy {table} ({names}) from stdin with (format text)", buf)

    def copy_out_csv(self, sql: str, fh) -> None:
        """The result of `sql` as CSV with a header into the binary or text file `fh`."""
        self._cur.copy_expert(f"copy ({sql}) to stdout with (format csv, header true)", fh)
