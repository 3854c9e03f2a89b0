"""The xlsx pre-scan (ingest/reader.py): its quick path gives what the full ElementTree scan
gives, and hands every case it does not cover to the full scan."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from ingest import reader
from ingest.reader import ReadError, _scan_xlsx


def _book(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Іс-шаралар"
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rewrite_sheet(data: bytes, fn) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zin.infolist():
            b = zin.read(info.filename)
            zo.writestr(info.filename, fn(b) if info.filename.startswith("xl/worksheets/") else b)
    return out.getvalue()


def _full_scan(path: Path, monkeypatch) -> dict:
    with monkeypatch.context() as m:
        m.setattr(reader, "_quick_scan", lambda *a: None)
        return _scan_xlsx(path)


ROWS = [["Күні", "Аудан", "Түрі", "Атауы", "Қатысушылар"], ["2017-03-05", "Медеу", "семинар", "Семинар", 10]]


def _case(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / f"{name}.xlsx"
    p.write_bytes(data)
    return p


def test_quick_path_taken_for_a_plain_sheet_and_agrees(tmp_path, monkeypatch):
    p = _case(tmp_path, "plain", _book(ROWS))
    calls = []
    real = reader._quick_scan
    monkeypatch.setattr(reader, "_quick_scan", lambda *a: calls.append(a) or real(*a))
    quick = _scan_xlsx(p)
    assert calls and quick == {"Іс-шаралар": ([], set(), {})}
    assert quick == _full_scan(p, monkeypatch)


def test_formula_without_cached_value_goes_to_the_full_scan(tmp_path, monkeypatch):
    # a formula cell with no <v>: only the full scan reports it as uncalculated
    data = _rewrite_sheet(_book(ROWS + [["Барлығы", None, None, None, 10]]),
                          lambda b: b.replace(b'<c r="E3" t="n"><v>10</v></c>', b'<c r="E3"><f>SUM(E2:E2)</f></c>'))
    p = _case(tmp_path, "formula", data)
    assert b"<f>" in zipfile.ZipFile(p).read("xl/worksheets/sheet1.xml")
    assert reader._quick_scan(zipfile.ZipFile(p), "xl/worksheets/sheet1.xml", "x") is None
    assert _scan_xlsx(p) == {"Іс-шаралар": ([], {(2, 4)}, {})}


def test_prefixed_tags_and_cells_without_reference_go_to_the_full_scan(tmp_path, monkeypatch):
    prefixed = _rewrite_sheet(_book(ROWS), lambda b: re.sub(rb"<(/?)c([ >])", rb"<\1x:c\2", b).replace(
        b"<worksheet ", b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '))
    unref = _rewrite_sheet(_book(ROWS), lambda b: b.replace(b'<c r="B2" ', b"<c "))
    for name, data in (("prefixed", prefixed), ("unref", unref)):
        p = _case(tmp_path, name, data)
        assert reader._quick_scan(zipfile.ZipFile(p), "xl/worksheets/sheet1.xml", "x") is None, name
        assert _scan_xlsx(p) == _full_scan(p, monkeypatch), name


def test_a_far_empty_styled_cell_is_left_to_the_full_scan_which_accepts_it(tmp_path, monkeypatch):
    # formatting far away (no value) is legal: the quick range counts it and declines; the full scan
    # counts values only and accepts the sheet
    data = _rewrite_sheet(_book(ROWS), lambda b: b.replace(
        b"</sheetData>", f'<row r="{reader.MAX_ROWS + 5}"><c r="A{reader.MAX_ROWS + 5}" s="0"/></row></sheetData>'.encode()))
    p = _case(tmp_path, "styled", data)
    assert reader._quick_scan(zipfile.ZipFile(p), "xl/worksheets/sheet1.xml", "x") is None
    assert _scan_xlsx(p) == {"Іс-шаралар": ([], set(), {})}
    # a value that far out is refused by the full scan, before calamine inflates the range
    far = _rewrite_sheet(_book(ROWS), lambda b: b.replace(
        b"</sheetData>", f'<row r="{reader.MAX_ROWS + 5}"><c r="A{reader.MAX_ROWS + 5}"><v>1</v></c></row>'
                         "</sheetData>".encode()))
    with pytest.raises(ReadError) as exc:
        _scan_xlsx(_case(tmp_path, "far", far))
    assert exc.value.rule == "too_large"
