"""Writers: openpyxl (demo, styled) and a minimal direct XLSX writer (synth, fast). Both give
the same bytes on every run: fixed document properties and zip entry times."""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from pcve.demo.model import Grid, Submission
from pcve.periods import ALMATY_TZ


def _w3c(ts: datetime) -> str:
    return ts.replace(tzinfo=ALMATY_TZ).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _normalise_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite an xlsx zip with fixed entry times and fixed created/modified properties."""
    stamp = _w3c(when).encode()
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            content = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, content)
            zout.writestr(_zinfo(info.filename, when), content)
    return out.getvalue()


def _zinfo(name: str, when: datetime) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.create_system = 3
    zi.external_attr = 0o100644 << 16
    return zi


def xlsx_openpyxl(grids: list[Grid], when: datetime, creator: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wb = Workbook()
    wb.remove(wb.active)
    for g in grids:
        ws = wb.create_sheet(g.name)
        for r, row in enumerate(g.cells, start=1):
            for c, v in enumerate(row, start=1):
                if v is None:
                    continue
                cell = ws.cell(row=r, column=c, value=v)
                if isinstance(v, date):
                    cell.number_format = g.date_formats.get(c - 1, "dd.mm.yyyy")
                if r - 1 == g.header_row:
                    cell.font = Font(bold=True)
                    cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
                    cell.border = border
                elif r - 1 < g.header_row:
                    cell.font = Font(bold=True, size=12)
        for r0, c0, r1, c1 in g.merges:
            if c1 > c0:
                ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
        for k, w in enumerate(g.widths, start=1):
            ws.column_dimensions[get_column_letter(k)].width = w
    wb.properties.creator = creator
    wb.properties.lastModifiedBy = creator
    wb.properties.created = when
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue(), when)


_EPOCH = date(1899, 12, 30)
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def xlsx_direct(grids: list[Grid], when: datetime, creator: str) -> bytes:
    """A small, valid SpreadsheetML package (shared strings, a date style, merges, widths)."""
    sst: dict[str, int] = {}
    sheets_xml = []
    letters = [_col_letter(i) for i in range(64)]
    for g in grids:
        parts = []
        nrow = len(g.cells)
        ncol = max((len(r) for r in g.cells), default=1)
        for r, row in enumerate(g.cells):
            rc = []
            rn = r + 1
            bold = ' s="2"' if r == g.header_row else ""
            for c, v in enumerate(row):
                if v is None:
                    continue
                ref = f"{letters[c]}{rn}"
                if isinstance(v, str):
                    idx = sst.setdefault(v, len(sst))
                    rc.append(f'<c r="{ref}" t="s"{bold}><v>{idx}</v></c>')
                elif isinstance(v, bool):
                    rc.append(f'<c r="{ref}" t="b"><v>{int(v)}</v></c>')
                elif isinstance(v, datetime):
                    serial = (v - datetime(1899, 12, 30)).total_seconds() / 86400
                    rc.append(f'<c r="{ref}" s="1"><v>{serial!r}</v></c>')
                elif isinstance(v, date):
                    rc.append(f'<c r="{ref}" s="1"><v>{(v - _EPOCH).days}</v></c>')
                else:
                    rc.append(f'<c r="{ref}"><v>{v!r}</v></c>')
            if rc:
                parts.append(f'<row r="{rn}">{"".join(rc)}</row>')
        cols = "".join(f'<col min="{k}" max="{k}" width="{w}" customWidth="1"/>'
                       for k, w in enumerate(g.widths, start=1))
        merges = [(r0, c0, r1, c1) for r0, c0, r1, c1 in g.merges if c1 > c0]
        mxml = ""
        if merges:
            mxml = f'<mergeCells count="{len(merges)}">' + "".join(
                f'<mergeCell ref="{letters[c0]}{r0 + 1}:{letters[c1]}{r1 + 1}"/>' for r0, c0, r1, c1 in merges
            ) + "</mergeCells>"
        sheets_xml.append(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<dimension ref="A1:{letters[ncol - 1]}{max(nrow, 1)}"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + f'<sheetData>{"".join(parts)}</sheetData>{mxml}</worksheet>'
        )

    def t(s: str) -> str:
        s = escape(_BAD_XML.sub("", s))
        return f'<t xml:space="preserve">{s}</t>' if s != s.strip() or "\n" in s else f"<t>{s}</t>"

    sst_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
               f'count="{len(sst)}" uniqueCount="{len(sst)}">'
               + "".join(f"<si>{t(s)}</si>" for s in sst) + "</sst>")
    n = len(grids)
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          + "".join(f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for k in range(1, n + 1))
          + '<Override PartName="/xl/styles.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
          '<Override PartName="/xl/sharedStrings.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
          '<Override PartName="/docProps/core.xml" '
          'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
          '<Override PartName="/docProps/app.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
          "</Types>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
            'metadata/core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>")
    wb = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
          + "".join(f'<sheet name="{escape(g.name, {chr(34): "&quot;"})}" sheetId="{k}" r:id="rId{k}"/>'
                    for k, g in enumerate(grids, start=1))
          + "</sheets></workbook>")
    wb_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
               + "".join(f'<Relationship Id="rId{k}" Type="http://schemas.openxmlformats.org/officeDocument/'
                         f'2006/relationships/worksheet" Target="worksheets/sheet{k}.xml"/>'
                         for k in range(1, n + 1))
               + f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
               'relationships/styles" Target="styles.xml"/>'
               f'<Relationship Id="rId{n + 2}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
               'relationships/sharedStrings" Target="sharedStrings.xml"/>'
               "</Relationships>")
    styles = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd\\.mm\\.yyyy"/></numFmts>'
              '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
              '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
              '<fills count="2"><fill><patternFill patternType="none"/></fill>'
              '<fill><patternFill patternType="gray125"/></fill></fills>'
              '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
              '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
              '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
              '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
              '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
              '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
              "</styleSheet>")
    stamp = _w3c(when)
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
            'terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:creator>{escape(creator)}</dc:creator><cp:lastModifiedBy>{escape(creator)}</cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>')
    app = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           "<Application>Microsoft Excel</Application></Properties>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in [("[Content_Types].xml", ct), ("_rels/.rels", rels), ("docProps/core.xml", core),
                           ("docProps/app.xml", app), ("xl/workbook.xml", wb),
                           ("xl/_rels/workbook.xml.rels", wb_rels), ("xl/styles.xml", styles),
                           ("xl/sharedStrings.xml", sst_xml)] + [
                              (f"xl/worksheets/sheet{k}.xml", s) for k, s in enumerate(sheets_xml, start=1)]:
            z.writestr(_zinfo(name, when), text.encode("utf-8"))
    return out.getvalue()


def write_file(path: Path, data: bytes, sub: Submission) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (sub.mtime, sub.mtime))
    return path
