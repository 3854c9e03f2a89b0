"""A blank workbook for one office and period (`pcve template --office X --period P`).

Made so that a clerk can hardly submit a bad file: every form of the contract
on its own sheet (names and headers in the office's language, straight from
config/forms.yml), a title line naming the office and period, dropdowns for
territories, code values and the period's months/quarter, whole-number ≥ 0
checks on counts and date checks inside the period (forms that no row of the
office's period could satisfy are left out, see template_forms). The lists behind the
dropdowns sit in hidden rows above the header (no extra sheet to warn about);
a filled-in template passes intake as it is.
"""

from __future__ import annotations

from pathlib import Path

from pcve.core.config import Config, Form
from pcve.core.periods import Period, parse_period

DATA_ROWS = 300  # rows prepared with checks under the header

MONTH_NAMES = {
    "kk": ["қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан",
           "қараша", "желтоқсан"],
    "ru": ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
           "ноябрь", "декабрь"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}
_QUARTER_WORD = {"kk": "тоқсан", "ru": "квартал", "en": "quarter"}
_TEXT = {
    "kk": {"title": "{office}: {sheet}. Есепті кезең: {period}", "int": "Бүтін сан (0 немесе одан көп) жазыңыз.",
           "date": "Есепті кезеңдегі күнді жазыңыз ({start} – {end}).", "list": "Тізімнен таңдаңыз.",
           "bad": "Мән дұрыс емес", "hint": "Мәнді тізімнен таңдаңыз"},
    "ru": {"title": "{office}: {sheet}. Отчётный период: {period}", "int": "Введите целое число (0 или больше).",
           "date": "Введите дату в отчётном периоде ({start} – {end}).", "list": "Выберите значение из списка.",
           "bad": "Неверное значение", "hint": "Выберите значение из списка"},
    "en": {"title": "{office}: {sheet}. Reporting period: {period}", "int": "Enter a whole number (0 or more).",
           "date": "Enter a date inside the reporting period ({start} – {end}).", "list": "Pick a value from the list.",
           "bad": "Invalid value", "hint": "Pick a value from the list"},
}


def month_label(p: Period, lang: str) -> str:
    """'наурыз 2017' / 'март 2017': the way forms.md lets a clerk write a month."""
    return f"{MONTH_NAMES[lang][p.number - 1]} {p.year}"


def quarter_label(p: Period, lang: str) -> str:
    """'3 тоқсан 2025' / '3 квартал 2025'."""
    return f"{p.number} {_QUARTER_WORD[lang]} {p.year}"


def period_label(p: Period, lang: str) -> str:
    return month_label(p, lang) if p.kind == "month" else quarter_label(p, lang)


def _lists(cfg: Config, office_code: str, form: Form, period: Period, lang: str) -> dict[str, list[str]]:
    """Dropdown values per column name, in the office's language (each accepted by the parser)."""
    office = cfg.offices[office_code]
    out: dict[str, list[str]] = {}
    for col in form.columns:
        if col.type == "territory" and not form.office_wide:
            mine = cfg.office_territories(office_code)
            root = [t for t in mine if t.kato == office.root_kato]
            rest = sorted((t for t in mine if t.kato != office.root_kato), key=lambda t: getattr(t, f"name_{lang}"))
            out[col.name] = [getattr(t, f"name_{lang}") for t in root + rest]
        elif col.type == "code":
            out[col.name] = [c.labels.get(lang) or c.code for c in cfg.codes[col.codes].values()]
        elif col.type == "month":
            out[col.name] = [month_label(m, lang) for m in period.months()]
        elif col.type == "quarter":
            out[col.name] = [quarter_label(period.quarter(), lang)]
    return out


def _sheet(wb, cfg: Config, office_code: str, form: Form, period: Period, lang: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    office = cfg.offices[office_code]
    text = _TEXT[lang]
    ws = wb.create_sheet(form.sheets.get(lang) or form.sheet_names[0])
    columns = [c for c in form.columns if not (c.type == "territory" and form.office_wide)]
    ncols = len(columns)
    ws.cell(row=1, column=1, value=text["title"].format(
        office=getattr(office, f"name_{lang}"), sheet=ws.title, period=f"{period_label(period, lang)} ({period.token})"))
    ws.cell(row=1, column=1).font = Font(bold=True, size=12)
    lists = _lists(cfg, office_code, form, period, lang)
    list_row: dict[str, int] = {}
    r = 2
    for name, values in lists.items():
        for ci, v in enumerate(values, start=1):
            ws.cell(row=r, column=ci, value=v)
        ws.row_dimensions[r].hidden = True
        list_row[name] = r
        r += 1
    header_row = r
    first, last = header_row + 1, header_row + DATA_ROWS
    fill = PatternFill("solid", fgColor="DDEBF7")
    for ci, col in enumerate(columns, start=1):
        letter = get_column_letter(ci)
        cell = ws.cell(row=header_row, column=ci, value=col.labels.get(lang) or col.name)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[letter].width = max(12, min(40, len(cell.value) + 2))
        area = f"{letter}{first}:{letter}{last}"
        dv = None
        if col.name in lists:
            n = len(lists[col.name])
            src = f"$A${list_row[col.name]}:${get_column_letter(n)}${list_row[col.name]}"
            dv = DataValidation(type="list", formula1=src, allow_blank=True)
            dv.error, dv.prompt = text["list"], text["hint"]
        elif col.type == "int":
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
            dv.error = dv.prompt = text["int"]
        elif col.type == "date":
            start, end = period.start, period.end
            dv = DataValidation(type="date", operator="between", allow_blank=True,
                                formula1=f"DATE({start.year},{start.month},{start.day})",
                                formula2=f"DATE({end.year},{end.month},{end.day})")
            dv.error = dv.prompt = text["date"].format(start=start.strftime("%d.%m.%Y"), end=end.strftime("%d.%m.%Y"))
            for rr in range(first, last + 1):
                ws.cell(row=rr, column=ci).number_format = "DD.MM.YYYY"
        if dv is not None:
            dv.errorTitle = text["bad"]
            dv.showErrorMessage = True
            dv.showInputMessage = True
            dv.add(area)
            ws.add_data_validation(dv)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(ncols, 1))
    ws.row_dimensions[header_row].height = 45
    ws.freeze_panes = ws.cell(row=first, column=1)


def template_forms(cfg: Config, office: str) -> list[Form]:
    """Every form of the contract that the office can fill in for one of its periods.

    A form with a quarter column ruled "inside the period" cannot hold a valid row in a monthly
    submission (no quarter lies inside a month), so a monthly office's template leaves it out
    rather than offer a sheet on which every row would be rejected.
    """
    periodicity = cfg.offices[office].periodicity
    return [f for f in cfg.forms.values()
            if not (periodicity == "month" and any(c.type == "quarter" and "in_period" in c.rules for c in f.columns))]


def write_template(cfg: Config, office: str, period: Period | str, path: Path | str) -> Path:
    """Write the blank workbook for `office` and `period` (a Period or a token such as 2017-03).

    The period must be of the office's periodicity (as a file name token would be); the file
    name the office sends should keep the token, e.g. `almaty_2017-03.xlsx`.
    """
    from openpyxl import Workbook

    if office not in cfg.offices:
        raise ValueError(f"unknown office {office!r}; known: {', '.join(cfg.offices)}")
    p = parse_period(period) if isinstance(period, str) else period
    if p.kind != cfg.offices[office].periodicity:
        raise ValueError(f"office {office} reports per {cfg.offices[office].periodicity}, not per {p.kind}")
    lang = cfg.offices[office].language
    wb = Workbook()
    wb.remove(wb.active)
    for form in template_forms(cfg, office):
        _sheet(wb, cfg, office, form, p, lang)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def template_file_name(cfg: Config, office: str, period: Period | str) -> str:
    """A name that carries the period token, as intake needs: almaty_2017-03.xlsx."""
    p = parse_period(period) if isinstance(period, str) else period
    return f"{office}_{p.token}.xlsx"
