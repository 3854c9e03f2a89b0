"""Opening what an office sent: xlsx/ods with python-calamine, single-form CSV.

Returns plain grids (row 0 = Excel row 1, column 0 = A) so every later step can
name a cell as Excel would. Files that cannot be opened raise ReadError with a
rule name and an office-readable reason; limits stop hostile files early.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLS = 200
SPREADSHEET_EXT = {".xlsx", ".ods"}  # the contract: .xlsx or .ods; .xlsm (macros) and .xls are rejected
CSV_EXT = {".csv"}
SUPPORTED_EXT = SPREADSHEET_EXT | CSV_EXT


class ReadError(Exception):
    def __init__(self, rule: str, detail: str = ""):
        super().__init__(rule)
        self.rule = rule
        self.detail = detail


@dataclass
class Sheet:
    name: str
    rows: list[list]


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                if info.flag_bits & 0x1:
                    raise ReadError("password_protected")
                if total > MAX_UNCOMPRESSED_BYTES:
                    raise ReadError("too_large", f"{MAX_UNCOMPRESSED_BYTES // 2**20} MB uncompressed")
    except zipfile.BadZipFile:
        # Encrypted OOXML is an OLE container, not a zip.
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise ReadError("password_protected_or_xls") from None
        raise ReadError("not_a_spreadsheet") from None


def read_spreadsheet(path: Path) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    size = path.stat().st_size
    if size == 0:
        raise ReadError("empty_file")
    if size > MAX_FILE_BYTES:
        raise ReadError("too_large", f"{MAX_FILE_BYTES // 2**20} MB")
    _check_zip(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types; the office only needs "cannot open"
        name = type(exc).__name__
        raise ReadError("password_protected" if "Password" in name else "cannot_open") from None
    sheets = []
    try:
        for name in wb.sheet_names:
            sh = wb.get_sheet_by_name(name)
            if sh.total_height > MAX_ROWS or sh.total_width > MAX_COLS:
                raise ReadError("too_large", f"sheet {name}: more than {MAX_ROWS} rows or {MAX_COLS} columns")
            sheets.append(Sheet(name, sh.to_python(skip_empty_area=False)))
    except ReadError:
        raise
    except Exception:
        raise ReadError("cannot_open") from None
    finally:
        wb.close()
    return sheets


def read_csv(path: Path, sheet_name: str) -> list[Sheet]:
    data = path.read_bytes()
    if not data:
        raise ReadError("empty_file")
    if len(data) > MAX_FILE_BYTES:
        raise ReadError("too_large", f"{MAX_FILE_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadError("csv_not_utf8") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    if len(rows) > MAX_ROWS:
        raise ReadError("too_large", f"more than {MAX_ROWS} rows")
    return [Sheet(sheet_name, rows)]


def read_file(path: Path, sheet_name_for_csv: str = "csv", file_name: str | None = None) -> list[Sheet]:
    """Read by the extension of the name the office gave (archived copies have none)."""
    ext = Path(file_name or path.name).suffix.lower()
    if ext in CSV_EXT:
        return read_csv(path, sheet_name_for_csv)
    if ext in SPREADSHEET_EXT:
        return read_spreadsheet(path)
    raise ReadError("unsupported_file_type", ext or "(no extension)")
