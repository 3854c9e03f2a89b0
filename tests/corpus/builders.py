"""Writing spreadsheets the way offices make them: .xlsx, .ods and CSV bytes."""

from __future__ import annotations

import csv
import io
import random
import unicodedata
import zipfile
from datetime import date, datetime

Grid = list[list]


def nfd(value):
    """Decomposed Unicode (what some Mac and web tools produce), recursively."""
    if isinstance(value, str):
        return unicodedata.normalize("NFD", value)
    if isinstance(value, list):
        return [nfd(v) for v in value]
    if isinstance(value, dict):
        return {k: nfd(v) for k, v in value.items()}
    return value


def _ref(ref: str) -> tuple[int, int]:
    """'H5' -> (4, 7)."""
    letters = "".join(ch for ch in ref if ch.isalpha())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(ref[len(letters):]) - 1, col - 1


def xlsx(sheets: dict[str, Grid], merges: dict[str, list[str]] | None = None) -> bytes:
    """An .xlsx workbook; a string starting with '=' is a formula (saved without a calculated value)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, grid in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(grid, start=1):
            for c, v in enumerate(row, start=1):
                if v is not None:
                    ws.cell(row=r, column=c, value=v)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ods(sheets: dict[str, Grid], spans: dict[str, dict[str, tuple[int, int]]] | None = None) -> bytes:
    """An .ods workbook; spans: {sheet: {"A1": (rows, columns)}} for merged cells."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, grid in sheets.items():
        table = Table(name=name)
        span_at = {_ref(k): v for k, v in (spans or {}).get(name, {}).items()}
        covered = {(r, c) for (r0, c0), (nr, nc) in span_at.items()
                   for r in range(r0, r0 + nr) for c in range(c0, c0 + nc) if (r, c) != (r0, c0)}
        for r, row in enumerate(grid):
            tr = TableRow()
            for c, v in enumerate(row):
                if (r, c) in covered:
                    tr.addElement(CoveredTableCell())
                    continue
                kw = {}
                if (r, c) in span_at:
                    kw = {"numberrowsspanned": span_at[(r, c)][0], "numbercolumnsspanned": span_at[(r, c)][1]}
                if v is None:
                    cell = TableCell(**kw)
                elif isinstance(v, (datetime, date)):
                    cell = TableCell(valuetype="date", datevalue=v.isoformat(), **kw)
                    cell.addElement(P(text=v.isoformat()))
                elif isinstance(v, (int, float)):
                    cell = TableCell(valuetype="float", value=v, **kw)
                    cell.addElement(P(text=str(v)))
                else:
                    cell = TableCell(valuetype="string", **kw)
                    for line in str(v).split("\n"):
                        cell.addElement(P(text=line))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def csv_bytes(grid: Grid, delimiter: str = ",", bom: bool = False, encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in grid:
        w.writerow(["" if v is None else v for v in row])
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


# ---------------------------------------------------------------- files that cannot be opened
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def ole(*stream_names: str) -> bytes:
    """Bytes shaped like an OLE compound file naming the given streams (enough for a sniffer)."""
    body = b"".join(n.encode("utf-16-le") + b"\x00" * (64 - 2 * len(n)) for n in stream_names)
    return OLE_MAGIC + b"\x00" * 504 + body + b"\x00" * 1024


def corrupt_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types")
        zf.writestr("xl/workbook.xml", "not xml at all")
    return buf.getvalue()


def encrypted_ods() -> bytes:
    """A LibreOffice .ods saved with a password: a zip whose manifest lists encryption data."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                    'xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml">'
                    '<manifest:encryption-data manifest:checksum-type="SHA1/1K"/></manifest:file-entry>'
                    '</manifest:manifest>')
        zf.writestr("content.xml", random_bytes(512))
    return buf.getvalue()


def random_bytes(n: int = 4096, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    return bytes(rnd.randrange(256) for _ in range(n))
