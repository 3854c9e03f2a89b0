"""The files of an extract, rendered to bytes from the same rows.

Every renderer is a pure function of its rows: no clock, no randomness, no
dictionary-order surprises, so the same warehouse content gives byte-identical
files (``indicators.csv``, ``indicators.xlsx``, ``dhis2.json``, ``sdmx.csv``).
Rows arrive already in their published order (office, indicator, territory
with the office total first).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from pcve.core.safe_text import FORMULA_TRIGGERS, needs_text_guard, safe_cell

#: SDMX dataflow the ministry's registry knows the extract under.
SDMX_AGENCY = "KZ_MIR"
SDMX_DATAFLOW = "DF_PCVE"
SDMX_VERSION = "1.0"
SDMX_STRUCTURE_ID = f"{SDMX_AGENCY}:{SDMX_DATAFLOW}({SDMX_VERSION})"
#: DHIS2 data sets the values are imported into (identifiers by code, idScheme=CODE): one per period
#: type, as DHIS2 checks a value's period against its data set's period type.
DHIS2_DATASETS = {"quarter": ("PCVE_Q", "Quarterly"), "year": ("PCVE_A", "Yearly")}
#: SDMX observation status (CL_OBS_STATUS): A normal value, P provisional value, M missing (a percentage
#: over a zero denominator: the value cannot exist; a suppressed value says so in CONF_STATUS instead).
OBS_FINAL, OBS_PROVISIONAL, OBS_MISSING = "A", "P", "M"
STATUS_TEXT = {OBS_FINAL: "final", OBS_PROVISIONAL: "provisional"}
STATUS_LABEL = {OBS_FINAL: "түпкілікті / окончательное", OBS_PROVISIONAL: "алдын ала / предварительное"}

CSV_COLUMNS = [
    "indicator_code", "office_code", "kato", "period", "value", "numerator", "denominator", "unit",
    "conf_status", "status",
    # extras for people and for checking; never anything run-dependent (no revision, no time)
    "indicator_name_kk", "indicator_name_ru", "indicator_name_en",
    "territory_level", "territory_name_kk", "territory_name_ru", "territory_name_en",
    "unit_name_kk", "unit_name_ru", "unit_name_en",
]
SDMX_COLUMNS = ["STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ", "REF_AREA", "INDICATOR", "TIME_PERIOD",
                "OBS_VALUE", "CONF_STATUS", "OBS_STATUS"]
CHANGES_COLUMNS = ["indicator_code", "office_code", "kato", "old", "new"]

#: Fixed document time of every XLSX (openpyxl would write the wall clock).
XLSX_EPOCH = datetime(2000, 1, 1, 0, 0, 0)
#: Fixed date of every member of the XLSX zip (the earliest a zip can hold).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)  # slots: ~200,000 rows at 20 offices x 10 years stay small
class Row:
    """One published value: indicator × office × territory × period."""

    indicator_code: str
    office_code: str
    kato: str
    period: str  # DHIS2 id: 2017Q1, 2017
    period_sdmx: str  # 2017-Q1, 2017
    freq: str  # Q | A
    unit: str  # persons | count | percent
    sort_order: int
    is_root: bool  # the office total (kato = office root)
    territory_level: str
    value: Decimal | None
    numerator: int | None
    denominator: int | None
    conf_status: str = "F"
    obs_status: str = OBS_FINAL  # P: the office's period is not complete (a provisional extract)
    indicator_name_kk: str = ""
    indicator_name_ru: str = ""
    indicator_name_en: str = ""
    territory_name_kk: str = ""
    territory_name_ru: str = ""
    territory_name_en: str = ""
    unit_name_kk: str = ""
    unit_name_ru: str = ""
    unit_name_en: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.indicator_code, self.office_code, self.kato)

    @property
    def is_percent(self) -> bool:
        return self.unit == "percent"

    @property
    def value_text(self) -> str:
        return format_value(self.value, self.is_percent)

    @property
    def status_label(self) -> str:
        return STATUS_LABEL[self.obs_status]


def percent(numerator: int | None, denominator: int | None) -> Decimal | None:
    """100 × num / den, rounded half-up to one decimal (exact decimal arithmetic); None when undefined."""
    if numerator is None or not denominator:
        return None
    return (Decimal(100 * int(numerator)) / Decimal(int(denominator))).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)


def format_value(value: Decimal | int | float | None, is_percent: bool) -> str:
    """``570`` for a count, ``43.0`` / ``6.3`` for a percentage, ``""`` when absent."""
    if value is None:
        return ""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if is_percent:
        return str(d.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return str(int(d.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _int_text(v: int | None) -> str:
    return "" if v is None else str(int(v))


def _csv_bytes(header: list[str], records: list[list[str]], bom: bool = False) -> bytes:
    """RFC 4180: CRLF line ends; `bom`: a UTF-8 byte order mark, so that Excel in a Russian or Kazakh
    locale reads the file as UTF-8 on double-click instead of the ANSI code page."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    first = _TRIGGER_CHARS
    # safe_cell, with the common case (text not starting with a trigger) decided inline
    w.writerows([c if type(c) is str and c[:1] not in first else safe_cell(c) for c in rec] for rec in records)
    return ("\ufeff" if bom else "").encode("utf-8") + buf.getvalue().encode("utf-8")


#: The first characters of a text safe_cell may guard (c[:1] of an empty text is "", none of them).
_TRIGGER_CHARS = frozenset(FORMULA_TRIGGERS)


def csv_record(r: Row) -> list[str]:
    return [
        r.indicator_code, r.office_code, r.kato, r.period, r.value_text, _int_text(r.numerator),
        _int_text(r.denominator), r.unit, r.conf_status, STATUS_TEXT[r.obs_status],
        r.indicator_name_kk, r.indicator_name_ru, r.indicator_name_en,
        r.territory_level, r.territory_name_kk, r.territory_name_ru, r.territory_name_en,
        r.unit_name_kk, r.unit_name_ru, r.unit_name_en,
    ]


def render_csv(rows: list[Row]) -> bytes:
    """indicators.csv: UTF-8 with a byte order mark, comma separated, header row, CRLF line ends."""
    return _csv_bytes(CSV_COLUMNS, [csv_record(r) for r in rows], bom=True)


def render_changes(changes: list[tuple[str, str, str, str, str]]) -> bytes:
    """CHANGES.csv: indicator_code,office_code,kato,old,new (``""`` = no value / no row)."""
    return _csv_bytes(CHANGES_COLUMNS, [list(c) for c in changes])


def render_sdmx(rows: list[Row]) -> bytes:
    """sdmx.csv, SDMX-CSV 2.0 with ACTION=I; a missing or suppressed value has an empty OBS_VALUE."""
    records = [
        ["dataflow", SDMX_STRUCTURE_ID, "I", r.freq, r.kato, r.indicator_code, r.period_sdmx,
         text, r.conf_status, OBS_MISSING if text == "" and r.conf_status == "F" else r.obs_status]
        for r in rows
        for text in (r.value_text,)
    ]
    return _csv_bytes(SDMX_COLUMNS, records)


def render_dhis2(rows: list[Row], data_set: str, complete_date: str | None) -> bytes:
    """dhis2.json, a DHIS2 ``dataValueSets`` payload with code identifiers (``dhis2_metadata.json``
    beside it creates the data elements, data sets and organisation units these codes name).

    Values that are absent (a percentage over 0) or suppressed are left out: DHIS2
    has no empty value, and its ``value`` is always a string. ``completeDate`` (the
    data set registered complete) only for a complete period, never in a provisional extract.
    """
    # json.dumps(payload, ensure_ascii=False, sort_keys=True, indent=2) + "\n", written out directly
    # (json's indent mode runs in pure Python): the same bytes, ten times faster
    enc = json.encoder.encode_basestring  # a str as json.dumps(ensure_ascii=False) writes it
    values = [
        f'    {{\n      "dataElement": {enc(r.indicator_code)},\n      "orgUnit": {enc(r.kato)},\n'
        f'      "period": {enc(r.period)},\n      "value": {enc(text)}\n    }}'
        for r in rows
        if (text := r.value_text) != ""
    ]
    data_values = "[\n" + ",\n".join(values) + "\n  ]" if values else "[]"
    complete = f'  "completeDate": {enc(complete_date)},\n' if complete_date else ""
    return (f'{{\n{complete}  "dataElementIdScheme": "CODE",\n  "dataSet": {enc(data_set)},\n'
            f'  "dataValues": {data_values},\n  "idScheme": "CODE",\n  "orgUnitIdScheme": "CODE"\n}}\n'
            ).encode()


# --- XLSX --------------------------------------------------------------------------------------

XLSX_HEADER = [
    ("indicator_code", "Код"),
    ("indicator_name_kk", "Көрсеткіш"),
    ("indicator_name_ru", "Показатель"),
    ("kato", "КАТО"),
    ("territory_name_kk", "Аумақ"),
    ("territory_name_ru", "Территория"),
    ("period", "Кезең / Период"),
    ("value", "Мәні / Значение"),
    ("numerator", "Алымы / Числитель"),
    ("denominator", "Бөлімі / Знаменатель"),
    ("unit_name_kk", "Өлшем бірлігі"),
    ("unit_name_ru", "Ед. изм."),
    ("conf_status", "Құпиялылық / Конфиденциальность"),
    ("status_label", "Мәртебесі / Статус"),
]


def _sheet_title(text: str, used: set[str]) -> str:
    title = "".join("_" if ch in '[]:*?/\\' else ch for ch in text)[:31] or "office"
    base, n = title, 2
    while title.lower() in used:
        suffix = f"~{n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed member dates and attributes (same order, same compression)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            zi.create_system = 0
            dst.writestr(zi, src.read(info.filename), compresslevel=6)
    return out.getvalue()


def _sheet_name(text: str, used: set[str]) -> str:
    """_sheet_title, also clear of what Excel refuses and openpyxl let through: an apostrophe at either
    end, the reserved name "History"."""
    text = "".join("_" if ch in '[]:*?/\\' else ch for ch in text)[:31]
    if text[:1] == "'":
        text = "_" + text[1:]
    if text[-1:] == "'":
        text = text[:-1] + "_"
    if text.lower() == "history":
        text += "_"
    return _sheet_title(text, used)


def render_xlsx(rows: list[Row], office_titles: dict[str, str] | None = None) -> bytes:
    """indicators.xlsx: one sheet per office, Kazakh and Russian names, numbers as numbers.

    Frozen header row with an auto-filter, column widths fitted to the content, text that a
    spreadsheet would take for a formula stored as a string with a quote prefix, and fixed document
    properties and zip dates so the bytes are reproducible. Written with XlsxWriter (streamed rows,
    inline strings): a pure function of its rows.
    """
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True,
                                   "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    wb.set_properties({"title": "PCVE indicators", "author": "pcve-warehouse", "created": XLSX_EPOCH})
    head = wb.add_format({"bold": True, "valign": "top"})
    head_guard = wb.add_format({"bold": True, "valign": "top", "quote_prefix": True})
    guard = wb.add_format({"quote_prefix": True})
    fmt_int = wb.add_format({"num_format": "0"})
    fmt_pct = wb.add_format({"num_format": "0.0"})
    text_fields = [(col, f) for col, (f, _) in enumerate(XLSX_HEADER)
                   if f not in ("value", "numerator", "denominator")]
    c_value = next(i for i, (f, _) in enumerate(XLSX_HEADER) if f == "value")
    c_num = next(i for i, (f, _) in enumerate(XLSX_HEADER) if f == "numerator")
    c_den = next(i for i, (f, _) in enumerate(XLSX_HEADER) if f == "denominator")
    by_office: dict[str, list[Row]] = {}
    for r in rows:
        by_office.setdefault(r.office_code, []).append(r)
    if not by_office:
        by_office[""] = []
    used: set[str] = set()
    for office, orows in by_office.items():
        ws = wb.add_worksheet(_sheet_name((office_titles or {}).get(office, office) or "office", used))
        write_string, write_number = ws.write_string, ws.write_number
        widths = [len(h) for _, h in XLSX_HEADER]
        for col, (_, label) in enumerate(XLSX_HEADER):
            write_string(0, col, label, head_guard if needs_text_guard(label) else head)
        for i, r in enumerate(orows, start=1):
            for col, field in text_fields:
                shown = str(getattr(r, field))
                if shown:
                    write_string(i, col, shown, guard if needs_text_guard(shown) else None)
                if len(shown) > widths[col]:
                    widths[col] = len(shown)
            v = r.value
            if v is not None:
                if r.is_percent:
                    write_number(i, c_value, float(v), fmt_pct)
                else:
                    write_number(i, c_value, int(v), fmt_int)
            shown = r.value_text
            if len(shown) > widths[c_value]:
                widths[c_value] = len(shown)
            for col, n in ((c_num, r.numerator), (c_den, r.denominator)):
                if n is not None:
                    write_number(i, col, int(n), fmt_int)
                    if len(str(int(n))) > widths[col]:
                        widths[col] = len(str(int(n)))
        for col, w in enumerate(widths):
            ws.set_column(col, col, min(max(w + 2, 8), 80))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(orows), 0), len(XLSX_HEADER) - 1)
    wb.close()
    return _deterministic_zip(buf.getvalue())
