"""The commands that had no test of their own: `pcve validate`, `pcve requeue`, `pcve purge` (exit
codes and output, through click in-process), and a file that only a Great Expectations rule rejects,
taken through the real pipeline (`pcve run`: intake, GX, dbt, exports).

The files are the demo's own workbooks (pcve.demo), one of them changed in one known cell, so what a
command must report is known from the change, not from the program's output."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from ingest import ledger as L
from ingest.intake import intake
from ingest.parse import parse_file
from pcve.cli import EXIT_INVALID, main
from pcve.config import load_config
from pcve.demo import Submission, demo_submissions
from pcve.demo.render import render_workbook
from pcve.demo.scenarios import office_geo
from pcve.demo.xlsx import write_file, xlsx_openpyxl
from pcve.home import Home

CFG = load_config()
GX_RULES = {e["meta"]["rule"] for p in (Path(__file__).resolve().parents[1] / "expectations" / "suites").glob("*.json")
            for e in json.loads(p.read_text(encoding="utf-8"))["expectations"]}


def _sub(office: str, token: str, status: str = "accepted") -> Submission:
    return next(s for s in demo_submissions() if s.office == office and s.period.token == token and s.status == status)


def _write(sub: Submission, folder: Path) -> Path:
    data = xlsx_openpyxl(render_workbook(CFG, sub, office_geo(CFG, sub.office)), sub.received, "test")
    return write_file(folder / sub.file_name, data, sub)


def _gx_only_bad(folder: Path) -> tuple[Path, dict]:
    """Almaty 2017-02 with one outreach row's conversations below its new adherents: every cell is
    well-formed (the parser has nothing to say), only the rule `conversations >= adherents_new` fails."""
    sub = _sub("almaty", "2017-02")
    row = next(r for r in sub.forms["outreach"] if r["adherents_new"] >= 2)
    row["conversations"] = row["adherents_new"] - 1
    return _write(sub, folder), row


def _run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.output


def _cell(path: Path, ref: str):
    """The value at `Sheet!E6` in the workbook, read with calamine (not the project's reader)."""
    sheet, addr = ref.rsplit("!", 1)
    m = re.fullmatch(r"([A-Z]+)(\d+)", addr)
    col = 0
    for ch in m[1]:
        col = col * 26 + ord(ch) - 64
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return rows[int(m[2]) - 1][col - 1], rows


def _header_of(rows: list[list], col: int, label: str) -> bool:
    return any(str(r[col]).replace("\n", " ").strip().casefold() == label.casefold() for r in rows if len(r) > col)


# ---------------------------------------------------------------- pcve validate
def test_validate_a_good_file_exits_0_and_counts_the_rows_the_scenario_wrote(tmp_path):
    sub = _sub("almaty", "2017-03")
    path = _write(sub, tmp_path)
    code, out = _run("validate", str(path), "--office", "almaty", "--json")
    assert code == 0, out
    got = json.loads(out)
    assert got["errors"] == 0 and got["period"] == "2017-03"
    assert got["rows"] == {f: len(rows) for f, rows in sub.forms.items()}
    assert not (tmp_path / "inbox").exists()  # a dry run: nothing stored


def test_validate_names_and_locates_the_gx_rule_and_exits_4(tmp_path):
    path, row = _gx_only_bad(tmp_path)
    code, out = _run("validate", str(path), "--office", "almaty", "--json")
    assert code == EXIT_INVALID == 4
    got = json.loads(out)
    (err,) = [i for i in got["issues"] if i["severity"] == "error"]
    assert err["rule"] == "gte_adherents_new" and err["rule"] in GX_RULES
    value, rows = _cell(path, err["cell"])
    assert value == row["conversations"] and err["value"] == str(row["conversations"])
    conv = CFG.forms["outreach"].column("conversations").labels["kk"]
    col = ord(err["column"]) - 65
    assert _header_of(rows, col, conv), (err, conv)
    # the text form, in English: the same rule at the same cell on one line
    code, text = _run("validate", str(path), "--office", "almaty", "--lang", "en")
    assert code == 4
    line = next(ln for ln in text.splitlines() if "gte_adherents_new" in ln)
    assert err["cell"] in line and "at least" in line


def test_validate_refuses_an_unknown_office_with_the_known_ones(tmp_path):
    path = _write(_sub("almaty", "2017-03"), tmp_path)
    code, out = _run("validate", str(path), "--office", "nowhere")
    assert code == 2
    assert "nowhere" in out and all(o in out for o in CFG.offices)


def test_validate_refuses_a_missing_file(tmp_path):
    code, out = _run("validate", str(tmp_path / "absent.xlsx"), "--office", "almaty")
    assert code == 2 and "absent.xlsx" in out


# ---------------------------------------------------------------- pcve requeue
def _home_with_rejection(tmp_path: Path) -> tuple[Home, Path]:
    """A home whose intake rejected the demo's draft of 2018-05 (a qualified number)."""
    h = Home.at(tmp_path / "home").ensure()
    draft = _sub("almaty", "2018-05", status="rejected")
    _write(draft, h.inbox / "almaty")
    intake(h.root, only_offices=["almaty"])
    (sub,) = L.LedgerState.load(h.ledger).submissions.values()
    assert sub.status == "rejected" and sub.quarantine_path
    return h, h.root / sub.quarantine_path


@pytest.mark.slow  # a real intake (sandboxed parser, GX) sets the home up
def test_requeue_processes_a_quarantined_file_again_and_says_what_it_decided(tmp_path):
    h, quarantined = _home_with_rejection(tmp_path)
    code, out = _run("requeue", str(quarantined), "--home", str(h.root), "--json")
    assert code == 0, out
    got = json.loads(out)
    assert got["accepted"] == [] and len(got["rejected"]) == 1  # the pipeline is unchanged: still rejected
    events = [e for e in L.LedgerState.load(h.ledger).events if e.get("event") == "requeued"]
    assert [e["submission_id"] for e in events] == [got["requeued"]]
    code, out = _run("requeue", str(quarantined), "--home", str(h.root))
    assert code == 0 and re.fullmatch(r"requeued S\d+: 0 accepted, 1 rejected\n", out), out


@pytest.mark.slow  # a real intake (sandboxed parser, GX) sets the home up
def test_requeue_refuses_a_file_that_is_not_in_quarantine(tmp_path):
    h, _ = _home_with_rejection(tmp_path)
    stray = _write(_sub("almaty", "2017-03"), tmp_path / "elsewhere")
    code, out = _run("requeue", str(stray), "--home", str(h.root))
    assert code == 2 and "is not a quarantined submission" in out
    code, out = _run("requeue", str(tmp_path / "absent.xlsx"), "--home", str(h.root))
    assert code == 2


# ---------------------------------------------------------------- pcve purge
def _iin_shaped() -> str:
    """An IIN-shaped number made at run time (birth date YYMMDD + six digits), never a literal."""
    return date(1990, 1, 1).strftime("%y%m%d") + str(3 * 10**5 + 123)


@pytest.mark.slow  # a real intake (sandboxed parser, GX) sets the home up
def test_purge_deletes_privacy_rejections_only_after_their_retention(tmp_path):
    h = Home.at(tmp_path / "home").ensure()
    secret = _iin_shaped()
    sub = _sub("almaty", "2017-03")
    sub.forms["events"][0]["title"] = f"Кездесу {secret}"
    _write(sub, h.inbox / "almaty")
    intake(h.root, only_offices=["almaty"])
    (s,) = L.LedgerState.load(h.ledger).submissions.values()
    assert s.status == "rejected" and s.privacy
    quarantined = h.root / s.quarantine_path
    archived = h.archive / s.sha256[:2] / s.sha256
    assert quarantined.exists()

    code, out = _run("purge", "--home", str(h.root))  # default retention (90 days): too early
    assert (code, out) == (0, "purged 0 file(s)\n")
    assert quarantined.exists()
    code, out = _run("purge", "--home", str(h.root), "--days", "0", "--json")
    assert code == 0 and json.loads(out) == {"purged": [s.submission_id]}
    assert not quarantined.exists() and not archived.exists()
    assert not list(quarantined.parent.glob(quarantined.name + ".errors.*"))
    assert (0, "purged 0 file(s)\n") == _run("purge", "--home", str(h.root), "--days", "0")  # once only
    ledger = h.ledger.read_text(encoding="utf-8")
    assert secret not in ledger and secret not in out
    assert [e["submission_id"] for e in map(json.loads, ledger.splitlines()) if e.get("event") == "purged"] \
        == [s.submission_id]


# ---------------------------------------------------------------- a file only GX rejects, end to end
@pytest.mark.e2e  # `pcve run`: intake, GX, dbt build and exports
def test_a_file_only_a_gx_rule_rejects_goes_through_the_pipeline_and_is_rejected_where_it_fails(tmp_path):
    h = Home.at(tmp_path / "home").ensure()
    path, row = _gx_only_bad(h.inbox / "almaty")
    good = _write(_sub("almaty", "2017-01"), h.inbox / "almaty")
    # the parser alone has nothing against it: only the GX suite rejects it
    assert parse_file(CFG, "almaty", path).errors == []
    assert parse_file(CFG, "almaty", good).errors == []

    code, out = _run("run", "--home", str(h.root), "--json")
    assert code == 0, out
    subs = {s.file_name: s for s in L.LedgerState.load(h.ledger).submissions.values()}
    bad, ok = subs[path.name], subs[good.name]
    assert (bad.status, ok.status) == ("rejected", "accepted")
    quarantined = h.root / bad.quarantine_path
    with quarantined.with_name(quarantined.name + ".errors.csv").open(encoding="utf-8-sig", newline="") as fh:
        report = list(csv.DictReader(fh))
    text = json.dumps(report, ensure_ascii=False)
    assert "gte_adherents_new" in text, report
    (err,) = [r for r in report if "gte_adherents_new" in json.dumps(r, ensure_ascii=False)]
    ref = next(v for v in err.values() if re.fullmatch(r".+![A-Z]+\d+", v or ""))
    value, _ = _cell(quarantined, ref)
    assert value == row["conversations"]
    # nothing of it reached the warehouse; the good file did
    import duckdb

    con = duckdb.connect(str(h.root / "warehouse.duckdb"), read_only=True)
    try:
        got = dict(con.execute("select file_name, status from main.fct_submissions").fetchall())
    finally:
        con.close()
    assert got[good.name] == "accepted" and got.get(path.name) in (None, "rejected")
