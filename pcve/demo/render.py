"""A canonical submission rendered into sheets the way offices lay them out (../shared/spec/forms.md)."""

from __future__ import annotations

from datetime import date

from pcve.config import Config
from pcve.demo.model import FORM_ORDER, KK_LETTERS, KK_MONTHS, RU_MONTHS, Grid, Submission, last_day, nfc
from pcve.demo.names import Geo

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


def _label(cfg: Config, form: str, col: str, lang: str) -> str:
    return cfg.forms[form].column(col).labels[lang]


def _code_variants(cfg: Config, dim: str, code: str, lang: str) -> list[str]:
    c = cfg.codes[dim][code]
    out = [c.labels[lang]]
    for a in c.aliases:
        kk = any(ch in KK_LETTERS for ch in a)
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
        return date(d.year, d.month, last_day(d.year, d.month))
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


def _title_lines(sub: Submission, form: str, lang: str, geo: Geo, style: dict) -> list[str]:
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


def render_sheet(cfg: Config, sub: Submission, form: str, geo: Geo) -> Grid:
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


def render_workbook(cfg: Config, sub: Submission, geo: Geo) -> list[Grid]:
    order = sub.style.get("form_order", FORM_ORDER)
    grids = [render_sheet(cfg, sub, form, geo) for form in order if form in sub.forms]
    for name, lines in sub.style.get("extra_sheets", ()):
        grids.append(Grid(nfc(name), [[nfc(x)] for x in lines], -1, [], [80.0], {}))
    return grids


# --------------------------------------------------------------------------------------------
# Writers: openpyxl (demo, styled) and a minimal direct XLSX writer (synth, fast). Both give
# the same bytes on every run: fixed document properties and zip entry times.
