"""The office template: every sheet and header in the office's language, dropdowns and
number/date checks, and a template filled in with valid values passes intake."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook

from ingest.parse import parse_file
from ingest.template import template_file_name, template_forms, write_template
from pcve.core.config import load_config
from pcve.core.normalise import TerritoryMatcher, code_matcher
from pcve.core.periods import parse_period

CFG = load_config()
OFFICES = [("almaty", "2017-03"), ("turkistan", "2025-Q3")]


def _header_row(ws, form) -> int:
    for r in range(1, 16):
        if ws.cell(row=r, column=1).value == form.columns[0].labels.get(_lang(ws)):
            return r
    raise AssertionError(f"no header on {ws.title}")


def _lang(ws) -> str:
    return ws.parent._pcve_lang  # set by the fixture


@pytest.fixture(scope="module", params=OFFICES, ids=[o for o, _ in OFFICES])
def template(request, tmp_path_factory):
    office, period = request.param
    path = tmp_path_factory.mktemp("tpl") / template_file_name(CFG, office, period)
    write_template(CFG, office, period, path)
    wb = load_workbook(path)
    wb._pcve_lang = CFG.offices[office].language
    return office, parse_period(period), path, wb


def _validations(ws) -> dict[str, str]:
    """Column letter -> validation type."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng.split(":")[0].rstrip("0123456789")] = dv.type
    return out


def _options(ws, dv_formula: str) -> list[str]:
    # "$A$3:$I$3" -> the values of that hidden row
    a, b = dv_formula.replace("$", "").split(":")
    row = int("".join(ch for ch in a if ch.isdigit()))
    return [c.value for c in ws[row] if c.value is not None][: ws[b].column]


def test_sheets_headers_and_title(template):
    office, period, path, wb = template
    lang = CFG.offices[office].language
    forms = template_forms(CFG, office)
    assert path.name == f"{office}_{period.token}.xlsx"
    assert wb.sheetnames == [f.sheets[lang] for f in forms]
    if office == "turkistan":
        assert len(forms) == len(CFG.forms)  # a quarterly office gets every form of the contract
    for form in forms:
        ws = wb[form.sheets[lang]]
        title = ws["A1"].value  # the title line: office, sheet and period
        assert period.token in title and getattr(CFG.offices[office], f"name_{lang}") in title
        hr = _header_row(ws, form)
        assert hr <= CFG.header_search_rows
        headers = [c.value for c in ws[hr] if c.value is not None]
        assert headers == [c.labels[lang] for c in form.columns if not (c.type == "territory" and form.office_wide)]
        for r in range(2, hr):
            assert ws.row_dimensions[r].hidden  # the dropdown lists


def test_dropdowns_and_checks(template):
    office, period, _, wb = template
    lang = CFG.offices[office].language
    territories = TerritoryMatcher(CFG, office)
    for form in template_forms(CFG, office):
        ws = wb[form.sheets[lang]]
        types = _validations(ws)
        columns = [c for c in form.columns if not (c.type == "territory" and form.office_wide)]
        for ci, col in enumerate(columns):
            letter = chr(65 + ci)
            if col.type in ("territory", "code", "month", "quarter"):
                assert types.get(letter) == "list", (ws.title, col.name)
            elif col.type == "int":
                assert types.get(letter) == "whole", (ws.title, col.name)
            elif col.type == "date":
                assert types.get(letter) == "date", (ws.title, col.name)
        for dv in ws.data_validations.dataValidation:
            col = columns[ord(str(dv.sqref)[0]) - 65]
            if dv.type == "whole":
                assert (dv.operator, dv.formula1) == ("greaterThanOrEqual", "0")
            if dv.type == "date":
                assert dv.formula1 == f"DATE({period.start.year},{period.start.month},{period.start.day})"
            if dv.type != "list":
                continue
            options = _options(ws, dv.formula1)
            if col.type == "territory":  # every option is a territory of the office, the root first
                assert [territories.match(o) for o in options][0] == (CFG.offices[office].root_kato, None)
                assert sorted(territories.match(o)[0] for o in options) == sorted(
                    t.kato for t in CFG.office_territories(office))
            elif col.type == "code":
                matcher = code_matcher(CFG, col.codes)
                assert sorted(matcher.match(o)[0] for o in options) == sorted(CFG.codes[col.codes])


def _fill(ws, form, lang, period, n_rows: int = 2) -> None:
    """Write valid values the way a clerk would, picking from the dropdowns."""
    hr = _header_row(ws, form)
    lists = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list":
            lists[str(dv.sqref)[0]] = _options(ws, dv.formula1)
    columns = [c for c in form.columns if not (c.type == "territory" and form.office_wide)]
    day = min(period.end, date(2025, 11, 1))
    for i in range(n_rows):
        for ci, col in enumerate(columns):
            letter = chr(65 + ci)
            cell = ws.cell(row=hr + 1 + i, column=ci + 1)
            if letter in lists:
                cell.value = lists[letter][(i + 1) % len(lists[letter])]
            elif col.type == "int":
                cell.value = 5 if col.name in ("conversations", "participants", "tasks_due") else 2
                if col.name in ("done_late", "participants_adherents"):
                    cell.value = 1
            elif col.type == "date":
                cell.value = day
            else:
                cell.value = f"Мәтін {i}" if lang == "kk" else f"Текст {i}"


def test_filled_template_passes_intake(template, tmp_path):
    from expectations.validate import validate_batch

    office, period, path, wb = template
    lang = CFG.offices[office].language
    forms = template_forms(CFG, office)
    for form in forms:
        _fill(wb[form.sheets[lang]], form, lang, period)
    filled = tmp_path / path.name
    wb.save(filled)
    pf = parse_file(CFG, office, filled)
    validate_batch(CFG, [pf], date(2025, 11, 20))
    assert pf.errors == [], [(i.rule, i.cell, i.value) for i in pf.errors]
    assert pf.warnings == []
    assert {f: len(r) for f, r in pf.rows.items()} == {f.name: 2 for f in forms}
    assert all(r.get("kato") for rows in pf.rows.values() for r in rows)


def test_blank_template_is_only_warned_about(template):
    office, _, path, _ = template
    pf = parse_file(CFG, office, path)
    assert pf.errors == [] and {i.rule for i in pf.warnings} == {"empty_form"}


def test_wrong_period_kind_is_refused(tmp_path):
    with pytest.raises(ValueError):
        write_template(CFG, "almaty", "2017-Q1", tmp_path / "x.xlsx")
    with pytest.raises(ValueError):
        write_template(CFG, "nowhere", "2017-03", tmp_path / "x.xlsx")
