"""Hostile and broken input (issue 8): a corpus of 40 kinds built by code at test time
(tests/corpus/hostile.py), dropped into one office folder beside good files, and one real
`pcve -vv run` over all of it.

Each kind gets its outcome: a clear error naming the rule (and the cell where there is one),
the file kept in quarantine, a report back to the office, nothing of it in the warehouse; or,
where the contract says text is stored as given, accepted as text. The good files of the same
run are accepted and exported. Formula-like text is never written back in a form a spreadsheet
would run; personal data never leaves the file (logs, reports, ledger, warehouse, Data Docs);
no name is ever run by a shell or escapes the home. The reader's limits stop a zip bomb, a
huge or sparse sheet before memory runs out (checked in a process with a 1 GB address space).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingest import ledger as L
from ingest.sources import safe_name
from pcve.core.privacy import mask
from pcve.core.safe_text import needs_text_guard
from tests.corpus.hostile import CANARY, INJECTIONS, Hostile, _good, all_hostile
from tests.reliability import REPO, demo_source, pcve, tables

pytestmark = pytest.mark.e2e

GOOD = [Hostile("good workbook in the same run", "almaty_2017-02.xlsx", _good(2), None)]
T0 = 1_514_764_800  # 2018-01-01: every corpus file "arrives" after the periods it reports


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    home = tmp_path_factory.mktemp("hostile") / "home"
    cases = all_hostile() + GOOD
    for k, c in enumerate(cases):
        p = home / "inbox" / c.office / c.name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(c.data)
        os.utime(p, (T0 + 60 * k, T0 + 60 * k))
    # a good Turkistan quarter: its extract is written in the same run
    src = demo_source(tmp_path_factory.mktemp("demo")) / "turkistan" / "Туркестан АТК отчет 2025-Q1.xlsx"
    (home / "inbox" / "turkistan").mkdir(parents=True)
    (home / "inbox" / "turkistan" / src.name).write_bytes(src.read_bytes())
    os.utime(home / "inbox" / "turkistan" / src.name, (src.stat().st_mtime,) * 2)
    r = pcve(home, "-vv", "run", "--json", timeout=1200)
    assert r.returncode == 0, r.stderr[-4000:]
    state = L.LedgerState.load(home / "ledger.jsonl")
    subs = {(s.office, s.file_name): s for s in state.submissions.values()}
    return home, cases, r, subs


def test_the_corpus_has_at_least_30_kinds():
    assert len({c.kind for c in all_hostile()}) >= 30


def test_every_kind_gets_its_outcome_and_the_run_goes_on(run):
    home, cases, r, subs = run
    summary = json.loads(r.stdout)
    assert summary["intake"]["files"] == len(cases) + 1
    wrong = []
    for c in cases:
        s = subs.get((c.office, mask(c.name)))  # the ledger records names privacy-masked
        if s is None:
            wrong.append(f"{c.kind}: no decision")
            continue
        if c.rules is None:
            if s.status != "accepted":
                wrong.append(f"{c.kind}: {s.status} {s.rules}, expected accepted")
            continue
        if s.status != "rejected" or not c.rules <= set(s.rules):
            wrong.append(f"{c.kind}: {s.status} {s.rules}, expected rejected for {sorted(c.rules)}")
            continue
        # kept in quarantine, byte for byte, under a safe name directly in the office's folder
        q = home / s.quarantine_path
        assert q.parent == home / "quarantine" / c.office, (c.kind, s.quarantine_path)
        assert q.read_bytes() == c.data, c.kind
        # a located report, in the quarantine and back in the office's folder
        rows = list(csv.DictReader(io.StringIO((q.parent / (q.name + ".errors.csv")).read_text(encoding="utf-8-sig"))))
        assert {row["rule"] for row in rows} >= c.rules, c.kind
        assert c.cells <= {row["cell"] for row in rows}, (c.kind, [row["cell"] for row in rows])
        assert all(row["message_kk"] and row["message_ru"] for row in rows), c.kind
        assert (home / "inbox" / c.office / "_reports" / safe_name(mask(c.name) + ".errors.html")).exists(), c.kind
    assert not wrong, "\n".join(wrong)
    assert subs[("turkistan", "Туркестан АТК отчет 2025-Q1.xlsx")].status == "accepted"
    assert (home / "exports" / "2025Q1" / "indicators.csv").exists()


def test_nothing_of_a_rejected_file_reaches_the_warehouse(run):
    home, cases, _, subs = run
    rejected = [s.submission_id for s in subs.values() if s.status == "rejected"]
    assert len(rejected) >= 25
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        marks = ", ".join("?" * len(rejected))
        for t in ("outreach", "rehabilitation", "events", "commission", "commission_tasks", "submission_forms"):
            n = con.execute(f"select count(*) from raw.{t} where submission_id in ({marks})", rejected).fetchone()[0]
            assert n == 0, t
        status = dict(con.execute("select submission_id, status from raw.submissions").fetchall())
        assert all(status[sid] == "rejected" for sid in rejected)
        titles = {r[0] for r in con.execute("select title from raw.events").fetchall()}
    finally:
        con.close()
    # text that looks like a formula, HTML, control characters, bidi marks, 100k characters: stored as written
    for c in cases:
        for text in c.stored:
            assert text in titles, (c.kind, text[:60])


def _written_csv(home: Path) -> list[Path]:
    """Every CSV the pipeline wrote: error reports (quarantine, office folders) and extracts."""
    return [*home.glob("quarantine/*/*.errors.csv"), *home.glob("inbox/*/_reports/*.csv"),
            *home.glob("exports/.revisions/*/*/*.csv")]


def test_formula_like_text_is_never_written_back_executable(run):
    home, *_ = run
    checked = 0
    for path in _written_csv(home):
        for row in csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))):
            for cell in row:
                checked += 1
                assert not needs_text_guard(cell), f"{path}: a spreadsheet would run {cell[:80]!r}"
    assert checked > 1000
    # the number cells that held formulas are quoted back as text in the error report
    report = (home / "quarantine" / "almaty" / "inject-numbers 2017-03.xlsx.errors.csv").read_text(encoding="utf-8-sig")
    assert "'=1+2" in report and "'@SUM(A1)" in report and "'-1+1" in report
    # extract workbooks hold no formula at all
    import openpyxl

    books = list(home.glob("exports/.revisions/*/*/indicators.xlsx"))
    assert books
    for book in books:
        for ws in openpyxl.load_workbook(book).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{book}: formula in {cell.coordinate}"
    # HTML reports escape what they quote: no markup from a file name or a cell gets through
    for page in home.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x" not in text, page
    extracts = b"".join(p.read_bytes() for p in home.glob("exports/.revisions/*/*/*"))
    for inj in INJECTIONS:
        assert inj.encode() not in extracts


def _outside_the_files(home: Path, cases) -> list[Path]:
    """Every file of the home but the archived and quarantined copies of the files themselves."""
    originals = {c.data for c in cases}
    out = []
    for p in home.rglob("*"):
        if not p.is_file() or "archive" in p.parts:
            continue
        if p.stat().st_size < 60_000_000 and p.read_bytes() in originals:
            continue  # a received file itself (inbox, quarantine)
        out.append(p)
    return out


def test_personal_data_never_leaves_the_file(run):
    home, cases, r, _ = run
    secrets = [s for c in cases for s in c.secrets]
    assert len(secrets) >= 6
    files = _outside_the_files(home, cases)
    assert any(p.suffix == ".duckdb" for p in files) and any("validation" in p.parts for p in files)
    leaks = []
    for p in files:
        data = p.read_bytes()
        leaks += [f"{p.relative_to(home)}: {s}" for s in secrets if s.encode() in data]
    for s in secrets:
        if s in r.stdout or s in r.stderr:
            leaks.append(f"the run's output: {s}")
    # nor in a name the pipeline gave a file (quarantine, reports, staging); the office's own files aside
    inbox = home / "inbox"
    for p in home.rglob("*"):
        if p.parent.is_relative_to(inbox) and p.parent.name != "_reports":
            continue
        leaks += [f"file name {p.relative_to(home)}: {s}" for s in secrets if s in p.name]
    # and in the tables themselves (DuckDB may compress strings on disk)
    for db in (home / "warehouse.duckdb", home / "published" / "warehouse.duckdb"):
        for table, rows in tables(db, ("raw", "main", "snapshots")).items():
            text = repr(rows)
            leaks += [f"{db.name} {table}: {s}" for s in secrets if s in text]
    assert not leaks, leaks


def test_no_name_is_run_by_a_shell_or_escapes_the_home(run):
    home, cases, r, _ = run
    # `$(touch PCVE_CANARY_SHELL)` and `&&touch PCVE_CANARY_SHELL` would have made this file
    for where in (REPO, home, home.parent, Path.cwd(), Path.home()):
        assert not (where / CANARY).exists(), where
    assert not [p for p in home.rglob(CANARY)]
    # '..' and separators: every quarantined file and report sits directly in its office's folder
    assert not (home.parent / "etc").exists() and not (home / "etc").exists()
    for d in ("quarantine/almaty", "inbox/almaty/_reports"):
        names = [p.name for p in (home / d).iterdir()]
        assert all((home / d / n).is_file() for n in names), f"{d} holds a folder: a name made a path"
        assert not [n for n in names if any(ch in n for ch in "\u202e\u202d\u2066\u2067\n\x1b$;|`")], names
    # a file name with a newline and terminal escapes cannot forge a log line
    assert not [line for line in r.stderr.splitlines() if line.startswith(("\x1b", "ERROR forged"))]
    assert r"ok 2017-04\n\x1b[2JERROR forged.xlsx" in r.stderr  # logged, escaped


BOUNDED = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from pathlib import Path
from ingest.reader import ReadError, read_file
t = time.perf_counter()
try:
    read_file(Path(sys.argv[1]), file_name=sys.argv[2])
    print("read")
except ReadError as exc:
    # VmHWM, not ru_maxrss: Linux carries the forking parent's (pytest's) peak into ru_maxrss across exec.
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(exc.rule, round(time.perf_counter() - t, 2), hwm // 1024)
"""


@pytest.mark.parametrize("kind", ["zip bomb", "lying sizes", "100,001 rows", "250 columns", "XFD1048576",
                                  "million rows", "over 50 MB", "billion laughs (entity"])
def test_the_reader_stops_before_memory_runs_out(kind, tmp_path):
    """Each file read in a process limited to 1 GB of address space: rejected, fast, small."""
    case = next(c for c in all_hostile() if kind in c.kind)
    path = tmp_path / "f"
    path.write_bytes(case.data)
    p = subprocess.run([sys.executable, "-c", BOUNDED, str(path), case.name], cwd=REPO, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    rule, seconds, peak_mb = p.stdout.split()
    assert rule in case.rules, (kind, rule)
    assert float(seconds) < 20 and int(peak_mb) < 300, (kind, seconds, peak_mb)
