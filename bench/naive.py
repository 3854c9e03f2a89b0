"""The approach a team writes first: pandas.read_excel (openpyxl) per file, one
GX validation per file and form, then the same raw-layer load. Measured on a
sample of the workbooks (it is linear per file by construction) and reported
per workbook, next to the pipeline on the whole set."""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

from pcve.core.config import load_config
from pcve.core.normalise import fold


def main(inbox: str, db: str, sample: int) -> None:
    t0 = time.perf_counter()
    import logging

    import duckdb
    import pandas as pd

    from expectations.validate import _context, _quiet_gx

    _quiet_gx()
    logging.disable(logging.INFO)
    cfg = load_config()
    _, suites = _context(cfg)
    sheet_forms = {fold(n): f.name for f in cfg.forms.values() for n in f.sheet_names}
    con = duckdb.connect(db)
    files = sorted(p for p in Path(inbox).rglob("*.xlsx") if "_reports" not in p.parts)
    step = max(1, len(files) // sample)
    chosen = files[::step][:sample]
    startup = time.perf_counter() - t0
    t1 = time.perf_counter()
    rows = 0
    for f in chosen:
        book = pd.read_excel(f, sheet_name=None, header=None, engine="openpyxl")
        for sheet, df in book.items():
            form = sheet_forms.get(fold(sheet))
            if form is None:
                continue
            aliases = {fold(a): c.name for c in cfg.forms[form].columns for a in c.aliases}
            hdr = next((i for i in range(min(15, len(df)))
                        if sum(isinstance(v, str) and fold(v) in aliases for v in df.iloc[i]) >= 3), None)
            if hdr is None:
                continue
            body = df.iloc[hdr + 1:].dropna(how="all")
            body.columns = [aliases.get(fold(v), f"_x{i}") if isinstance(v, str) else f"_x{i}"
                            for i, v in enumerate(df.iloc[hdr])]
            frame = pd.DataFrame({"_rid": range(len(body))})
            for c in cfg.forms[form].columns:
                src = body[c.name].tolist() if c.name in body.columns else [None] * len(body)
                frame["kato" if c.type == "territory" else c.name] = pd.to_numeric(src, errors="coerce") \
                    if c.type == "int" else [str(x) if x is not None else None for x in src]
            for extra in ("_period_start", "_period_end", "_today"):
                frame[extra] = pd.Timestamp(date.today())
            frame["_privacy"] = None
            for c in cfg.forms[form].columns:
                for rule in c.rules:
                    if isinstance(rule, tuple) and "sum_with" in dict(rule):
                        other = dict(rule)["sum_with"]
                        frame[f"_sum__{other}__{c.name}"] = frame[other] + frame[c.name]
            bd, suite = suites[form]
            bd.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format="SUMMARY")
            con.execute(f"create table if not exists naive_{form} as select * from frame limit 0")
            con.execute(f"insert into naive_{form} select * from frame")
            rows += len(frame)
    per = (time.perf_counter() - t1) / max(1, len(chosen))
    con.close()
    print(json.dumps({"startup_seconds": startup, "sampled": len(chosen), "per_workbook_seconds": per,
                      "workbooks": len(files), "rows": rows,
                      "extrapolated_seconds": startup + per * len(files)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 100)
