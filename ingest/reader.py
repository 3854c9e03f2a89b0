"""Opening what an office sent: xlsx/ods with python-calamine, single-form CSV.

Returns plain grids (row 0 = Excel row 1, column 0 = A) so every later step can
name a cell as Excel would. Files that cannot be opened raise ReadError with a
rule name and an office-readable reason; limits stop hostile files early.

Besides the values, a sheet carries what calamine alone does not tell: its
merged ranges (xlsx from calamine, .ods from content.xml) and the cells holding
a formula without a calculated value (files written by programs that never ran
the formulas: calamine reads them as empty, which must not pass for "no data").
"""

from __future__ import annotations

import csv
import io
import logging
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from pcve.core.errors import PermanentError
from pcve.core.faults import checkpoint
from pcve.core.privacy import mask

log = logging.getLogger("pcve.reader")

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLS = 200
# Cells of a sheet's used range (rows x columns between its first and last value): calamine and
# Python hold the range dense, so one value in XFD1048576 would ask for 17 billion cells.
MAX_CELLS = 2_000_000
SPREADSHEET_EXT = {".xlsx", ".ods"}  # the contract: .xlsx or .ods; .xlsm (macros) and .xls are rejected
CSV_EXT = {".csv"}
SUPPORTED_EXT = SPREADSHEET_EXT | CSV_EXT


@dataclass(frozen=True)
class Limits:
    """What one file may cost, the same for .xlsx, .ods and .csv (config/forms.yml `limits:`).
    The reader checks the sizes before inflating anything; the sandbox (ingest/sandbox.py) holds the
    whole read and parse of a file to `seconds` of wall time and `memory_mb` of address space."""

    file_bytes: int = MAX_FILE_BYTES
    part_bytes: int = 64 * 1024 * 1024  # any one part of the zip, inflated (sharedStrings included)
    uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES  # all parts together
    rows: int = MAX_ROWS
    cols: int = MAX_COLS
    cells: int = MAX_CELLS
    cell_chars: int = 32_767  # Excel's own limit for one cell
    seconds: float = 60.0
    memory_mb: int = 1024

    @classmethod
    def from_config(cls, spec: dict | None) -> Limits:
        spec = spec or {}
        mb = 1024 * 1024
        return cls(
            file_bytes=int(spec.get("file_mb", MAX_FILE_BYTES // mb)) * mb,
            part_bytes=int(spec.get("part_mb", 64)) * mb,
            uncompressed_bytes=int(spec.get("uncompressed_mb", MAX_UNCOMPRESSED_BYTES // mb)) * mb,
            rows=int(spec.get("rows", MAX_ROWS)), cols=int(spec.get("columns", MAX_COLS)),
            cells=int(spec.get("cells", MAX_CELLS)), cell_chars=int(spec.get("cell_chars", 32_767)),
            seconds=float(spec.get("seconds", 60)), memory_mb=int(spec.get("memory_mb", 1024)))


DEFAULT_LIMITS = Limits()


class ReadError(PermanentError):
    def __init__(self, rule: str, detail: str = "", sheet: str | None = None, row: int | None = None,
                 col: str | None = None):
        super().__init__(rule)
        self.rule = rule
        self.detail = detail
        self.sheet, self.row, self.col = sheet, row, col  # where, when the limit is a cell's


Cell = tuple[int, int]  # (row, column), 0-based


@dataclass
class Sheet:
    name: str
    rows: list[list]
    merged: list[tuple[Cell, Cell]] = field(default_factory=list)  # ((r0, c0), (r1, c1)) inclusive
    uncalculated: set[Cell] = field(default_factory=set)  # formula cells without a cached value
    errors: dict[Cell, str] = field(default_factory=dict)  # cells showing a formula error (#DIV/0!)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _check_zip(path: Path, lim: Limits = DEFAULT_LIMITS) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                if info.flag_bits & 0x1:
                    raise ReadError("password_protected")
                if info.file_size > lim.part_bytes:  # a bomb in one part: sharedStrings, a sheet
                    raise ReadError("too_large", f"{lim.part_bytes // 2**20} MB uncompressed in one part")
                if total > lim.uncompressed_bytes:
                    raise ReadError("too_large", f"{lim.uncompressed_bytes // 2**20} MB uncompressed")
            if "META-INF/manifest.xml" in zf.namelist():
                # a password-protected .ods: a zip whose parts are encrypted, listed in its manifest
                if b"encryption-data" in zf.read("META-INF/manifest.xml")[:1_000_000]:
                    raise ReadError("password_protected")
    except zipfile.BadZipFile:
        with open(path, "rb") as fh:
            data = fh.read(lim.file_bytes)
        if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            # An OLE container: an encrypted (password-protected) OOXML workbook, or an old .xls.
            if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
                raise ReadError("password_protected") from None
            if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
                raise ReadError("old_xls") from None
            raise ReadError("password_protected_or_xls") from None
        if data.startswith(b"PK"):
            raise ReadError("cannot_open") from None  # a zip, but damaged or cut short
        raise ReadError("not_a_spreadsheet") from None


def read_spreadsheet(path: Path, lim: Limits = DEFAULT_LIMITS) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    size = path.stat().st_size
    if size == 0:
        raise ReadError("empty_file")
    if size > lim.file_bytes:
        raise ReadError("too_large", f"{lim.file_bytes // 2**20} MB")
    _check_zip(path, lim)
    # Scanned before calamine loads anything: the scan enforces the row, column and cell limits
    # on the cells that hold values, so a tiny file cannot make calamine allocate a huge range.
    try:
        extra = _scan_ods(path, lim) if _is_ods(path) else _scan_xlsx(path, lim)
    except ReadError:
        raise
    except (ET.ParseError, zipfile.BadZipFile):  # not well-formed XML (or a DTD/entity trick): not a workbook
        raise ReadError("cannot_open") from None
    except Exception as exc:  # go on without merge/formula details, but say so

        log.warning("could not scan %r for merges and formulas (%s)", mask(path.name), type(exc).__name__)
        extra = {}
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types; the office only needs "cannot open"
        name = type(exc).__name__
        raise ReadError("password_protected" if "Password" in name else "cannot_open") from None
    sheets = []
    try:
        for name in wb.sheet_names:
            checkpoint("read.sheet")
            sh = wb.get_sheet_by_name(name)
            if sh.total_height > lim.rows or sh.total_width > lim.cols or sh.total_height * sh.total_width > lim.cells:
                raise ReadError("too_large", f"more than {lim.rows} rows or {lim.cols} columns", sheet=name)
            merged = [((a[0], a[1]), (b[0], b[1])) for a, b in (sh.merged_cell_ranges or [])]
            rows = sh.to_python(skip_empty_area=False)
            _check_cells(name, rows, lim)
            sheets.append(Sheet(name, rows, merged))
    except ReadError:
        raise
    except Exception:
        raise ReadError("cannot_open") from None
    finally:
        wb.close()
    for sheet in sheets:
        merged, uncalculated, *errors = extra.get(sheet.name, ([], set()))
        if merged and not sheet.merged:
            sheet.merged = merged
        sheet.uncalculated = uncalculated
        sheet.errors = errors[0] if errors else {}
    return sheets


# ---------------------------------------------------------------- what calamine does not say
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def _cell_index(ref: str) -> Cell | None:
    m = _REF.fullmatch(ref.replace("$", ""))
    if not m:
        return None
    col = 0
    for ch in m[1]:
        col = col * 26 + ord(ch) - 64
    return int(m[2]) - 1, col - 1


def _is_ods(path: Path) -> bool:
    with zipfile.ZipFile(path) as zf:
        try:
            return zf.read("mimetype").startswith(b"application/vnd.oasis.opendocument.spreadsheet")
        except KeyError:
            return False


def _scan_xlsx(path: Path, lim: Limits = DEFAULT_LIMITS) -> dict[str, tuple]:
    """Per sheet name: ([], formula cells without a cached value, cells showing an error value).
    Merges come from calamine."""
    out: dict[str, tuple] = {}
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        if "xl/workbook.xml" not in names:
            return out
        rels = {}
        rels_name = "xl/_rels/workbook.xml.rels"
        if rels_name in names:
            for rel in ET.fromstring(zf.read(rels_name)).iter(f"{_NS_PKG_REL}Relationship"):
                target = rel.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
                rels[rel.get("Id")] = target
        for sh in ET.fromstring(zf.read("xl/workbook.xml")).iter(f"{_NS_MAIN}sheet"):
            part = rels.get(sh.get(f"{_NS_REL}id"))
            if not part or part not in names:
                continue
            if (quick := _quick_scan(zf, part, sh.get("name", ""), lim)) is not None:
                out[sh.get("name", "")] = quick
                continue
            missing: set[Cell] = set()
            errors: dict[Cell, str] = {}
            extent = _Extent(sh.get("name", ""), lim)
            col = -1  # column of the last cell of the current row (cells without r="" follow it)
            pending: list[int] = []  # columns of this row's values that carry no reference
            with zf.open(part) as fh:
                for _, el in ET.iterparse(fh, events=("end",)):
                    if el.tag == f"{_NS_MAIN}c":
                        f = el.find(f"{_NS_MAIN}f")
                        v = el.find(f"{_NS_MAIN}v")
                        ref = el.get("r")
                        idx = _cell_index(ref) if ref else None
                        col = idx[1] if idx else col + 1
                        if v is not None or el.find(f"{_NS_MAIN}is") is not None:
                            if idx:
                                extent.add(idx[0], col, 1, 1)
                            else:
                                pending.append(col)
                        # <v/> is a cached empty text only for a text formula (t="str")
                        if f is not None and (v is None or (v.text is None and el.get("t") != "str")):
                            if idx:
                                missing.add(idx)
                        if el.get("t") == "e" and v is not None:  # calamine reads an error value as empty
                            errors[idx or (extent.row, col)] = (v.text or "#VALUE!")[:16]
                        el.clear()
                    elif el.tag == f"{_NS_MAIN}row":
                        r = el.get("r")
                        row0 = int(r) - 1 if r and r.isdigit() else extent.row
                        if pending:
                            extent.add(row0, min(pending), 1, max(pending) - min(pending) + 1)
                            pending.clear()
                        extent.row, col = row0 + 1, -1
                        el.clear()
            out[sh.get("name", "")] = ([], missing, errors)
    return out


_QUICK_MAX_BYTES = 8 * 1024 * 1024  # larger sheets are streamed by the full scan
_CELL_TAG = re.compile(rb"<c[\s>/]")
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_PREFIXED_CELL_OR_FORMULA = re.compile(rb"<[A-Za-z_][\w.-]*:(?:c|f)[\s>/]")


def _quick_scan(zf: zipfile.ZipFile, part: str, sheet: str, lim: Limits = DEFAULT_LIMITS) -> tuple | None:
    """The common sheet in a fraction of the full scan's time (ElementTree costs ~2 ms a workbook,
    more than calamine's read): no formulas, and every cell tagged `<c r="A1"`. The range of ALL
    its cells, empty ones included, contains the range of the cells with values, so a sheet within
    the limits here is within them for the full scan too. Anything else (formulas, prefixed tags,
    cells without a reference, a range over a limit, a large part) returns None: the full scan."""
    if zf.getinfo(part).file_size > _QUICK_MAX_BYTES:
        return None
    with zf.open(part) as fh:  # bounded: a zip entry may lie about its size
        data = fh.read(_QUICK_MAX_BYTES + 1)
    if len(data) > _QUICK_MAX_BYTES:
        return None
    if b"<f" in data or b't="e"' in data or _PREFIXED_CELL_OR_FORMULA.search(data):
        return None
    refs = _CELL_REF.findall(data)
    if len(refs) != len(_CELL_TAG.findall(data)):
        return None
    if not refs:
        return [], set(), {}
    rows = [int(r) for _, r in refs]
    cols = []
    for letters in set(c for c, _ in refs):
        n = 0
        for ch in letters:
            n = n * 26 + ch - 64
        cols.append(n - 1)
    lo_r, hi_r, lo_c, hi_c = min(rows) - 1, max(rows) - 1, min(cols), max(cols)
    if lo_r < 0 or hi_r >= lim.rows or hi_c >= lim.cols or (hi_r - lo_r + 1) * (hi_c - lo_c + 1) > lim.cells:
        return None  # the full scan decides (it counts only cells with values)
    return [], set(), {}


class _Extent:
    """The used range of a sheet's values, checked against the limits as cells are seen."""

    def __init__(self, sheet: str, lim: Limits = DEFAULT_LIMITS):
        self.sheet = sheet
        self.lim = lim
        self.row = 0  # 0-based index of the next row (xlsx rows without r="")
        self.lo_r = self.lo_c = None
        self.hi_r = self.hi_c = -1

    def add(self, r: int, c: int, rows: int, cols: int) -> None:
        self.lo_r = r if self.lo_r is None else min(self.lo_r, r)
        self.lo_c = c if self.lo_c is None else min(self.lo_c, c)
        self.hi_r, self.hi_c = max(self.hi_r, r + rows - 1), max(self.hi_c, c + cols - 1)
        height, width = self.hi_r - self.lo_r + 1, self.hi_c - self.lo_c + 1
        lim = self.lim
        if self.hi_r >= lim.rows or self.hi_c >= lim.cols or height * width > lim.cells:
            raise ReadError("too_large", f"more than {lim.rows} rows, {lim.cols} columns or {lim.cells} cells",
                            sheet=self.sheet)


_NS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_NS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _scan_ods(path: Path, lim: Limits = DEFAULT_LIMITS) -> dict[str, tuple]:
    """Per sheet name: (merged ranges, formula cells without a value) from content.xml."""
    out: dict[str, tuple[list, set[Cell]]] = {}
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        sheet = None
        r = c = 0
        merged: list = []
        missing: set[Cell] = set()
        extent, row_reps = _Extent("", lim), 1
        for event, el in ET.iterparse(fh, events=("start", "end")):
            tag = el.tag
            if event == "start":
                if tag == f"{_NS_TABLE}table":
                    sheet, r, merged, missing = el.get(f"{_NS_TABLE}name", ""), 0, [], set()
                    extent = _Extent(sheet, lim)
                elif tag == f"{_NS_TABLE}table-row":
                    c = 0
                    row_reps = min(int(el.get(f"{_NS_TABLE}number-rows-repeated", "1")), 2 * lim.rows)
                continue
            if tag in (f"{_NS_TABLE}table-cell", f"{_NS_TABLE}covered-table-cell"):
                reps = min(int(el.get(f"{_NS_TABLE}number-columns-repeated", "1")), 16384)
                if tag == f"{_NS_TABLE}table-cell" and (el.get(f"{_NS_OFFICE}value-type") or len(el)):
                    extent.add(r, c, row_reps, reps)  # a value, repeated down and across
                if tag == f"{_NS_TABLE}table-cell" and r < lim.rows:
                    rs = int(el.get(f"{_NS_TABLE}number-rows-spanned", "1"))
                    cs = int(el.get(f"{_NS_TABLE}number-columns-spanned", "1"))
                    if rs > 1 or cs > 1:
                        merged.append(((r, c), (r + rs - 1, c + cs - 1)))
                    if el.get(f"{_NS_TABLE}formula") and el.get(f"{_NS_OFFICE}value-type") is None:
                        missing.update((r, c + k) for k in range(min(reps, lim.cols)))
                c += reps
                el.clear()
            elif tag == f"{_NS_TABLE}table-row":
                r += min(int(el.get(f"{_NS_TABLE}number-rows-repeated", "1")), 2 * lim.rows)
                el.clear()
            elif tag == f"{_NS_TABLE}table" and sheet is not None:
                out[sheet] = (merged, missing)
                sheet = None
    return out


def read_csv(path: Path, sheet_name: str, lim: Limits = DEFAULT_LIMITS) -> list[Sheet]:
    """A single-form CSV under the same limits as a workbook: size, rows, columns, cells and
    characters per cell, each checked as the text is read, before anything is built from it."""
    if path.stat().st_size > lim.file_bytes:  # before reading it into memory
        raise ReadError("too_large", f"{lim.file_bytes // 2**20} MB")
    data = path.read_bytes()
    if not data:
        raise ReadError("empty_file")
    if len(data) > lim.file_bytes:
        raise ReadError("too_large", f"{lim.file_bytes // 2**20} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadError("csv_not_utf8") from None
    del data
    delimiter = _delimiter(text, lim)
    # A line with more delimiters than a sheet has columns and no quote cannot be within the limit:
    # refused before csv splits it into millions of fields.
    for n, line in enumerate(_head_lines(text, lim.rows + 1)):
        if line.count(delimiter) >= lim.cols and '"' not in line:
            raise ReadError("too_large", f"more than {lim.cols} columns", sheet=sheet_name, row=n + 1)
    csv.field_size_limit(max(lim.cell_chars + 2, 1024))
    rows: list[list] = []
    cells = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise ReadError("cell_too_long", f"more than {lim.cell_chars} characters", sheet=sheet_name,
                                row=reader.line_num) from None
            raise ReadError("not_a_spreadsheet") from None
        if len(row) > lim.cols:
            raise ReadError("too_large", f"more than {lim.cols} columns", sheet=sheet_name, row=len(rows) + 1)
        cells += len(row)
        if len(rows) >= lim.rows or cells > lim.cells:
            raise ReadError("too_large", f"more than {lim.rows} rows or {lim.cells} cells", sheet=sheet_name)
        rows.append(row)
    _check_cells(sheet_name, rows, lim)
    return [Sheet(sheet_name, rows)]


def _head_lines(text: str, limit: int):
    start = 0
    for _ in range(limit):
        if start >= len(text):
            return
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        yield text[start:end]
        start = end + 1


def _check_cells(sheet: str, rows: list[list], lim: Limits) -> None:
    """Characters per cell: a 200,000-character cell is refused, located, not stored."""
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if type(v) is str and len(v) > lim.cell_chars:
                raise ReadError("cell_too_long", f"{len(v)} > {lim.cell_chars} characters", sheet=sheet,
                                row=r + 1, col=column_letter(c))


def _delimiter(text: str, lim: Limits = DEFAULT_LIMITS) -> str:
    """`;` or `,`: the one that splits the first lines into more columns (ties: `,`).

    Counting characters on the first line is not enough: a title line, or a
    header such as "Последователи, с которыми ..." holds commas in a `;` file.
    """
    head = "\n".join(line[: (lim.cell_chars + 3) * 4] for line in _head_lines(text, 20))
    width = {}
    for d in (",", ";"):
        try:
            width[d] = max((len(r) for r in csv.reader(io.StringIO(head, newline=""), delimiter=d)), default=0)
        except csv.Error:
            width[d] = 0
    return ";" if width[";"] > width[","] else ","


def read_file(path: Path, sheet_name_for_csv: str = "csv", file_name: str | None = None,
              limits: Limits = DEFAULT_LIMITS) -> list[Sheet]:
    """Read by the extension of the name the office gave (archived copies have none)."""
    ext = Path(file_name or path.name).suffix.lower()
    if ext in CSV_EXT:
        return read_csv(path, sheet_name_for_csv, limits)
    if ext in SPREADSHEET_EXT:
        return read_spreadsheet(path, limits)
    raise ReadError("unsupported_file_type", ext or "(no extension)")
