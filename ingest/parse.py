"""From a received file to canonical rows per form, every value located.

Implements the layout rules of forms.md: sheets by name, header row by aliases
within the first rows, optional column-numbering row, data rows up to the first
empty or totals row, totals checked, text below the table ignored with a
warning (never echoed), numbers below the table an error. Type and vocabulary
problems found here are issues; range, period and cross-column rules are left
to the GX suites (expectations/), which see the typed values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ingest.normalise import (
    TerritoryMatcher,
    clean_text,
    code_matcher,
    fold,
    is_empty,
    parse_date,
    parse_int,
    parse_month,
    parse_number,
    parse_quarter,
)
from ingest.privacy import is_person_header, privacy_rule
from ingest.reader import ReadError, Sheet, column_letter, read_file
from pcve.config import Config, Form
from pcve.periods import Period, period_from_filename


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

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]


_CSV_NAME = re.compile(r"__([a-z_]+)$")


def csv_form(file_name: str) -> str | None:
    m = _CSV_NAME.search(Path(file_name).stem)
    return m[1] if m else None


def _display(value) -> str:
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return clean_text(value)[:100]


class FileParser:
    def __init__(self, cfg: Config, office: str):
        self.cfg = cfg
        self.office = cfg.offices[office]
        self.territories = TerritoryMatcher(cfg, office)
        self.codes = {dim: code_matcher(cfg, dim) for dim in cfg.codes}
        self.sheet_forms = {fold(name): f.name for f in cfg.forms.values() for name in [*f.sheet_names, f.name]}
        self.totals = {fold(t) for t in cfg.totals_markers}
        self.aliases = {
            f.name: {fold(a): c.name for c in f.columns for a in c.aliases} for f in cfg.forms.values()
        }

    # ------------------------------------------------------------ file level
    def parse(self, path: Path, file_name: str) -> ParsedFile:
        period = period_from_filename(file_name)
        form_of_csv = csv_form(file_name) if file_name.lower().endswith(".csv") else None
        scope = form_of_csv or "workbook"
        pf = ParsedFile(self.office.code, file_name, period, scope)
        if period is None:
            pf.issues.append(Issue("error", "period_missing"))
        elif period.kind != self.office.periodicity:
            pf.issues.append(Issue("error", "period_wrong_kind", params={
                "expected": self.office.periodicity, "found": period.token}))
        if file_name.lower().endswith(".csv") and form_of_csv not in self.cfg.forms:
            pf.issues.append(Issue("error", "csv_form_unknown", params={"forms": ", ".join(self.cfg.forms)}))
            return pf
        try:
            sheets = read_file(path, sheet_name_for_csv=form_of_csv or "csv", file_name=file_name)
        except ReadError as exc:
            pf.issues.append(Issue("error", exc.rule, params={"detail": exc.detail}))
            return pf
        seen: dict[str, str] = {}
        for sheet in sheets:
            form_name = form_of_csv or self.sheet_forms.get(fold(sheet.name))
            if form_name is None:
                if any(not is_empty(v) for r in sheet.rows for v in r):
                    pf.issues.append(Issue("warning", "unknown_sheet", sheet=sheet.name))
                continue
            if form_name in seen:
                pf.issues.append(Issue("error", "duplicate_form_sheet", sheet=sheet.name,
                                       params={"other": seen[form_name]}))
                continue
            seen[form_name] = sheet.name
            pf.rows[form_name] = self.parse_sheet(self.cfg.forms[form_name], sheet, period, pf.issues)
        if not seen:
            pf.issues.append(Issue("error", "no_recognised_sheet", params={
                "sheets": ", ".join(n for f in self.cfg.forms.values() for n in f.sheet_names)}))
        return pf

    # ------------------------------------------------------------ sheet level
    def _find_header(self, form: Form, rows: list[list]) -> tuple[int, dict[int, str]] | None:
        required = {c.name for c in form.columns if c.required and not (c.type == "territory" and form.office_wide)}
        aliases = self.aliases[form.name]
        for r in range(min(self.cfg.header_search_rows, len(rows))):
            mapping = {}
            for ci, v in enumerate(rows[r]):
                if isinstance(v, str) and (name := aliases.get(fold(v))):
                    mapping[ci] = name
            if required <= set(mapping.values()):
                return r, mapping
        return None

    def parse_sheet(self, form: Form, sheet: Sheet, period: Period | None, issues: list[Issue]) -> list[dict]:
        rows = sheet.rows
        found = self._find_header(form, rows)
        if found is None:
            best = self._best_header_guess(form, rows)
            missing = [c.name for c in form.columns if c.required and c.name not in best]
            labels = ", ".join(form.column(m).labels.get(self.office.language, m) for m in missing)
            issues.append(Issue("error", "header_not_found", sheet=sheet.name,
                                params={"rows": self.cfg.header_search_rows, "missing": labels}))
            return []
        hr, mapping = found
        header = rows[hr]
        # Columns: duplicates, unknown and person-naming headers.
        by_name: dict[str, int] = {}
        for ci, name in mapping.items():
            if name in by_name:
                issues.append(Issue("error", "duplicate_column", sheet=sheet.name, row=hr + 1,
                                    col=column_letter(ci), column=name))
            else:
                by_name[name] = ci
        for ci, v in enumerate(header):
            if ci in mapping or is_empty(v):
                continue
            text = clean_text(v)
            if is_person_header(text, self.cfg.person_headers):
                issues.append(Issue("error", "privacy_person_column", sheet=sheet.name, row=hr + 1,
                                    col=column_letter(ci)))
            else:
                issues.append(Issue("warning", "unknown_column", sheet=sheet.name, row=hr + 1,
                                    col=column_letter(ci), column=text[:60]))
        numeric_cols = {ci for name, ci in by_name.items() if form.column(name).type == "int"}

        r = hr + 1
        if r < len(rows) and self._is_numbering_row(rows[r]):
            r += 1
        out: list[dict] = []
        table_end = None
        while r < len(rows):
            row = rows[r]
            if all(is_empty(v) for v in row):
                table_end = r
                break
            first = next((v for v in row if not is_empty(v)), None)
            if isinstance(first, str) and fold(first) in self.totals:
                self._check_totals(form, sheet, r, row, by_name, out, issues)
                table_end = r + 1
                break
            out.append(self._parse_row(form, sheet, r, row, by_name, period, issues))
            r += 1
        # Below the table: text is ignored (never echoed), numbers are an error.
        if table_end is not None:
            ignored = 0
            for rr in range(table_end, len(rows)):
                row = rows[rr]
                nums = [ci for ci in numeric_cols if ci < len(row) and parse_number(row[ci])[1] is None
                        and not is_empty(row[ci])]
                if nums:
                    for ci in nums:
                        issues.append(Issue("error", "data_after_table", sheet=sheet.name, row=rr + 1,
                                            col=column_letter(ci), column=mapping.get(ci)))
                elif any(not is_empty(v) for v in row):
                    ignored += 1
            if ignored:
                issues.append(Issue("warning", "text_after_table", sheet=sheet.name, row=table_end + 1,
                                    params={"count": ignored}))
        if not out:
            issues.append(Issue("warning", "empty_form", sheet=sheet.name))
        return out

    def _best_header_guess(self, form: Form, rows: list[list]) -> set[str]:
        aliases = self.aliases[form.name]
        best: set[str] = set()
        for r in range(min(self.cfg.header_search_rows, len(rows))):
            names = {aliases[fold(v)] for v in rows[r] if isinstance(v, str) and fold(v) in aliases}
            if len(names) > len(best):
                best = names
        return best

    @staticmethod
    def _is_numbering_row(row: list) -> bool:
        nums = []
        for v in row:
            if is_empty(v):
                continue
            n, rule = parse_number(v)
            if rule or n != int(n):
                return False
            nums.append(int(n))
        return len(nums) >= 2 and nums == list(range(nums[0], nums[0] + len(nums))) and nums[0] in (0, 1)

    def _check_totals(self, form, sheet, r, row, by_name, out, issues):
        for name, ci in by_name.items():
            if form.column(name).type != "int" or ci >= len(row) or is_empty(row[ci]):
                continue
            total, rule = parse_int(row[ci])
            if rule:
                issues.append(Issue("error", rule, sheet=sheet.name, row=r + 1, col=column_letter(ci),
                                    column=name, value=_display(row[ci])))
                continue
            s = sum(x[name] for x in out if isinstance(x.get(name), int))
            if total != s:
                issues.append(Issue("error", "totals_mismatch", sheet=sheet.name, row=r + 1,
                                    col=column_letter(ci), column=name, value=str(total),
                                    params={"sum": s}))

    def _parse_row(self, form, sheet, r, row, by_name, period, issues) -> dict:
        rec: dict = {"_sheet": sheet.name, "_row": r + 1, "_cols": {}, "_privacy": None}
        flags = []
        flagged: set[int] = set()
        # Privacy first, over every cell of the row: the value never goes further.
        for ci, v in enumerate(row):
            if (rule := privacy_rule(v)) is not None:
                name = next((n for n, c in by_name.items() if c == ci), None)
                issues.append(Issue("error", rule, sheet=sheet.name, row=r + 1, col=column_letter(ci), column=name))
                flags.append(f"{column_letter(ci)}:{rule}")
                flagged.add(ci)
        if flags:
            rec["_privacy"] = ",".join(flags)
        if form.office_wide:
            rec["kato"] = self.office.root_kato
        for col in form.columns:
            ci = by_name.get(col.name)
            if ci is None:
                if col.type == "territory":
                    rec["kato"] = None
                else:
                    rec[col.name] = col.default
                continue
            letter = column_letter(ci)
            rec["_cols"][col.name] = letter
            raw = row[ci] if ci < len(row) else None
            if ci in flagged:
                rec[col.name if col.type != "territory" else "kato"] = None
                continue
            value, rule = self._convert(col, raw)
            if rule:
                issues.append(Issue("error", rule, sheet=sheet.name, row=r + 1, col=letter, column=col.name,
                                    value=_display(raw)))
                rec["_parse_errors"] = rec.get("_parse_errors", set()) | {col.name}
            if col.type == "territory":
                rec["kato"] = value
            else:
                rec[col.name] = value
        return rec

    def _convert(self, col, raw):
        if is_empty(raw):
            if col.default is not None:
                return col.default, None
            return None, None  # required-ness is a GX expectation
        t = col.type
        if t == "int":
            return parse_int(raw)
        if t == "month":
            return parse_month(raw)
        if t == "date":
            return parse_date(raw)
        if t == "quarter":
            p, rule = parse_quarter(raw)
            return (p.start if p else None), rule
        if t == "territory":
            return self.territories.match(raw)
        if t == "code":
            code, rule = self.codes[col.codes].match(raw)
            if rule:
                # Left as written (NFC) so the GX in-set expectation reports it.
                return clean_text(raw), None
            return code, None
        return clean_text(raw), None


def parse_file(cfg: Config, office: str, path: Path, file_name: str | None = None) -> ParsedFile:
    return FileParser(cfg, office).parse(Path(path), file_name or Path(path).name)
