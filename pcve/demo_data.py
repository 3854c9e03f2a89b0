"""Demo and synthetic office submissions.

`write_demo(inbox)` writes the demo workbooks that `pcve demo` runs through the
pipeline: Almaty (monthly, Kazakh, 2017-01 … 2018-12) and Turkistan
(quarterly, Russian, 2025-Q1 … Q3). Run through the warehouse they reproduce
every figure of ../shared/spec/published-figures.md; `demo_expectations()`
gives the exact indicator values per extract period and `demo_facts()` the
figures that live only in the fact tables. The demo also holds one rejected
draft (quarantine) and one correction (supersede).

`write_synth(inbox, offices, years, ...)` writes benchmark workbooks for N
offices (the two real ones plus generated regions, returned as configuration).

Everything is deterministic: the same bytes and the same file times on every
run. Workbooks follow ../shared/spec/forms.md and look like office files:
title lines, column-numbering rows, columns in varying order, totals rows,
signature lines, numbers typed as text, months as dates or month names.
No names of persons or phone numbers appear anywhere.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from pcve.core.config import CONFIG_DIR, Config, Territory, load_config
from pcve.core.periods import ALMATY_TZ, Period

KK_MONTHS = ["қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек",
             "қазан", "қараша", "желтоқсан"]
RU_MONTHS = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
             "октябрь", "ноябрь", "декабрь"]
NBSP, NNBSP = "\u00a0", "\u202f"
_KK_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")

FORM_ORDER = ("outreach", "rehabilitation", "events", "commission", "commission_tasks")

# Column orders a sheet may come in (columns absent from a sheet are skipped).
_ORDERS: dict[str, dict[str, list[str]]] = {
    "outreach": {
        "std": ["month", "territory", "direction", "adherents_new", "conversations", "conversations_planned"],
        "alt": ["territory", "month", "direction", "conversations_planned", "conversations", "adherents_new"],
    },
    "rehabilitation": {
        "std": ["month", "territory", "provider", "enrolled_new", "rehabilitated", "withdrawn"],
        "alt": ["territory", "provider", "month", "rehabilitated", "enrolled_new", "withdrawn"],
    },
    "events": {
        "std": ["event_date", "territory", "event_type", "title", "audience", "teams", "mosques",
                "participants", "participants_women", "participants_adherents"],
        "alt": ["title", "event_type", "event_date", "territory", "audience", "participants",
                "participants_women", "participants_adherents", "teams", "mosques"],
    },
    "commission": {
        "std": ["meeting_date", "body", "chair", "agenda_items", "tasks_assigned"],
        "alt": ["body", "meeting_date", "agenda_items", "tasks_assigned", "chair"],
    },
    "commission_tasks": {
        "std": ["quarter", "responsible", "tasks_due", "done_on_time", "done_late"],
        "alt": ["responsible", "quarter", "tasks_due", "done_on_time", "done_late"],
    },
}

_FORM_TITLES = {
    "kk": {
        "outreach": "ДДА ұстанушыларымен жүргізілген жеке әңгімелесулер туралы мәлімет",
        "rehabilitation": "ДДА ұстанушыларын оңалту жұмыстары туралы мәлімет",
        "events": "дін саласындағы алдын алу іс-шаралары туралы мәлімет",
        "commission": "терроризмге қарсы комиссия отырыстары туралы мәлімет",
        "commission_tasks": "комиссия тапсырмаларының орындалуы туралы мәлімет",
    },
    "ru": {
        "outreach": "Сведения об индивидуальных беседах с последователями ДРТ",
        "rehabilitation": "Сведения о реабилитационной работе с последователями ДРТ",
        "events": "Сведения о проведённых профилактических мероприятиях",
        "commission": "Сведения о заседаниях антитеррористической комиссии и её рабочей группы",
        "commission_tasks": "Сведения об исполнении поручений антитеррористической комиссии",
    },
}
_SIGNATURES = {
    "kk": [["Орындаған: бөлім басшысы"], ["Басқарма басшысының орынбасары", None, "_______________"]],
    "ru": [["Исполнитель: главный специалист аппарата АТК"], ["Руководитель аппарата", None, "_______________"]],
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _seed(*parts) -> int:
    """A stable seed (str hash() is salted per process; this is not)."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def _split(total: int, n: int, rng: random.Random, lo: int = 0, spread: float = 0.5) -> list[int]:
    """n non-negative ints, each >= lo, summing exactly to total, varying around the mean."""
    if n <= 0:
        return []
    if total < lo * n:
        raise ValueError(f"cannot split {total} into {n} parts of at least {lo}")
    w = [rng.uniform(1 - spread, 1 + spread) for _ in range(n)]
    rest, s = total - lo * n, sum(w)
    raw = [rest * x / s for x in w]
    out = [int(x) for x in raw]
    for i in sorted(range(n), key=lambda i: (raw[i] - out[i], -i), reverse=True)[: rest - sum(out)]:
        out[i] += 1
    return [v + lo for v in out]


def _last_day(y: int, m: int) -> int:
    return Period("month", y, m).end.day


# --------------------------------------------------------------------------------------------
# Places: territory names as offices type them.
# --------------------------------------------------------------------------------------------

_KEYBOARD = str.maketrans("әғқңөұүһіё", "агкноуухие")
_KEYBOARD_CASED = str.maketrans("әғқңөұүһіёӘҒҚҢӨҰҮҺІЁ", "агкноуухиеАГКНОУУХИЕ")


def _fold(text: str) -> str:
    return text.casefold().translate(_KEYBOARD)


def _strip_words(name: str, words: tuple[str, ...]) -> str:
    ws = [w for w in name.split() if w.casefold() not in {x.casefold() for x in words}]
    return " ".join(ws)


class _Geo:
    """One office's territories and the names a clerk would type for them."""

    def __init__(self, office: dict, territories: list[Territory], suffixes: tuple[str, ...]):
        self.office = office
        self.root = office["root_kato"]
        self.by_kato = {t.kato: t for t in territories}
        self.districts = [t.kato for t in territories if t.kato != self.root]
        self.root_level = self.by_kato[self.root].level
        stripped: dict[str, set[str]] = {}
        for t in territories:
            for n in (t.name_kk, t.name_ru):
                stripped.setdefault(_strip_words(n, suffixes).casefold(), set()).add(t.kato)
        # A short name is used only where it names one territory and does not look like the root's
        # own name (a bare `Түркістан`/`Туркестан` reads as the region to a person).
        root_t = self.by_kato[self.root]
        root_stems = {_fold(_strip_words(n, suffixes))[:6] for n in (root_t.name_kk, root_t.name_ru)}
        folded: dict[str, set[str]] = {}
        for t in territories:
            for n in (t.name_kk, t.name_ru):
                folded.setdefault(_fold(_strip_words(n, suffixes)), set()).add(t.kato)
        # Short forms per language: Kazakh without `ауданы`; Russian without `район`, or the Kazakh
        # name typed on a Russian keyboard (`Сарыагаш`).
        self.short: dict[tuple[str, str], list[str]] = {}
        for t in territories:
            if t.kato == self.root:
                continue
            kk = _strip_words(t.name_kk, suffixes)
            ru = _strip_words(t.name_ru, suffixes)
            kk_typed = kk.translate(_KEYBOARD_CASED)
            for lang, s, n in (("kk", kk, t.name_kk), ("ru", ru, t.name_ru), ("ru", kk_typed, t.name_ru)):
                if (s and s != n and _fold(s)[:6] not in root_stems
                        and stripped.get(s.casefold(), {t.kato}) == {t.kato}
                        and folded.get(_fold(s)) == {t.kato}):
                    self.short.setdefault((t.kato, lang), [])
                    if s not in self.short[(t.kato, lang)]:
                        self.short[(t.kato, lang)].append(s)

    def root_labels(self, lang: str) -> list[str]:
        t = self.by_kato[self.root]
        city = self.root_level == "city"
        if lang == "kk":
            return [t.name_kk, "қала бойынша" if city else "облыс бойынша"]
        return [t.name_ru, "по городу" if city else "по области"]

    def name(self, kato: str, lang: str, style: dict, i: int) -> str:
        if kato == self.root:
            labels = self.root_labels(lang)
            return labels[style.get("root_label", 0) % len(labels)]
        t = self.by_kato[kato]
        full = t.name_kk if lang == "kk" else t.name_ru
        mode = style.get("terr", "full")
        short = self.short.get((kato, lang))
        if not short or mode == "full":
            return full
        if mode == "short":
            return short[(i + int(kato[2:5])) % len(short)]
        options = [full] + short
        return options[(i + int(kato[2:5])) % len(options)]


# --------------------------------------------------------------------------------------------
# Submissions (canonical rows) and their rendering into sheets.
# --------------------------------------------------------------------------------------------

@dataclass
class Submission:
    office: str
    period: Period
    file_name: str
    received: datetime  # naive wall time, Asia/Almaty
    forms: dict[str, list[dict]]
    style: dict = field(default_factory=dict)
    status: str = "accepted"  # what the pipeline must decide: accepted | rejected | superseded
    note: str = ""

    @property
    def mtime(self) -> float:
        return self.received.replace(tzinfo=ALMATY_TZ).timestamp()


@dataclass
class Grid:
    name: str
    cells: list[list]
    header_row: int  # 0-based
    merges: list[tuple[int, int, int, int]]  # (row, col0, row, col1), 0-based inclusive
    widths: list[float]
    date_formats: dict[int, str]


def _label(cfg: Config, form: str, col: str, lang: str) -> str:
    return cfg.forms[form].column(col).labels[lang]


def _code_variants(cfg: Config, dim: str, code: str, lang: str) -> list[str]:
    c = cfg.codes[dim][code]
    out = [c.labels[lang]]
    for a in c.aliases:
        kk = any(ch in _KK_LETTERS for ch in a)
        if (lang == "kk") == kk:
            out.append(a)
    return out


def _fmt_int(v: int, style: dict, i: int) -> int | str:
    mode = style.get("text_numbers", "none")
    sep = style.get("sep", " ")
    if mode == "all" or (mode == "big" and v >= 1000) or (mode == "some" and (v + i) % 4 == 0):
        s = f"{v:,}".replace(",", sep)
        return s + (",0" if style.get("decimal_comma") and v < 1000 else "")
    return v


def _fmt_month(d: date, style: dict, lang: str) -> date | str:
    mode = style.get("month_fmt", "date")
    if mode == "text":
        return f"{(KK_MONTHS if lang == 'kk' else RU_MONTHS)[d.month - 1]} {d.year}"
    if mode == "iso":
        return f"{d.year}-{d.month:02d}"
    if mode == "dotted":
        return f"{d.month:02d}.{d.year}"
    if mode == "date15":
        return date(d.year, d.month, 15)
    if mode == "dateend":
        return date(d.year, d.month, _last_day(d.year, d.month))
    return date(d.year, d.month, 1)


def _fmt_date(d: date, style: dict, i: int) -> date | str:
    mode = style.get("date_fmt", "date")
    if mode == "text" or (mode == "mixed" and i % 3 == 1):
        return d.strftime("%d.%m.%Y")
    if mode == "iso":
        return d.isoformat()
    return d


def _fmt_quarter(q: str, style: dict, lang: str) -> str:
    y, n = q.split("-Q")
    if style.get("quarter_fmt", "iso") == "text":
        return f"{n} тоқсан {y}" if lang == "kk" else f"{n} квартал {y}"
    return q


def _title_lines(sub: Submission, form: str, lang: str, geo: _Geo, style: dict) -> list[str]:
    p = sub.period
    o = geo.office
    title = _FORM_TITLES[lang][form]
    if lang == "kk":
        place = geo.by_kato[geo.root].name_kk
        when = (f"{p.year} жыл {KK_MONTHS[p.number - 1]}" if p.kind == "month"
                else f"{p.year} жылғы {p.number} тоқсан")
        lines = [o["name_kk"], f"{place} бойынша {title}, {when}"]
    else:
        when = (f"за {RU_MONTHS[p.number - 1]} {p.year} года" if p.kind == "month"
                else f"за {p.number} квартал {p.year} года")
        lines = [o["name_ru"], f"{title} {when}"]
    return lines[-style.get("title_lines", 2):] if style.get("title_lines", 2) else []


def render_sheet(cfg: Config, sub: Submission, form: str, geo: _Geo) -> Grid:
    lang = geo.office["language"]
    style = {**sub.style, **sub.style.get(form, {})}
    rows = sub.forms[form]
    f = cfg.forms[form]
    omit = set(style.get("omit", ()))
    for c in f.columns:  # optional columns nobody filled in are usually not in the form at all
        if not c.required and c.name not in style.get("keep", ()) and all(r.get(c.name) is None for r in rows):
            if c.name not in ("title", "audience", "withdrawn"):
                omit.add(c.name)
    order = [c for c in _ORDERS[form][style.get("order", "std")] if c not in omit]
    if f.office_wide:
        order = [c for c in order if c != "territory"]
    number_col = bool(style.get("number_col"))
    extra = list(style.get("extra_columns", ()))  # (header, value) pairs, e.g. a person column
    ncols = len(order) + number_col + len(extra)

    def header_text(col: str) -> str:
        t = _label(cfg, form, col, lang)
        if style.get("wrap_headers") and len(t.split()) >= 3:
            w = t.split(" ")
            t = " ".join(w[:2]) + "\n" + " ".join(w[2:])
        return t.upper() if style.get("upper_headers") else t

    cells: list[list] = []
    merges = []
    for line in _title_lines(sub, form, lang, geo, style):
        merges.append((len(cells), 0, len(cells), max(ncols - 1, 0)))
        cells.append([line] + [None] * (ncols - 1))
    if style.get("blank_after_title"):
        cells.append([None] * ncols)
    header_row = len(cells)
    cells.append((["№"] if number_col else []) + [header_text(c) for c in order] + [h for h, _ in extra])
    if style.get("numbering"):
        cells.append(list(range(1, ncols + 1)))

    types = {c.name: c for c in f.columns}
    sums: dict[str, int] = {}
    broken: set[str] = set()
    for i, r in enumerate(rows):
        raw = r.get("_raw", {})
        out: list = [i + 1] if number_col else []
        for col in order:
            c = types[col]
            v = r.get("kato") if col == "territory" else r.get(col)
            if col in raw:
                out.append(raw[col])
                broken.add(col)
                continue
            if v is None:
                out.append(None)
                continue
            if c.type == "int":
                sums[col] = sums.get(col, 0) + v
                out.append(_fmt_int(v, style, i))
            elif c.type == "month":
                out.append(_fmt_month(v, style, lang))
            elif c.type == "date":
                out.append(_fmt_date(v, style, i))
            elif c.type == "quarter":
                out.append(_fmt_quarter(v, style, lang))
            elif c.type == "territory":
                out.append(r.get("_terr_text") or geo.name(v, lang, style, i))
            elif c.type == "code":
                if col == "audience" and v == "general" and style.get("audience_blank"):
                    out.append(None)
                else:
                    variants = _code_variants(cfg, c.codes, v, lang)
                    out.append(variants[(i * 7 + len(v)) % len(variants)] if style.get("code_variants")
                               else variants[0])
            else:
                out.append(v)
        out += [v for _, v in extra]
        cells.append(out)
    if style.get("totals", True):
        label = style.get("totals_label", "Барлығы" if lang == "kk" else "Итого")
        tot: list = [None] * ncols
        for k, col in enumerate(order):
            if types[col].type == "int" and col in sums and col not in broken:
                v = sums[col] + style.get("totals_delta", {}).get(col, 0)
                tot[k + number_col] = (f"{v:,}".replace(",", style.get("sep", " "))
                                       if style.get("totals_text") and v >= 1000 else v)
        tot[0] = label
        cells.append(tot)
    if style.get("after_table_number"):  # a stray figure below the table: an error by contract
        k = next(k for k, c in enumerate(order) if types[c].type == "int") + number_col
        cells.append([None] * ncols)
        cells.append([("Ескерту" if lang == "kk" else "Примечание") if k else None]
                     + [None] * (ncols - 1))
        cells[-1][k] = 7
    if style.get("signature", True):
        cells.append([None] * ncols)
        for sig in _SIGNATURES[lang][: style.get("signature_lines", 1)]:
            cells.append(list(sig) + [None] * (ncols - len(sig)))
    widths = ([5.0] if number_col else []) + [
        {"title": 46.0, "chair": 26.0, "responsible": 40.0, "territory": 22.0}.get(c, 14.0) for c in order
    ] + [16.0] * len(extra)
    date_formats = {}
    for k, col in enumerate(order):
        t = types[col].type
        if t in ("date", "month"):
            date_formats[k + number_col] = "mm.yyyy" if t == "month" else "dd.mm.yyyy"
    sheet_name = style.get("sheet_name") or cfg.forms[form].sheets[lang]
    return Grid(nfc(sheet_name), [[nfc(v) if isinstance(v, str) else v for v in row] for row in cells],
                header_row, merges, widths, date_formats)


def render_workbook(cfg: Config, sub: Submission, geo: _Geo) -> list[Grid]:
    order = sub.style.get("form_order", FORM_ORDER)
    grids = [render_sheet(cfg, sub, form, geo) for form in order if form in sub.forms]
    for name, lines in sub.style.get("extra_sheets", ()):
        grids.append(Grid(nfc(name), [[nfc(x)] for x in lines], -1, [], [80.0], {}))
    return grids


# --------------------------------------------------------------------------------------------
# Writers: openpyxl (demo, styled) and a minimal direct XLSX writer (synth, fast). Both give
# the same bytes on every run: fixed document properties and zip entry times.
# --------------------------------------------------------------------------------------------

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


def _xlsx_openpyxl(grids: list[Grid], when: datetime, creator: str) -> bytes:
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


def _xlsx_direct(grids: list[Grid], when: datetime, creator: str) -> bytes:
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


def _write(path: Path, data: bytes, sub: Submission) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (sub.mtime, sub.mtime))
    return path


# --------------------------------------------------------------------------------------------
# The demo: Almaty 2017-2018 (Kazakh, monthly) and Turkistan 2025 Q1-Q3 (Russian, quarterly).
# --------------------------------------------------------------------------------------------

_ALMATY_YEARS = {
    2017: dict(adherents=570, other=0, other_rows=(), plan=None, rehab=245,
               women_events=212, women=1496, pen_events=49, pen=1113,
               league=dict(event_date=date(2017, 10, 22), teams=403, mosques=48, participants=2537,
                           participants_adherents=364),
               sports_total=13512, other_sports=28, festival=None, campaign=None),
    2018: dict(adherents=512, other=37, other_rows=("751310000", "751910000", "751510000"), plan=1020,
               rehab=231, women_events=196, women=1389, pen_events=44, pen=1017,
               league=dict(event_date=date(2018, 10, 21), teams=421, mosques=51, participants=2688,
                           participants_adherents=341),
               sports_total=12846, other_sports=25,
               festival=dict(event_date=date(2018, 5, 19), participants=2614, participants_adherents=212,
                             participants_women=388,
                             title="Ұлттық спорт түрлерінен діндар жамағат арасындағы қалалық фестиваль"),
               campaign=dict(event_date=date(2018, 9, 14), participants=1850, participants_women=820,
                             title="«Дін – бейбітшілік пен келісім» қалалық акциясы")),
}

_KK_TITLES = {
    "women": ["Діндар әйелдермен профилактикалық кездесу",
              "«Отбасы – құндылық» тақырыбында әйелдермен дөңгелек үстел",
              "Әйелдер арасында деструктивті ағымдардың алдын алу бойынша түсіндіру кездесуі",
              "Аналар мектебі: діни сауаттылық",
              "Мешіт жанындағы әйелдер тобымен сұхбат",
              "«Дәстүрлі ислам – бейбітшілік діні» әйелдерге арналған дәріс"],
    "pen": ["Түзеу мекемесінде сотталғандармен кездесу", "ҚАЖ мекемесінде теологиялық дәріс",
            "Сотталғандар арасында ақпараттық-түсіндіру жұмысы", "Тергеу изоляторында теологпен әңгіме"],
    "sports": ["Гір көтеруден жарыс", "Садақ атудан жарыс", "Қазақ күресінен турнир", "Асық атудан сайыс",
               "Ләңгі тебуден жарыс", "Арқан тартудан жарыс", "Бағанаға өрмелеуден жарыс",
               "Тоғызқұмалақтан турнир", "Үстел теннисінен жарыс"],
    "seminar": ["Жастар арасында діни экстремизмнің алдын алу семинары",
                "Мектеп психологтарына арналған семинар", "Имамдарға арналған оқу-әдістемелік семинар"],
    "youth": ["Колледж студенттерімен кездесу: «Діни сауаттылық – қауіпсіздік кепілі»",
              "Жоғары сынып оқушыларымен түсіндіру кездесуі", "ЖОО студенттеріне арналған дөңгелек үстел"],
    "general": ["Базар қызметкерлерімен түсіндіру кездесуі", "Сауда үйлерінде ақпараттық-түсіндіру жұмысы",
                "Ұялы телефон жөндеу орындарында түсіндіру жұмысы"],
}
_LEAGUE_TITLE = "Алматы қаласы мешіттерінің жамағаты арасындағы футбол лигасы"
CAMPAIGN_TITLE = "Терроризмге жол жоқ!"


def _office_dict(cfg: Config, code: str) -> dict:
    o = cfg.offices[code]
    return {"code": o.code, "name_en": o.name_en, "name_kk": o.name_kk, "name_ru": o.name_ru,
            "root_kato": o.root_kato, "periodicity": o.periodicity, "reports_from": o.reports_from,
            "language": o.language, "due_days": o.due_days, "source": o.source}


def _received(p: Period, days: int, hh: int, mm: int, workday: bool = True) -> datetime:
    d = p.end + timedelta(days=days)
    while workday and d.weekday() >= 5:
        d += timedelta(days=1)
    return datetime(d.year, d.month, d.day, hh, mm)


def _almaty_year(cfg: Config, year: int, rng: random.Random) -> dict[int, dict[str, list[dict]]]:
    spec = _ALMATY_YEARS[year]
    root = cfg.offices["almaty"].root_kato
    districts = [t.kato for t in cfg.office_territories("almaty") if t.kato != root]
    places = districts + [root]
    months: dict[int, dict[str, list[dict]]] = {m: {"outreach": [], "rehabilitation": [], "events": []}
                                                 for m in range(1, 13)}
    # Outreach: one islamic row per territory and month; a few other-direction rows in 2018.
    isl = _split(spec["adherents"], 12, rng, lo=25, spread=0.3)
    other = _split(spec["other"], 12, rng, lo=0, spread=0.9) if spec["other"] else [0] * 12
    plans = _split(spec["plan"], 12, rng, lo=70, spread=0.1) if spec["plan"] else None
    for m in range(1, 13):
        mon = date(year, m, 1)
        per = _split(isl[m - 1], len(places), rng, lo=0, spread=0.8)
        plan_rows = _split(plans[m - 1], len(places), rng, lo=3, spread=0.5) if plans else None
        for k, (kato, a) in enumerate(zip(places, per, strict=True)):
            conv = a + round(a * rng.uniform(0.5, 1.4)) + rng.randint(0, 4)
            months[m]["outreach"].append({"month": mon, "kato": kato, "direction": "islamic", "adherents_new": a,
                                          "conversations": conv,
                                          "conversations_planned": plan_rows[k] if plan_rows else None})
        if other[m - 1]:
            katos = spec["other_rows"][: 1 + (m % 2)]
            for kato, a in zip(katos, _split(other[m - 1], len(katos), rng), strict=True):
                months[m]["outreach"].append({"month": mon, "kato": kato, "direction": "other",
                                              "adherents_new": a, "conversations": a + rng.randint(0, 3),
                                              "conversations_planned": None})
    # Rehabilitation: the center and the university city-wide, imams in three districts.
    reh = _split(spec["rehab"], 12, rng, lo=12, spread=0.35)
    for m in range(1, 13):
        mon = date(year, m, 1)
        imam_katos = [districts[(m + j * 3) % len(districts)] for j in range(3)]
        rows = [(root, "center"), (root, "university")] + [(k, "imams") for k in imam_katos]
        for (kato, prov), r in zip(rows, _split(reh[m - 1], len(rows), rng, lo=1, spread=0.6), strict=True):
            months[m]["rehabilitation"].append({
                "month": mon, "kato": kato, "provider": prov, "enrolled_new": max(0, r + rng.randint(-1, 3)),
                "rehabilitated": r, "withdrawn": rng.choice([None, 0, 0, 1, 2]) if m % 3 else None})
    # Events.
    ev: dict[int, list[dict]] = {m: [] for m in range(1, 13)}

    def day(m: int) -> date:
        return date(year, m, rng.randint(1, _last_day(year, m)))

    def add(m, **row):
        row.setdefault("audience", "general")
        for k in ("teams", "mosques", "participants_women", "participants_adherents", "title"):
            row.setdefault(k, None)
        row.setdefault("event_date", day(m))
        ev[m].append(row)

    women_per_month = _split(spec["women_events"], 12, rng, lo=10, spread=0.3)
    women = _split(spec["women"], spec["women_events"], rng, lo=3, spread=0.7)
    wi = 0
    for m in range(1, 13):
        for _ in range(women_per_month[m - 1]):
            w = women[wi]
            wi += 1
            extra = rng.choice([0, 0, 0, 0, 1, 2])
            add(m, kato=rng.choice(places), event_type="prevention", audience="women",
                title=rng.choice(_KK_TITLES["women"]), participants=w + extra, participants_women=w,
                participants_adherents=rng.choice([None, None, 0, 1, 2]))
    pen_per_month = _split(spec["pen_events"], 12, rng, lo=3, spread=0.2)
    pen = _split(spec["pen"], spec["pen_events"], rng, lo=8, spread=0.6)
    pi = 0
    pen_katos = ["751210000", "751910000", "751310000"]
    for m in range(1, 13):
        for _ in range(pen_per_month[m - 1]):
            add(m, kato=rng.choice(pen_katos), event_type="penitentiary", audience="convicts",
                title=rng.choice(_KK_TITLES["pen"]), participants=pen[pi],
                participants_adherents=rng.choice([None, rng.randint(1, 6)]))
            pi += 1
    league = spec["league"]
    add(league["event_date"].month, kato=root, event_type="sports", title=_LEAGUE_TITLE, **league)
    rest = spec["sports_total"] - league["participants"]
    if spec["festival"]:
        fest = spec["festival"]
        add(fest["event_date"].month, kato=root, event_type="sports", **fest)
        rest -= fest["participants"]
    sport_months = [m for m in range(1, 13) for _ in range(2 + (3 <= m <= 10) + (m in (5, 6, 9)))]
    sport_months = sorted(rng.sample(sport_months, spec["other_sports"]))
    for m, p in zip(sport_months, _split(rest, len(sport_months), rng, lo=120, spread=0.6), strict=True):
        add(m, kato=rng.choice(places), event_type="sports", title=rng.choice(_KK_TITLES["sports"]),
            participants=p, participants_adherents=rng.choice([None, rng.randint(5, 40)]),
            participants_women=rng.choice([None, None, rng.randint(0, p // 4)]))
    if spec["campaign"]:
        c = spec["campaign"]
        add(c["event_date"].month, kato=root, event_type="campaign", **c)
    for m in range(1, 13):
        k = (m + year) % 3
        add(m, kato=rng.choice(places), event_type="seminar", audience=rng.choice(["youth", "general"]),
            title=_KK_TITLES["seminar"][k], participants=rng.randint(35, 140),
            participants_women=rng.randint(10, 30))
        p = rng.randint(40, 220)
        add(m, kato=rng.choice(districts), event_type="prevention", audience="youth",
            title=_KK_TITLES["youth"][k], participants=p, participants_women=rng.randint(p // 4, p // 2),
            participants_adherents=rng.choice([None, 0, rng.randint(1, 3)]))
        if m % 2 == 0:
            add(m, kato=rng.choice(districts), event_type="prevention", audience="general",
                title=_KK_TITLES["general"][m % 3], participants=rng.randint(25, 90))
    for m in range(1, 13):
        ev[m].sort(key=lambda r: (r["event_date"], r["event_type"]))
        months[m]["events"] = ev[m]
    return months


# Layout of each Almaty month: varied the way real files vary from month to month.
def _almaty_style(year: int, m: int) -> dict:
    i = (year - 2017) * 12 + m - 1
    style: dict = {
        "title_lines": 1 + (i % 3 != 1),
        "numbering": i % 4 == 2,
        "order": "alt" if i % 5 == 3 else "std",
        "terr": ["full", "short", "mixed"][i % 3],
        "root_label": i % 2,
        "month_fmt": ["date", "text", "text", "date15", "dateend"][i % 5],
        "date_fmt": ["date", "mixed", "date", "text"][i % 4],
        "text_numbers": ["none", "big", "none", "some", "big", "none"][i % 6],
        "sep": [" ", NBSP, NNBSP][i % 3],
        "totals": i % 7 != 5,
        "totals_label": "Жиыны" if i % 9 == 4 else "Барлығы",
        "totals_text": i % 8 == 1,
        "wrap_headers": i % 3 == 0,
        "upper_headers": i == 7,
        "code_variants": i % 2 == 1,
        "audience_blank": i % 4 == 1,
        "signature": i % 6 != 4,
        "signature_lines": 1 + (i % 5 == 0),
        "blank_after_title": i % 6 == 3,
        "keep": ("withdrawn", "teams", "mosques"),
    }
    style["events"] = {"number_col": i % 4 == 3, "order": "alt" if i % 6 == 1 else style["order"]}
    if i == 14:  # one month typed a decimal comma after its figures ("48,0")
        style["outreach"] = {"text_numbers": "all", "decimal_comma": True}
    if i in (4, 16):
        style["extra_sheets"] = [("Түсіндірме", ["Ақпарат Дін істері басқармасының бөлімінде дайындалды.",
                                                 "Деректер ай сайын жаңартылады."])]
    return style


_ALMATY_NAMES = {(2017, 5): "Дін істері басқармасы есеп 2017-05.xlsx",
                 (2018, 2): "Дін істері басқармасы есеп 2018-02.xlsx",
                 (2018, 9): "ДІБ есеп 2018-09.xlsx"}
_ALMATY_LATE = {(2017, 7): 13, (2018, 1): 12}  # days after month end (due_days is 10)


def _almaty_subs(cfg: Config) -> list[Submission]:
    rng = random.Random(_seed("almaty-demo", 2017))
    subs: list[Submission] = []
    for year in (2017, 2018):
        months = _almaty_year(cfg, year, rng)
        for m in range(1, 13):
            p = Period("month", year, m)
            rt = random.Random(_seed("almaty-time", year, m))
            days = _ALMATY_LATE.get((year, m), rt.randint(2, 7))
            rec = _received(p, days, rt.randint(9, 17), rt.randint(0, 59), workday=(year, m) not in _ALMATY_LATE)
            name = _ALMATY_NAMES.get((year, m), f"almaty_{p.token}.xlsx")
            sub = Submission("almaty", p, name, rec, months[m], _almaty_style(year, m))
            if (year, m) == (2017, 11):
                # First sent with a typo (one imams row 10 too high), then corrected in full.
                wrong = _deep_copy_forms(sub.forms)
                row = max((r for r in wrong["rehabilitation"] if r["provider"] == "imams"),
                          key=lambda r: r["rehabilitated"])
                row["rehabilitated"] += 10
                row["enrolled_new"] += 10
                subs.append(Submission("almaty", p, name, rec, wrong, sub.style, "superseded",
                                       "first version, one rehabilitation figure 10 too high"))
                sub.file_name = "almaty_2017-11_түзетілген.xlsx"
                sub.received = datetime(2017, 12, 19, 15, 12)
                sub.note = "correction: replaces almaty_2017-11.xlsx"
            if (year, m) == (2018, 5):
                # A draft sent first with a qualified figure ("more than 2500"): rejected.
                draft = _deep_copy_forms(sub.forms)
                fest = next(r for r in draft["events"] if r.get("title") == _ALMATY_YEARS[2018]["festival"]["title"])
                fest["_raw"] = {"participants": "2500-нан астам"}
                subs.append(Submission("almaty", p, "almaty_2018-05_алғашқы.xlsx", datetime(2018, 6, 4, 9, 18),
                                       draft, {**sub.style, "events": {**sub.style.get("events", {})}},
                                       "rejected", "draft: a qualified number in an int column"))
                sub.received = datetime(2018, 6, 6, 16, 5)
            subs.append(sub)
    return subs


def _deep_copy_forms(forms: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {f: [dict(r) for r in rows] for f, rows in forms.items()}


_TK = {  # Turkistan territories by KATO
    "root": "610000000", "turkistan": "611000000", "arys": "611600000", "kentau": "612000000",
    "keles": "613900000", "kazygurt": "614000000", "maktaaral": "614400000", "ordabasy": "614600000",
    "sairam": "615200000", "saryagash": "615400000", "tolebi": "615800000", "zhetysai": "613800000",
}
_RU_PREVENTION = [
    ("Встреча с молодёжью по профилактике религиозного экстремизма", "youth"),
    ("Разъяснительная встреча с жителями", "general"),
    ("Круглый стол «Религия и общество» для студентов колледжа", "youth"),
    ("Информационно-разъяснительная работа в махалле", "general"),
    ("Встреча теологов с женщинами", "women"),
    ("Лекция для старшеклассников «Мы против экстремизма»", "youth"),
]
_RU_BODIES = ["Управление по делам религий", "Департамент полиции Туркестанской области",
              "Управление образования", "Управление внутренней политики",
              "Департамент уголовно-исполнительной системы по Туркестанской области",
              "Акиматы районов и городов областного значения"]


def _turkistan_subs(cfg: Config) -> list[Submission]:
    rng = random.Random(_seed("turkistan-demo", 2025))
    root = _TK["root"]
    sessions = {1: (date(2025, 3, 14), 5, 14), 2: (date(2025, 6, 20), 5, 12), 3: (date(2025, 9, 26), 4, 11)}
    wg = {1: 6, 2: 7, 3: 6}
    seminars = {
        1: (date(2025, 2, 18), "Областной семинар для теологов и имамов по профилактике религиозного экстремизма",
            "general", 126, 21),
        2: (date(2025, 5, 15), "Семинар для сотрудников акиматов по противодействию экстремизму и терроризму",
            "general", 94, 37),
        3: (date(2025, 8, 21), "Семинар-тренинг для педагогов по профилактике деструктивных идей среди молодёжи",
            "youth", 148, 102),
    }
    districts = ["keles", "saryagash", "sairam", "maktaaral", "tolebi", "kazygurt", "kentau", "turkistan",
                 "arys", "ordabasy", "zhetysai"]
    received = {1: datetime(2025, 4, 9, 11, 35), 2: datetime(2025, 7, 18, 17, 40),  # Q2 late (due 15 July)
                3: datetime(2025, 10, 10, 10, 25)}
    subs = []
    for q in (1, 2, 3):
        p = Period("quarter", 2025, q)
        months = p.months()
        # Commission: the session chaired by the akim, then the working group's meetings.
        d, agenda, tasks = sessions[q]
        com = [{"meeting_date": d, "body": "commission", "chair": "Аким области", "agenda_items": agenda,
                "tasks_assigned": tasks}]
        wg_days = sorted(rng.sample(range(0, (p.end - p.start).days - 3), wg[q]))
        for k in wg_days:
            com.append({"meeting_date": p.start + timedelta(days=k), "body": "working_group",
                        "chair": "Руководитель аппарата АТК области", "agenda_items": rng.randint(2, 4),
                        "tasks_assigned": rng.randint(3, 9)})
        com.sort(key=lambda r: r["meeting_date"])
        tasks_rows = []
        for b in _RU_BODIES:
            due = rng.randint(4, 16)
            on_time = due - rng.randint(0, 2)
            late = rng.randint(0, due - on_time)
            tasks_rows.append({"quarter": p.token, "responsible": b, "tasks_due": due, "done_on_time": on_time,
                               "done_late": late if (late or q != 1) else None})
        # Events.
        ev = []
        sd, st, saud, sp, sw = seminars[q]
        ev.append({"event_date": sd, "kato": root, "event_type": "seminar", "title": st, "audience": saud,
                   "participants": sp, "participants_women": sw, "participants_adherents": None})
        if q == 2:
            ev.append({"event_date": date(2025, 6, 4), "kato": root, "event_type": "campaign",
                       "title": CAMPAIGN_TITLE, "audience": "general", "participants": 4860,
                       "participants_women": 2215, "participants_adherents": None})
        if q == 3:
            ev.append({"event_date": date(2025, 9, 10), "kato": _TK["saryagash"], "event_type": "campaign",
                       "title": "Акция «Молодёжь против экстремизма»", "audience": "youth", "participants": 640,
                       "participants_women": 300, "participants_adherents": None})
            ev.append({"event_date": date(2025, 9, 3), "kato": _TK["keles"], "event_type": "prevention",
                       "title": "Встреча с жителями села Шукырсай Биртилекского сельского округа",
                       "audience": "general", "participants": 85, "participants_women": 32,
                       "participants_adherents": 3})
        for _ in range(6 + q % 2):
            m = rng.choice(months)
            t, aud = rng.choice(_RU_PREVENTION)
            part = rng.randint(25, 160)
            ev.append({"event_date": date(m.year, m.number, rng.randint(1, _last_day(m.year, m.number))),
                       "kato": _TK[rng.choice(districts)], "event_type": "prevention", "title": t,
                       "audience": aud, "participants": part,
                       "participants_women": part if aud == "women" else rng.randint(0, part // 2),
                       "participants_adherents": rng.choice([None, 0, rng.randint(1, 4)])})
        for k in range(2):
            m = months[k + 1]
            ev.append({"event_date": date(m.year, m.number, rng.randint(5, 25)), "kato": _TK["turkistan"],
                       "event_type": "penitentiary", "audience": "convicts",
                       "title": ["Теологическая беседа с осуждёнными в учреждении УИС",
                                 "Лекция для осуждённых по профилактике терроризма"][k],
                       "participants": rng.randint(20, 60), "participants_women": None,
                       "participants_adherents": rng.randint(2, 9)})
        ev.sort(key=lambda r: (r["event_date"], r["event_type"]))
        # Outreach and rehabilitation, by month and district.
        out_rows, reh_rows = [], []
        for m in months:
            mon = m.start
            for dk in ("keles", "saryagash", "sairam", "maktaaral", "kentau"):
                a = rng.randint(0, 6)
                out_rows.append({"month": mon, "kato": _TK[dk], "direction": "islamic", "adherents_new": a,
                                 "conversations": a + rng.randint(1, 9), "conversations_planned": rng.randint(5, 12)})
            a = rng.randint(0, 2)
            out_rows.append({"month": mon, "kato": _TK["tolebi"], "direction": "other", "adherents_new": a,
                             "conversations": a + rng.randint(0, 3), "conversations_planned": None})
            for kato, prov in ((root, "center"), (_TK["keles"], "imams"), (_TK["saryagash"], "imams"),
                               (_TK["sairam"], "other")):
                r = rng.randint(0, 4)
                reh_rows.append({"month": mon, "kato": kato, "provider": prov, "enrolled_new": r + rng.randint(0, 2),
                                 "rehabilitated": r, "withdrawn": rng.choice([0, 0, 1])})
        style = {
            "title_lines": 2 if q != 2 else 1, "numbering": q == 2, "order": "alt" if q == 3 else "std",
            "terr": ["full", "mixed", "short"][q - 1], "root_label": 1, "month_fmt": ["text", "date", "dotted"][q - 1],
            "date_fmt": ["date", "text", "mixed"][q - 1], "text_numbers": "big", "sep": [NBSP, " ", NNBSP][q - 1],
            "quarter_fmt": "text" if q != 2 else "iso", "wrap_headers": q == 1, "code_variants": q == 3,
            "signature_lines": 1 + (q == 3), "keep": ("withdrawn",),
            "events": {"omit": ("teams", "mosques")},
            "commission": {"totals": q == 2},
            "form_order": ("events", "commission", "commission_tasks", "outreach", "rehabilitation"),
        }
        forms = {"events": ev, "commission": com, "commission_tasks": tasks_rows, "outreach": out_rows,
                 "rehabilitation": reh_rows}
        subs.append(Submission("turkistan", p, f"Туркестан АТК отчет {p.token}.xlsx", received[q], forms, style))
    return subs


def demo_submissions(config_dir: str | None = None) -> list[Submission]:
    """Every demo file with its canonical rows, received time and the status the pipeline must give it."""
    cfg = load_config(config_dir)
    subs = _almaty_subs(cfg) + _turkistan_subs(cfg)
    for s in subs:
        s.file_name = nfc(s.file_name)
    return subs


def _geo(cfg: Config, office: str) -> _Geo:
    return _Geo(_office_dict(cfg, office), cfg.office_territories(office), cfg.territory_suffixes)


def write_demo(inbox: Path, config_dir: str | None = None) -> list[Path]:
    """Write the demo submissions into inbox/<office>/ and return their paths (sorted by received time)."""
    cfg = load_config(config_dir)
    inbox = Path(inbox)
    geos = {o: _geo(cfg, o) for o in ("almaty", "turkistan")}
    creators = {"almaty": "Дін істері басқармасы", "turkistan": "Аппарат АТК"}
    paths = []
    for sub in sorted(demo_submissions(config_dir), key=lambda s: (s.received, s.file_name)):
        data = _xlsx_openpyxl(render_workbook(cfg, sub, geos[sub.office]), sub.received, creators[sub.office])
        paths.append(_write(inbox / sub.office / sub.file_name, data, sub))
    return paths


def _round1(num: int, den: int | None) -> float | None:
    if not den:
        return None
    v = (Decimal(100) * Decimal(num) / Decimal(den)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(v)


def indicator_values(cfg: Config, forms: dict[str, list[dict]]) -> dict[str, int | float | None]:
    """Indicator values (office total) over the given rows; forms missing from `forms` were not reported.

    Counts are ints (0 over no matching rows); a percentage is rounded half-up to one decimal, or None
    (empty) where its denominator is 0 or has no values; an indicator on an unreported form is left out.
    """

    def term(t):
        if t.form not in forms:
            return "absent"
        rows = [r for r in forms[t.form] if t.filter_column is None or r.get(t.filter_column) == t.filter_value]
        if t.measure == "_rows":
            return len(rows)
        vals = [r[t.measure] for r in rows if r.get(t.measure) is not None]
        return sum(vals) if vals else None

    out: dict[str, int | float | None] = {}
    for ind in cfg.indicators:
        if ind.is_percent:
            n, d = term(ind.numerator), term(ind.denominator)
            if "absent" in (n, d):
                continue
            out[ind.code] = _round1(n or 0, d)
        else:
            v = term(ind.value)
            if v != "absent":
                out[ind.code] = v or 0
    return out


def current_submissions(subs: list[Submission]) -> list[Submission]:
    """The accepted submission of each office and period that is current (the latest received)."""
    cur: dict[tuple[str, Period], Submission] = {}
    for s in sorted(subs, key=lambda s: (s.received, s.file_name)):
        if s.status != "rejected":
            cur[(s.office, s.period)] = s
    return [cur[k] for k in sorted(cur, key=lambda k: (k[0], k[1]))]


def demo_expectations(config_dir: str | None = None) -> dict:
    """The exact indicator values (office totals) the demo gives in each extract period.

    {period_id (DHIS2: "2017", "2017Q1", "2025Q3"): {office_code: {indicator_code: value}}}
    Only complete periods (extract folders): Almaty's quarters and years 2017-2018, Turkistan's
    quarters 2025Q1-Q3. Counts are ints; percentages floats with one decimal, None where empty.
    """
    cfg = load_config(config_dir)
    cur = current_submissions(demo_submissions(config_dir))
    groups: dict[str, dict[str, list[Submission]]] = {}
    for s in cur:
        q = s.period.quarter()
        groups.setdefault(q.dhis2, {}).setdefault(s.office, []).append(s)
        if s.office == "almaty":  # 2025 is not complete for Turkistan (Q4 missing)
            groups.setdefault(str(s.period.year), {}).setdefault(s.office, []).append(s)
    out: dict = {}
    for pid in sorted(groups):
        for office, ss in sorted(groups[pid].items()):
            forms: dict[str, list[dict]] = {}
            for s in ss:
                for f, rows in s.forms.items():
                    forms.setdefault(f, []).extend(rows)
            out.setdefault(pid, {})[office] = indicator_values(cfg, forms)
    return out


def demo_facts(config_dir: str | None = None) -> dict:
    """Published figures that no indicator carries (checked in the warehouse's fact tables)."""
    cur = current_submissions(demo_submissions(config_dir))

    def rows(office, form, year):
        return [r for s in cur if s.office == office and s.period.year == year for r in s.forms.get(form, [])]

    league = next(r for r in rows("almaty", "events", 2017) if r.get("title") == _LEAGUE_TITLE)
    com_q3 = [r for r in rows("turkistan", "commission", 2025)
              if r["body"] == "commission" and r["meeting_date"] >= date(2025, 7, 1)]
    latest = max(com_q3, key=lambda r: r["meeting_date"])
    return {
        "almaty_2017_league": {k: league[k] for k in ("event_date", "teams", "mosques", "participants",
                                                      "participants_adherents")} | {"title": _LEAGUE_TITLE},
        "almaty_2018_conversations_planned": sum(r["conversations_planned"] or 0
                                                 for r in rows("almaty", "outreach", 2018)),
        "almaty_2017_providers": sorted({r["provider"] for r in rows("almaty", "rehabilitation", 2017)}),
        "turkistan_campaign_title": CAMPAIGN_TITLE,
        "turkistan_2025Q3_latest_session": {"meeting_date": latest["meeting_date"], "body": "commission",
                                            "agenda_items": latest["agenda_items"]},
    }


# --------------------------------------------------------------------------------------------
# Synthetic submissions for the benchmark.
# --------------------------------------------------------------------------------------------

# Regions of Kazakhstan besides Almaty city and Turkistan region: code, KATO root, level, names.
_REGIONS = [
    ("astana", "710000000", "city", "Astana", "Астана қаласы", "город Астана"),
    ("shymkent", "790000000", "city", "Shymkent", "Шымкент қаласы", "город Шымкент"),
    ("abai", "100000000", "region", "Abai region", "Абай облысы", "область Абай"),
    ("akmola", "110000000", "region", "Akmola region", "Ақмола облысы", "Акмолинская область"),
    ("aktobe", "150000000", "region", "Aktobe region", "Ақтөбе облысы", "Актюбинская область"),
    ("almaty_region", "190000000", "region", "Almaty region", "Алматы облысы", "Алматинская область"),
    ("atyrau", "230000000", "region", "Atyrau region", "Атырау облысы", "Атырауская область"),
    ("west_kazakhstan", "270000000", "region", "West Kazakhstan region", "Батыс Қазақстан облысы",
     "Западно-Казахстанская область"),
    ("zhambyl", "310000000", "region", "Zhambyl region", "Жамбыл облысы", "Жамбылская область"),
    ("zhetysu", "330000000", "region", "Zhetysu region", "Жетісу облысы", "область Жетісу"),
    ("karaganda", "350000000", "region", "Karaganda region", "Қарағанды облысы", "Карагандинская область"),
    ("kostanay", "390000000", "region", "Kostanay region", "Қостанай облысы", "Костанайская область"),
    ("kyzylorda", "430000000", "region", "Kyzylorda region", "Қызылорда облысы", "Кызылординская область"),
    ("mangystau", "470000000", "region", "Mangystau region", "Маңғыстау облысы", "Мангистауская область"),
    ("pavlodar", "550000000", "region", "Pavlodar region", "Павлодар облысы", "Павлодарская область"),
    ("north_kazakhstan", "590000000", "region", "North Kazakhstan region", "Солтүстік Қазақстан облысы",
     "Северо-Казахстанская область"),
    ("ulytau", "620000000", "region", "Ulytau region", "Ұлытау облысы", "область Ұлытау"),
    ("east_kazakhstan", "630000000", "region", "East Kazakhstan region", "Шығыс Қазақстан облысы",
     "Восточно-Казахстанская область"),
]
# District names for generated offices (Kazakh stem, Russian adjective, English).
_STEMS = [
    ("Ақсу", "Аксуский", "Aksu"), ("Бейнеу", "Бейнеуский", "Beineu"), ("Жаңаарқа", "Жанааркинский", "Zhanaarka"),
    ("Көкпекті", "Кокпектинский", "Kokpekty"), ("Қарасай", "Карасайский", "Karasai"),
    ("Талғар", "Талгарский", "Talgar"), ("Еңбекшіқазақ", "Енбекшиказахский", "Enbekshikazakh"),
    ("Ұйғыр", "Уйгурский", "Uighur"), ("Райымбек", "Райымбекский", "Raiymbek"), ("Кеген", "Кегенский", "Kegen"),
    ("Балқаш", "Балхашский", "Balkhash"), ("Іле", "Илийский", "Ili"), ("Сарысу", "Сарысуский", "Sarysu"),
    ("Талас", "Таласский", "Talas"), ("Мойынқұм", "Мойынкумский", "Moiynkum"), ("Шу", "Шуский", "Shu"),
    ("Қордай", "Кордайский", "Korday"), ("Меркі", "Меркенский", "Merki"), ("Байзақ", "Байзакский", "Baizak"),
    ("Жуалы", "Жуалынский", "Zhualy"), ("Осакаров", "Осакаровский", "Osakarov"), ("Нұра", "Нуринский", "Nura"),
    ("Шет", "Шетский", "Shet"), ("Ақтоғай", "Актогайский", "Aktogay"), ("Қарқаралы", "Каркаралинский", "Karkaraly"),
    ("Мұғалжар", "Мугалжарский", "Mugalzhar"), ("Темір", "Темирский", "Temir"), ("Қобда", "Хобдинский", "Khobda"),
    ("Шалқар", "Шалкарский", "Shalkar"), ("Ырғыз", "Иргизский", "Irgiz"), ("Мақат", "Макатский", "Makat"),
    ("Индер", "Индерский", "Inder"), ("Исатай", "Исатайский", "Isatay"),
    ("Құрманғазы", "Курмангазинский", "Kurmangazy"), ("Жылыой", "Жылыойский", "Zhylyoi"),
    ("Жәнібек", "Жанибекский", "Zhanibek"), ("Казталов", "Казталовский", "Kaztalov"),
    ("Теректі", "Теректинский", "Terekty"), ("Сырым", "Сырымский", "Syrym"), ("Қаратөбе", "Каратобинский", "Karatobe"),
]
_SYNTH_TITLES = {
    "kk": {"sports": _KK_TITLES["sports"], "prevention": _KK_TITLES["youth"] + _KK_TITLES["general"],
           "women": _KK_TITLES["women"], "penitentiary": _KK_TITLES["pen"], "seminar": _KK_TITLES["seminar"],
           "campaign": ["«Терроризмге жол жоқ!» акциясы", "«Дін – бейбітшілік пен келісім» акциясы"],
           "other": ["Дөңгелек үстел", "Ақпараттық-түсіндіру тобының кездесуі"]},
    "ru": {"sports": ["Турнир по мини-футболу среди молодёжи", "Соревнования по национальным видам спорта"],
           "prevention": [t for t, a in _RU_PREVENTION if a != "women"],
           "women": [t for t, a in _RU_PREVENTION if a == "women"],
           "penitentiary": ["Теологическая беседа с осуждёнными в учреждении УИС",
                            "Лекция для осуждённых по профилактике терроризма"],
           "seminar": ["Семинар для теологов и имамов", "Семинар для педагогов по профилактике экстремизма"],
           "campaign": ["Акция «Молодёжь против экстремизма»", CAMPAIGN_TITLE],
           "other": ["Круглый стол", "Встреча информационно-разъяснительной группы"]},
}
_CHAIRS = {("kk", "city"): ("Қала әкімі", "ТҚК аппаратының басшысы"),
           ("kk", "region"): ("Облыс әкімі", "ТҚК аппаратының басшысы"),
           ("ru", "city"): ("Аким города", "Руководитель аппарата АТК"),
           ("ru", "region"): ("Аким области", "Руководитель аппарата АТК")}
_BAD_KINDS = ("qualified_number", "totals_mismatch", "foreign_territory", "date_outside_period",
              "conversations_below_adherents", "person_column", "data_after_table", "no_period_token")


def _synth_offices(cfg: Config, n: int, first: str) -> tuple[dict[str, dict], list[dict]]:
    offices: dict[str, dict] = {}
    terr: list[dict] = []
    for code in ("almaty", "turkistan")[:n]:
        o = _office_dict(cfg, code)
        o["reports_from"] = first if o["periodicity"] == "month" else first[:4] + "-Q1"
        offices[code] = o
        terr += [t.__dict__.copy() for t in cfg.office_territories(code)]
    for k in range(max(0, n - 2)):
        if k < len(_REGIONS):
            code, root, level, en, kk, ru = _REGIONS[k]
        else:
            j = k - len(_REGIONS)
            code, root, level = f"region_{j + 1:02d}", f"{800 + j:03d}000000", "region"
            en, kk, ru = f"Synthetic region {j + 1}", f"Синтетикалық {j + 1} облысы", f"Синтетическая область {j + 1}"
        lang = "kk" if k % 2 == 0 else "ru"
        kk_place = kk.replace(" облысы", "").replace(" қаласы", "")
        offices[code] = {
            "code": code, "name_en": f"{en} akimat, Department of Religious Affairs",
            "name_kk": f"{kk_place} {'облысы' if level == 'region' else 'қаласы'} әкімдігінің Дін істері басқармасы",
            "name_ru": f"Управление по делам религий акимата ({ru})",
            "root_kato": root, "periodicity": "month", "reports_from": first, "language": lang,
            "due_days": 10, "source": f"{{home}}/inbox/{code}",
        }
        terr.append({"kato": root, "office_code": code, "level": level, "name_en": en, "name_kk": kk,
                     "name_ru": ru})
        rng = random.Random(_seed("synth-geo", code))
        stems = rng.sample([s for s in _STEMS if s[0] not in kk], 8 + k % 5)
        for i, (skk, sru, sen) in enumerate(stems):
            terr.append({"kato": f"{root[:3]}{10 + i:02d}0000", "office_code": code, "level": "district",
                         "name_en": sen, "name_kk": f"{skk} ауданы", "name_ru": f"{sru} район"})
    return offices, terr


def _synth_rows(form: str, p: Period, geo: _Geo, rows: int, rng: random.Random) -> list[dict]:
    places = geo.districts + [geo.root]
    months = p.months()

    def day() -> date:
        return p.start + timedelta(days=rng.randint(0, (p.end - p.start).days))

    if form == "outreach":
        combos = [(m, k, d) for m in months for k in places for d in ("islamic", "other")]
        combos = sorted(rng.sample(combos, min(rows, len(combos))), key=lambda c: (c[0], places.index(c[1]), c[2]))
        plan = rng.random() < 0.6
        out = []
        for m, k, d in combos:
            a = rng.randint(0, 12 if d == "islamic" else 3)
            out.append({"month": m.start, "kato": k, "direction": d, "adherents_new": a,
                        "conversations": a + rng.randint(0, 15),
                        "conversations_planned": rng.randint(5, 25) if plan and d == "islamic" else None})
        return out
    if form == "rehabilitation":
        combos = [(m, k, pr) for m in months for k in places for pr in ("center", "university", "imams", "other")]
        combos = sorted(rng.sample(combos, min(rows, len(combos))), key=lambda c: (c[0], places.index(c[1]), c[2]))
        out = []
        for m, k, pr in combos:
            r = rng.randint(0, 6)
            out.append({"month": m.start, "kato": k, "provider": pr, "enrolled_new": r + rng.randint(0, 3),
                        "rehabilitated": r, "withdrawn": rng.choice([None, 0, 1])})
        return out
    if form == "events":
        out = []
        for _ in range(rows):
            et = rng.choice(["prevention", "prevention", "prevention", "sports", "penitentiary", "seminar",
                             "campaign", "other"])
            aud = {"penitentiary": "convicts", "sports": "general"}.get(et) or rng.choice(
                ["general", "women", "youth", "general"])
            part = rng.randint(8, 2500 if et in ("sports", "campaign") else 300)
            sports = et == "sports"
            titles = _SYNTH_TITLES[geo.office["language"]]
            out.append({"event_date": day(), "kato": rng.choice(places), "event_type": et,
                        "title": rng.choice(titles["women" if aud == "women" and et == "prevention" else et]),
                        "audience": aud, "teams": rng.randint(4, 60) if sports and rng.random() < 0.5 else None,
                        "mosques": rng.randint(2, 30) if sports and rng.random() < 0.3 else None,
                        "participants": part,
                        "participants_women": part if aud == "women" else rng.choice([None, rng.randint(0, part // 2)]),
                        "participants_adherents": rng.choice([None, rng.randint(0, max(1, part // 20))])})
        out.sort(key=lambda r: r["event_date"])
        return out
    if form == "commission":
        chairs = _CHAIRS[(geo.office["language"], "city" if geo.root_level == "city" else "region")]
        out = [{"meeting_date": day(), "body": "commission" if i == 0 else "working_group",
                "chair": chairs[0] if i == 0 else chairs[1],
                "agenda_items": rng.randint(2, 6), "tasks_assigned": rng.randint(0, 15)}
               for i in range(max(1, rows // 2))]
        out.sort(key=lambda r: r["meeting_date"])
        return out
    if form == "commission_tasks":
        out = []
        for b in _RU_BODIES[: max(1, min(rows, len(_RU_BODIES)))]:
            due = rng.randint(0, 20)
            on = rng.randint(0, due)
            out.append({"quarter": p.token, "responsible": b, "tasks_due": due, "done_on_time": on,
                        "done_late": rng.randint(0, due - on)})
        return out
    raise ValueError(form)


def _synth_style(rng: random.Random) -> dict:
    return {
        "title_lines": rng.choice([0, 1, 2, 2]), "numbering": rng.random() < 0.3,
        "order": rng.choice(["std", "std", "alt"]), "terr": rng.choice(["full", "short", "mixed"]),
        "root_label": rng.randint(0, 1), "month_fmt": rng.choice(["date", "text", "iso", "dotted", "date15"]),
        "date_fmt": rng.choice(["date", "text", "mixed", "iso"]), "quarter_fmt": rng.choice(["iso", "text"]),
        "text_numbers": rng.choice(["none", "none", "big", "some"]), "sep": rng.choice([" ", NBSP, NNBSP]),
        "totals": rng.random() < 0.8, "wrap_headers": rng.random() < 0.3, "code_variants": rng.random() < 0.5,
        "audience_blank": rng.random() < 0.3, "signature": rng.random() < 0.7, "keep": ("withdrawn",),
    }


def _make_bad(sub: Submission, kind: str, geo: _Geo, other_geo: _Geo, rng: random.Random) -> None:
    """Break a copy of a valid submission in one way the contract rejects."""
    lang = geo.office["language"]
    ev = sub.forms.get("events") or []
    if kind == "qualified_number" and ev:
        ev[0]["_raw"] = {"participants": rng.choice(["2500-нан астам", "более 300", "~150", "10-15", ">360"])}
        sub.style.setdefault("events", {})["totals"] = False
    elif kind == "totals_mismatch" and ev:
        sub.style.setdefault("events", {}).update(totals=True, totals_delta={"participants": rng.choice([-10, 1, 100])})
    elif kind == "foreign_territory" and ev:
        ev[0]["_terr_text"] = other_geo.by_kato[other_geo.districts[0]].name_kk if lang == "kk" \
            else other_geo.by_kato[other_geo.districts[0]].name_ru
    elif kind == "date_outside_period" and ev:
        ev[-1]["event_date"] = sub.period.start - timedelta(days=rng.randint(1, 20))
    elif kind == "conversations_below_adherents" and sub.forms.get("outreach"):
        r = sub.forms["outreach"][0]
        r["adherents_new"], r["conversations"] = r["conversations"] + 3, r["adherents_new"]
    elif kind == "person_column":
        form = next(iter(sub.forms))
        sub.style.setdefault(form, {})["extra_columns"] = [("Аты-жөні" if lang == "kk" else "ФИО", "***")]
    elif kind == "data_after_table":
        form = next(iter(sub.forms))
        sub.style.setdefault(form, {})["after_table_number"] = True
    elif kind == "no_period_token":
        month = (KK_MONTHS if lang == "kk" else RU_MONTHS)[sub.period.start.month - 1]
        sub.file_name = f"{sub.office} {'есеп' if lang == 'kk' else 'отчет'} {month} {sub.period.year}.xlsx"
    else:  # the form needed is missing: fall back to a qualified number in an int column
        form = next(iter(sub.forms))
        col = next(c for c in ("adherents_new", "rehabilitated", "agenda_items", "tasks_due", "participants")
                   if c in sub.forms[form][0])
        sub.forms[form][0]["_raw"] = {col: "10-15"}
        sub.style.setdefault(form, {})["totals"] = False


def write_synth(inbox: Path, offices: int, years: int, rows_per_sheet: int = 10, seed: int = 0,
                bad_share: float = 0.03, last_year: int = 2024, config_dir: str | None = None) -> dict:
    """Synthetic submissions for `offices` offices over `years` years ending with `last_year`.

    One valid workbook per office and submission period (monthly offices: 12 a year, Turkistan 4), plus
    round(bad_share × that) extra rejected workbooks, each an earlier broken version of a period
    that then arrives valid. Offices: almaty and turkistan (with reports_from moved to the first
    synthetic year) and generated regions (Kazakh and Russian layouts, monthly).
    rows_per_sheet: events rows per sheet; outreach/rehabilitation rows are capped at the distinct
    month × territory × code combinations, commission rows are half of it, execution rows ≤ 6.

    Returns {"offices": {code: offices.yml entry}, "territories": [territories.csv rows],
    "files": [Path, ...] (all written), "bad_files": [Path, ...], "workbooks": int,
    "first_period": "2015-01", "last_period": "2024-12"}; see write_synth_config().
    """
    if offices < 1 or years < 1:
        raise ValueError("offices and years must be at least 1")
    cfg = load_config(config_dir)
    inbox = Path(inbox)
    first_year = last_year - years + 1
    office_entries, terr_rows = _synth_offices(cfg, offices, f"{first_year}-01")
    territories = [Territory(**t) for t in terr_rows]
    geos = {c: _Geo(o, [t for t in territories if t.office_code == c], cfg.territory_suffixes)
            for c, o in office_entries.items()}
    jobs = []
    for code, o in office_entries.items():
        kind = o["periodicity"]
        p = Period(kind, first_year, 1)
        while p.year <= last_year:
            jobs.append((code, p))
            p = p.next()
    pick = random.Random(_seed("synth-bad", seed, offices, years))
    n_bad = round(bad_share * len(jobs))
    bad = dict(zip(sorted(pick.sample(range(len(jobs)), n_bad)),
                   (_BAD_KINDS[i % len(_BAD_KINDS)] for i in range(n_bad)), strict=True))
    codes = list(office_entries)
    files, bad_files = [], []
    for j, (code, p) in enumerate(jobs):
        o = office_entries[code]
        geo = geos[code]
        rng = random.Random(_seed("synth", seed, code, p.token, rows_per_sheet))
        if o["periodicity"] == "quarter":
            forms = ["events", "commission", "commission_tasks", "outreach", "rehabilitation"]
        else:
            forms = ["outreach", "rehabilitation", "events"] + (["commission"] if codes.index(code) % 3 == 2 else [])
        rows = {f: _synth_rows(f, p, geo, rows_per_sheet, rng) for f in forms}
        days = rng.randint(1, o["due_days"] + 4)
        rec = _received(p, days, rng.randint(9, 18), rng.randint(0, 59))
        lang_word = "есеп" if o["language"] == "kk" else "отчет"
        name = rng.choice([f"{code}_{p.token}.xlsx", f"{code} {lang_word} {p.token}.xlsx"])
        sub = Submission(code, p, name, rec, rows, _synth_style(rng))
        if j in bad:
            b = Submission(code, p, name.replace(".xlsx", "_draft.xlsx"), rec - timedelta(days=rng.randint(1, 3),
                           hours=rng.randint(0, 5)), _deep_copy_forms(rows), {**sub.style}, "rejected", bad[j])
            b.style = {k: (dict(v) if isinstance(v, dict) else v) for k, v in b.style.items()}
            other = geos[codes[(codes.index(code) + 1) % len(codes)]] if len(codes) > 1 else geo
            if other is geo:  # a single office: a made-up district no office has
                other = _Geo({**o, "root_kato": "999000000"}, [
                    Territory("999000000", "x", "region", "X", "Жоқ облысы", "Несуществующая область"),
                    Territory("999010000", "x", "district", "Y", "Жоқ ауданы", "Несуществующий район")], ())
            _make_bad(b, bad[j], geo, other, rng)
            data = _xlsx_direct(render_workbook(cfg, b, geo), b.received, "synth")
            path = _write(inbox / code / nfc(b.file_name), data, b)
            files.append(path)
            bad_files.append(path)
        data = _xlsx_direct(render_workbook(cfg, sub, geo), sub.received, "synth")
        files.append(_write(inbox / code / nfc(sub.file_name), data, sub))
    last = jobs[-1][1] if jobs else None
    return {"offices": office_entries, "territories": terr_rows, "files": files, "bad_files": bad_files,
            "workbooks": len(files), "first_period": f"{first_year}-01",
            "last_period": last.token if last and last.kind == "month" else f"{last_year}-12"}


def write_synth_config(synth: dict, config_dir: Path, base: Path | str = CONFIG_DIR) -> Path:
    """Write a config dir for write_synth()'s offices: forms/indicators copied, offices and territories new."""
    import yaml

    config_dir = Path(config_dir)
    config_dir.mkdir(parents=True, exist_ok=True)
    for name in ("forms.yml", "indicators.yml"):
        (config_dir / name).write_bytes((Path(base) / name).read_bytes())
    entries = {c: {k: v for k, v in o.items() if k != "code"} for c, o in synth["offices"].items()}
    (config_dir / "offices.yml").write_text(
        yaml.safe_dump({"offices": entries}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with (config_dir / "territories.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["kato", "office_code", "level", "name_en", "name_kk", "name_ru"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(synth["territories"])
    return config_dir
