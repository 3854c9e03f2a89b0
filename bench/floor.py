"""The floor: read every workbook with python-calamine and append its cells to
DuckDB, nothing else. What no pipeline reading these files can beat."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(inbox: str, db: str) -> None:
    t0 = time.perf_counter()
    import duckdb
    from python_calamine import CalamineWorkbook

    con = duckdb.connect(db)
    con.execute("create or replace table cells (file varchar, sheet varchar, r integer, c integer, v varchar)")
    files = sorted(p for p in Path(inbox).rglob("*.xlsx") if "_reports" not in p.parts)
    n_cells = 0
    batch: list[tuple] = []
    for f in files:
        wb = CalamineWorkbook.from_path(str(f))
        for name in wb.sheet_names:
            for r, row in enumerate(wb.get_sheet_by_name(name).to_python()):
                for c, v in enumerate(row):
                    if v != "":
                        batch.append((f.name, name, r, c, str(v)))
        if len(batch) > 50_000:
            _append(con, batch)
            n_cells += len(batch)
            batch = []
    if batch:
        _append(con, batch)
        n_cells += len(batch)
    con.close()
    print(json.dumps({"seconds": time.perf_counter() - t0, "workbooks": len(files), "cells": n_cells}))


def _append(con, batch):
    import pandas as pd

    # A DataFrame scan is DuckDB's fast append path from Python (no per-row statements).
    tbl = pd.DataFrame(batch, columns=["file", "sheet", "r", "c", "v"])
    con.register("batch_tbl", tbl)
    con.execute("insert into cells select * from batch_tbl")
    con.unregister("batch_tbl")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
