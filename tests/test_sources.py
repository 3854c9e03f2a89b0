"""An office's source is a location string: a local folder by default, any fsspec
URL (sftp://, s3://) by configuration alone. memory:// stands in for a remote
store here: the same fsspec code path, no server needed."""

from __future__ import annotations

import fsspec
import pytest

from pcve.app.intake import intake
from pcve.core.home import Home
from tests.workbooks import outreach_sheet, write_xlsx


@pytest.fixture()
def remote(monkeypatch, tmp_path):
    fs = fsspec.filesystem("memory")
    fs.rm("/pcve-remote", recursive=True) if fs.exists("/pcve-remote") else None
    monkeypatch.setenv("PCVE_SOURCE_ALMATY", "memory://pcve-remote/almaty")
    yield fs
    fs.rm("/pcve-remote", recursive=True)


def test_files_are_pulled_from_a_remote_location_and_reports_written_back(remote, tmp_path):
    local = write_xlsx(tmp_path / "almaty_2017-03.xlsx",
                       {"Әңгімелесу": outreach_sheet("наурыз 2017", [("Медеу", "ислам", 5, 9)])})
    remote.pipe("/pcve-remote/almaty/almaty_2017-03.xlsx", local.read_bytes())
    remote.pipe("/pcve-remote/almaty/notes.xlsx", b"not a spreadsheet")
    home = Home.at(tmp_path / "home").ensure()
    res = intake(home.root)
    almaty = res["offices"]["almaty"]
    assert [a["file"] for a in almaty["accepted"]] == ["almaty_2017-03.xlsx"]
    assert [r["file"] for r in almaty["rejected"]] == ["notes.xlsx"]
    # The office sees the outcome in its own store, under _reports/ (never read as a submission).
    reports = sorted(p.rsplit("/", 1)[-1] for p in remote.ls("/pcve-remote/almaty/_reports", detail=False))
    assert reports == ["almaty_2017-03.xlsx.receipt.html", "notes.xlsx.errors.csv", "notes.xlsx.errors.html"]
    # The received bytes are archived locally under their sha256: the warehouse never depends on the store.
    assert any(p.is_file() for p in (home.archive).rglob("*") if len(p.name) == 64)
    assert intake(home.root)["files"] == 0
