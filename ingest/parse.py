"""From a received file to canonical rows per form, every value located.

Implements the layout rules of forms.md: sheets by name, header row by aliases
within the first rows, optional column-numbering row, data rows up to the first
empty or totals row, totals checked, text below the table ignored with a
warning (never echoed), numbers below the table an error. Type and vocabulary
problems found here are issues; range, period and cross-column rules are left
to the GX suites (expectations/), which see the typed values.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from ingest.reader import Limits, ReadError, Sheet, column_letter, read_file
from pcve.core.config import Config, Form
from pcve.core.model import Issue, ParsedFile
from pcve.core.normalise import (
    TerritoryMatcher,
    clean_text,
    code_matcher,
    fold,
    header_key,
    is_empty,
    parse_date,
    parse_int,
    parse_month,
    parse_number,
    parse_quarter,
    stored_text,
)
from pcve.core.periods import Period, period_from_filename
from pcve.core.privacy import is_person_header, mask, privacy_rule

log = logging.getLogger("pcve.parse")


_CSV_NAME = re.compile(r"__([a-z_]+)$")


def csv_form(file_name: str) -> str | None:
    m = _CSV_NAME.search(Path(file_name).stem.lower())
    return m[1] if m else None


def csv_sheet_name(file_name: str) -> str:
    """The sheet name Excel shows for a CSV file (its stem, at most 31 characters)."""
    return Path(file_name).stem[:31]


def display(value) -> str:
    """A cell's value as the office sees it in Excel, for messages (never for privacy-flagged cells)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)  # nan, inf, -inf: int() of them would raise
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M") if value.time() != time(0) else value.strftime("%d.%m.%Y")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return clean_text(value)[:100]


_TOTAL_WORDS = {"барлығы", "барлык", "барлыгы", "жиыны", "всего", "итого", "total", "барлығы:", "всего:"}


_MERGED = object()  # a cell covered by a merged number


def _cell(row: list, ci: int):
    return row[ci] if ci < len(row) else None


def _is_number_only(v) -> bool:
    n, rule = parse_number(v)
    return rule is None and n == int(n)


@dataclass
class _Header:
    row: int  # first header row (0-based)
    depth: int  # header rows (a second row of sub-headers under merged group headers)
    mapping: dict[int, str]  # column index -> canonical column name
    texts: dict[int, tuple[str, int]]  # column index -> (header text as written, 0-based row of its last line)


class FileParser:
    def __init__(self, cfg: Config, office: str, limits: Limits | None = None):
        self.cfg = cfg
        self.office = cfg.offices[office]
        self.territories = TerritoryMatcher(cfg, office)
        self.codes = {dim: code_matcher(cfg, dim) for dim in cfg.codes}
        self.sheet_forms = {fold(name): f.name for f in cfg.forms.values() for name in [*f.sheet_names, f.name]}
        self.totals = {fold(t) for t in cfg.totals_markers}
        self.total_words = self.totals | {fold(w) for w in _TOTAL_WORDS}
        self.aliases = {
            f.name: {header_key(a): c.name for c in f.columns for a in c.aliases} for f in cfg.forms.values()
        }
        self.limits = limits or Limits.from_config(cfg.limits)

    # ------------------------------------------------------------ file level
    def parse(self, path: Path, file_name: str) -> ParsedFile:
        """Never raises for what is in the file: every problem becomes a located issue.
        The name passes the privacy gate first: what is derived from it (the CSV's sheet name, the
        form token, the period) never carries an identifier further."""
        file_name = mask(file_name)
        try:
            return self._parse(path, file_name)
        except Exception as exc:  # a parser fault must not stop the run; no cell value is logged
            return internal_error_file(self.office.code, file_name, "parse", exc)

    def _parse(self, path: Path, file_name: str) -> ParsedFile:
        period = period_from_filename(file_name)
        is_csv = file_name.lower().endswith(".csv")
        form_of_csv = csv_form(file_name) if is_csv else None
        scope = form_of_csv or "workbook"
        pf = ParsedFile(self.office.code, file_name, period, scope)
        if period is None:
            pf.issues.append(Issue("error", "period_missing"))
        elif period.kind != self.office.periodicity:
            pf.issues.append(Issue("error", "period_wrong_kind", params={
                "expected": self.office.periodicity, "found": period.token}))
        if is_csv and form_of_csv not in self.cfg.forms:
            pf.issues.append(Issue("error", "csv_form_unknown", params={"forms": ", ".join(self.cfg.forms)}))
            return pf
        try:
            sheets = read_file(path, sheet_name_for_csv=csv_sheet_name(file_name), file_name=file_name,
                               limits=self.limits)
        except ReadError as exc:
            pf.issues.append(Issue("error", exc.rule, sheet=exc.sheet, row=exc.row, col=exc.col,
                                   params={"detail": exc.detail}))
            return pf
        seen: dict[str, str] = {}
        for sheet in sheets:
            sheet.name = mask(sheet.name)  # kept (issues, lineage): never with an identifier in it
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
        self._period_from_content(pf)
        return pf

    def _period_from_content(self, pf: ParsedFile) -> None:
        """forms.md: a name without a period token takes the period every dated cell (month, date,
        quarter) of the recognised sheets falls in, and says so (a warning the receipt shows); a
        name whose period no dated cell falls in, while all fall in one other period, is one
        `period_mismatch` naming both, instead of an `in_period` error per cell."""
        kind = self.office.periodicity
        found: set[Period] = set()
        for form_name, rows in pf.rows.items():
            dated = [c for c in self.cfg.forms[form_name].columns if c.type in ("month", "date", "quarter")]
            for row in rows:
                for c in dated:
                    v = row.get(c.name)
                    if not isinstance(v, date):
                        continue
                    if c.type == "quarter" and kind == "month":
                        found.add(Period("quarter", v.year, (v.month - 1) // 3 + 1))  # spans months: never one
                    elif kind == "month":
                        found.add(Period("month", v.year, v.month))
                    else:
                        found.add(Period("quarter", v.year, (v.month - 1) // 3 + 1))
        if len(found) != 1 or next(iter(found)).kind != kind:
            return
        content = next(iter(found))
        missing = [i for i in pf.issues if i.rule == "period_missing"]
        if missing and pf.period is None:
            pf.issues.remove(missing[0])
            pf.period = content
            pf.issues.append(Issue("warning", "period_from_content", params={"period": content.token}))
        elif pf.period is not None and pf.period.kind == kind and pf.period != content:
            pf.issues.append(Issue("error", "period_mismatch", params={"named": pf.period.token,
                                                                      "found": content.token}))

    # ------------------------------------------------------------ header
    def _required(self, form: Form) -> set[str]:
        return {c.name for c in form.columns if c.required and not (c.type == "territory" and form.office_wide)}

    @staticmethod
    def _origins(sheet: Sheet) -> dict[tuple[int, int], tuple[int, int]]:
        """Covered cell -> top-left cell of its merged range, for the rows a header can occupy."""
        out = {}
        for (r0, c0), (r1, c1) in sheet.merged:
            for r in range(r0, min(r1, r0 + 20) + 1):
                for c in range(c0, min(c1, c0 + 200) + 1):
                    if (r, c) != (r0, c0):
                        out[(r, c)] = (r0, c0)
        return out

    def _header_cell(self, sheet: Sheet, origins, r: int, c: int):
        v = _cell(sheet.rows[r], c)
        if is_empty(v) and (r, c) in origins:
            r0, c0 = origins[(r, c)]
            v = _cell(sheet.rows[r0], c0)
        return v

    def _map_header(self, form: Form, sheet: Sheet, origins, r: int, depth: int) -> _Header:
        aliases = self.aliases[form.name]
        width = max(len(sheet.rows[i]) for i in range(r, r + depth))
        mapping: dict[int, str] = {}
        texts: dict[int, tuple[str, int]] = {}
        for c in range(width):
            pieces: list[tuple[str, int]] = []
            for i in range(r, r + depth):
                v = self._header_cell(sheet, origins, i, c)
                if isinstance(v, (int, float)) and not isinstance(v, bool) and i > r:
                    continue
                t = clean_text(v)
                if t and (not pieces or pieces[-1][0] != t):
                    pieces.append((t, i))
            if not pieces:
                continue
            combined = " ".join(t for t, _ in pieces)
            texts[c] = (combined, pieces[-1][1])
            candidates = [combined, pieces[-1][0]]
            if len(pieces) > 1 and fold(pieces[-1][0]) in self.total_words:
                candidates += [t for t, _ in pieces[-2::-1]]  # "Қатысушылар" over "барлығы"
            for cand in candidates:
                if isinstance(cand, str) and (name := aliases.get(header_key(cand))):
                    mapping[c] = name
                    break
        return _Header(r, depth, mapping, texts)

    def _subheader_row(self, sheet: Sheet, origins, header: _Header, form: Form) -> bool:
        """Whether the row under the header continues it (sub-headers under merged group headers)."""
        r = header.row + header.depth
        if r >= len(sheet.rows) or header.depth >= 3:
            return False
        row = sheet.rows[r]
        cells = [(c, v) for c, v in enumerate(row) if not is_empty(v)]
        covered = [c for c in range(len(row)) if (r, c) in origins and origins[(r, c)][0] < r]
        if not cells:
            # an empty row inside vertically merged header cells is still the header
            return bool(covered) and all(origins[(r, c)][0] >= header.row for c in covered)
        for _, v in cells:
            if not isinstance(v, str) or parse_number(v)[1] is None or fold(v) in self.totals:
                return False
        deeper = self._map_header(form, sheet, origins, header.row, header.depth + 1)
        if len(deeper.mapping) <= len(header.mapping) or not set(header.mapping.values()) <= set(
                deeper.mapping.values()):
            return False
        # every text of the row is a header: it names a column, or says "total", or stands under a
        # column the rows above left unnamed (an unknown sub-column); data stands under named columns
        return all(c in deeper.mapping or fold(v) in self.total_words or c not in header.mapping
                   for c, v in cells)

    def _find_header(self, form: Form, sheet: Sheet) -> _Header | None:
        rows = sheet.rows
        required = self._required(form)
        origins = self._origins(sheet)
        for r in range(min(self.cfg.header_search_rows, len(rows))):
            header = self._map_header(form, sheet, origins, r, 1)
            if not required <= set(header.mapping.values()):
                # required columns split over two header rows (group header above sub-headers)
                if r + 1 >= len(rows):
                    continue
                # ...but the header starts here only if this row names columns itself and the next
                # row alone is not the header (a title line above the header is not a group header)
                if not header.mapping or required <= set(self._map_header(form, sheet, origins, r + 1, 1)
                                                         .mapping.values()):
                    continue
                deeper = self._map_header(form, sheet, origins, r, 2)
                if not required <= set(deeper.mapping.values()) or not self._subheader_row(
                        sheet, origins, header, form):
                    continue
                header = deeper
            while self._subheader_row(sheet, origins, header, form):
                header = self._map_header(form, sheet, origins, r, header.depth + 1)
            return header
        return None

    def _header_below_limit(self, form: Form, sheet: Sheet) -> int | None:
        """The row of a complete header found below the first rows (to tell the office where it is)."""
        required = self._required(form)
        origins = self._origins(sheet)
        for r in range(self.cfg.header_search_rows, min(len(sheet.rows), 100)):
            if required <= set(self._map_header(form, sheet, origins, r, 1).mapping.values()):
                return r
        return None

    def _best_header_guess(self, form: Form, sheet: Sheet) -> set[str]:
        origins = self._origins(sheet)
        best: set[str] = set()
        for r in range(min(self.cfg.header_search_rows, len(sheet.rows))):
            for depth in (1, 2):
                if r + depth > min(len(sheet.rows), self.cfg.header_search_rows):
                    continue
                names = set(self._map_header(form, sheet, origins, r, depth).mapping.values())
                if len(names) > len(best):
                    best = names
        return best

    # ------------------------------------------------------------ sheet level
    def parse_sheet(self, form: Form, sheet: Sheet, period: Period | None, issues: list[Issue]) -> list[dict]:
        rows = sheet.rows
        header = self._find_header(form, sheet)
        if header is None:
            lower = self._header_below_limit(form, sheet)
            if lower is not None:
                issues.append(Issue("error", "header_below_limit", sheet=sheet.name, row=lower + 1,
                                    params={"rows": self.cfg.header_search_rows, "found": lower + 1}))
                return []
            best = self._best_header_guess(form, sheet)
            missing = [c.name for c in form.columns if c.required and c.name not in best
                       and not (c.type == "territory" and form.office_wide)]
            labels = ", ".join(form.column(m).labels.get(self.office.language, m) for m in missing)
            issues.append(Issue("error", "header_not_found", sheet=sheet.name,
                                params={"rows": self.cfg.header_search_rows, "missing": labels}))
            return []
        mapping = header.mapping
        # Columns: duplicates, unknown and person-naming headers.
        by_name: dict[str, int] = {}
        for ci, name in sorted(mapping.items()):
            if name in by_name:
                issues.append(Issue("error", "duplicate_column", sheet=sheet.name, row=header.texts[ci][1] + 1,
                                    col=column_letter(ci), column=name))
            else:
                by_name[name] = ci
        for ci, (text, hr) in sorted(header.texts.items()):
            if ci in mapping:
                continue
            if is_person_header(text, self.cfg.person_headers):
                issues.append(Issue("error", "privacy_person_column", sheet=sheet.name, row=hr + 1,
                                    col=column_letter(ci)))
            else:
                issues.append(Issue("warning", "unknown_column", sheet=sheet.name, row=hr + 1,
                                    col=column_letter(ci), column=mask(text)[:60]))
        int_cols = {ci for name, ci in by_name.items() if form.column(name).type == "int"}
        mapped = set(by_name.values())

        r = header.row + header.depth
        if r < len(rows) and self._is_numbering_row(rows[r]):
            r += 1
        first_data = r
        data_rows: list[int] = []
        totals_row = None
        while r < len(rows):
            row = rows[r]
            if self._is_blank(row, mapped):
                break
            if self._is_totals(row, int_cols):
                totals_row = r
                break
            data_rows.append(r)
            r += 1
        table_end = r if totals_row is None else totals_row + 1
        fills = self._merge_fills(form, sheet, by_name, first_data, r, issues)
        out = [self._parse_row(form, sheet, rr, by_name, fills, issues) for rr in data_rows]
        if totals_row is not None:
            self._check_totals(form, sheet, totals_row, rows[totals_row], by_name, out, issues)
        # Below the table: text is ignored (never echoed), numbers are an error.
        ignored_at = None
        for rr in range(table_end, len(rows)):
            row = rows[rr]
            nums = [ci for ci in sorted(int_cols) if not is_empty(_cell(row, ci)) and parse_number(row[ci])[1] is None]
            if nums:
                for ci in nums:
                    issues.append(Issue("error", "data_after_table", sheet=sheet.name, row=rr + 1,
                                        col=column_letter(ci), column=mapping.get(ci)))
            elif not self._is_blank(row, mapped) and ignored_at is None:
                ignored_at = rr
        if ignored_at is not None:
            count = sum(1 for rr in range(ignored_at, len(rows)) if not self._is_blank(rows[rr], mapped)
                        and not any(not is_empty(_cell(rows[rr], ci)) and parse_number(rows[rr][ci])[1] is None
                                    for ci in int_cols))
            issues.append(Issue("warning", "text_after_table", sheet=sheet.name, row=ignored_at + 1,
                                params={"count": count}))
        if not out:
            issues.append(Issue("warning", "empty_form", sheet=sheet.name))
        return out

    @staticmethod
    def _is_blank(row: list, mapped: set[int]) -> bool:
        """Completely empty, or nothing but a row number in a column outside the table (pre-numbered rows)."""
        for ci, v in enumerate(row):
            if is_empty(v):
                continue
            if ci in mapped or not _is_number_only(v):
                return False
        return True

    def _is_totals(self, row: list, int_cols: set[int]) -> bool:
        """Barlygy/Всего/Итого/Total as the row's first non-empty cell, or alone in a later text cell."""
        first = True
        for ci, v in enumerate(row):
            if is_empty(v):
                continue
            if isinstance(v, str) and ci not in int_cols:
                f = fold(v)
                if f in self.totals:
                    return True
                if first and f.split(" ", 1)[0].rstrip(":") in self.totals:
                    return True
            first = False
        return False

    def _is_numbering_row(self, row: list) -> bool:
        """1, 2, 3, … under the header (possibly after letters: А, Б, 1, 2, …, as in statistical forms)."""
        nums, letters = [], 0
        for v in row:
            if is_empty(v):
                continue
            if not nums and isinstance(v, str) and re.fullmatch(r"[^\W\d_]", clean_text(v)):
                letters += 1
                continue
            n, rule = parse_number(v)
            if rule or n != int(n):
                return False
            nums.append(int(n))
        return len(nums) + letters >= 2 and bool(nums) and nums == list(range(nums[0], nums[0] + len(nums))) \
            and nums[0] in (0, 1)

    def _merge_fills(self, form, sheet: Sheet, by_name, first: int, end: int, issues) -> dict:
        """Values of vertically merged cells in the data rows (a month or district written once for
        several rows): the covered cells take the merged value; a merged number is an error."""
        fills: dict[tuple[int, int], object] = {}
        col_of = {ci: name for name, ci in by_name.items()}
        for (r0, c0), (r1, c1) in sheet.merged:
            if r1 == r0 or r1 < first or r0 >= end:
                continue
            for ci in range(c0, c1 + 1):
                name = col_of.get(ci)
                if name is None:
                    continue
                if form.column(name).type == "int":
                    issues.append(Issue("error", "merged_number_cells", sheet=sheet.name, row=r0 + 1,
                                        col=column_letter(c0), column=name,
                                        params={"range": f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"}))
                    for rr in range(max(r0 + 1, first), min(r1 + 1, end)):
                        fills[(rr, ci)] = _MERGED
                    break
                if ci != c0:
                    continue
                value = _cell(sheet.rows[r0], c0)
                for rr in range(max(r0 + 1, first), min(r1 + 1, end)):
                    fills[(rr, ci)] = value
        return fills

    def _check_totals(self, form, sheet, r, row, by_name, out, issues):
        for name, ci in by_name.items():
            if form.column(name).type != "int" or is_empty(_cell(row, ci)) or (r, ci) in sheet.uncalculated:
                continue
            if isinstance(row[ci], str) and fold(row[ci]) in ("х", "x", "-", "—", "–"):
                continue  # "not applicable" in a totals row
            if any(name in x.get("_parse_errors", ()) for x in out):
                continue  # the rows' own errors are reported; a sum over them means nothing
            if (r, ci) in sheet.errors:
                issues.append(Issue("error", "excel_error", sheet=sheet.name, row=r + 1, col=column_letter(ci),
                                    column=name, value=sheet.errors[(r, ci)]))
                continue
            total, rule = parse_int(row[ci], -(2**62), 2**62)  # a total is compared, not stored
            if rule:
                issues.append(Issue("error", rule, sheet=sheet.name, row=r + 1, col=column_letter(ci),
                                    column=name, value=display(row[ci])))
                continue
            s = sum(x[name] for x in out if isinstance(x.get(name), int))
            if total != s:
                issues.append(Issue("error", "totals_mismatch", sheet=sheet.name, row=r + 1,
                                    col=column_letter(ci), column=name, value=str(total),
                                    params={"sum": s}))

    def _parse_row(self, form, sheet: Sheet, r: int, by_name, fills, issues) -> dict:
        row = sheet.rows[r]
        rec: dict = {"_sheet": sheet.name, "_row": r + 1, "_cols": {}, "_raw": {}, "_privacy": None}
        flags = []
        flagged: set[int] = set()
        # Privacy first, over every cell of the row (and values merged into it): the value never goes further.
        cells = dict(enumerate(row))
        cells.update({ci: v for (rr, ci), v in fills.items() if rr == r and v is not _MERGED})
        for ci, v in sorted(cells.items()):
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
            key = "kato" if col.type == "territory" else col.name
            if ci is None:
                if col.type == "territory":
                    rec["kato"] = None
                else:
                    rec[col.name] = col.default
                continue
            letter = column_letter(ci)
            rec["_cols"][col.name] = letter
            if ci in flagged:
                rec[key] = None  # reported by the privacy rule; the value goes no further
                rec["_parse_errors"] = rec.get("_parse_errors", set()) | {col.name}
                continue
            raw = fills.get((r, ci), _cell(row, ci))
            if raw is _MERGED:
                rec[key] = None  # covered by a merged number, reported at the merged cell
                rec["_parse_errors"] = rec.get("_parse_errors", set()) | {col.name}
                continue
            if (r, ci) in sheet.errors:  # #DIV/0! and the like: calamine reads them as empty
                issues.append(Issue("error", "excel_error", sheet=sheet.name, row=r + 1, col=letter,
                                    column=col.name, value=sheet.errors[(r, ci)]))
                rec["_parse_errors"] = rec.get("_parse_errors", set()) | {col.name}
                rec[key] = None
                continue
            if (r, ci) in sheet.uncalculated:
                issues.append(Issue("error", "formula_not_calculated", sheet=sheet.name, row=r + 1, col=letter,
                                    column=col.name))
                rec["_parse_errors"] = rec.get("_parse_errors", set()) | {col.name}
                rec[key] = None
                continue
            if not is_empty(raw):
                rec["_raw"][col.name] = display(raw)
            value, rule = self._convert(col, raw)
            if rule:
                params = {"min": col.min, "max": col.max} if rule == "number_out_of_range" else {}
                issues.append(Issue("error", rule, sheet=sheet.name, row=r + 1, col=letter, column=col.name,
                                    value=display(raw), params=params))
                rec["_parse_errors"] = rec.get("_parse_errors", set()) | {col.name}
            rec[key] = value
        return rec

    def _convert(self, col, raw):
        if is_empty(raw):
            if col.default is not None:
                return col.default, None
            return None, None  # required-ness is a GX expectation
        t = col.type
        if t == "int":
            return parse_int(raw, min(col.min, -col.max), col.max)  # below min: GX's rule
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
        return stored_text(raw), None


def internal_error_file(office: str, file_name: str, stage: str, exc: BaseException | None = None,
                        detail: str = "") -> ParsedFile:
    """A file that a fault of the pipeline (not of the file) stopped at `stage`: rejected with
    `internal_error` naming the stage, the fault logged for the engineers, nothing of it loaded.
    No traceback and no cell value ever reaches the office or the log."""
    where = ""
    if exc is not None:
        tb = exc.__traceback__
        while tb and tb.tb_next:
            tb = tb.tb_next
        where = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else ""
        detail = detail or type(exc).__name__
    file_name = mask(file_name)
    log.error("%s failed on %r: %s%s", stage, file_name, detail, where)
    try:
        period = period_from_filename(file_name)
    except Exception:  # the name itself is what broke
        period = None
    pf = ParsedFile(office, file_name, period, "workbook")
    pf.issues.append(Issue("error", "internal_error", params={"stage": stage, "detail": detail}))
    return pf


def parse_file(cfg: Config, office: str, path: Path, file_name: str | None = None) -> ParsedFile:
    return FileParser(cfg, office).parse(Path(path), file_name or Path(path).name)
