"""The shared data model: a parsed file and the issues found in it.

The parser (ingest/) makes them, the GX validation (expectations/) reads them and adds its result,
the intake (pcve/app/) decides and loads them: so they live in the foundation, which every stage
may import, and no stage has to import another for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pcve.core.periods import Period
from pcve.core.privacy import mask


@dataclass
class Issue:
    severity: str  # error | warning
    rule: str
    sheet: str | None = None
    row: int | None = None  # Excel row number
    col: str | None = None  # Excel column letter
    column: str | None = None  # canonical column name or the header as written
    value: str | None = None  # never set for privacy rules
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        # The privacy gate for everything an issue carries out of the file (reports, warehouse, logs):
        # a sheet name, a header or a value quoted back never holds an IIN or a phone.
        if self.sheet:
            self.sheet = mask(self.sheet)
        if self.column:
            self.column = mask(self.column)
        if self.value:
            self.value = mask(self.value)
        for k, v in self.params.items():
            if isinstance(v, str) and v:
                self.params[k] = mask(v)

    @property
    def cell(self) -> str:
        """The cell as Excel names it: Іс-шаралар!H5, 'Лист 1'!B3."""
        if not self.sheet:
            return ""
        sheet = self.sheet
        if not re.fullmatch(r"[\w.-]+", sheet):
            sheet = "'" + sheet.replace("'", "''") + "'"
        if self.row and self.col:
            return f"{sheet}!{self.col}{self.row}"
        if self.row:
            return f"{sheet}!{self.row}:{self.row}"
        return sheet


@dataclass
class ParsedFile:
    office: str
    file_name: str
    period: Period | None
    scope: str  # workbook | <form>
    rows: dict[str, list[dict]] = field(default_factory=dict)  # form -> canonical rows
    issues: list[Issue] = field(default_factory=list)
    # form -> this file's GX validation result (JSON dict), set by expectations.validate.validate_batch
    validation: dict[str, dict] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]
