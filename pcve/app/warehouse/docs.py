"""`docs(home)`: the dbt documentation site under HOME/docs/dbt/, generated again only when the project
or the warehouse's columns changed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import date, datetime

from pcve.app.warehouse import dbt_runner
from pcve.app.warehouse.build import _ensure_raw_layer
from pcve.app.warehouse.dbt_runner import WarehouseBuildError, _code_key
from pcve.app.warehouse.state import _DOCS_STATE, _as_of, _read_state, _write_state
from pcve.core import db
from pcve.core.home import Home


def _schema_fingerprint(h: Home) -> str:
    """Hash of every column of the warehouse (what the docs' catalog lists), not of its data."""
    with db.connect(h.root) as con:
        rows = con.execute(
            "select table_catalog, table_schema, table_name, column_name, data_type, ordinal_position "
            "from information_schema.columns where table_schema not in ('information_schema', 'pg_catalog') "
            "order by 1, 2, 3, 6").fetchall()
    return hashlib.sha256(json.dumps([[str(v) for v in r] for r in rows]).encode("utf-8")).hexdigest()


_DOCS_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")


def docs(home: str | os.PathLike, as_of: str | date | None = None, force: bool = False) -> dict:
    """`dbt docs generate` on the home's warehouse; the site is copied to `<home>/docs/dbt/`.

    The site documents the project and the schema (models, columns, their types and tests), not the
    data: it is generated again only when the dbt project, dbt, the target or the warehouse's columns
    changed since it was written, or when it is missing (`{"docs": ..., "skipped": reason}` else).
    """
    h = Home.at(home).ensure()
    day = _as_of(as_of)
    with h.writer_lock():
        _ensure_raw_layer(h)
        out = h.docs / "dbt"
        key = hashlib.sha256(f"{_code_key(h)}:{_schema_fingerprint(h)}".encode()).hexdigest()
        last = _read_state(h, _DOCS_STATE)
        present = [name for name in _DOCS_FILES if (out / name).is_file()]
        if (not force and last.get("key") == key
                and {"index.html", "manifest.json", "catalog.json"} <= set(present)):
            return {"docs": str(out), "files": present, "skipped": "dbt project and warehouse schema "
                    f"unchanged since the docs were generated ({last.get('generated_at')})"}
        res = dbt_runner._invoke(h, ["docs", "generate", "--static"], day)
        if not res.success:
            raise WarehouseBuildError(f"dbt docs generate failed: {res.exception or 'see ' + str(h.state / 'dbt_logs')}")
        src = h.state / "dbt_target"
        tmp = h.docs / f".dbt.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        copied = []
        for name in _DOCS_FILES:
            if (src / name).exists():
                shutil.copy2(src / name, tmp / name)
                copied.append(name)
        old = h.docs / f".dbt.{os.getpid()}.old"
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
        _write_state(h, _DOCS_STATE, {
            "key": key, "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        })
        return {"docs": str(out), "files": copied}
