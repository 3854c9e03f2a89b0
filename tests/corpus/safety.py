"""The cases of issue 13 (safety by construction), built by code: each one broke a promise of
the pipeline once (poison pills, identifiers in names, inexact numbers, unbounded work).

Each `Case` names the outcome the invariants demand: rejected with the rules listed (None:
accepted) and the cells they must name. `secrets` are identifiers planted anywhere in the file
(names, sheets, headers, cells): none may appear in any table, log line, report or file name
the pipeline writes.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date

from .builders import csv_bytes, xlsx
from .hostile import EVENTS_KK, _rewrite

IIN_SHEET = "870412300123"
IIN_HEADER = "880512300456"
IIN_STEM = "890612300789"
IIN_BIDI = "900712300111"
PHONE_BIDI = "87015559911"
IIN_LONGNAME = "910812300222"
SECRETS = (IIN_SHEET, IIN_HEADER, IIN_STEM, IIN_BIDI, PHONE_BIDI, IIN_LONGNAME)


@dataclass
class Case:
    kind: str
    name: str
    data: bytes
    rules: set[str] | None  # error rules; None = accepted
    cells: set[str] = field(default_factory=set)
    office: str = "almaty"


def events(month: int, rows: list[list] | None = None, header: list | None = None, sheet: str = "Іс-шаралар",
           year: int = 2018) -> bytes:
    rows = rows if rows is not None else [[date(year, month, 5), "Медеу", "семинар", "Семинар", 10]]
    return xlsx({sheet: [header or EVENTS_KK, *rows]})


def _row(month: int, participants, title="Семинар", year: int = 2018) -> list:
    return [date(year, month, 5), "Медеу", "семинар", title, participants]


def _error_cell(data: bytes) -> bytes:
    """E2 (participants) holding a cached #DIV/0! error value, as Excel saves it."""
    def fn(name, b):
        if name.startswith("xl/worksheets/"):
            b = b.replace(b'<c r="E2" t="n"><v>10</v></c>', b'<c r="E2" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
        return b
    return _rewrite(data, fn)


def _numeric_cell(data: bytes, literal: bytes) -> bytes:
    """E2 (participants) as a numeric cell holding `literal` verbatim (1e400, NaN, 2^63-1)."""
    def fn(name, b):
        if name.startswith("xl/worksheets/"):
            b = b.replace(b'<c r="E2" t="n"><v>10</v></c>', b'<c r="E2" t="n"><v>' + literal + b"</v></c>")
        return b
    return _rewrite(data, fn)


def shared_strings_bomb(megabytes: int = 80) -> bytes:
    """A workbook whose sharedStrings part inflates to `megabytes` (under the 300 MB total cap,
    over the 64 MB per-part limit); deflate makes it a few hundred KB."""
    base = events(1, [_row(1, 10)])
    zin = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    chunk = b"<si><t>" + b"A" * 1000 + b"</t></si>"
    n = megabytes * 1024 * 1024 // len(chunk)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zin.infolist():
            if info.filename == "xl/sharedStrings.xml":
                continue
            zo.writestr(info, zin.read(info.filename))
        with zo.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for _ in range(n):
                fh.write(chunk)
            fh.write(b"</sst>")
    return out.getvalue()


def cases() -> list[Case]:
    out = [
        # poison pills: each once stopped every later run
        Case("name of ~250 bytes (quarantine write)", "almaty_2018-01_" + "ә" * 115 + ".xlsx",
             events(1, [_row(1, "көп")]), {"not_a_number"}, {"Іс-шаралар!E2"}),
        Case("20-digit text in a count", "almaty_2018-02.xlsx", events(2, [_row(2, "99999999999999999999")]),
             {"number_out_of_range"}, {"Іс-шаралар!E2"}),
        Case("2^63-1 in a numeric cell", "almaty_2018-03.xlsx", _numeric_cell(events(3), b"9223372036854775807"),
             {"number_out_of_range"}, {"Іс-шаралар!E2"}),
        # wrong acceptance
        Case("a decimal comma fraction", "almaty_2018-04.xlsx", events(4, [_row(4, "1000000000,5")]),
             {"not_whole_number"}, {"Іс-шаралар!E2"}),
        Case("a tiny fraction", "almaty_2018-05.xlsx", events(5, [_row(5, "12.000000001")]),
             {"not_whole_number"}, {"Іс-шаралар!E2"}),
        # poor messages
        Case("1e400 in a numeric cell", "almaty_2018-06.xlsx", _numeric_cell(events(6), b"1e400"),
             {"not_finite"}, {"Іс-шаралар!E2"}),
        Case("NaN in a numeric cell", "almaty_2018-07.xlsx", _numeric_cell(events(7), b"NaN"),
             {"not_finite"}, {"Іс-шаралар!E2"}),
        Case("#DIV/0! in a count", "almaty_2018-08.xlsx", _error_cell(events(8)), {"excel_error"},
             {"Іс-шаралар!E2"}),
        Case("200,000-character CSV cell", "almaty_2018-09__events.csv",
             csv_bytes([EVENTS_KK, ["05.09.2018", "Медеу", "семинар", "x" * 200_000, 10]]), {"cell_too_long"}),
        Case("20 MB CSV of one line of ';'", "almaty_2018-10__events.csv", b";" * (20 * 1024 * 1024),
             {"too_large"}),
        Case("sharedStrings inflating past the part limit", "almaty_2018-11.xlsx", shared_strings_bomb(),
             {"too_large"}),
        # identifiers outside the table: masked wherever kept; the file is judged on its table
        Case("IIN in a sheet name", "almaty_2018-12.xlsx",
             xlsx({"Іс-шаралар": [EVENTS_KK, _row(12, 10)], f"ЖСН {IIN_SHEET}": [["ескерту"]]}), None),
        Case("IIN in an unknown column's header", "almaty_2017-01.xlsx",
             events(1, [[*_row(1, 10, year=2017), "x"]], header=[*EVENTS_KK, f"Ескерту {IIN_HEADER}"], year=2017),
             None),
        Case("IIN in a CSV's file-name stem", f"almaty_2017-02 {IIN_STEM}__events.csv",
             csv_bytes([EVENTS_KK, ["05.02.2017", "Медеу", "семинар", "Семинар", 10]]), None),
        Case("IIN in a ~250-byte name", f"almaty_2017-03 {IIN_LONGNAME} " + "ұ" * 110 + ".xlsx",
             events(3, [_row(3, 10, year=2017)], year=2017), None),
        # identifiers split by invisible marks, in a cell: rejected as the contract says
        Case("IIN split by U+200E in a title", "almaty_2017-04.xlsx",
             events(4, [_row(4, 10, title=f"Семинар {IIN_BIDI[:4]}\u200e{IIN_BIDI[4:]}", year=2017)], year=2017),
             {"privacy_iin"}, {"Іс-шаралар!D2"}),
        Case("phone split by U+200F in a title", "almaty_2017-05.xlsx",
             events(5, [_row(5, 10, title=f"тел. {PHONE_BIDI[:5]}\u200f{PHONE_BIDI[5:]}", year=2017)], year=2017),
             {"privacy_phone"}, {"Іс-шаралар!D2"}),
    ]
    return out
