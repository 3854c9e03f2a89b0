"""What a build depends on and what the last one left: the skip fingerprint (raw layer, dbt project,
as-of date, target), the state files under HOME/state/, and the selection of a data-only build."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

from pcve.app.warehouse.dbt_runner import _project_hash
from pcve.core import db
from pcve.core.home import Home
from pcve.core.periods import today_almaty
from pcve.core.safe_io import atomic_write

_BUILD_STATE = "dbt_build.json"


_DOCS_STATE = "dbt_docs.json"


_PUBLISH_STATE = "published.json"


_MARTS = ("mart_indicator_values", "mart_submission_completeness")


def _as_of(as_of: str | date | None) -> date:
    if as_of is None:

        return today_almaty()
    if isinstance(as_of, datetime):
        return as_of.date()
    if isinstance(as_of, date):
        return as_of
    return date.fromisoformat(str(as_of))


def _read_state(h: Home, name: str) -> dict:
    try:
        return json.loads((h.state / name).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _write_state(h: Home, name: str, data: dict) -> None:
    h.state.mkdir(parents=True, exist_ok=True)

    atomic_write(h.state / name, json.dumps(data, indent=2, sort_keys=True))


def _raw_fingerprint(con) -> dict[str, str]:
    """Row count and an order-independent content hash of every table of the raw layer."""
    tables = [r[0] for r in con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'raw' and table_type = 'BASE TABLE' order by table_name"
    ).fetchall()]
    # DuckDB: sum of row hashes; PostgreSQL: md5 of the sorted rows' md5s (both order-independent)
    digest = ("coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '0')"
              if getattr(con, "kind", "duckdb") == "postgres" else "coalesce(sum(hash(t)), 0)")
    out = {}
    for t in tables:
        n, h = con.execute(f'select count(*), {digest} from raw."{t}" as t').fetchone()
        out[t] = f"{n}:{h}"
    return out


def _main_tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'main' and table_type = 'BASE TABLE' order by table_name"
    ).fetchall()]


# Schemas dbt builds into (see macros/generate_schema_name.sql and dbt_project.yml).
_DBT_SCHEMAS = ("main", "staging", "intermediate", "snapshots")


def _dbt_relations(con) -> list[str]:
    """Every table and view dbt made (`schema.name`), to tell whether a model went missing."""
    schemas = ", ".join(f"'{s}'" for s in _DBT_SCHEMAS)
    return [f"{r[0]}.{r[1]}" for r in con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({schemas}) order by 1, 2"
    ).fetchall()]


_RAW_STATE = "raw_fingerprint.json"


def _file_stamp(h: Home, t) -> list | None:
    """The DuckDB file's size, modification time and inode, and its write-ahead log's (rows written
    but not yet checkpointed live there); None on PostgreSQL or without a file."""
    if t.is_postgres:
        return None
    try:
        st = h.warehouse.stat()
    except OSError:
        return None
    try:
        wal = h.warehouse.with_name(h.warehouse.name + ".wal").stat()
        wal_stamp = [wal.st_size, wal.st_mtime_ns, wal.st_ino]
    except OSError:
        wal_stamp = None
    return [st.st_size, st.st_mtime_ns, st.st_ino, wal_stamp]


def _remember_raw(h: Home, raw: dict) -> None:
    """Record `raw` (the raw layer's fingerprint, computed under the writer lock) against the file as
    it is now: nothing that writes raw rows has run since, so while the file is untouched it holds."""
    stamp = _file_stamp(h, db.target(h.root))
    if stamp is not None:
        _write_state(h, _RAW_STATE, {"stamp": stamp, "raw": raw})


def _build_parts(h: Home, as_of: date) -> dict:
    """What a build depends on, part by part, and what the warehouse holds now.

    `raw`: row count and content hash per raw table; `project`: hash of the dbt project; `as_of`;
    `target` (PostgreSQL only); `relations`: the tables and views dbt made that exist now.

    The raw fingerprint reads every raw table; it is reused when the DuckDB file is exactly as it was
    when it was last computed (same size, modification time and inode): a run with nothing new.
    """
    t = db.target(h.root)
    saved = _read_state(h, _RAW_STATE)
    stamp = _file_stamp(h, t)
    con = db.connect(t=t)
    try:
        raw = saved["raw"] if stamp is not None and saved.get("stamp") == stamp else _raw_fingerprint(con)
        relations = _dbt_relations(con)
    finally:
        con.close()
    _remember_raw(h, raw)  # connecting may touch the file: record it as left
    payload = {"raw": raw, "project": _project_hash(), "as_of": as_of.isoformat()}
    if t.is_postgres:
        payload["target"] = t.label()
    return {**payload, "relations": relations}


def _digest(parts: dict) -> str:
    payload = {k: parts[k] for k in ("raw", "project", "as_of", "target") if k in parts}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def _fingerprint(h: Home, as_of: date) -> tuple[str, bool]:
    """(fingerprint of what a build depends on, whether the marts exist in the warehouse)."""
    parts = _build_parts(h, as_of)
    return _digest(parts), all(f"main.{m}" in parts["relations"] for m in _MARTS)


# Raw tables mirrored from config/ (offices, territories, indicators, codes, calendar): the
# dimensions are built from them alone. A change to one of them is a configuration change.
_CONFIG_TABLE_PREFIX = "cfg_"


def _selection(last: dict, parts: dict, code: str, force: bool) -> tuple[list[str], str]:
    """(`--select` arguments for dbt build, [] = every node; why that selection).

    A data-only change (same dbt project, dbt, adapter, target and as-of date as the last successful
    build, which left every model in place; only data tables of the raw layer changed) builds the
    nodes downstream of the changed raw tables: their staging views, facts and marts, and every
    data test touching them, the relationships from the facts to the dimensions included. The
    dimensions and the snapshot, built from the configuration tables alone, are then exactly what
    the last build made, so they and their own tests are left as they are. Anything else builds all.
    """
    def full(why: str) -> tuple[list[str], str]:
        return [], f"all (full build: {why})"

    if force:
        return full("forced")
    if not last.get("raw") or not last.get("code"):
        return full("no previous successful build to build upon")
    if last.get("failed"):
        return full("the last build failed or was interrupted")
    if last["code"] != code:
        return full("dbt project, dbt, adapter or target changed")
    if last.get("as_of") != parts["as_of"]:
        return full(f"as-of date changed ({last.get('as_of')} -> {parts['as_of']})")
    if last.get("target") != parts.get("target"):
        return full("another warehouse target")
    missing = sorted(set(last.get("relations") or []) - set(parts["relations"]))
    if missing or not last.get("relations"):
        return full(f"models missing from the warehouse ({', '.join(missing[:5]) or 'unknown'})")
    old, new = last["raw"], parts["raw"]
    changed = sorted(t for t in set(old) | set(new) if old.get(t) != new.get(t))
    config = [t for t in changed if t.startswith(_CONFIG_TABLE_PREFIX)]
    if config:
        return full(f"configuration changed (raw.{', raw.'.join(config)})")
    if not changed:
        return full("nothing changed in the raw layer")  # only reached when a mart went missing
    select = [f"source:raw.{t}+" for t in changed]
    return select, f"{' '.join(select)} (data-only change: only these raw data tables changed)"
