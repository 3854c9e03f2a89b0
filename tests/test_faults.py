"""Crash anywhere, re-run, same answer (issue 8).

- Fault injection: `pcve run` is killed with SIGKILL at 23 points of a run (pcve/core/faults.py:
  PCVE_FAULT_POINT=<checkpoint>:<n>), in two chains of runs on two homes, each run resuming
  what the previous one left; after every kill what a reader can see must be whole; after the
  last, uninterrupted, run everything must equal an uninterrupted run on the same inbox:
  ledger, raw layer and marts (multisets of rows), published snapshot, every extract file
  byte for byte (through the symlinks), quarantine and office reports.
- Two runs at once on one home: one exits 3 (--no-wait) or waits, with a clear message.
- Damage: warehouse missing, cut short or garbage, published snapshot or Parquet gone, an
  extract folder or file gone: detected, rebuilt from archive + ledger, same extracts.

The inbox is small (Almaty 2017 Q1, Turkistan 2025 Q1, one rejected file, one duplicate) so a
dbt build takes ~25 s; the chains run in parallel with the reference run (2 cores).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.reliability import (
    PCVE,
    check_consistent,
    demo_source,
    differences,
    duplicate_keys,
    fingerprint,
    ledger,
    pcve,
    per_submission,
    small_inbox,
)

# Chain A: kills during intake (reading, staging, loading, deciding).
# Each run resumes what the one before left. Files in processing order: almaty 01, 02, 03,
# "almaty_2017-04 report" (rejected), "02 copy" (duplicate), then turkistan Q1 (20 sheets in all).
CHAIN_INTAKE = [
    ("read.sheet:7", "reading the 3rd file (calamine, sheet by sheet)"),
    ("stage.fetched:2", "2nd file copied from the source, not yet archived"),
    ("stage.archived:5", "5th file archived under its sha256"),
    ("stage.parsed:6", "every file parsed, before GX validation"),
    ("stage.validated:1", "between validation and load"),
    ("stage.staged:3", "3 of 6 staged results written"),
    ("load.received:2", "ledger 'received' (id, seq) for 2 submissions, nothing loaded"),
    ("load.in_transaction:1", "inside the batch's load transaction (both offices), before commit"),
    ("load.committed:2", "batch committed, reports of the 1st file written, no decision in the ledger"),
    ("load.quarantined:1", "rejected file copied to quarantine, no report, no decision"),
    ("load.reported:1", "reports written back to the office, decisions not written"),
    ("load.decided:2", "decisions written (one fsync); checkpoint and Data Docs not done"),
]
# Chain B: kills after intake: dbt build, dbt docs, publish, extracts.
CHAIN_BUILD = [
    ("dbt.node:1", "dbt build, after its first node"),
    # named nodes (pcve/app/warehouse/: _dbt_checkpoint), not the n-th node: the count moves with the project
    ("dbt.node.model.pcve.fct_outreach:1", "dbt build, half-way (models replaced, tests not run)"),
    ("dbt.node.model.pcve.dim_office:2", "dbt docs generate, after a successful build"),
    ("publish.copied:1", "snapshot copied under a temp name"),
    ("publish.parquet:5", "5th Parquet file written into a new folder"),
    ("publish.snapshot:1", "new snapshot renamed in, Parquet not yet swapped"),
    ("publish.swapped:1", "Parquet swapped, publish state not recorded"),
    ("export.file:3", "3rd file of the 2017Q1 extract written in .staging"),
    ("export.linked:1", "2017Q1 revision linked, 2025Q1 not written"),
    ("export.file:4", "2025Q1 extract half-written"),
    ("export.revision:1", "2025Q1 revision renamed into .revisions, not linked"),
]


class Reference:
    """One uninterrupted `pcve run` on the small inbox, started in the background, shared."""

    def __init__(self, root: Path, source: Path):
        self.home = root / "reference"
        self.source = source
        self.trace = root / "reference.trace"
        self.result = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            small_inbox(self.source, self.home / "inbox")
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        self.result = pcve(self.home, "run", "--json", PCVE_FAULT_TRACE=str(self.trace))

    def wait(self) -> Path:
        self.start()
        self._thread.join()
        assert self.result.returncode == 0, self.result.stderr[-3000:]
        return self.home

    def hits(self) -> dict[str, int]:
        """checkpoint -> times an uninterrupted run passes it."""
        out: dict[str, int] = {}
        for line in self.trace.read_text(encoding="utf-8").split():
            name, n = line.rsplit(":", 1)
            out[name] = max(out.get(name, 0), int(n))
        return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Reference:
    root = tmp_path_factory.mktemp("reliability")
    return Reference(root, demo_source(tmp_path_factory.mktemp("demo")))


def _chain(home: Path, chain: list[tuple[str, str]], log: list[dict], snapshots: Path | None = None) -> None:
    """Run `pcve run` killed at each point in turn, then once to completion."""
    for k, (point, what) in enumerate(chain):
        r = pcve(home, "run", "--json", fault=point)
        log.append({"home": home.name, "fault": point, "what": what, "seconds": r.seconds, "rc": r.returncode})
        assert r.killed, f"{home.name}: kill point {point} ({what}) was not reached: rc {r.returncode}\n" \
                         f"{r.stderr[-3000:]}"
        problems = check_consistent(home)
        assert not problems, f"{home.name}: after a kill at {point} ({what}): {problems}"
        if snapshots is not None and (home / "warehouse.duckdb").exists():
            dest = snapshots / f"{k:02d}"
            dest.mkdir(parents=True)
            for f in home.glob("warehouse.duckdb*"):
                shutil.copy2(f, dest / f.name)
    r = pcve(home, "run", "--json")
    log.append({"home": home.name, "fault": None, "what": "to completion", "seconds": r.seconds, "rc": r.returncode})
    assert r.returncode == 0, f"{home.name}: the run after the kills failed:\n{r.stderr[-3000:]}"


@pytest.mark.e2e
@pytest.mark.slow
def test_killed_anywhere_the_rerun_gives_the_same_warehouse_and_extracts(reference, tmp_path):
    t0 = time.perf_counter()
    reference.start()
    homes = {name: tmp_path / name for name in ("intake_kills", "build_kills")}
    for h in homes.values():
        small_inbox(reference.source, h / "inbox")
    log: list[dict] = []
    snapshots = tmp_path / "snapshots"

    def chain_b():
        reference.wait()
        _chain(homes["build_kills"], CHAIN_BUILD, log)

    with ThreadPoolExecutor(2) as pool:
        jobs = [pool.submit(_chain, homes["intake_kills"], CHAIN_INTAKE, log, snapshots), pool.submit(chain_b)]
        for j in jobs:
            j.result()
    wall = time.perf_counter() - t0

    ref = reference.wait()
    hits = reference.hits()
    for point, _ in CHAIN_INTAKE + CHAIN_BUILD:
        name = point.rsplit(":", 1)[0]
        assert name in hits, f"{name} is not a checkpoint an uninterrupted run passes"
    want = fingerprint(ref)
    assert want["exports"] and want["quarantine"] and want["ledger"], "the reference run produced nothing"
    assert len([s for s in want["ledger"].values() if s[7] == "accepted"]) == 4
    for name, home in homes.items():
        got = fingerprint(home)
        assert not differences(got, want), f"{name} differs from the uninterrupted run: {differences(got, want)}"
        assert not duplicate_keys(home / "warehouse.duckdb"), duplicate_keys(home / "warehouse.duckdb")
        # no lost submission: every file of the inbox has its decision
        decided = {(s[1], s[2]) for s in ledger(home).values() if s[7] in ("accepted", "rejected", "duplicate")}
        inbox = {(p.parent.name, p.name) for p in (home / "inbox").glob("*/*") if p.is_file()}
        assert inbox <= decided, inbox - decided

    # Nothing partial ever: each submission found in the warehouse after a kill had all its rows.
    final = per_submission(ref / "warehouse.duckdb")
    seen = 0
    for snap in sorted(snapshots.iterdir()):
        for sid, rows in per_submission(snap / "warehouse.duckdb").items():
            assert rows == final[sid], f"after kill {snap.name}: {sid} is in the warehouse only in part"
            seen += 1
    assert seen, "no kill left a submission in the warehouse: the partial check checked nothing"

    summary = {"kills": len(CHAIN_INTAKE) + len(CHAIN_BUILD), "wall_seconds": round(wall, 1),
               "reference_seconds": reference.result.seconds, "runs": log}
    (tmp_path / "fault_summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"\nfault injection: {summary['kills']} kills, {len(log)} runs, {wall:.0f} s wall "
          f"(reference run {reference.result.seconds} s)")
    for entry in log:
        print(f"  {entry['home']:13} {entry['fault'] or '(final)':22} {entry['seconds']:6.1f} s  {entry['what']}")


# ---------------------------------------------------------------------------------------------- two runs at once
def _held(lock: Path) -> bool:
    if not lock.exists():
        return False
    with open(lock, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


@pytest.mark.e2e
@pytest.mark.slow
def test_two_runs_at_once_one_exits_or_waits_and_nothing_is_corrupted(reference, tmp_path):
    ref = reference.wait()
    home = tmp_path / "home"
    shutil.copytree(ref, home, symlinks=True)
    q2 = "Туркестан АТК отчет 2025-Q2.xlsx"  # new work for the first run: intake and a dbt build
    shutil.copy2(reference.source / "turkistan" / q2, home / "inbox" / "turkistan" / q2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCVE_")}
    first = subprocess.Popen([str(PCVE), "run", "--home", str(home)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _held(home / ".writer.lock"):
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the first run never took the writer lock"
        time.sleep(0.05)
    refused = pcve(home, "run", "--no-wait")
    waiter = subprocess.Popen([str(PCVE), "run", "--home", str(home), "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert first.poll() is None, "the first run ended before the others started: the test proves nothing"
    out1, err1 = first.communicate(timeout=900)
    out3, err3 = waiter.communicate(timeout=900)
    assert refused.returncode == 3, (refused.returncode, refused.stderr)
    assert "another pcve run is writing" in refused.stderr and "wait" in refused.stderr
    assert first.returncode == 0, err1[-3000:]
    assert waiter.returncode == 0, err3[-3000:]
    assert "waiting for it to finish" in err3
    assert json.loads(out3)["intake"]["files"] == 0  # the first run did the work; the second found none
    # nothing corrupted: one decision per file, the raw layer agrees with the ledger, extracts whole
    assert not check_consistent(home)
    assert pcve(home, "rebuild", "--check").returncode == 0
    assert not duplicate_keys(home / "warehouse.duckdb")
    subs = ledger(home)
    assert [s[7] for s in subs.values() if s[2] == q2] == ["accepted"]
    assert len(subs) == len(ledger(ref)) + 1
    assert (home / "exports" / "2025Q2").is_symlink()


# ---------------------------------------------------------------------------------------------- damage
def _damage_missing(home: Path) -> None:
    (home / "warehouse.duckdb").unlink()
    (home / "published" / "warehouse.duckdb").unlink()
    (home / "exports" / "2017Q1").unlink()  # what `rm -rf exports/2017Q1` does to the symlink


def _damage_truncated(home: Path) -> None:
    wh = home / "warehouse.duckdb"
    data = wh.read_bytes()
    wh.write_bytes(data[: len(data) // 2])
    (home / "published" / "parquet").unlink()
    (home / "exports" / ".revisions" / "2025Q1" / "r1" / "indicators.xlsx").unlink()


def _damage_garbage(home: Path) -> None:
    wh = home / "warehouse.duckdb"
    wh.write_bytes(os.urandom(wh.stat().st_size))
    (home / "published" / "warehouse.duckdb").write_bytes(b"not a database")
    shutil.rmtree(home / "exports" / ".revisions" / "2017Q1" / "r1")  # the link now points nowhere


DAMAGE = {
    # name: (damage, recovery steps as (pcve args, kill point), messages expected as (step, stream, text))
    # killed after both marts are rebuilt, before their tests: the next run must build again
    "missing": (_damage_missing, [(["rebuild"], "dbt.node.model.pcve.mart_indicator_values:1"), (["run", "--json"], None)],
                [(0, "stdout", "damaged: warehouse file is missing")]),
    "truncated": (_damage_truncated, [(["rebuild"], None)],
                  [(0, "stdout", "damaged: warehouse"), (1, "stdout", "from the archive (warehouse")]),
    "garbage": (_damage_garbage, [(["run"], None)],
                [(0, "stdout", "damaged: warehouse cannot be opened"),
                 (1, "stderr", "rebuilding the warehouse from the archive and the ledger")]),
}


@pytest.mark.e2e
@pytest.mark.slow
def test_damage_is_detected_and_rebuilt_from_archive_and_ledger(reference, tmp_path):
    """Warehouse missing (rebuild killed mid-dbt, then run), cut short (rebuild), garbage (run);
    published snapshot and Parquet gone or garbage; an extract link, file or revision folder gone."""
    ref = reference.wait()
    want = fingerprint(ref)

    def scenario(name: str) -> tuple[str, list]:
        damage, steps, _ = DAMAGE[name]
        home = tmp_path / name
        shutil.copytree(ref, home, symlinks=True)
        damage(home)
        runs = [pcve(home, "rebuild", "--check")]
        for args, fault in steps:
            runs.append(pcve(home, *args, fault=fault))
        return name, runs

    with ThreadPoolExecutor(2) as pool:
        results = dict(pool.map(scenario, DAMAGE))

    for name, runs in results.items():
        home = tmp_path / name
        check, *steps = runs
        assert check.returncode == 1, (name, check.stdout, check.stderr)
        for r, (args, fault) in zip(steps, DAMAGE[name][1], strict=True):
            if fault:
                assert r.killed, (name, fault, r.stderr[-2000:])
            else:
                assert r.returncode == 0, (name, args, r.stderr[-3000:])
        for k, stream, text in DAMAGE[name][2]:
            assert text in getattr(runs[k], stream), (name, k, stream, text, getattr(runs[k], stream)[-2000:])
        if name != "missing":
            assert list(home.glob("warehouse.damaged-*.duckdb")), f"{name}: the damaged warehouse was not kept aside"
        else:  # the build `pcve rebuild` left unfinished is not taken for a good one
            assert json.loads(steps[-1].stdout)["warehouse"]["built"] is True
        got = fingerprint(home)
        if name != "garbage":
            assert not differences(got, want), f"{name}: {differences(got, want)}"
            continue
        # The deleted revision folder r1 cannot be verified (its manifest went with it), so its number
        # is not reused: revision 2 is written, with the same data files.
        others = {k: v for k, v in got.items() if k != "exports"}
        assert not differences(others, {k: v for k, v in want.items() if k != "exports"})
        assert os.readlink(home / "exports" / "2017Q1") == os.path.join(".revisions", "2017Q1", "r2")
        for f in ("indicators.csv", "indicators.xlsx", "dhis2.json", "sdmx.csv"):
            assert got["exports"][f"2017Q1/{f}"] == want["exports"][f"2017Q1/{f}"], f
        assert json.loads(got["exports"]["2017Q1/manifest.json"])["revision"] == 2
        rest = ("2017Q1", ".revisions/2017Q1")
        assert {k: v for k, v in got["exports"].items() if not k.startswith(rest)} == \
               {k: v for k, v in want["exports"].items() if not k.startswith(rest)}


# ---------------------------------------------------------------------------------------------- fast checks
def test_a_checkpoint_kills_at_its_nth_hit_and_costs_nothing_when_unset():
    code = ("from pcve.core.faults import checkpoint\n"
            "for k in range(3):\n    checkpoint('x'); checkpoint('y'); print(k, flush=True)\n")
    run = [sys.executable, "-c", code]
    p = subprocess.run(run, env={**os.environ, "PCVE_FAULT_POINT": "x:2"}, capture_output=True, text=True)
    assert p.returncode == -9 and p.stdout.split() == ["0"]
    p = subprocess.run(run, env={k: v for k, v in os.environ.items() if not k.startswith("PCVE_FAULT")},
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.split() == ["0", "1", "2"]


def test_a_torn_ledger_line_does_not_swallow_the_next_event(tmp_path):
    from ingest import ledger as L

    path = tmp_path / "ledger.jsonl"
    L.append(path, {"event": "received", "submission_id": "S1"})
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"event": "accepted", "submission_id": "S1", "at"')  # a crash mid-append
    L.append(path, {"event": "received", "submission_id": "S2"})
    assert [e["submission_id"] for e in L.read(path)] == ["S1", "S2"]


def test_an_interrupted_build_counts_as_failed_until_it_finishes(tmp_path, monkeypatch):
    """A kill -9 in `dbt build` cannot run an except clause: the state says "failed" before dbt starts,
    so the next run builds again and nothing publishes half-replaced models meanwhile."""
    from pcve.app import warehouse
    from pcve.core.home import Home

    h = Home.at(tmp_path).ensure()
    (h.state / "dbt_build.json").write_text(json.dumps({"fingerprint": "f" * 64}), encoding="utf-8")
    seen = {}

    def killed(home, command, day):
        seen.update(json.loads((home.state / "dbt_build.json").read_text(encoding="utf-8")))
        raise SystemExit("killed")

    monkeypatch.setattr(warehouse.dbt_runner, "_invoke", killed)
    with pytest.raises(SystemExit):
        warehouse.build(tmp_path, force=True)
    assert seen["failed"] is True and "interrupted" in seen["error"]
    assert warehouse.publish(tmp_path)["published"] is False


# Extract folders: what readers see is a symlink to a revision; losing or damaging one is repaired.
@pytest.fixture
def mart(tmp_path, monkeypatch) -> Path:
    """A home with a small hand-made mart (tests/test_exports.py): extracts without dbt."""
    from tests import test_exports as T

    monkeypatch.delenv("PCVE_MINISTRY_LOCATION", raising=False)
    T.make_warehouse(tmp_path / "warehouse.duckdb", T.SMALL_CELLS, T.SMALL_COMPLETENESS, T.SMALL_SUBMISSIONS,
                     T.SMALL_FORMS, T.SMALL_VALIDATION)
    return tmp_path


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_lost_period_link_is_restored_to_its_revision(mart):
    from exports.extract import write_extracts

    write_extracts(mart)
    before = folder_bytes(mart / "exports" / "2017Q1")
    (mart / "exports" / "2017Q1").unlink()
    s = write_extracts(mart)
    assert s["written"] == [] and {"period": "2017Q1", "revision": 1, "restored": "link"} in s["unchanged"]
    assert folder_bytes(mart / "exports" / "2017Q1") == before
    assert sorted(p.name for p in (mart / "exports" / ".revisions" / "2017Q1").iterdir()) == ["r1"]


def test_a_damaged_revision_is_written_again_byte_for_byte(mart):
    from exports.extract import write_extracts

    write_extracts(mart)
    before = folder_bytes(mart / "exports" / "2017Q1")
    (mart / "exports" / "2017Q1" / "indicators.xlsx").unlink()
    (mart / "exports" / "2017Q1" / "sdmx.csv").write_bytes(b"edited by hand")
    s = write_extracts(mart)
    assert [(w["period"], w["revision"], w.get("repaired")) for w in s["written"]] == [("2017Q1", 1, True)]
    assert folder_bytes(mart / "exports" / "2017Q1") == before
    assert write_extracts(mart)["written"] == []


def test_a_lost_revision_folder_is_followed_by_a_new_revision_never_reused(mart):
    from exports.extract import write_extracts

    write_extracts(mart)
    before = folder_bytes(mart / "exports" / "2017Q1")
    shutil.rmtree(mart / "exports" / ".revisions" / "2017Q1" / "r1")
    s = write_extracts(mart)
    assert [(w["period"], w["revision"]) for w in s["written"]] == [("2017Q1", 2)]
    after = folder_bytes(mart / "exports" / "2017Q1")
    # the same data; the manifest and the report say revision 2, reissued because r1 was lost
    assert {k: v for k, v in after.items() if k not in ("manifest.json", "report.html")} == \
           {k: v for k, v in before.items() if k not in ("manifest.json", "report.html")}
    assert b'data-revision="2"' in after["report.html"] and b'data-reason="reissued"' in after["report.html"]


def test_work_left_in_staging_by_a_killed_run_is_dropped(mart):
    from exports.extract import write_extracts

    staging = mart / "exports" / ".staging"
    (staging / "2017Q1-r1-x").mkdir(parents=True)
    (staging / "2017Q1-r1-x" / "indicators.csv").write_text("half", encoding="utf-8")
    os.symlink("nowhere", staging / ".2017Q1.link.123")
    write_extracts(mart)
    assert list(staging.iterdir()) == []
