"""The portal's warm check is the same check as `pcve validate` (issue 18).

A warm process (pcve.app.check.warm: reader children started ahead, GX's bookkeeping memoised,
the config followed) must give, for every file, exactly the JSON `pcve validate --json` gives:
the hand-made corpus (tests/corpus: good files, every kind of bad one, files that cannot be
opened) and workbooks Hypothesis draws (tests/test_fuzz.py's mutated files, identifiers planted).

The reference is `pcve validate --json` itself, run by click in a separate, never-warmed
interpreter (GX as shipped, a reader child started for each file); one
such process answers every file so the test does not pay an interpreter start per file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.corpus.cases import all_cases, build
from tests.test_fuzz import fuzzed
from tests.test_safety import _iin

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # GX, a reference process and reader children: seconds, no server

# Reads {"office", "path"} lines, answers {"exit", "out"} lines: the exit code and stdout of
# `pcve validate PATH --office OFFICE --json`. First line: whether GX's memos are installed.
_REFERENCE = r"""
import json, sys
from click.testing import CliRunner
from pcve.app.cli import main
import expectations.validate as v
print(json.dumps({"memo": v._memo_installed}), flush=True)
runner = CliRunner()
for line in sys.stdin:
    job = json.loads(line)
    r = runner.invoke(main, ["validate", job["path"], "--office", job["office"], "--json"])
    print(json.dumps({"exit": r.exit_code, "out": r.stdout, "memo": v._memo_installed}), flush=True)
"""


class Reference:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", _REFERENCE], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, encoding="utf-8")
        assert json.loads(self.proc.stdout.readline()) == {"memo": False}

    def validate(self, office: str, path: Path) -> dict:
        self.proc.stdin.write(json.dumps({"office": office, "path": str(path)}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        assert answer["memo"] is False  # GX as shipped, every time
        data = json.loads(answer["out"])
        assert answer["exit"] == (4 if data["errors"] else 0)
        return data

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(60)


@pytest.fixture(scope="module")
def reference():
    ref = Reference()
    yield ref
    ref.close()


@pytest.fixture(scope="module")
def warm():
    from expectations import validate
    from pcve.app import check

    check.warm(children=2)
    assert validate._memo_installed and check._warm["ready"] is not None
    yield check
    check.cool()
    assert not validate._memo_installed and not check._warm


def _warm_json(check, office: str, path: Path) -> dict:
    # the portal names the file as the office did; `pcve validate` takes the path's name
    return json.loads(json.dumps(check.check_file(office, path, path.name), ensure_ascii=False, default=str))


def test_warm_check_equals_pcve_validate_on_the_corpus(warm, reference, tmp_path):
    cases = build(tmp_path, all_cases())
    decided = {"errors": 0, "clean": 0}
    for case in cases:
        expected = reference.validate(case.office, case.path)
        got = _warm_json(warm, case.office, case.path)
        assert got == expected, case.name
        decided["errors" if got["errors"] else "clean"] += 1
        # the corpus's own verdict, written by hand: the two agree with it, not just with each other
        assert bool(got["errors"]) == (not case.good), case.name
    assert decided["errors"] >= 20 and decided["clean"] >= 7  # both kinds went through both checks


def test_ready_children_are_used_once_and_replaced(warm, tmp_path):
    from tests.corpus.cases import g01_almaty_workbook

    case = build(tmp_path, [g01_almaty_workbook()])[0]
    ready = warm._warm["ready"]
    before = {w.proc._p.pid for w in ready._ready}
    assert len(before) == 2 and all(w.proc.is_alive() for w in ready._ready)
    first = warm.check_file(case.office, case.path, case.path.name)
    second = warm.check_file(case.office, case.path, case.path.name)
    after = {w.proc._p.pid for w in ready._ready}
    assert first == second and first["errors"] == 0
    assert len(after) == 2 and not before & after  # both used (one file each), two fresh ones waiting


def test_a_ready_child_that_died_is_never_given_a_file(warm, tmp_path):
    from tests.corpus.cases import g01_almaty_workbook

    case = build(tmp_path, [g01_almaty_workbook()])[0]
    ready = warm._warm["ready"]
    for w in ready._ready:
        w.proc.kill()
        w.proc.join(5)
    got = warm.check_file(case.office, case.path, case.path.name)
    assert got["errors"] == 0 and not [i for i in got["issues"] if i["rule"] == "internal_error"]
    assert len(ready._ready) == 2 and all(w.proc.is_alive() for w in ready._ready)


def test_a_config_change_reaches_the_warm_check_and_its_children(warm, tmp_path, monkeypatch):
    import shutil

    from pcve.core import config
    from tests.corpus.cases import g01_almaty_workbook

    case = build(tmp_path / "files", [g01_almaty_workbook()])[0]
    first = warm.check_file(case.office, case.path, case.path.name)
    before, read_before = warm._warm["ready"], warm.current_config()
    assert warm.current_config() is read_before  # read once while nothing changes
    copy = tmp_path / "config"
    shutil.copytree(config.CONFIG_DIR, copy)
    monkeypatch.setattr(config, "CONFIG_DIR", copy)
    with open(copy / "offices.yml", "a", encoding="utf-8") as fh:
        fh.write("\n# edited while the portal runs\n")
    assert warm.current_config() is not read_before  # re-read once a config file changed
    second = warm.check_file(case.office, case.path, case.path.name)
    after = warm._warm["ready"]
    assert after is not before and after.config_dir == str(copy)  # children of the edited config
    assert second == first
    monkeypatch.undo()  # the repo's config again, read anew (later load_config() calls get it too)
    assert warm.current_config() is config.load_config() is not read_before


@st.composite
def _workbook(draw):
    """test_fuzz's files: a table (cells replaced, identifiers planted) as xlsx, ods or CSV, its
    bytes mutated (zip entries, XML, values), under an office-typed name."""
    seed = draw(st.integers(0, 10**9))
    return draw(fuzzed(0, _iin(seed), f"+7 7{seed % 100:02d} {seed % 10**7:07d}"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(book=_workbook())
def test_warm_check_equals_pcve_validate_on_drawn_workbooks(warm, reference, tmp_path, book):
    name, data = book
    folder = tmp_path / f"drawn-{abs(hash(data)) % 10**9}"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    assert _warm_json(warm, "almaty", path) == reference.validate("almaty", path)


def test_ready_children_hold_intakes_limits(tmp_path):
    """A child started ahead is held to the same address-space limit and deadline as intake's: a
    bomb ends `too_large`, the good file after it is read by a fresh child, and a file past its
    time ends `too_slow` (the same assertions as tests/test_safety.py's, through ReadyChildren)."""
    from ingest.reader import Limits
    from ingest.sandbox import ReadyChildren, parse_sandboxed
    from pcve.core import config
    from tests.corpus.safety import events, shared_strings_bomb

    good, bomb = tmp_path / "good.xlsx", tmp_path / "bomb.xlsx"
    good.write_bytes(events(1))
    bomb.write_bytes(shared_strings_bomb(200))
    cfg_dir = str(config.CONFIG_DIR)
    for limits, expected in ((Limits(part_bytes=10**10, memory_mb=150, seconds=120), [[], ["too_large"], []]),
                             (Limits(seconds=0.001), [["too_slow"]] * 3)):
        ready = ReadyChildren(cfg_dir, limits, size=2, offices=("almaty",))
        try:
            got = []
            for path in (good, bomb, good):  # one check at a time, as the portal does
                pf = next(iter(parse_sandboxed([("almaty", str(path), "almaty_2018-01.xlsx")], limits,
                                               config_dir=cfg_dir, ready=ready)))
                got.append([i.rule for i in pf.errors])
                ready.refill()
            assert got == expected
        finally:
            ready.close()
