"""Intake decisions end to end on real files: ordering, supersede, duplicates,
rejection never blocking, quarantine naming, CSV scope, void, crash-resume."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from ingest import ledger as L
from ingest.intake import discover, intake, load_staged, stage_files, void
from pcve.home import Home
from tests.workbooks import outreach_sheet, set_mtime, write_xlsx


def _db(home):
    return duckdb.connect(str(Home.at(home).warehouse), read_only=True)


def _statuses(home):
    with _db(home) as con:
        return dict(con.execute("select file_name, status from raw.submissions order by seq").fetchall())


def two_months(rows):
    """An outreach sheet over March and April 2017: no one period in its content."""
    sheet = outreach_sheet("наурыз 2017", rows)
    sheet.append(["сәуір 2017", "Медеу", "ислам", 0, 0, None])
    return sheet


@pytest.fixture()
def home(tmp_path):
    h = Home.at(tmp_path / "home").ensure()
    (h.inbox / "almaty").mkdir(parents=True)
    return h


def test_supersede_duplicate_and_rejection_never_blocks(home):
    inbox = home.inbox / "almaty"
    write_xlsx(inbox / "almaty_2017-03.xlsx",
               {"Әңгімелесу": outreach_sheet("наурыз 2017", [("Медеу", "ислам", 5, 9)])}, "2017-04-03T10:00:00")
    # A correction seen in the same pull but modified later: it must win.
    write_xlsx(inbox / "almaty_2017-03_түзетілген.xlsx",
               {"Әңгімелесу": outreach_sheet("наурыз 2017", [("Медеу", "ислам", 6, 9)])}, "2017-04-05T10:00:00")
    # No period in the name: forms.md takes it from the content (every month in April 2017) and says so.
    nameless = write_xlsx(inbox / "almaty report.xlsx",
                          {"Әңгімелесу": outreach_sheet("сәуір 2017", [("Алмалы", "ислам", 2, 3)])},
                          "2017-05-02T09:00:00")
    # No period in the name and content over two months: rejected; a rejection never blocks a later file.
    write_xlsx(inbox / "almaty draft.xlsx", {"Әңгімелесу": two_months([("Алмалы", "ислам", 1, 1)])},
               "2017-05-02T10:00:00")
    res = intake(home.root)
    assert [r["file"] for r in res["offices"]["almaty"]["accepted"]] == [
        "almaty_2017-03.xlsx", "almaty_2017-03_түзетілген.xlsx", "almaty report.xlsx"]
    assert [r["period"] for r in res["offices"]["almaty"]["accepted"]][-1] == "2017-04"
    assert res["offices"]["almaty"]["rejected"][0]["rules"] == ["period_missing"]
    receipt = (inbox / "_reports" / "almaty report.xlsx.receipt.html").read_text(encoding="utf-8")
    assert "2017-04" in receipt and "мазмұнынан" in receipt  # "read from the content", in Kazakh
    # The same bytes under a name with the period: the period's current submission, nothing changes.
    shutil.copy(nameless, inbox / "almaty_2017-04.xlsx")
    set_mtime(inbox / "almaty_2017-04.xlsx", "2017-05-03T09:00:00")
    # The same bytes as the current 2017-03 submission under another name: changes nothing.
    shutil.copy(inbox / "almaty_2017-03_түзетілген.xlsx", inbox / "copy 2017-03.xlsx")
    set_mtime(inbox / "copy 2017-03.xlsx", "2017-05-04T09:00:00")
    res2 = intake(home.root)
    assert res2["offices"]["almaty"]["accepted"] == []
    assert [r["file"] for r in res2["offices"]["almaty"]["duplicate"]] == ["almaty_2017-04.xlsx", "copy 2017-03.xlsx"]
    # Nothing new: nothing is read again.
    assert discover(home.root, "almaty") == []
    assert intake(home.root)["files"] == 0
    with _db(home.root) as con:
        rows = con.execute("select s.file_name, o.adherents_new from raw.outreach o "
                           "join raw.submissions s using (submission_id) order by s.seq").fetchall()
    assert rows == [("almaty_2017-03.xlsx", 5), ("almaty_2017-03_түзетілген.xlsx", 6), ("almaty report.xlsx", 2)]
    assert _statuses(home.root)["almaty draft.xlsx"] == "rejected"
    # The rejected file is kept in quarantine with its report, and the office got it back under _reports/.
    q = home.quarantine / "almaty"
    assert (q / "almaty draft.xlsx").exists()
    errors = (q / "almaty draft.xlsx.errors.csv").read_text(encoding="utf-8-sig")
    assert errors.splitlines()[0].startswith("severity,sheet,row,column")
    assert "period_missing" in errors
    assert (inbox / "_reports" / "almaty draft.xlsx.errors.html").exists()
    assert (inbox / "_reports" / "almaty_2017-04.xlsx.receipt.html").exists()


def test_quarantine_never_overwrites_a_different_file_of_the_same_name(home):
    inbox = home.inbox / "almaty"
    p = write_xlsx(inbox / "almaty.xlsx", {"Әңгімелесу": two_months([("Медеу", "ислам", 1, 1)])},
                   "2017-04-01T10:00:00")
    intake(home.root)
    write_xlsx(p, {"Әңгімелесу": two_months([("Медеу", "ислам", 2, 2)])}, "2017-04-02T10:00:00")
    intake(home.root)
    names = sorted(x.name for x in (home.quarantine / "almaty").iterdir() if x.suffix == ".xlsx")
    assert names == ["almaty.xlsx", "almaty~2.xlsx"]


def test_workbook_replaces_omitted_forms_and_void_falls_back(home):
    inbox = home.inbox / "almaty"
    write_xlsx(inbox / "a_2017-03.xlsx", {
        "Әңгімелесу": outreach_sheet("наурыз 2017", [("Медеу", "ислам", 5, 9)]),
        "Оңалту": [["Ай", "Аудан", "Оңалту субъектісі", "Оңалтуға алынғандар", "Оңалтылды"],
                   ["наурыз 2017", "Медеу", "Орталық", 3, 1]],
    }, "2017-04-03T10:00:00")
    write_xlsx(inbox / "b_2017-03.xlsx", {"Әңгімелесу": outreach_sheet("наурыз 2017", [("Медеу", "ислам", 7, 9)])},
               "2017-04-04T10:00:00")
    res = intake(home.root)
    second = res["offices"]["almaty"]["accepted"][1]["submission_id"]
    with _db(home.root) as con:
        forms = con.execute("select form, present from raw.submission_forms where submission_id = ? "
                            "order by form", [second]).fetchall()
    assert ("rehabilitation", False) in forms and ("outreach", True) in forms
    void(home.root, second, "sent by mistake")
    state = L.LedgerState.load(home.ledger)
    assert state.submissions[second].status == "voided"
    assert state.current("almaty", "2017-03").file_name == "a_2017-03.xlsx"
    assert _statuses(home.root)["b_2017-03.xlsx"] == "voided"


def test_csv_replaces_only_its_form(home):
    inbox = home.inbox / "almaty"
    write_xlsx(inbox / "a_2017-03.xlsx", {"Әңгімелесу": outreach_sheet("наурыз 2017", [("Медеу", "ислам", 5, 9)])},
               "2017-04-03T10:00:00")
    csv_path = inbox / "fix_2017-03__outreach.csv"
    csv_path.write_bytes("\ufeffАй;Аудан;Бағыт;Алғаш әңгімелесу жүргізілген ұстанушылар;Әңгімелесулер саны\n"
                         "2017-03;Медеу ауданы;ислам;8;10\n".encode())
    set_mtime(csv_path, "2017-04-06T10:00:00")
    res = intake(home.root)
    acc = res["offices"]["almaty"]["accepted"]
    assert [a["file"] for a in acc] == ["a_2017-03.xlsx", "fix_2017-03__outreach.csv"]
    with _db(home.root) as con:
        scope = con.execute("select scope from raw.submissions where file_name like 'fix%'").fetchone()[0]
        forms = con.execute("select form from raw.submission_forms s join raw.submissions using (submission_id) "
                            "where file_name like 'fix%'").fetchall()
    assert scope == "outreach" and forms == [("outreach",)]


def test_cp1251_csv_is_rejected_with_the_save_as_message(home):
    p = home.inbox / "almaty" / "x_2017-03__outreach.csv"
    p.write_bytes("Ай;Аудан\nнаурыз 2017;Медеу\n".encode("cp1251"))
    res = intake(home.root)
    assert res["offices"]["almaty"]["rejected"][0]["rules"] == ["csv_not_utf8"]
    report = (home.quarantine / "almaty" / "x_2017-03__outreach.csv.errors.csv").read_text(encoding="utf-8-sig")
    assert "CSV UTF-8" in report


def test_privacy_value_never_leaves_the_file(home):
    iin = "870412300123"
    write_xlsx(home.inbox / "almaty" / "p_2017-03.xlsx", {"Іс-шаралар": [
        ["Күні", "Аудан", "Іс-шара түрі", "Атауы", "Қатысушылар"],
        ["05.03.2017", "Медеу", "семинар", f"Семинар, жауапты {iin}", 40],
        ["06.03.2017", "Медеу", "семинар", "тел. 8 (727) 123-45-67", 40],
    ]}, "2017-04-03T10:00:00")
    res = intake(home.root)
    assert res["offices"]["almaty"]["rejected"][0]["rules"] == ["privacy_iin", "privacy_phone"]
    for path in home.root.rglob("*"):
        if path.is_file() and "archive" not in path.parts and "quarantine" not in path.parts[-2:-1] \
                and not path.name.endswith(".xlsx"):
            data = path.read_bytes()
            assert iin.encode() not in data, path
            assert b"123-45-67" not in data, path
    report = (home.quarantine / "almaty" / "p_2017-03.xlsx.errors.csv").read_text(encoding="utf-8-sig")
    assert "Іс-шаралар!D2" in report and "Іс-шаралар!D3" in report
    assert oct((home.quarantine / "almaty" / "p_2017-03.xlsx").stat().st_mode)[-3:] == "600"


def test_a_crash_between_received_and_decision_resumes_with_the_same_id(home):
    write_xlsx(home.inbox / "almaty" / "a_2017-03.xlsx",
               {"Әңгімелесу": outreach_sheet("наурыз 2017", [("Медеу", "ислам", 5, 9)])}, "2017-04-03T10:00:00")
    refs = discover(home.root, "almaty")
    staged = stage_files(home.root, refs)
    st = json.loads(open(staged[0]["staged"], encoding="utf-8").read())
    # Simulate a kill right after the 'received' event was written.
    L.append(home.ledger, {"event": "received", "submission_id": "S000001", "seq": 1, "office": "almaty",
                           "file_name": st["file_name"], "sha256": st["sha256"], "size": refs[0]["size"],
                           "mtime": refs[0]["mtime"], "received_at": "2017-04-03T10:00:00",
                           "period": "2017-03", "scope": "workbook"})
    res = load_staged(home.root, "almaty", staged)
    assert res["accepted"][0]["submission_id"] == "S000001"
    assert L.LedgerState.load(home.ledger).next_seq == 2


@pytest.mark.slow
def test_parsing_in_several_processes_gives_the_serial_result(tmp_path, monkeypatch):
    """A large batch is read and parsed by a process pool: the staged results (rows, issues,
    periods, each at its own file's slot) are exactly those of parsing in this process."""
    from ingest import intake as intake_mod
    from pcve.demo import write_synth, write_synth_config

    res = write_synth(tmp_path / "inbox", offices=6, years=1, rows_per_sheet=5, seed=3, bad_share=0.05)
    from pcve.config import load_config

    monkeypatch.setattr("pcve.config.CONFIG_DIR", write_synth_config(res, tmp_path / "config"))
    load_config.cache_clear()  # cached per argument: load_config() must read the synthetic offices
    try:
        _compare_pool_and_serial(tmp_path, monkeypatch, res, intake_mod)
    finally:
        load_config.cache_clear()  # later tests read the project's config again


def _compare_pool_and_serial(tmp_path, monkeypatch, res, intake_mod):
    refs = [{"office": p.parent.name, "location": str(p.parent), "path": str(p), "name": p.name,
             "mtime": p.stat().st_mtime, "size": p.stat().st_size} for p in res["files"]]
    assert len(refs) >= intake_mod.PARSE_POOL_MIN_FILES
    runs = {}
    for workers in ("2", "1"):
        monkeypatch.setenv("PCVE_PARSE_WORKERS", workers)
        assert intake_mod._parse_workers(len(refs)) == int(workers)
        runs[workers] = stage_files(tmp_path / f"home{workers}", refs, in_memory=True)
    keep = ("file_name", "office", "period", "scope", "rows", "issues", "summaries")
    for a, b, ref in zip(runs["2"], runs["1"], refs, strict=True):
        assert a["name"] == b["name"] == ref["name"]
        assert {k: a["doc"][k] for k in keep} == {k: b["doc"][k] for k in keep}
    bad = {p.name for p in res["bad_files"]}
    flagged = {r["name"] for r in runs["2"] if r["errors"]}
    assert flagged and flagged <= bad  # broken drafts found by the workers too (some only at decision)
    assert intake_mod._parse_workers(intake_mod.PARSE_POOL_MIN_FILES - 1) == 1  # small batches: no pool
