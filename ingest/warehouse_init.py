"""Create the raw layer and mirror the configuration into cfg_* tables.

dbt reads offices, territories, indicators, codes and the calendar from these
tables, so config/ stays the single source of truth for SQL as well.
"""

from __future__ import annotations

from datetime import date

from ingest.raw_schema import RAW_SCHEMA, ddl
from pcve.core import db
from pcve.core.config import Config
from pcve.core.periods import Period, parse_period


def calendar(cfg: Config, last_year: int) -> list[Period]:
    first_year = min(parse_period(o.reports_from).year for o in cfg.offices.values())
    first_year = min(first_year, 2015)
    out: list[Period] = []
    for y in range(first_year, last_year + 1):
        out.append(Period("year", y, 1))
        out += [Period("quarter", y, q) for q in range(1, 5)]
        out += [Period("month", y, m) for m in range(1, 13)]
    return out


def config_rows(cfg: Config, last_year: int | None = None) -> dict[str, list[tuple]]:
    last_year = last_year or date.today().year + 1
    offices = [
        (o.code, o.name_en, o.name_kk, o.name_ru, o.root_kato, o.periodicity, o.reports_from, o.language, o.due_days)
        for o in cfg.offices.values()
    ]
    roots = {o.code: o.root_kato for o in cfg.offices.values()}
    territories = [
        (t.kato, t.office_code, t.level, None if t.kato == roots[t.office_code] else roots[t.office_code],
         t.name_en, t.name_kk, t.name_ru)
        for t in cfg.territories
    ]
    indicators, terms = [], []
    for i in cfg.indicators:
        u = cfg.units[i.unit]
        indicators.append((i.code, i.sort_order, i.unit, i.names["en"], i.names["kk"], i.names["ru"],
                           u["en"], u["kk"], u["ru"]))
        for role in ("value", "numerator", "denominator"):
            t = getattr(i, role)
            if t is not None:
                terms.append((i.code, role, t.form, t.measure, t.filter_column, t.filter_value))
    codes = [
        (dim, c.code, c.labels.get("kk"), c.labels.get("ru"), c.labels.get("en"))
        for dim, entries in cfg.codes.items() for c in entries.values()
    ]
    periods = []
    for p in calendar(cfg, last_year):
        periods.append((
            p.dhis2, p.kind, p.year, p.number, p.start, p.end, p.token, p.sdmx,
            p.quarter().dhis2 if p.kind != "year" else None, p.year_period().dhis2,
        ))
    return {
        "cfg_offices": offices, "cfg_territories": territories, "cfg_indicators": indicators,
        "cfg_indicator_terms": terms, "cfg_codes": codes, "cfg_periods": periods,
    }


def init_warehouse(con, cfg: Config, last_year: int | None = None) -> None:
    """Idempotent: create raw tables, then replace the cfg tables' contents (one transaction).
    `con`: a pcve.core.db connection (DuckDB or PostgreSQL) or a plain duckdb one."""
    con = db.wrap(con)
    for stmt in ddl(cfg):
        con.execute(stmt)
    con.execute("begin")
    try:
        for table, rows in config_rows(cfg, last_year).items():
            con.execute(f"delete from {RAW_SCHEMA}.{table}")
            if rows:
                marks = ",".join("?" * len(rows[0]))
                con.executemany(f"insert into {RAW_SCHEMA}.{table} values ({marks})", rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
