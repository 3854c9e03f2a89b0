"""The warehouse's raw layer: what intake writes and dbt reads as sources.

DDL is generated from the forms configuration, so a new column or form is a
config change. Types are the portable subset (varchar, bigint, integer, date,
timestamp, boolean) so the same DDL runs on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from pcve.core.config import Config, Form

RAW_SCHEMA = "raw"

_SQL_TYPE = {
    "int": "bigint",
    "month": "date",  # first day of the month
    "date": "date",
    "quarter": "varchar",  # 2025-Q3
    "code": "varchar",
    "text": "varchar",
}

FIXED_TABLES = {
    # One row per file processed (accepted, rejected, duplicate or later voided).
    "submissions": """
        submission_id varchar primary key,
        seq integer not null,
        office_code varchar not null,
        period varchar,
        period_kind varchar,
        period_start date,
        period_end date,
        scope varchar not null,
        file_name varchar not null,
        sha256 varchar not null,
        received_at timestamp not null,
        status varchar not null,
        error_count integer not null,
        warning_count integer not null
    """,
    # Which forms a submission carries; a workbook lists every form (present or not),
    # because it replaces the forms it omits too. A CSV lists only its own form.
    "submission_forms": """
        submission_id varchar not null,
        form varchar not null,
        present boolean not null,
        row_count integer not null
    """,
    # Every error and warning, located; never the value of a privacy-rule cell.
    "submission_issues": """
        submission_id varchar not null,
        severity varchar not null,
        sheet varchar,
        row_number integer,
        column_letter varchar,
        column_name varchar,
        rule varchar not null,
        message varchar not null
    """,
    # Summary of each GX expectation run on a submission.
    "validation_results": """
        submission_id varchar not null,
        form varchar not null,
        expectation varchar not null,
        column_name varchar,
        success boolean not null,
        element_count integer,
        unexpected_count integer
    """,
    "cfg_offices": """
        office_code varchar primary key, name_en varchar, name_kk varchar, name_ru varchar,
        root_kato varchar, periodicity varchar, reports_from varchar, language varchar, due_days integer
    """,
    "cfg_territories": """
        kato varchar primary key, office_code varchar, level varchar, parent_kato varchar,
        name_en varchar, name_kk varchar, name_ru varchar
    """,
    "cfg_indicators": """
        indicator_code varchar primary key, sort_order integer, unit varchar,
        name_en varchar, name_kk varchar, name_ru varchar,
        unit_en varchar, unit_kk varchar, unit_ru varchar
    """,
    # role: value | numerator | denominator; measure: a column, or _rows for a count.
    "cfg_indicator_terms": """
        indicator_code varchar not null, role varchar not null, form varchar not null,
        measure varchar not null, filter_column varchar, filter_value varchar
    """,
    "cfg_codes": """
        dimension varchar not null, code varchar not null,
        label_kk varchar, label_ru varchar, label_en varchar
    """,
    # Calendar of months, quarters and years (ids: DHIS2 period ids).
    "cfg_periods": """
        period_id varchar primary key, period_kind varchar, year integer, number integer,
        start_date date, end_date date, token varchar, sdmx_id varchar,
        quarter_id varchar, year_id varchar
    """,
}


def form_columns(form: Form) -> list[tuple[str, str]]:
    """(column, sql type) of a form's raw table after the lineage columns."""
    cols = [("kato", "varchar")]
    for c in form.columns:
        if c.type == "territory":
            continue
        cols.append((c.name, _SQL_TYPE[c.type]))
    return cols


LINEAGE = [("submission_id", "varchar"), ("sheet", "varchar"), ("row_number", "integer")]


def ddl(cfg: Config) -> list[str]:
    stmts = [f"create schema if not exists {RAW_SCHEMA}"]
    for name, body in FIXED_TABLES.items():
        stmts.append(f"create table if not exists {RAW_SCHEMA}.{name} ({body})")
    for form in cfg.forms.values():
        cols = ",\n  ".join(f"{n} {t}" for n, t in LINEAGE + form_columns(form))
        stmts.append(f"create table if not exists {RAW_SCHEMA}.{form.name} (\n  {cols}\n)")
    return stmts
