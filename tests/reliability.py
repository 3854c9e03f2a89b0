"""Helpers of the reliability tests (test_faults.py, test_hostile.py): a small demo inbox,
`pcve` in a subprocess, and everything two homes must agree on after the same input.

"Agree" means: the ledger's submissions and decisions, every table of the raw layer and of
the marts (rows compared as multisets: row order is all that may differ), the published
snapshot, every file under exports/ read through the period symlinks (byte for byte), the
quarantine and the reports written back to the offices.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PCVE = Path(sys.executable).with_name("pcve")

# A few demo files: Almaty 2017 Q1 (three months, so the quarter is complete), one Turkistan
# quarter, plus a file rejected for its name and a byte-identical copy (a duplicate).
DEMO_FILES = {
    "almaty": ["almaty_2017-01.xlsx", "almaty_2017-02.xlsx", "almaty_2017-03.xlsx"],
    "turkistan": ["Туркестан АТК отчет 2025-Q1.xlsx"],
}
# named April, every date of it in March: one period_mismatch (forms.md), rejected
REJECTED = ("almaty", "almaty_2017-04 report.xlsx", "almaty_2017-03.xlsx")
DUPLICATE = ("almaty", "almaty_2017-02 copy.xlsx", "almaty_2017-02.xlsx")  # same bytes as the current one


def demo_source(cache: Path) -> Path:
    """The 29 demo workbooks, written once into `cache`/inbox (write_demo sets their mtimes)."""
    from pcve.demo import write_demo

    inbox = cache / "inbox"
    if not inbox.exists():
        write_demo(inbox)
    return inbox


def small_inbox(source: Path, inbox: Path) -> list[Path]:
    """Copy the small test set into `inbox` (mtimes kept: received_at and ordering depend on them)."""
    out = []
    for office, names in DEMO_FILES.items():
        (inbox / office).mkdir(parents=True, exist_ok=True)
        for name in names:
            out.append(Path(shutil.copy2(source / office / name, inbox / office / name)))
    last = max(p.stat().st_mtime for p in out if p.parent.name == "almaty")
    for k, (office, name, like) in enumerate((REJECTED, DUPLICATE), start=1):
        p = inbox / office / name
        shutil.copyfile(source / office / like, p)
        os.utime(p, (last + 3600 * k, last + 3600 * k))
        out.append(p)
    return out


def env(**extra: str) -> dict[str, str]:
    """The environment of a test run: no PCVE_* setting of the caller's (embedded DuckDB, no delivery)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("PCVE_")}
    e.update(extra)
    return e


@dataclass
class Run:
    args: list[str]
    fault: str | None
    returncode: int
    seconds: float
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -9


def pcve(home: Path, *args: str, fault: str | None = None, timeout: float = 900, **extra_env: str) -> Run:
    """`pcve <args> --home <home>` in a subprocess; `fault` is PCVE_FAULT_POINT (name:n)."""
    e = env(**extra_env)
    if fault:
        e["PCVE_FAULT_POINT"] = fault
    cmd = [str(PCVE), *args, "--home", str(home)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=REPO, env=e, capture_output=True, text=True, timeout=timeout)
    return Run(cmd[1:], fault, p.returncode, round(time.perf_counter() - t0, 1), p.stdout, p.stderr)


# ---------------------------------------------------------------------------------------------- reading a home
def _connect(path: Path):
    import duckdb

    return duckdb.connect(str(path), read_only=True)


# Wall-clock columns of a build (dbt snapshot validity): they differ between any two builds.
BUILD_TIME_COLUMNS = {"valid_from", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_scd_id"}


def tables(db: Path, schemas: tuple[str, ...] = ("raw", "main")) -> dict[str, list[tuple]]:
    """Every base table of the schemas: its rows sorted (a multiset: duplicates stay), without the
    build-time columns."""
    con = _connect(db)
    try:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
            f"and table_schema in ({', '.join(repr(s) for s in schemas)}) order by 1, 2").fetchall()
        out = {}
        for s, t in names:
            cols = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                "order by ordinal_position", [s, t]).fetchall() if c not in BUILD_TIME_COLUMNS]
            rows = con.execute(f'select {", ".join(chr(34) + c + chr(34) for c in cols)} from {s}."{t}"').fetchall()
            out[f"{s}.{t}"] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def per_submission(db: Path) -> dict[str, dict[str, list[tuple]]]:
    """submission id -> raw table -> its rows of that submission (sorted)."""
    out: dict[str, dict[str, list[tuple]]] = {}
    con = _connect(db)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.columns where table_schema = 'raw' "
            "and column_name = 'submission_id' order by 1").fetchall()]
        for t in names:
            cur = con.execute(f'select * from raw."{t}"')
            cols = [d[0] for d in cur.description]
            i = cols.index("submission_id")
            for row in cur.fetchall():
                out.setdefault(row[i], {}).setdefault(t, []).append(row)
    finally:
        con.close()
    return {sid: {t: sorted(rows, key=repr) for t, rows in d.items()} for sid, d in out.items()}


def ledger(home: Path) -> dict:
    """The ledger's submissions (ids, files, decisions), without wall-clock times."""
    from ingest import ledger as L

    state = L.LedgerState.load(home / "ledger.jsonl")
    return {sid: (s.seq, s.office, s.file_name, s.sha256, s.received_at, s.period, s.scope, s.status, s.errors,
                  s.warnings, tuple(s.rules), s.quarantine_path, s.privacy)
            for sid, s in state.submissions.items()}


def ledger_events(home: Path) -> list[dict]:
    """Every line of the ledger, each a JSON object (a torn line would fail here)."""
    lines = (home / "ledger.jsonl").read_text(encoding="utf-8").splitlines() if (home / "ledger.jsonl").exists() else []
    return [json.loads(line) for line in lines if line.strip()]


def files_under(root: Path, follow: bool = True) -> dict[str, bytes]:
    """relative path -> bytes of every file under root (through symlinks when `follow`)."""
    out = {}
    if not root.exists():
        return out
    for dirpath, _, names in os.walk(root, followlinks=follow):
        for n in names:
            p = Path(dirpath) / n
            out[str(p.relative_to(root))] = p.read_bytes()
    return out


def reports(home: Path) -> dict[str, bytes]:
    out = {}
    for office in sorted(p for p in (home / "inbox").iterdir() if p.is_dir()):
        for k, v in files_under(office / "_reports").items():
            out[f"{office.name}/{k}"] = v
    return out


def fingerprint(home: Path) -> dict:
    """What two homes fed the same files must agree on."""
    pq = home / "published" / "parquet"
    return {
        "ledger": ledger(home),
        "warehouse": tables(home / "warehouse.duckdb"),
        "published snapshot": tables(home / "published" / "warehouse.duckdb"),
        "published parquet": sorted(p.name for p in pq.iterdir()) if pq.is_dir() else None,
        "exports": files_under(home / "exports"),
        "quarantine": files_under(home / "quarantine"),
        "reports": reports(home),
        "staging": sorted(files_under(home / "staging")),
        "dbt docs": (home / "docs" / "dbt" / "index.html").exists(),
    }


def differences(a: dict, b: dict) -> list[str]:
    """Human-readable differences between two fingerprints (empty when equal)."""
    out = []
    for key in a:
        if a[key] == b[key]:
            continue
        x, y = a[key], b[key]
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                if x.get(k) != y.get(k):
                    if k not in x or k not in y:
                        out.append(f"{key}: {k} only in {'the first' if k in x else 'the second'}")
                    elif isinstance(x[k], list) and isinstance(y[k], list):
                        cx, cy = Counter(map(repr, x[k])), Counter(map(repr, y[k]))
                        out.append(f"{key}: {k}: {sum((cx - cy).values())} row(s) only in the first, "
                                   f"{sum((cy - cx).values())} only in the second, e.g. "
                                   f"{next(iter(cx - cy), None) or next(iter(cy - cx), None)}"[:600])
                    else:
                        out.append(f"{key}: {k} differs")
        else:
            out.append(f"{key}: {str(x)[:200]} != {str(y)[:200]}")
    return out


# ---------------------------------------------------------------------------------------------- invariants
def check_consistent(home: Path) -> list[str]:
    """What must hold after any kill, before any recovery: what readers can see is whole."""
    from exports import revisions

    problems = []
    events = ledger_events(home)
    received = Counter(e["submission_id"] for e in events if e.get("event") == "received")
    decided = Counter(e["submission_id"] for e in events if e.get("event") in ("accepted", "rejected", "duplicate"))
    problems += [f"{sid} received {n} times" for sid, n in received.items() if n > 1]
    problems += [f"{sid} decided {n} times" for sid, n in decided.items() if n > 1]
    files = Counter((e["office"], e["file_name"], e["sha256"]) for e in events if e.get("event") == "received")
    problems += [f"{f[1]} got {n} submission ids" for f, n in files.items() if n > 1]
    base = home / "exports"
    if base.is_dir():
        for p in base.iterdir():
            if p.name.startswith("."):
                continue
            if not p.is_symlink():
                problems.append(f"exports/{p.name} is not a symlink to a revision")
            elif revisions.intact(p.resolve()) is None:
                problems.append(f"exports/{p.name} is visible but not complete")
    snap = home / "published" / "warehouse.duckdb"
    if snap.exists():
        try:
            if "main.mart_indicator_values" not in tables(snap, ("main",)):
                problems.append("published snapshot has no marts")
        except Exception as exc:
            problems.append(f"published snapshot unreadable: {exc}")
    pq = home / "published" / "parquet"
    if pq.is_symlink() and not (pq / "mart_indicator_values.parquet").exists():
        problems.append("published/parquet is visible but not complete")
    return problems


def duplicate_keys(db: Path) -> list[str]:
    """Keys that must be unique in the raw layer and are not."""
    checks = {"submissions": "submission_id", "submission_forms": "submission_id, form",
              "outreach": "submission_id, sheet, row_number", "rehabilitation": "submission_id, sheet, row_number",
              "events": "submission_id, sheet, row_number", "commission": "submission_id, sheet, row_number",
              "commission_tasks": "submission_id, sheet, row_number"}
    con = _connect(db)
    try:
        out = []
        for t, key in checks.items():
            n = con.execute(f"select count(*) from (select {key} from raw.{t} group by all having count(*) > 1)"
                            ).fetchone()[0]
            if n:
                out.append(f"raw.{t}: {n} duplicated key(s) ({key})")
        return out
    finally:
        con.close()


@dataclass
class Timer:
    marks: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.marks[name] = round(self.marks.get(name, 0) + seconds, 1)
