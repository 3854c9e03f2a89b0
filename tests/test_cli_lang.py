"""`pcve validate` and `pcve status` speak English, Kazakh or Russian (`--lang`, issue 17): the same facts
in each language, the rules' messages from ingest/messages.py, JSON unchanged by the language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.messages import MESSAGES
from pcve.cli import UI, main
from tests.workbooks import outreach_sheet, write_xlsx


@pytest.fixture(scope="module")
def bad_workbook(tmp_path_factory) -> Path:
    """An Almaty workbook whose adherents figure is text: one located error."""
    folder = tmp_path_factory.mktemp("lang")
    sheet = outreach_sheet("2017-03", [("Алмалы ауданы", "ислам", 3, 5), ("Алатау ауданы", "ислам", "көп", 2)])
    return write_xlsx(folder / "almaty_2017-03.xlsx", {"Әңгімелесу": sheet})


def _validate(path: Path, *extra: str):
    r = CliRunner().invoke(main, ["validate", str(path), "--office", "almaty", *extra])
    assert r.exit_code == 4, r.output  # the file would be rejected
    return r.output


@pytest.mark.slow
def test_validate_in_each_language(bad_workbook: Path):
    data = json.loads(_validate(bad_workbook, "--json"))
    (err,) = [i for i in data["issues"] if i["severity"] == "error"]
    assert {err["message_en"], err["message_kk"], err["message_ru"]} and len(
        {err["message_en"], err["message_kk"], err["message_ru"]}) == 3
    assert json.loads(_validate(bad_workbook, "--json", "--lang", "ru")) == data  # JSON has every language
    default = _validate(bad_workbook)  # Almaty writes in Kazakh
    by_lang = {lang: _validate(bad_workbook, "--lang", lang) for lang in ("en", "kk", "ru")}
    assert default == by_lang["kk"]
    for lang, out in by_lang.items():
        first = out.splitlines()[0]
        assert first.startswith("almaty_2017-03.xlsx: ") and "2017-03" in first
        line = next(x for x in out.splitlines() if err["cell"] in x)
        assert err["message_" + lang] in line and UI["error"][lang] in line
        others = {"en", "kk", "ru"} - {lang}
        assert not any(err["message_" + o] in out for o in others)
    assert "error(s)" in by_lang["en"] and "қателер" in by_lang["kk"] and "ошибок" in by_lang["ru"]


def test_every_rule_message_has_english():
    assert all(set(m) == {"kk", "ru", "en"} and all(m.values()) for m in MESSAGES.values())


def test_status_in_each_language(tmp_path: Path):
    events = [
        {"event": "received", "submission_id": "S000001", "seq": 1, "office": "almaty",
         "file_name": "almaty_2017-01.xlsx", "sha256": "a" * 64, "received_at": "2017-02-03T10:00:00+06:00",
         "period": "2017-01", "scope": "workbook"},
        {"event": "rejected", "submission_id": "S000001", "at": "2017-02-03T10:01:00+06:00", "errors": 1,
         "warnings": 0, "rules": ["not_a_number"]},
    ]
    (tmp_path / "ledger.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    outs = {}
    for lang in ("en", "kk", "ru"):
        r = CliRunner().invoke(main, ["status", "--home", str(tmp_path), "--office", "almaty", "--lang", lang])
        assert r.exit_code == 0, r.output
        outs[lang] = r.output
        assert "almaty_2017-01.xlsx" in r.output and "not_a_number" in r.output
        for key in ("rejected", "missing", "overdue", "month", "why"):
            assert UI[key][lang] in r.output, (lang, key)
    assert "Алматы" in outs["kk"] and "Алматы" in outs["ru"]
    r = CliRunner().invoke(main, ["status", "--home", str(tmp_path), "--office", "almaty"])
    assert r.output == outs["en"]  # English unless asked
