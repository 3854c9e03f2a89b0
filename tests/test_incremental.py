"""Incremental runs end where a cold run of the same inbox ends (issue 19).

The demo inbox (29 workbooks, two offices) is run once cold: every file in one `pipeline.run`. The
same files then arrive over several runs, in the order they were received (the order an office's
files reach the inbox), split at generated points, with runs that bring nothing in between. After
the last run every extract file and every warehouse table must be what the cold run made.

What legitimately differs: a period complete early and changed by a later file is a new revision of
its folder (revision number, its note in the manifest and the report, CHANGES.csv, the manifest's
input_key); the data files, the manifest's content and a first revision's report do not. In the
warehouse only the snapshot's validity time differs (dim_territory.valid_from), never a value, an id
or a status.

One home per sequence, the pipeline in this process (GX and dbt imported once): a few sequences, not
a Hypothesis search, keep it within minutes.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from pcve.core import db
from pcve.core.home import Home
from pcve.demo import write_demo

# when the territory dimension's snapshot row was taken (the wall clock of the build), not what it holds
VOLATILE_COLUMNS = {"valid_from", "dbt_valid_from", "dbt_updated_at", "dbt_scd_id"}
# files of a folder that carry its revision (number, note, the changes against the previous one)
REVISION_FILES = {"manifest.json", "report.html", "CHANGES.csv"}
MANIFEST_REVISION_KEYS = {"revision", "revision_note", "input_key", "files", "generated_at"}

N_DEMO = 29


@pytest.fixture(scope="module")
def demo_inbox(tmp_path_factory) -> list[Path]:
    """The demo workbooks, in the order they were received (deterministic bytes and times)."""
    return write_demo(tmp_path_factory.mktemp("demo-inbox"))


def _arrive(files: list[Path], home: Path) -> None:
    for f in files:
        dest = Home.at(home).inbox / f.parent.name / f.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, dest)  # the modification time is the received time


def _run(home: Path) -> dict:
    from pcve.app import pipeline

    return pipeline.run(home)


@pytest.fixture(scope="module")
def cold(tmp_path_factory, demo_inbox) -> Path:
    mp = pytest.MonkeyPatch()
    mp.delenv(db.ENV, raising=False)
    try:
        home = Home.at(tmp_path_factory.mktemp("cold")).ensure().root
        _arrive(demo_inbox, home)
        summary = _run(home)
        assert summary["intake"]["files"] == N_DEMO
        assert summary["exports"]["written"]
        return home
    finally:
        mp.undo()


def _norm(v):
    if isinstance(v, Decimal):
        return ("dec", format(v.normalize(), "f"))
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _tables(home: Path) -> dict[str, list[tuple]]:
    out = {}
    with db.connect(home, read_only=True) as con:
        for schema in ("raw", "intermediate", "main"):
            names = [r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "and table_type = 'BASE TABLE'", [schema]).fetchall()]
            for t in sorted(names):
                con.execute(f'select * from {schema}."{t}"')
                cols = [d[0] for d in con.description]
                keep = [i for i, c in enumerate(cols) if c not in VOLATILE_COLUMNS]
                rows = [tuple(_norm(r[i]) for i in keep) for r in con.fetchall()]
                out[f"{schema}.{t}"] = sorted(rows, key=repr)
    return out


def _folders(home: Path) -> dict[str, Path]:
    """Every published period (ministry and public), its link resolved to the current revision."""
    out = {}
    for base in (Home.at(home).exports, Home.at(home).exports / "public"):
        if not base.is_dir():
            continue
        for p in base.iterdir():
            if not p.name.startswith(".") and p.name != "public" and (p / "manifest.json").is_file():
                out[str(p.relative_to(Home.at(home).exports))] = p.resolve()
    return out


def _assert_same_extracts(cold_home: Path, home: Path) -> None:
    want, got = _folders(cold_home), _folders(home)
    assert want and sorted(got) == sorted(want)
    for period, folder in want.items():
        other = got[period]
        names = {p.name for p in folder.iterdir()}
        other_names = {p.name for p in other.iterdir()}
        assert other_names - {"CHANGES.csv"} == names, period
        for name in sorted(names - REVISION_FILES):
            assert (other / name).read_bytes() == (folder / name).read_bytes(), f"{period}/{name}"
        m_cold = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        m_inc = json.loads((other / "manifest.json").read_text(encoding="utf-8"))
        assert m_cold["revision"] == 1
        assert {k: v for k, v in m_inc.items() if k not in MANIFEST_REVISION_KEYS} == \
            {k: v for k, v in m_cold.items() if k not in MANIFEST_REVISION_KEYS}, period
        assert {k: v for k, v in m_inc["files"].items() if k not in REVISION_FILES} == \
            {k: v for k, v in m_cold["files"].items() if k not in REVISION_FILES}, period
        if m_inc["revision"] == 1:
            assert (other / "report.html").read_bytes() == (folder / "report.html").read_bytes(), period


def _batches(files: list, cuts: list[int], idle: list[bool]) -> list[list]:
    """The files split at `cuts` (in received order); a run with nothing new after each `idle` one."""
    edges = [0, *sorted(set(c for c in cuts if 0 < c < len(files))), len(files)]
    out = []
    for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False)):
        out.append(files[a:b])
        if i < len(idle) and idle[i]:
            out.append([])
    return out


@pytest.mark.e2e
@settings(max_examples=1, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(1, N_DEMO - 1), min_size=1, max_size=2),
       idle=st.lists(st.booleans(), max_size=1))
@example(cuts=[N_DEMO - 1], idle=[True])  # the bench's case: one new workbook, then a run with nothing
def test_incremental_runs_end_as_the_cold_run(tmp_path_factory, demo_inbox, cold, cuts, idle):
    batches = _batches(demo_inbox, cuts, idle)
    assert sum(map(len, batches)) == N_DEMO
    mp = pytest.MonkeyPatch()
    mp.delenv(db.ENV, raising=False)
    try:
        home = Home.at(tmp_path_factory.mktemp("incremental")).ensure().root
        for batch in batches:
            _arrive(batch, home)
            summary = _run(home)
            assert summary["intake"]["files"] == len(batch)
            if not batch:  # nothing new: neither dbt nor the extracts do anything
                assert not summary["warehouse"].get("built")
                assert "exports" not in summary["timings"]
            else:  # dbt parsed the project in a second process while the files were read
                assert summary["warehouse"]["dbt_process"] == "prepared"
    finally:
        mp.undo()
    _assert_same_extracts(cold, home)
    tables = _tables(cold)
    assert tables["raw.submissions"] and tables["main.mart_indicator_values"]
    assert tables["intermediate.int_form_measures"]
    assert _tables(home) == tables


@pytest.mark.e2e
def test_a_data_only_build_after_voids_equals_a_full_build(tmp_path_factory, cold):
    """Voiding the latest submission of periods that had an earlier one makes the earlier current again:
    the incremental models (by form and submission, by office) must drop the voided rows and bring the
    earlier ones back, exactly as a full build of the same raw layer does."""
    from ingest.ledger import LedgerState
    from pcve.app import pipeline
    from pcve.app.intake import void
    from pcve.app.warehouse.build import build

    mp = pytest.MonkeyPatch()
    mp.delenv(db.ENV, raising=False)
    try:
        home = tmp_path_factory.mktemp("voids") / "home"
        shutil.copytree(cold, home, symlinks=True)
        state = LedgerState.load(Home.at(home).ledger)
        accepted = sorted((s for s in state.submissions.values() if s.status == "accepted"), key=lambda s: s.seq)
        by_period: dict = {}
        for s in accepted:
            by_period.setdefault((s.office, s.period), []).append(s)
        again = [subs[-1] for subs in by_period.values() if len(subs) > 1]
        assert again, "the demo has periods sent twice and accepted twice"
        alone = next(subs[0] for subs in by_period.values() if len(subs) == 1)  # its period empties
        for s in [*again, alone]:
            void(home, s.submission_id, reason="test")
        summary = pipeline.run(home)
        assert summary["warehouse"]["built"] and not summary["warehouse"]["selection"].startswith("all")
        incremental = _tables(home)
        assert not any(r for r in incremental["intermediate.int_form_measures"]
                       if r[2] in {s.submission_id for s in [*again, alone]})
        assert build(home, force=True)["built"]  # --full-refresh: every model made anew
        assert _tables(home) == incremental
    finally:
        mp.undo()


def test_batches_keep_every_file_once_and_in_order():
    files = list(range(10))
    for cuts, idle in (([3, 7], [True, False]), ([9, 1, 9], []), ([], [True])):
        batches = _batches(files, cuts, idle)
        assert [f for b in batches for f in b] == files
        assert sum(1 for b in batches if not b) == sum(idle[: len([c for c in set(cuts) if 0 < c < 10]) + 1])


# --- the ledger read once per run: what is cached is what a fresh read finds ----------------------

_EVENT = st.fixed_dictionaries({"event": st.sampled_from(["received", "accepted", "rejected"]),
                                "n": st.integers(0, 10**6), "name": st.text(max_size=12)})


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.one_of(
    st.tuples(st.just("append"), st.lists(_EVENT, min_size=1, max_size=3)),
    st.tuples(st.just("torn"), st.text(alphabet="{}\":ab1 ", min_size=1, max_size=10)),
    st.tuples(st.just("rewrite"), st.lists(_EVENT, max_size=4)),
    st.tuples(st.just("replace"), st.lists(_EVENT, max_size=4)),
), min_size=1, max_size=8))
def test_cached_ledger_read_equals_a_fresh_parse(tmp_path_factory, steps):
    from ingest import ledger as L

    path = tmp_path_factory.mktemp("ledger") / "ledger.jsonl"
    for kind, arg in steps:
        if kind == "append":
            L.append_many(path, arg)
        elif kind == "torn":  # a crash mid-append: a line without its end (the next append ends it)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(arg)
        else:  # written anew: in place (same inode) or by rename (another inode)
            text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in arg)
            if kind == "rewrite":
                path.write_text(text, encoding="utf-8")
            else:
                tmp = path.with_suffix(".tmp")
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(path)
        fresh = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                fresh.append(json.loads(line))
            except ValueError:
                pass
        assert L.read(path) == fresh
