"""The report's words and numbers: the bilingual labels (Kazakh, Russian), period names, number,
date and cell formatting, and the periods a report looks back on."""

from __future__ import annotations

import html
from datetime import date, datetime
from decimal import Decimal

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
