"""report.html: one period's extract for people to read, in Kazakh and Russian.

One self-contained HTML file per extract folder (inline CSS and SVG, no script
fetches anything, no font or image from elsewhere), printable on A4 with a page
per office. For each office complete in the period:

1. the indicators against the previous period of the same kind (the quarter
   before, the year before) with the change, and against plan where the
   catalogue has one (a percentage whose numerator is a count's own term and
   whose denominator comes from the same form: ``OUT_PLAN_PCT`` =
   conversations / conversations planned, so ``OUT_CONVERSATIONS`` has a plan);
2. plan fulfilment per territory (bars against the 100 % line);
3. the quarterly trend of every indicator with data, up to eight complete
   quarters ending with this period (inline SVG bar charts);
4. a map-like heat table of territories × indicators, coloured per indicator
   relative to the largest territory value;
5. completeness and lateness: every submission period inside the period with its
   due date, when its first accepted version arrived, days before/after the due
   date, corrections, validation counts;
6. links to the validation Data Docs and the dbt docs, where they are served (``PCVE_DOCS_URL``).

Deterministic: a pure function of its inputs, no wall-clock time (the only times
are the submissions' received times), so reruns are byte-identical.

Self-contained: the report carries the validation summary it needs and links to
nothing on disk, so the folder works wherever it is copied (the ministry gets
plain files). Links to the Data Docs and the dbt docs are written only when a
base URL where they are served is configured (``PCVE_DOCS_URL``, e.g.
``https://pcve.example.kz/docs``: ``<url>/validation/index.html``,
``<url>/dbt/index.html``); without it the report names their path in the
pipeline home. Relative links (``../../docs/``) were dropped: they broke as soon as
the folder was sent, and ``file://`` links would put a server path into a
delivered file and make the bytes depend on where the home lives.

Public profile: the report is written from the *public* rows of every period it
shows (each earlier period suppressed exactly as its own public folder is), so
a suppressed cell shows ``к`` and never a value; colour scales and chart axes
are computed from published values only (a scale maximum could otherwise reveal
a hidden value), and changes against a suppressed cell are suppressed too. The
internal Data Docs (which list sample unexpected values) are not linked.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from exports.formats import Row, format_value
from pcve.core.periods import Period

SUPPRESSED = frozenset({"A", "D"})
#: Quarters in a trend chart (ending with the report's period, or the last quarter of its year).
TREND_QUARTERS = 8
#: Indicator columns per heat table (A4 portrait).
HEAT_COLUMNS = 7

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
MONTHS_KK = ("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек",
             "қазан", "қараша", "желтоқсан")
MONTHS_RU = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
             "октябрь", "ноябрь", "декабрь")

# (Kazakh, Russian)
T = {
    "title": ("Діни экстремизм мен терроризмге қарсы іс-қимыл көрсеткіштері",
              "Показатели противодействия религиозному экстремизму и терроризму"),
    "report": ("Есеп", "Отчёт"),
    "ministry": ("Министрлікке арналған нұсқа", "Версия для министерства"),
    "public": ("Жария нұсқа (құпия деректер жасырылған)", "Публичная версия (конфиденциальные данные скрыты)"),
    "summary": ("Жалпы мәліметтер", "Общие сведения"),
    "offices_in": ("Есепке енген органдар", "Органы, включённые в отчёт"),
    "offices_out": ("Есепке енбеген органдар", "Органы, не включённые в отчёт"),
    "none_out": ("Барлық органдардың есептері толық.", "Отчётность всех органов полная."),
    "incomplete": ("есептері толық емес, жетіспейді", "отчётность неполная, недостаёт"),
    "not_due": ("бұл кезеңге есеп берілмейді", "за этот период не отчитывается"),
    "as_of": ("Деректер соңғы есеп алынған уақыт бойынша", "Данные по состоянию на получение последнего отчёта"),
    "validation": ("Деректерді тексеру", "Проверка данных"),
    "submissions_used": ("Пайдаланылған есептер", "Использовано отчётов"),
    "checks": ("Тексерулер (орындалмағаны)", "Проверок (не пройдено)"),
    "errors_warnings": ("Қателер / ескертулер", "Ошибки / предупреждения"),
    "data_docs": ("Тексеру нәтижелерінің толық есебі (Data Docs)", "Полный отчёт о проверках (Data Docs)"),
    "dbt_docs": ("Деректер модельдерінің сипаттамасы (dbt docs)", "Описание моделей данных (dbt docs)"),
    "docs_where": ("Жұмыс каталогында: docs/validation/index.html, docs/dbt/index.html",
                   "В рабочем каталоге: docs/validation/index.html, docs/dbt/index.html"),
    "docs_public": ("Тексеру нәтижелерінің ішкі есебі жария нұсқаға енгізілмейді.",
                    "Внутренний отчёт о проверках в публичную версию не включается."),
    "indicators": ("Көрсеткіштер: жоспар және алдыңғы кезеңмен салыстыру",
                   "Показатели: план и сравнение с предыдущим периодом"),
    "no": ("№", "№"),
    "indicator": ("Көрсеткіш", "Показатель"),
    "unit": ("Өлш. бірл.", "Ед. изм."),
    "plan": ("Жоспар", "План"),
    "plan_pct": ("Орындалуы, %", "Исполнение, %"),
    "change": ("Өзгеріс", "Изменение"),
    "change_note": ("Пайыздық көрсеткіштердің өзгерісі — пайыздық тармақпен.",
                    "Изменение процентных показателей — в процентных пунктах."),
    "plan_title": ("Әңгімелесу жоспарының орындалуы", "Исполнение плана бесед"),
    "territory": ("Аумақ", "Территория"),
    "n_terr": ("аумақтар", "территорий"),
    "held": ("Нақты", "Факт"),
    "no_plan": ("Бұл кезеңде жоспар деректері жоқ.", "Данных о плане за этот период нет."),
    "trends": ("Көрсеткіштердің тоқсандық серпіні", "Поквартальная динамика показателей"),
    "trends_note": ("Орган бойынша барлығы; қою баған — осы есептің кезеңі.",
                    "Итого по органу; тёмный столбец — период настоящего отчёта."),
    "no_trend": ("Серпінді көрсететін деректер жоқ.", "Данных для динамики нет."),
    "territories": ("Аумақтар бөлінісіндегі көрсеткіштер", "Показатели в разрезе территорий"),
    "heat_note": ("Түс қанықтығы — әр көрсеткіш бойынша ең үлкен аумақтық мәнге қатысты.",
                  "Насыщенность цвета — относительно наибольшего значения по территориям для каждого показателя."),
    "office_only": ("Тек орган бойынша жалпы есептелетін көрсеткіштер", "Показатели, учитываемые только по органу в целом"),
    "completeness": ("Есептердің толықтығы және уақтылығы", "Полнота и своевременность отчётности"),
    "accepted_of": ("Қабылданған есептер", "Принято отчётов"),
    "complete": ("толық", "полная"),
    "sub_period": ("Есепті кезең", "Отчётный период"),
    "due": ("Тапсыру мерзімі", "Срок представления"),
    "received": ("Алғашқы нұсқа алынды", "Первая версия получена"),
    "days": ("Мерзімге қатысты, күн", "Относительно срока, дн."),
    "on_time": ("мерзімінде", "в срок"),
    "late": ("кешікті", "с опозданием"),
    "versions": ("Нұсқалар", "Версий"),
    "file": ("Қолданыстағы файл", "Действующий файл"),
    "late_note": ("Теріс сан — мерзімнен бұрын, оң сан — кешігу күндері; түзетулер (кейінгі нұсқалар) кешігу "
                  "болып саналмайды.",
                  "Отрицательное число — раньше срока, положительное — дни опоздания; исправления (последующие "
                  "версии) опозданием не считаются."),
    "legend": ("Шартты белгілер", "Условные обозначения"),
    "sym_supp": ("құпиялылықты сақтау мақсатында жарияланбайды", "не публикуется в целях конфиденциальности"),
    "sym_none": ("деректер жоқ (нысан тапсырылмаған, кезең толық емес немесе бөлімі нөлге тең)",
                 "нет данных (форма не представлялась, период неполный или знаменатель равен нулю)"),
    "footer": ("Есеп кірген есептерден автоматты түрде жасалды; мәндер indicators.csv файлымен сәйкес келеді.",
               "Отчёт сформирован автоматически из поступивших отчётов; значения совпадают с файлом indicators.csv."),
    "office_total": ("орган бойынша барлығы", "итого по органу"),
    "provisional": ("АЛДЫН АЛА ДЕРЕКТЕР: кезең толық емес, мәндер өзгеруі мүмкін. Министрлікке жіберілмейді.",
                    "ПРЕДВАРИТЕЛЬНЫЕ ДАННЫЕ: период не завершён, значения могут измениться. В министерство "
                    "не направляются."),
    "revision": ("Нұсқа", "Редакция"),
    "issued": ("шығарылған күні", "дата выпуска"),
    "first_issue": ("Алғашқы шығарылым: кезеңнің барлық есептері алынды.",
                    "Первый выпуск: получены все отчёты за период."),
    "reason": ("Себебі", "Причина"),
    "accepted_sub": ("қабылданды", "принят"),
    "superseded_sub": ("ауыстырылды", "заменён"),
    "voided_sub": ("күші жойылды", "отозван"),
    "office_added": ("есебі толық болды", "отчётность стала полной"),
    "office_removed": ("есебі толық емес болды", "отчётность стала неполной"),
    "reissued": ("алдыңғы нұсқа жоғалған не бүлінген: қоймадан қайта шығарылды",
                 "предыдущая редакция утрачена или повреждена: выпущена заново из хранилища"),
    "format": ("файлдардың пішімі немесе атаулары өзгерді, мәндер өзгерген жоқ",
               "изменились формат файлов или наименования, значения не изменились"),
    "changed_values": ("Өзгерген мәндер (CHANGES.csv)", "Изменённые значения (CHANGES.csv)"),
    "old": ("Бұрынғы", "Было"),
    "new": ("Жаңа", "Стало"),
    "more": ("тағы", "ещё"),
}


@dataclass(frozen=True)
class Office:
    code: str
    name_kk: str
    name_ru: str
    root_kato: str
    periodicity: str = "month"  # month | quarter: the office's submission period
    due_days: int = 0


@dataclass
class ReportData:
    period: Period
    profile: str  # ministry | public
    offices: list[Office]  # the offices of the folder, in order
    rows: list[Row]  # this period's rows as published (after the profile's suppression)
    history: dict[str, list[Row]] = field(default_factory=dict)  # other period id -> published rows
    submissions: list[dict] = field(default_factory=list)  # the manifest's submissions (current ones used)
    versions: list[dict] = field(default_factory=list)  # accepted versions: current and superseded
    left_out: list[dict] = field(default_factory=list)  # the manifest's offices_left_out
    validation: dict = field(default_factory=dict)  # the manifest's validation summary
    plans: dict[str, str] = field(default_factory=dict)  # count indicator -> percentage giving its plan
    program: dict[str, str] = field(default_factory=dict)  # name_kk, name_ru
    docs: str | None = None  # base URL where docs/ is served (PCVE_DOCS_URL); None: no links
    office_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # every office: (kk, ru)
    status: str = "final"  # final | provisional (a period not complete: `pcve export --provisional`)


# --- text --------------------------------------------------------------------------------------------------

def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def bi(key: str, tag: str = "span") -> str:
    """A Kazakh / Russian pair: Kazakh first, Russian after a slash."""
    kk, ru = T[key]
    return f'<{tag} lang="kk">{esc(kk)}</{tag}> <span class="sep">/</span> <{tag} lang="ru">{esc(ru)}</{tag}>'


def bi_lines(kk: str, ru: str) -> str:
    return f'<span class="kk" lang="kk">{esc(kk)}</span><span class="ru" lang="ru">{esc(ru)}</span>'


def period_name(p: Period) -> tuple[str, str]:
    if p.kind == "quarter":
        return f"{p.year} жылғы {ROMAN[p.number]} тоқсан", f"{ROMAN[p.number]} квартал {p.year} года"
    if p.kind == "year":
        return f"{p.year} жыл", f"{p.year} год"
    return f"{p.year} ж. {MONTHS_KK[p.number - 1]}", f"{MONTHS_RU[p.number - 1]} {p.year}"


def period_short(p: Period) -> str:
    if p.kind == "quarter":
        return f"{ROMAN[p.number]} {p.year}"
    if p.kind == "year":
        return str(p.year)
    return f"{p.number:02d}.{p.year}"


def _group(digits: str) -> str:
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return "\u00a0".join(out)


def num(value: Decimal | int | None, is_percent: bool = False, signed: bool = False) -> str:
    """``1 234`` (no-break space), ``43,0`` (decimal comma), ``−5`` (minus sign); ``—`` when absent."""
    if value is None:
        return "—"
    text = format_value(value, is_percent)
    neg = text.startswith("-")
    text = text.lstrip("-")
    whole, _, frac = text.partition(".")
    out = _group(whole) + ("," + frac if frac else "")
    if neg:
        return "\u2212" + out
    return ("+" + out) if signed and out.strip("0,\u00a0") else out


def fmt_date(d: date | None) -> str:
    return "—" if d is None else d.strftime("%d.%m.%Y")


def fmt_time(ts: datetime | None) -> str:
    return "—" if ts is None else ts.strftime("%d.%m.%Y %H:%M")


def _parse_ts(text: object) -> datetime | None:
    if isinstance(text, datetime):
        return text
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _parse_date(v: object) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if not v:
        return None
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def _suppressed(r: Row | None) -> bool:
    return r is not None and r.conf_status in SUPPRESSED


def cell_text(r: Row | None) -> str:
    if r is None:
        return "—"
    if _suppressed(r):
        return "к"
    return num(r.value, r.is_percent)


def _data_attrs(r: Row | None) -> str:
    if r is None:
        return ' data-value=""'
    if _suppressed(r):
        return f' data-code="{esc(r.indicator_code)}" data-kato="{esc(r.kato)}" data-conf="{esc(r.conf_status)}"'
    return (f' data-code="{esc(r.indicator_code)}" data-kato="{esc(r.kato)}" '
            f'data-value="{esc(r.value_text)}"')


# --- periods -------------------------------------------------------------------------------------------------

def previous_period(p: Period) -> Period:
    if p.kind == "quarter":
        return Period("quarter", p.year - (p.number == 1), (p.number - 2) % 4 + 1)
    if p.kind == "year":
        return Period("year", p.year - 1, 1)
    return Period("month", p.year - (p.number == 1), (p.number - 2) % 12 + 1)


def trend_quarters(p: Period) -> list[Period]:
    """The quarters of the trend charts: TREND_QUARTERS ending with the period (a year: its last quarter)."""
    last = p if p.kind == "quarter" else Period("quarter", p.year, 4 if p.kind == "year" else p.quarter().number)
    out = [last]
    while len(out) < TREND_QUARTERS:
        out.insert(0, previous_period(out[0]))
    return out


def history_periods(p: Period) -> list[str]:
    """Every other period a report of ``p`` shows: the previous period and the trend's quarters."""
    out = [previous_period(p).dhis2] + [q.dhis2 for q in trend_quarters(p)]
    return [x for i, x in enumerate(out) if x != p.dhis2 and x not in out[:i]]


# --- SVG ---------------------------------------------------------------------------------------------------

def _f(x: float) -> str:
    """Coordinates with one decimal, no ``-0.0``: the same input gives the same bytes."""
    s = f"{x:.1f}"
    return "0.0" if s == "-0.0" else s


def trend_chart(points: list[tuple[Period, Row | None]], is_percent: bool, current: frozenset[str] | set[str],
                label: str, ref100: bool = False, width: int = 230, height: int = 128) -> str:
    """Bars (counts) or a line with dots (percentages) of the office total over quarters.

    The axis runs from 0 to the largest *published* value (to 100 at least with ``ref100``, the
    plan line): a suppressed value never sets the scale."""
    top, bottom, side = 15.0, 26.0, 4.0
    ph = height - top - bottom
    n = max(len(points), 1)
    slot = (width - 2 * side) / n
    visible = [float(r.value) for _, r in points if r is not None and not _suppressed(r) and r.value is not None]
    vmax = max(visible, default=0.0)
    if ref100:
        vmax = max(vmax, 100.0)
    vmax = vmax or 1.0
    fs = 8.5 if n > 6 else 9.5
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{esc(label)}"><title>{esc(label)}</title>',
           f'<line class="axis" x1="{_f(side)}" y1="{_f(top + ph)}" x2="{_f(width - side)}" y2="{_f(top + ph)}"/>']
    if ref100:
        y100 = top + ph - ph * 100.0 / vmax
        out.append(f'<line class="ref" x1="{_f(side)}" y1="{_f(y100)}" x2="{_f(width - side)}" y2="{_f(y100)}"/>')
    line: list[tuple[float, float]] = []
    prev_year = None
    for i, (q, r) in enumerate(points):
        cx = side + slot * (i + 0.5)
        cur = q.dhis2 in current
        if r is None or (not _suppressed(r) and r.value is None):
            out.append(f'<text class="na" x="{_f(cx)}" y="{_f(top + ph - 3)}" font-size="{fs}">—</text>')
        elif _suppressed(r):
            out.append(f'<text class="na supp" x="{_f(cx)}" y="{_f(top + ph - 3)}" font-size="{fs}">к</text>')
        else:
            v = float(r.value)
            h = ph * v / vmax
            y = top + ph - h
            if is_percent:
                line.append((cx, y))
                out.append(f'<circle class="dot{" cur" if cur else ""}" cx="{_f(cx)}" cy="{_f(y)}" r="2.6"/>')
            else:
                bw = slot * 0.64
                out.append(f'<rect class="bar{" cur" if cur else ""}" x="{_f(cx - bw / 2)}" y="{_f(y)}" '
                           f'width="{_f(bw)}" height="{_f(max(h, 0.0))}"/>')
            out.append(f'<text class="val" x="{_f(cx)}" y="{_f(y - 3)}" font-size="{fs}">'
                       f'{esc(num(r.value, is_percent))}</text>')
        out.append(f'<text class="tick{" cur" if cur else ""}" x="{_f(cx)}" y="{_f(top + ph + 10)}">'
                   f'{ROMAN[q.number]}</text>')
        if q.year != prev_year:
            out.append(f'<text class="year" x="{_f(cx)}" y="{_f(top + ph + 21)}">{q.year}</text>')
            prev_year = q.year
    if len(line) > 1:
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in line)
        out.insert(2, f'<polyline class="trend" points="{pts}"/>')
    out.append("</svg>")
    return "".join(out)


def plan_bar(row: Row | None, width: int = 210, height: int = 16) -> str:
    """Fulfilment against the 100 % line (scale 0-150 %, longer bars clipped with an arrow)."""
    scale = 150.0
    out = [f'<svg class="pbar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="plan">',
           f'<rect class="track" x="0" y="3" width="{width}" height="{height - 6}"/>']
    if row is not None and not _suppressed(row) and row.value is not None:
        v = float(row.value)
        w = width * min(v, scale) / scale
        cls = "ok" if v >= 100 else "under"
        out.append(f'<rect class="{cls}" x="0" y="3" width="{_f(w)}" height="{height - 6}"/>')
        if v > scale:
            out.append(f'<path class="over" d="M{width - 7} 3 L{width} {height / 2} L{width - 7} {height - 3} Z"/>')
    x100 = width * 100.0 / scale
    out.append(f'<line class="ref100" x1="{_f(x100)}" y1="0" x2="{_f(x100)}" y2="{height}"/>')
    out.append("</svg>")
    return "".join(out)


def lateness_bar(days: int | None, span: int = 20, width: int = 110, height: int = 16) -> str:
    """Days before (left, green) or after (right, red) the due date, the due date in the middle."""
    mid = width / 2
    out = [f'<svg class="lbar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="lateness">',
           f'<line class="axis" x1="0" y1="{height / 2}" x2="{width}" y2="{height / 2}"/>']
    if days is not None:
        w = (mid - 2) * min(abs(days), span) / span
        if days > 0:
            out.append(f'<rect class="late" x="{_f(mid)}" y="3" width="{_f(w)}" height="{height - 6}"/>')
        elif days < 0:
            out.append(f'<rect class="early" x="{_f(mid - w)}" y="3" width="{_f(w)}" height="{height - 6}"/>')
    out.append(f'<line class="due" x1="{_f(mid)}" y1="0" x2="{_f(mid)}" y2="{height}"/>')
    out.append("</svg>")
    return "".join(out)


# --- heat colours ------------------------------------------------------------------------------------------

BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")


def heat_class(value: Decimal | None, vmax: float) -> int:
    """0 for zero, 1-8 by share of the column's largest published territory value."""
    if value is None or vmax <= 0 or float(value) <= 0:
        return 0
    share = float(value) / vmax
    return max(1, min(8, int((share * 8) + 0.999999)))


# --- sections ---------------------------------------------------------------------------------------------

CSS = """
@page { size: A4 portrait; margin: 14mm 12mm 16mm 12mm;
  @bottom-right { content: counter(page) " / " counter(pages); font: 8pt "Liberation Sans", Arial, sans-serif;
    color: #555; }
  @bottom-left { content: "PCVE · report.html"; font: 8pt "Liberation Sans", Arial, sans-serif; color: #777; } }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "PT Sans", "Liberation Sans", Arial, "DejaVu Sans", sans-serif; font-size: 10.5pt;
  color: #1b1f24; margin: 0 auto; max-width: 190mm; padding: 8mm 0 12mm; line-height: 1.35; background: #fff; }
h1 { font-size: 17pt; margin: 0 0 2mm; color: #0b2e4f; line-height: 1.2; }
h1 .ru, .subtitle .ru { display: block; color: #3d5570; font-weight: normal; }
h1 .ru { font-size: 13pt; margin-top: 1mm; }
h2 { font-size: 13.5pt; color: #0b2e4f; margin: 0 0 1mm; }
h2 .ru { display: block; font-size: 11pt; font-weight: normal; color: #3d5570; }
h3 { font-size: 11pt; color: #0b2e4f; margin: 6mm 0 2mm; padding-bottom: 1mm; border-bottom: 1.5px solid #00a3c4;
  break-after: avoid; page-break-after: avoid; }
h3 .sep, .bi .sep { color: #8a9bb0; font-weight: normal; }
h3 span[lang=ru] { font-weight: normal; color: #3d5570; }
.kk, .ru { display: block; }
.ru { color: #4a5a6a; }
.masthead { border-top: 6px solid #00a3c4; border-bottom: 1px solid #c9d3de; padding: 5mm 0 4mm; margin-bottom: 4mm; }
.subtitle { font-size: 11pt; margin: 2mm 0 0; }
.period { font-size: 14pt; font-weight: bold; color: #0b2e4f; margin-top: 3mm; }
.period .ru { display: inline; color: #0b2e4f; }
.badge { display: inline-block; font-size: 8.5pt; padding: 0.5mm 2mm; border-radius: 2mm; background: #e8f3f7;
  color: #0b4f6c; border: 1px solid #b7dbe6; margin-top: 2mm; }
.badge.public { background: #fff4d6; color: #6b4e00; border-color: #f1d27a; }
.meta { color: #4a5a6a; font-size: 9pt; margin-top: 2mm; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; table-layout: fixed; }
th, td { border: 1px solid #c9d3de; padding: 1.2mm 1.5mm; vertical-align: top; }
th { background: #eef3f8; color: #0b2e4f; font-weight: bold; text-align: left; font-size: 8.5pt; }
th .ru, td .ru { font-weight: normal; font-size: 8pt; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.c { text-align: center; }
tr { break-inside: avoid; page-break-inside: avoid; }
tr.total td { font-weight: bold; background: #f6f8fb; }
.code { display: block; font-size: 6.5pt; color: #8a9bb0; letter-spacing: 0.2px; margin-top: 0.5mm; }
.rel { display: block; font-size: 7.5pt; color: #6b7b8c; }
th.num { white-space: normal; }
td.file { font-size: 7.5pt; word-break: break-all; }
.status { display: block; font-size: 7.5pt; text-align: right; }
.status .kk, .status .ru { color: inherit; font-size: 7.5pt; }
.pct-parts { display: block; font-size: 7.5pt; color: #6b7b8c; font-weight: normal; }
.arrow { font-size: 7pt; color: #6b7b8c; }
.supp { color: #8a5a00; font-weight: bold; }
.note { font-size: 8pt; color: #4a5a6a; margin: 1.5mm 0 0; }
.note .ru { display: inline; }
section.office { break-before: page; page-break-before: always; }
.office-head { background: #0b2e4f; color: #fff; padding: 3mm 4mm; margin-bottom: 2mm; }
.office-head h2, .office-head h2 .ru { color: #fff; }
.office-head .ru { color: #cfe3f2; }
.office-head .facts { font-size: 8.5pt; color: #cfe3f2; margin-top: 1mm; }
.charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; }
.card { border: 1px solid #d6dee7; padding: 1.5mm 2mm 1mm; break-inside: avoid; page-break-inside: avoid; }
.card .kk { font-weight: bold; font-size: 8pt; line-height: 1.2; }
.card .ru { font-size: 7.5pt; line-height: 1.2; }
.card .unit { font-size: 7pt; color: #6b7b8c; }
svg.chart { display: block; width: 100%; height: auto; margin-top: 1mm; }
svg text { font-family: "PT Sans", "Liberation Sans", Arial, "DejaVu Sans", sans-serif; text-anchor: middle; }
svg .axis { stroke: #7b8a99; stroke-width: 1; }
svg .ref, svg .ref100 { stroke: #c0392b; stroke-width: 1; stroke-dasharray: 3 2; }
svg .bar { fill: #9cc3e0; } svg .bar.cur { fill: #17609e; }
svg .trend { fill: none; stroke: #4a7fb0; stroke-width: 1.5; }
svg .dot { fill: #4a7fb0; } svg .dot.cur { fill: #0b2e4f; }
svg .val { fill: #1b1f24; } svg .na { fill: #8a9bb0; } svg .na.supp { fill: #8a5a00; font-weight: bold; }
svg .tick { fill: #4a5a6a; font-size: 8px; } svg .tick.cur { fill: #0b2e4f; font-weight: bold; }
svg .year { fill: #6b7b8c; font-size: 7.5px; }
svg .track { fill: #eef2f6; } svg .ok { fill: #2e8b57; } svg .under { fill: #d98c1f; } svg .over { fill: #1d5e3a; }
svg .late { fill: #c0392b; } svg .early { fill: #2e8b57; } svg .due { stroke: #1b1f24; stroke-width: 1.2; }
table.heat { width: auto; } table.heat col { width: 17mm; } table.heat col.terr { width: 46mm; }
table.heat td.num { padding-right: 2mm; }
table.heat th.ind { text-align: center; font-size: 7.5pt; vertical-align: bottom; }
table.heat td.terr .ru { font-size: 7.5pt; }
""" + "".join(
    f"table.heat td.h{i} {{ background: {c}; {'color: #fff;' if i >= 6 else ''} }}\n" for i, c in enumerate(BLUES)
) + """
table.heat td.hs { background: repeating-linear-gradient(135deg, #f3ead6 0 3px, #fff 3px 6px); text-align: center; }
.heat-legend { display: flex; align-items: center; gap: 1mm; font-size: 7.5pt; color: #4a5a6a; margin-top: 1.5mm; }
.heat-legend i { display: inline-block; width: 6mm; height: 3mm; border: 1px solid #c9d3de; }
.cols { font-size: 7.5pt; color: #4a5a6a; margin: 1mm 0 3mm; columns: 2; column-gap: 6mm; }
.cols div { break-inside: avoid; }
.ontime { color: #1d6b40; } .islate { color: #a3281c; font-weight: bold; }
.links a { color: #0b4f8c; }
.links li { margin-bottom: 1mm; }
a { color: #0b4f8c; }
.toc a { text-decoration: none; }
.revision { border: 1px solid #b7dbe6; background: #f2f9fb; padding: 2mm 3mm; margin: 0 0 4mm; font-size: 9pt; }
.revision table { margin-top: 1.5mm; }
.provisional-banner { border: 2px solid #c0392b; background: #fdecea; color: #7b1d13; font-weight: bold;
  padding: 2.5mm 3mm; margin: 0 0 4mm; font-size: 10.5pt; }
.legend-box { border: 1px solid #d6dee7; background: #fafbfc; padding: 2mm 3mm; font-size: 8.5pt; margin-top: 3mm; }
footer { margin-top: 8mm; border-top: 1px solid #c9d3de; padding-top: 2mm; font-size: 8pt; color: #6b7b8c; }
.screen-only { }
@media print {
  body { padding: 0; max-width: none; }
  .screen-only { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""

# Re-points the Data Docs links when the file is opened through its real path
# <home>/exports/.revisions/<period>/r<N>/report.html (four levels below the home, not two).
def _by_key(rows: Iterable[Row]) -> dict[tuple[str, str, str], Row]:
    return {r.key: r for r in rows}


def _catalogue(rows: Iterable[Row]) -> list[Row]:
    """One row per indicator (first seen), in catalogue order: names and units."""
    seen: dict[str, Row] = {}
    for r in rows:
        seen.setdefault(r.indicator_code, r)
    return sorted(seen.values(), key=lambda r: (r.sort_order, r.indicator_code))


def _change(cur: Row | None, prev: Row | None) -> tuple[str, str]:
    """(text, data-change) of cur − prev; ``к`` when either is suppressed, ``—`` when either is absent."""
    if _suppressed(cur) or _suppressed(prev):
        return '<span class="supp">к</span>', ""
    if cur is None or prev is None or cur.value is None or prev.value is None:
        return "—", ""
    d = cur.value - prev.value
    text = num(d, cur.is_percent, signed=True)
    arrow = "▲" if d > 0 else ("▼" if d < 0 else "")
    rel = ""
    if not cur.is_percent and prev.value:
        pct = (Decimal(100) * d / prev.value).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        rel = f'<span class="rel">{num(pct, False, signed=True)}\u00a0%</span>'
    arrow_html = f'<span class="arrow">{arrow}</span> ' if arrow else ""
    return f"{arrow_html}{esc(text)}{rel}", format_value(d, cur.is_percent)


def _value_cell(r: Row | None, extra_cls: str = "") -> str:
    cls = f"num{(' ' + extra_cls) if extra_cls else ''}"
    if r is None:
        return f'<td class="{cls}" data-value="">—</td>'
    if _suppressed(r):
        return f'<td class="{cls}"{_data_attrs(r)}><span class="supp">к</span></td>'
    parts = ""
    if r.is_percent and r.numerator is not None and r.denominator is not None:
        parts = f'<span class="pct-parts">{esc(num(r.numerator))} / {esc(num(r.denominator))}</span>'
    return f'<td class="{cls}"{_data_attrs(r)}>{esc(num(r.value, r.is_percent))}{parts}</td>'


def _indicator_table(office: Office, d: ReportData, cur: dict, prev: dict | None, prev_p: Period,
                     orows: list[Row]) -> str:
    root = office.root_kato
    rows = _catalogue(orows)  # this office's indicators (a catalogue of every office's rows would list
    # only those the office happened to report first)
    pk, pr = period_name(d.period)
    qk, qr = period_name(prev_p)
    head = (
        "<thead><tr>"
        f'<th class="c">{esc(T["no"][0])}</th>'
        f'<th>{bi_lines(*T["indicator"])}</th>'
        f'<th>{bi_lines(*T["unit"])}</th>'
        f'<th class="num">{bi_lines(pk, pr)}</th>'
        f'<th class="num">{bi_lines(*T["plan"])}</th>'
        f'<th class="num">{bi_lines(*T["plan_pct"])}</th>'
        f'<th class="num">{bi_lines(qk, qr)}</th>'
        f'<th class="num">{bi_lines(*T["change"])}</th>'
        "</tr></thead>"
    )
    cols = ('<colgroup><col style="width:6mm"><col><col style="width:13mm"><col style="width:20mm">'
            '<col style="width:15mm"><col style="width:19mm"><col style="width:20mm"><col style="width:24mm">'
            '</colgroup>')
    body = []
    for i, meta in enumerate(rows, start=1):
        code = meta.indicator_code
        c = cur.get((code, office.code, root))
        p = None if prev is None else prev.get((code, office.code, root))
        plan_cell = '<td class="num">—</td>'
        pct_cell = '<td class="num">—</td>'
        pct_code = d.plans.get(code)
        if pct_code is not None:
            pr_row = cur.get((pct_code, office.code, root))
            if pr_row is not None:
                if _suppressed(pr_row):
                    plan_cell = '<td class="num"><span class="supp">к</span></td>'
                else:
                    plan_cell = (f'<td class="num" data-plan="{esc(pr_row.denominator if pr_row.denominator is not None else "")}">'
                                 f'{esc(num(pr_row.denominator))}</td>')
                pct_cell = _value_cell(pr_row)
        ch, ch_raw = _change(c, p)
        body.append(
            f'<tr data-row="{esc(code)}">'
            f'<td class="c">{i}</td>'
            f'<td>{bi_lines(meta.indicator_name_kk, meta.indicator_name_ru)}<span class="code">{esc(code)}</span></td>'
            f'<td>{bi_lines(meta.unit_name_kk, meta.unit_name_ru)}</td>'
            f'{_value_cell(c, "cur")}{plan_cell}{pct_cell}{_value_cell(p, "prev")}'
            f'<td class="num" data-change="{esc(ch_raw)}">{ch}</td></tr>'
        )
    return f'<table class="indicators">{cols}{head}<tbody>{"".join(body)}</tbody></table>'


def _territories(office: Office, rows: list[Row]) -> list[Row]:
    """Territory rows (one per KATO) with the office total first, then by KATO."""
    seen: dict[str, Row] = {}
    for r in rows:
        if r.office_code == office.code:
            seen.setdefault(r.kato, r)
    return sorted(seen.values(), key=lambda r: (r.kato != office.root_kato, r.kato))


def _plan_section(office: Office, d: ReportData, cur: dict, orows: list[Row]) -> str:
    parts = []
    for pct_code in sorted(set(d.plans.values())):
        prow = [r for r in orows if r.indicator_code == pct_code]
        if not prow:
            continue
        meta = prow[0]
        if not any(r.denominator or _suppressed(r) for r in prow):
            continue  # no plan figures at all in this period
        body = []
        for t in _territories(office, prow):
            r = cur.get((pct_code, office.code, t.kato))
            held = num(r.numerator) if r is not None and not _suppressed(r) else ("к" if _suppressed(r) else "—")
            plan = num(r.denominator) if r is not None and not _suppressed(r) else ("к" if _suppressed(r) else "—")
            total = ' class="total"' if t.kato == office.root_kato else ""
            body.append(
                f"<tr{total}><td>{bi_lines(t.territory_name_kk, t.territory_name_ru)}</td>"
                f'<td class="num">{esc(held)}</td><td class="num">{esc(plan)}</td>{_value_cell(r)}'
                f"<td>{plan_bar(r)}</td></tr>")
        parts.append(
            f'<p class="note">{bi_lines(meta.indicator_name_kk, meta.indicator_name_ru)}</p>'
            '<table class="plan"><colgroup><col><col style="width:20mm"><col style="width:20mm">'
            '<col style="width:24mm"><col style="width:60mm"></colgroup><thead><tr>'
            f'<th>{bi_lines(*T["territory"])}</th><th class="num">{bi_lines(*T["held"])}</th>'
            f'<th class="num">{bi_lines(*T["plan"])}</th><th class="num">{bi_lines(*T["plan_pct"])}</th>'
            '<th>0 — 100 — 150 %</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')
    if not parts:
        return f'<p class="note">{bi("no_plan")}</p>'
    return "".join(parts)


def _office_totals(rows: list[Row], memo: dict | None) -> dict[tuple[str, str], dict[str, Row]]:
    """(office, kato) -> indicator -> row (the last one, as a dict comprehension keeps); `memo` (one
    render) indexes each period's rows once, not once per office."""
    if memo is not None and id(rows) in memo:
        return memo[id(rows)][1]
    index: dict[tuple[str, str], dict[str, Row]] = {}
    for r in rows:
        index.setdefault((r.office_code, r.kato), {})[r.indicator_code] = r
    if memo is not None:
        memo[id(rows)] = (rows, index)  # holds `rows`: its id stays its own while the memo lives
    return index


def _trend_section(office: Office, d: ReportData, memo: dict | None = None) -> str:
    quarters = trend_quarters(d.period)
    by_period: dict[str, dict] = {}
    for q in quarters:
        src = d.rows if q.dhis2 == d.period.dhis2 else d.history.get(q.dhis2, [])
        by_period[q.dhis2] = _office_totals(src, memo).get((office.code, office.root_kato), {})
    # from the first quarter with data (an office that started later has no empty years in front)
    first = next((i for i, q in enumerate(quarters) if by_period[q.dhis2]), None)
    if first is None:
        return f'<p class="note">{bi("no_trend")}</p>'
    quarters = quarters[first:]
    current = frozenset(q.dhis2 for q in quarters if q.start >= d.period.start and q.end <= d.period.end)
    plan_pcts = set(d.plans.values())
    cards = []
    all_rows = [r for q in quarters for r in by_period[q.dhis2].values()]
    for meta in _catalogue(all_rows):
        code = meta.indicator_code
        points = [(q, by_period[q.dhis2].get(code)) for q in quarters]
        if not any(r is not None and (r.value or _suppressed(r)) for _, r in points):
            continue  # nothing but zeros and gaps: no chart
        label = f"{meta.indicator_name_kk} / {meta.indicator_name_ru}"
        cards.append(
            f'<div class="card" data-chart="{esc(code)}">{bi_lines(meta.indicator_name_kk, meta.indicator_name_ru)}'
            f'<span class="unit">{esc(meta.unit_name_kk)} / {esc(meta.unit_name_ru)}</span>'
            f"{trend_chart(points, meta.is_percent, current, label, ref100=code in plan_pcts)}</div>")
    if not cards:
        return f'<p class="note">{bi("no_trend")}</p>'
    return (f'<div class="charts">{"".join(cards)}</div>'
            f'<p class="note">{bi("trends_note")}</p>')


def _heat_section(office: Office, d: ReportData, cur: dict, orows: list[Row]) -> str:
    terrs = _territories(office, orows)
    districts = [t for t in terrs if t.kato != office.root_kato]
    if not districts:
        return ""
    catalogue = _catalogue(orows)
    numbers = {m.indicator_code: i for i, m in enumerate(catalogue, start=1)}
    cols, office_only = [], []
    for m in catalogue:
        cells = [cur.get((m.indicator_code, office.code, t.kato)) for t in districts]
        if any(_suppressed(c) or (c is not None and c.value) for c in cells):
            cols.append(m)
        else:
            office_only.append(m)
    tables = []
    n_tables = -(-len(cols) // HEAT_COLUMNS)
    size = -(-len(cols) // max(n_tables, 1))
    for start in range(0, len(cols), max(size, 1)):
        chunk = cols[start:start + size]
        vmax = {}
        for m in chunk:
            vis = [float(c.value) for t in districts
                   if (c := cur.get((m.indicator_code, office.code, t.kato))) is not None
                   and not _suppressed(c) and c.value is not None]
            vmax[m.indicator_code] = max(vis, default=0.0)
        head = "".join(f'<th class="ind" title="{esc(m.indicator_name_kk)} / {esc(m.indicator_name_ru)}">'
                       f'{numbers[m.indicator_code]}</th>' for m in chunk)
        body = []
        for t in terrs:
            is_root = t.kato == office.root_kato
            tds = []
            for m in chunk:
                c = cur.get((m.indicator_code, office.code, t.kato))
                if _suppressed(c):
                    tds.append(f'<td class="num hs"{_data_attrs(c)}><span class="supp">к</span></td>')
                elif is_root:
                    tds.append(f'<td class="num"{_data_attrs(c)}>{esc(cell_text(c))}</td>')
                else:
                    h = heat_class(None if c is None else c.value, vmax[m.indicator_code])
                    tds.append(f'<td class="num h{h}"{_data_attrs(c)}>{esc(cell_text(c))}</td>')
            body.append(f'<tr{" class=total" if is_root else ""}><td class="terr">'
                        f"{bi_lines(t.territory_name_kk, t.territory_name_ru)}</td>{''.join(tds)}</tr>")
        legend_cols = "".join(
            f"<div><b>{numbers[m.indicator_code]}</b> — {esc(m.indicator_name_kk)} / {esc(m.indicator_name_ru)}, "
            f"{esc(m.unit_name_kk)}</div>" for m in chunk)
        tables.append(
            f'<table class="heat"><colgroup><col class="terr">{"<col>" * len(chunk)}</colgroup>'
            f'<thead><tr><th>{bi_lines(*T["territory"])}</th>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table><div class="cols">{legend_cols}</div>')
    scale = "".join(f'<i style="background:{c}"></i>' for c in BLUES[1:])
    out = "".join(tables) + (f'<div class="heat-legend"><span>0</span>{scale}<span>max</span>'
                             f'&nbsp;<span class="bi">{bi("heat_note")}</span></div>')
    if office_only:
        names = "; ".join(f"{numbers[m.indicator_code]}. {esc(m.indicator_name_kk)} / {esc(m.indicator_name_ru)}"
                          for m in office_only)
        out += f'<p class="note"><b>{bi("office_only")}:</b> {names}</p>'
    return out


def _sub_periods(office: Office, p: Period) -> list[Period]:
    try:
        return p.sub_periods(office.periodicity)
    except ValueError:
        return [p]


def _completeness_section(office: Office, d: ReportData) -> str:
    used = [s for s in d.submissions if s.get("office_code") == office.code]
    versions: dict[str, list[dict]] = {}
    for v in list(d.versions) + used:
        if v.get("office_code") == office.code:
            versions.setdefault(str(v.get("period")), []).append(v)
    current: dict[str, list[dict]] = {}
    for s in used:
        current.setdefault(str(s.get("period")), []).append(s)
    subs = _sub_periods(office, d.period)
    rows = []
    accepted = 0
    for sp in subs:
        token = sp.token
        vs = versions.get(token, [])
        ids = {v.get("submission_id") for v in vs}
        due = next((_parse_date(v.get("due_date")) for v in vs if v.get("due_date")), None)
        if due is None:
            due = date.fromordinal(sp.end.toordinal() + int(office.due_days or 0))
        times = sorted(t for v in vs if (t := _parse_ts(v.get("received_at"))) is not None)
        first = times[0] if times else None
        days = None if first is None else (first.date() - due).days
        cur = sorted(current.get(token, []), key=lambda s: str(s.get("submission_id")))
        if cur:
            accepted += 1
        files = "<br>".join(esc(s.get("file_name", "")) for s in cur) or "—"
        checks = sum(int(s.get("expectations", 0) or 0) for s in cur)
        failed = sum(int(s.get("expectations_failed", 0) or 0) for s in cur)
        if days is None:
            status = ""
        elif days > 0:
            status = f'<span class="status islate">{bi_lines(*T["late"])}</span>'
        else:
            status = f'<span class="status ontime">{bi_lines(*T["on_time"])}</span>'
        kk, ru = period_name(sp)
        rows.append(
            f'<tr data-period="{esc(token)}"><td>{bi_lines(kk, ru)}</td><td class="num">{fmt_date(due)}</td>'
            f'<td class="num" data-received="{esc(first.isoformat() if first else "")}">{fmt_time(first)}</td>'
            f'<td class="num" data-days="{"" if days is None else days}">'
            f'{"—" if days is None else esc(num(days, signed=True))}{status}</td>'
            f"<td>{lateness_bar(days)}</td>"
            f'<td class="num">{len(ids)}</td><td class="file">{files}</td>'
            f'<td class="num">{checks} ({failed})</td></tr>')
    summary = (f'<p class="meta"><b>{bi("accepted_of")}:</b> {accepted} / {len(subs)}'
               f'{" — " + bi("complete") if accepted == len(subs) else ""}</p>')
    head = (
        "<thead><tr>"
        f'<th>{bi_lines(*T["sub_period"])}</th><th class="num">{bi_lines(*T["due"])}</th>'
        f'<th class="num">{bi_lines(*T["received"])}</th><th class="num">{bi_lines(*T["days"])}</th>'
        f'<th class="c">−20 … 0 … +20</th><th class="num">{bi_lines(*T["versions"])}</th>'
        f'<th>{bi_lines(*T["file"])}</th><th class="num">{bi_lines(*T["checks"])}</th>'
        "</tr></thead>")
    cols = ('<colgroup><col style="width:24mm"><col style="width:19mm"><col style="width:21mm">'
            '<col style="width:20mm"><col style="width:31mm"><col style="width:19mm"><col>'
            '<col style="width:27mm"></colgroup>')
    return (summary + f'<table class="lateness">{cols}{head}<tbody>{"".join(rows)}</tbody></table>'
            f'<p class="note">{bi("late_note")}</p>')


def _docs_links(d: ReportData) -> str:
    if d.profile == "public":
        return f'<p class="note">{bi("docs_public")}</p>'
    if not d.docs:
        return f'<p class="note">{bi("docs_where")}</p>'
    out = []
    for key, rel in (("data_docs", "validation/index.html"), ("dbt_docs", "dbt/index.html")):
        href = f"{d.docs}/{rel}"
        out.append(f'<li><a href="{esc(href)}" data-docs="{esc(rel)}">{bi(key)}</a></li>')
    return (f'<ul class="links">{"".join(out)}</ul><p class="note">{bi("docs_where")}</p>')


def _summary(d: ReportData) -> str:
    v = d.validation or {}
    toc = "".join(
        f'<li><a href="#office-{esc(o.code)}">{esc(o.name_kk)}</a> <span class="sep">/</span> '
        f'<span lang="ru">{esc(o.name_ru)}</span></li>' for o in d.offices)
    out_rows = []
    for lo in d.left_out:
        code = lo.get("office_code", "")
        kk, ru = d.office_names.get(code, (code, code))
        missing = ", ".join(lo.get("missing") or [])
        why = (f'{bi("incomplete")}: {esc(missing)}' if lo.get("reason") == "incomplete" else bi("not_due"))
        out_rows.append(f'<li data-left-out="{esc(code)}"><b lang="kk">{esc(kk)}</b> <span class="sep">/</span> '
                        f'<span lang="ru">{esc(ru)}</span><br><span class="note">{why}</span></li>')
    left = f'<ul>{"".join(out_rows)}</ul>' if out_rows else f'<p class="note">{bi("none_out")}</p>'
    times = sorted(t for s in d.submissions if (t := _parse_ts(s.get("received_at"))) is not None)
    as_of = fmt_time(times[-1]) if times else "—"
    return (
        f'<h3>{bi("offices_in")}</h3><ol class="toc">{toc}</ol>'
        f'<h3>{bi("offices_out")}</h3>{left}'
        f'<h3>{bi("validation")}</h3>'
        '<table class="vsum"><tbody>'
        f'<tr><td>{bi_lines(*T["submissions_used"])}</td><td class="num" data-summary="submissions">'
        f'{int(v.get("submissions", 0) or 0)}</td></tr>'
        f'<tr><td>{bi_lines(*T["checks"])}</td><td class="num" data-summary="expectations">'
        f'{int(v.get("expectations", 0) or 0)} ({int(v.get("failed", 0) or 0)})</td></tr>'
        f'<tr><td>{bi_lines(*T["errors_warnings"])}</td><td class="num">'
        f'{int(v.get("errors", 0) or 0)} / {int(v.get("warnings", 0) or 0)}</td></tr>'
        f'<tr><td>{bi_lines(*T["as_of"])}</td><td class="num" data-summary="as-of">{esc(as_of)}</td></tr>'
        "</tbody></table>"
        f"{_docs_links(d)}"
        f'<div class="legend-box"><b>{bi("legend")}</b><br><span class="supp">к</span> — {bi("sym_supp")}<br>'
        f'<b>—</b> — {bi("sym_none")}</div>'
    )


def _by_office(rows: list[Row], memo: dict | None) -> dict[str, list[Row]]:
    """office -> its rows in order, indexed once per render (`memo`), not once per office."""
    key = ("by_office", id(rows))
    if memo is not None and key in memo:
        return memo[key][1]
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.office_code, []).append(r)
    if memo is not None:
        memo[key] = (rows, groups)  # holds `rows`: its id stays its own while the memo lives
    return groups


def _office_section(office: Office, d: ReportData, memo: dict | None = None) -> str:
    memo = {} if memo is None else memo
    if ("by_key", id(d.rows)) not in memo:
        memo[("by_key", id(d.rows))] = (d.rows, _by_key(d.rows))
    cur = memo[("by_key", id(d.rows))][1]
    orows = _by_office(d.rows, memo).get(office.code, [])
    prev_p = previous_period(d.period)
    prev_rows = d.history.get(prev_p.dhis2)
    prev = None if prev_rows is None else _by_key(_by_office(prev_rows, memo).get(office.code, []))
    n_terr = len({r.kato for r in orows})
    return (
        f'<section class="office" id="office-{esc(office.code)}" data-office="{esc(office.code)}">'
        f'<div class="office-head"><h2><span lang="kk">{esc(office.name_kk)}</span>'
        f'<span class="ru" lang="ru">{esc(office.name_ru)}</span></h2>'
        f'<div class="facts">КАТО {esc(office.root_kato)} · {bi("n_terr")}: {n_terr}</div></div>'
        f'<h3>{bi("indicators")}</h3>{_indicator_table(office, d, cur, prev, prev_p, orows)}'
        f'<p class="note">{bi("change_note")}</p>'
        f'<h3>{bi("plan_title")}</h3>{_plan_section(office, d, cur, orows)}'
        f'<h3>{bi("trends")}</h3>{_trend_section(office, d, memo)}'
        f'<h3>{bi("territories")}</h3>{_heat_section(office, d, cur, orows)}'
        f'<h3>{bi("completeness")}</h3>{_completeness_section(office, d)}'
        "</section>"
    )


def render_report(d: ReportData) -> bytes:
    """The report as UTF-8 bytes: a pure function of ``d``."""
    pk, pr = period_name(d.period)
    prog_kk = d.program.get("name_kk", "")
    prog_ru = d.program.get("name_ru", "")
    profile_badge = (f'<span class="badge public">{bi("public")}</span>' if d.profile == "public"
                     else f'<span class="badge">{bi("ministry")}</span>')
    program = (f'<p class="subtitle"><span class="kk" lang="kk">{esc(prog_kk)}</span>'
               f'<span class="ru" lang="ru">{esc(prog_ru)}</span></p>') if prog_kk or prog_ru else ""
    memo: dict = {}  # rows indexed once for every office's section
    doc = (
        "<!DOCTYPE html>\n"
        '<html lang="kk"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(T['report'][0])} / {esc(T['report'][1])} — {esc(d.period.dhis2)}</title>"
        f'<meta name="pcve-period" content="{esc(d.period.dhis2)}">'
        f'<meta name="pcve-profile" content="{esc(d.profile)}">'
        f"<style>{CSS}</style></head><body>"
        '<header class="masthead">'
        f'<h1><span lang="kk">{esc(T["title"][0])}</span><span class="ru" lang="ru">{esc(T["title"][1])}</span></h1>'
        f"{program}"
        f'<div class="period" data-period="{esc(d.period.dhis2)}"><span lang="kk">{esc(pk)}</span> '
        f'<span class="sep">/</span> <span class="ru" lang="ru">{esc(pr)}</span></div>'
        f"{profile_badge}</header>"
        + (f'<div class="provisional-banner" data-status="provisional">{bi("provisional")}</div>'
           if d.status == "provisional" else "")
        + REVISION_SLOT
        + f'<main><section class="summary"><h2><span lang="kk">{esc(T["summary"][0])}</span>'
        f'<span class="ru" lang="ru">{esc(T["summary"][1])}</span></h2>{_summary(d)}</section>'
        + "".join(_office_section(o, d, memo) for o in d.offices)
        + f'</main><footer>{bi("footer")}</footer>'
        "</body></html>\n"
    )
    return doc.encode("utf-8")


#: Where the revision note goes (filled in once the revision number is known: :func:`with_revision`).
REVISION_SLOT = "<!--pcve:revision-->"
#: Changed values listed in the note (all of them are in CHANGES.csv).
NOTE_CHANGES = 40


def revision_note(note: dict, names: dict[tuple[str, str], tuple[str, str]] | None = None) -> str:
    """The note that opens the report: revision, date, reason, changed values.

    `note`: {revision, date, reasons: [{kind, submission_id, office_code, period, file_name}], changes:
    [(indicator, office, kato, old, new)]}; `names`: (indicator or kato, "i"|"t") -> (kk, ru)."""
    names = names or {}
    kinds = {"accepted": "accepted_sub", "superseded": "superseded_sub", "voided": "voided_sub",
             "office_added": "office_added", "office_removed": "office_removed", "reissued": "reissued", "format": "format"}
    items = []
    for r in note.get("reasons", []):
        kk, ru = T[kinds.get(r.get("kind"), "accepted_sub")]
        what = " ".join(esc(x) for x in (r.get("submission_id"), r.get("office_code"), r.get("period")) if x)
        file = f' <span class="file">{esc(r.get("file_name"))}</span>' if r.get("file_name") else ""
        items.append(f'<li data-reason="{esc(r.get("kind"))}" data-submission="{esc(r.get("submission_id") or "")}">'
                     f"{what}{file}: {esc(kk)} / {esc(ru)}</li>")
    if int(note.get("revision") or 1) == 1:
        reason = f'<p class="note">{bi("first_issue")}</p>'
    else:
        reason = f'<p><b>{bi("reason")}:</b></p><ul>{"".join(items)}</ul>'
    changes = note.get("changes") or []
    table = ""
    if changes:
        rows = []
        for ind, _office, kato, old, new in changes[:NOTE_CHANGES]:
            ik, ir = names.get((ind, "i"), (ind, ind))
            tk, tr = names.get((kato, "t"), (kato, kato))
            rows.append(f'<tr data-code="{esc(ind)}" data-kato="{esc(kato)}"><td>{bi_lines(ik, ir)}</td>'
                        f'<td>{bi_lines(tk, tr)}</td><td class="num" data-old="{esc(old)}">{esc(old or "—")}</td>'
                        f'<td class="num" data-new="{esc(new)}">{esc(new or "—")}</td></tr>')
        more = (f'<p class="note">… {bi("more")} {len(changes) - NOTE_CHANGES}</p>'
                if len(changes) > NOTE_CHANGES else "")
        table = (f'<p><b>{bi("changed_values")}:</b> {len(changes)}</p><table><thead><tr>'
                 f'<th>{bi_lines(*T["indicator"])}</th><th>{bi_lines(*T["territory"])}</th>'
                 f'<th class="num">{bi_lines(*T["old"])}</th><th class="num">{bi_lines(*T["new"])}</th></tr></thead>'
                 f'<tbody>{"".join(rows)}</tbody></table>{more}')
    return (f'<section class="revision" data-revision="{int(note.get("revision") or 1)}" '
            f'data-date="{esc(note.get("date") or "")}"><b>{bi("revision")} {int(note.get("revision") or 1)}</b>'
            f' — {bi("issued")}: {esc(fmt_date(_parse_date(note.get("date"))))}{reason}{table}</section>')


def with_revision(report: bytes, note: dict, names: dict | None = None) -> bytes:
    """The report with its revision note in place of REVISION_SLOT (the rest byte for byte)."""
    return report.replace(REVISION_SLOT.encode(), revision_note(note, names).encode("utf-8"), 1)


def plans_from_terms(terms: dict[str, dict[str, tuple]], units: dict[str, str]) -> dict[str, str]:
    """Count indicator -> the percentage that measures it against a plan.

    A percentage whose numerator is exactly a count indicator's value term and
    whose denominator is another measure of the same form with the same filter
    (``OUT_PLAN_PCT`` = outreach.conversations / outreach.conversations_planned for
    ``OUT_CONVERSATIONS``). A ratio across forms (``REH_RATE_PCT``) is not a plan.
    """
    value_terms = {t["value"]: code for code, t in terms.items() if "value" in t and units.get(code) != "percent"}
    out = {}
    for code, t in sorted(terms.items()):
        num_t, den_t = t.get("numerator"), t.get("denominator")
        if num_t is None or den_t is None or num_t not in value_terms:
            continue
        if den_t[0] == num_t[0] and den_t[2:] == num_t[2:] and den_t[1] != num_t[1] and den_t[1] != "_rows":
            out.setdefault(value_terms[num_t], code)
    return out


