"""The corpus: one Case per hand-made file, with what intake must make of it.

A good case lists its exact canonical rows (values, KATO codes, sheet and Excel
row); a bad case lists every issue as (severity, rule, cell as Excel names it).
`secrets` are texts of the file (signatures, names, phones, IINs) that must never
appear in any report byte. Validation runs with TODAY as the current date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from .builders import (
    corrupt_zip,
    csv_bytes,
    encrypted_ods,
    nfd,
    ods,
    ole,
    random_bytes,
    xlsx,
)

TODAY = date(2025, 11, 20)

# Column order of the expected-row tuples, per form (kato stands for the territory).
COLUMNS = {
    "outreach": ("month", "kato", "direction", "adherents_new", "conversations", "conversations_planned"),
    "rehabilitation": ("month", "kato", "provider", "enrolled_new", "rehabilitated", "withdrawn"),
    "events": ("event_date", "kato", "event_type", "title", "audience", "teams", "mosques", "participants",
               "participants_women", "participants_adherents"),
    "commission": ("meeting_date", "body", "chair", "agenda_items", "tasks_assigned"),
    "commission_tasks": ("quarter", "responsible", "tasks_due", "done_on_time", "done_late"),
}
ROOT = {"almaty": "750000000", "turkistan": "610000000"}

# Rules enforced by the GX suites (everything else is found by the parser).
GX_RULES = {"required", "non_negative", "allowed_code", "kato_code", "in_period", "not_future"}


def is_gx_rule(rule: str) -> bool:
    return rule in GX_RULES or rule.startswith(("gte_", "lte_", "sum_with_"))


@dataclass
class Case:
    name: str  # the file name as the office sent it
    office: str
    data: bytes
    rows: dict[str, list[dict]] = field(default_factory=dict)  # good files: form -> canonical rows
    issues: set[tuple[str, str, str]] = field(default_factory=set)  # (severity, rule, cell)
    secrets: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def good(self) -> bool:
        return not any(sev == "error" for sev, _, _ in self.issues)


def rows(form: str, sheet: str, office: str, *tuples) -> list[dict]:
    """Expected canonical rows from (excel_row, *values in COLUMNS[form] order)."""
    out = []
    for t in tuples:
        rec = {"_sheet": sheet, "_row": t[0], **dict(zip(COLUMNS[form], t[1:], strict=True))}
        rec.setdefault("kato", ROOT[office])
        out.append(rec)
    return out


def E(rule: str, cell: str) -> tuple[str, str, str]:
    return ("error", rule, cell)


def W(rule: str, cell: str) -> tuple[str, str, str]:
    return ("warning", rule, cell)


D = date
KK_OUT = ["Ай", "Аудан", "Бағыт", "Алғаш әңгімелесу жүргізілген ұстанушылар", "Әңгімелесулер саны", "Жоспар"]
RU_OUT = ["Месяц", "Район", "Направление", "Последователи, с которыми впервые проведена беседа",
          "Количество бесед", "План"]


# ====================================================================== good files
def g01_almaty_workbook() -> Case:
    """Kazakh workbook: title lines, numbering row, odd headers, unknown column and sheet,
    totals labelled in a later column, signature below the table, every number/month/territory form."""
    out = [
        ["Алматы қаласы бойынша дін істері басқармасының 2017 жылғы наурыз айындағы әңгімелесу жұмысы туралы есебі"],
        ["Есепті кезең: 2017 жылғы наурыз"],
        [],
        ["№", "  АУДАН ", "Ай", "Бағыт", "Алғаш әңгімелесу\nжүргізілген\nұстанушылар", "әңгімелесулер   САНЫ",
         "Жоспар", "Ескерту"],
        [1, 2, 3, 4, 5, 6, 7, 8],
        [1, "Алмалы ауданы", "наурыз 2017", "ислам", 12, 30, 35, None],
        [2, "Әуезов", D(2017, 3, 1), "басқа", "1 500", "13 500", "1500,0", "тексерілді"],
        [3, "Бостандык", "2017-03", "Islamic", "1\u00a0200", "2\u202f400", None, None],
        [4, "Aлмaлы", "03.2017", "другое", 5, "7,0", None, None],
        [5, "қала бойынша", "Наурыз 2017 ж.", "ислам бағыты", 0, 0, None, None],
        [6, 751810000, "март 2017", "other", 3, 4, None, None],
        [7, "751910000", "01.03.2017", "ИСЛАМ", 2, 2, 1, None],
        [None, "Барлығы", None, None, 2722, 15943, 1536, None],
        [],
        ["Орындаған: Ахметова Г.С., тел. +7 701 123 45 67"],
        [None, "Бөлім басшысы", None, "Сейітов Б.Қ."],
    ]
    events = [
        ["2017 жылғы наурызда өткізілген іс-шаралар"],
        ["Күні", "Аудан", "Іс-шара түрі", "Атауы", "Аудитория", "Командалар", "Мешіттер", "Қатысушылар",
         "Оның ішінде", None, None],
        [None, None, None, None, None, None, None, None, "әйелдер", "ДДА ұстанушылары", "жастар"],
        [D(2017, 3, 5), "Медеу ауданы", "спорттық", "Футболдан «Бірлік» турнирі", "жастар", 8, 3, 120, 10, 5, 90],
        ["12.03.2017", "Жетісу", "профилактическое", nfd("Ұйымдастырылған семинар-кеңес"), None, None, None,
         45, 20, None, None],
        ["2017-03-20", "Наурызбай", "seminar", "Дөңгелек үстел\nжастармен", "молодежь", None, 2, "60", "0", "3",
         60],
        [datetime(2017, 3, 25, 10, 0), "Алатау ауданы", "түзеу мекемесі", "  Түзеу мекемесінде кездесу  ",
         "сотталғандар", None, None, 30, None, 30, None],
        [D(2017, 3, 31), "Түрксіб", "акция", None, "Women", None, None, 200, 150, 0, 100],
    ]
    commission = [
        ["Дата", "Орган", "Председатель", "Вопросов в повестке", "Дано поручений"],
        [D(2017, 3, 15), "комиссия отырысы", "Б. Сапарбаев", 5, 3],
        ["28.03.2017", "рабочая группа", None, "4", None],
        ["Итого", None, None, 9, 3],
    ]
    data = xlsx(
        {"Әңгімелесу": out, "Іс-шаралар": events, "Комиссия": commission,
         "Лист1": [["Анықтама"], ["Мәліметтер қосымша беріледі"]], "Лист2": []},
        merges={"Әңгімелесу": ["A1:H1"],
                "Іс-шаралар": ["A1:K1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:E3", "F2:F3", "G2:G3", "H2:H3",
                               "I2:K2"]},
    )
    m = D(2017, 3, 1)
    return Case(
        "almaty_2017-03.xlsx", "almaty", data,
        rows={
            "outreach": rows("outreach", "Әңгімелесу", "almaty",
                             (6, m, "751110000", "islamic", 12, 30, 35),
                             (7, m, "751310000", "other", 1500, 13500, 1500),
                             (8, m, "751410000", "islamic", 1200, 2400, None),
                             (9, m, "751110000", "other", 5, 7, None),
                             (10, m, "750000000", "islamic", 0, 0, None),
                             (11, m, "751810000", "other", 3, 4, None),
                             (12, m, "751910000", "islamic", 2, 2, 1)),
            "events": rows("events", "Іс-шаралар", "almaty",
                           (4, D(2017, 3, 5), "751710000", "sports", "Футболдан «Бірлік» турнирі", "youth",
                            8, 3, 120, 10, 5),
                           (5, D(2017, 3, 12), "751510000", "prevention", "Ұйымдастырылған семинар-кеңес", "general",
                            None, None, 45, 20, None),
                           (6, D(2017, 3, 20), "751810000", "seminar", "Дөңгелек үстел\nжастармен", "youth",
                            None, 2, 60, 0, 3),
                           (7, D(2017, 3, 25), "751210000", "penitentiary", "Түзеу мекемесінде кездесу", "convicts",
                            None, None, 30, None, 30),
                           (8, D(2017, 3, 31), "751910000", "campaign", None, "women", None, None, 200, 150, 0)),
            "commission": rows("commission", "Комиссия", "almaty",
                               (2, D(2017, 3, 15), "commission", "Б. Сапарбаев", 5, 3),
                               (3, D(2017, 3, 28), "working_group", None, 4, None)),
        },
        issues={W("unknown_column", "Әңгімелесу!A4"), W("unknown_column", "Әңгімелесу!H4"),
                W("unknown_column", "Іс-шаралар!K3"),
                W("text_after_table", "Әңгімелесу!15:15"), W("unknown_sheet", "Лист1")},
        secrets=("Ахметова", "701 123 45 67", "Сейітов"),
    )


def g02_csv_comma_bom() -> Case:
    grid = [RU_OUT,
            ["апрель 2017", "Бостандыкский район", "исламское", 10, 25, None],
            ["сәуір 2017", "Медеуский", "другое", "1 000", "2 000", 2500],
            ["2017-04", "г. Алматы", "Islamic", 0, 1, None]]
    sheet = "almaty_2017-04__outreach"
    m = D(2017, 4, 1)
    return Case(
        "almaty_2017-04__outreach.csv", "almaty", csv_bytes(grid, ",", bom=True),
        rows={"outreach": rows("outreach", sheet, "almaty",
                               (2, m, "751410000", "islamic", 10, 25, None),
                               (3, m, "751710000", "other", 1000, 2000, 2500),
                               (4, m, "750000000", "islamic", 0, 1, None))},
    )


def g03_csv_semicolon_nfd() -> Case:
    grid = nfd([
        ["Іс-шаралар, 2017 жылғы сәуір"],
        ["Күні", "Аудан", "Іс-шара түрі", "Атауы", "Аудитория", "Қатысушылар", "Оның ішінде әйелдер"],
        [1, 2, 3, 4, 5, 6, 7],
        ["05.04.2017", "Наурызбай ауданы", "семинар", "Жастармен кездесу «Мейірім»", "жастар", "1500,0", 700],
        ["2017-04-10", "Алмалы", "акция", "Акция; «Қайырымдылық»", None, 12, None],
    ])
    sheet = "almaty_2017-04__events"
    return Case(
        "almaty_2017-04__events.csv", "almaty", csv_bytes(grid, ";"),
        rows={"events": rows("events", sheet, "almaty",
                             (4, D(2017, 4, 5), "751810000", "seminar", "Жастармен кездесу «Мейірім»", "youth",
                              None, None, 1500, 700, None),
                             (5, D(2017, 4, 10), "751110000", "campaign", "Акция; «Қайырымдылық»", "general",
                              None, None, 12, None, None))},
    )


def g04_ods() -> Case:
    rehab = [
        ["Оңалту жұмысы, 2017 жылғы мамыр", None, None, None, None, None],
        ["Ай", "Аудан", "Оңалту\nсубъектісі", "Оңалтуға алынғандар", "Оңалтылды", "Шығып қалды"],
        [D(2017, 5, 1), "Алатау", "Орталық", 4, 2, 0],
        ["мамыр 2017", "Әуезов ауданы", "Нұр-Мүбарак", "3", "1", None],
        ["05.2017", "Медеу", "imams", 2, 2, 1],
        [None, "Жетысуский район", "Другое", 1, 0, None],
        ["Барлығы", None, None, 10, 5, 1],
    ]
    commission = [
        ["Күні", "Орган", "Төраға", "Күн тәртібіндегі мәселелер", "Берілген тапсырмалар"],
        [D(2017, 5, 12), "жұмыс тобы", "Ә. Нұрланов", 3, 2],
    ]
    data = ods({"Оңалту": rehab, "Комиссия": commission}, spans={"Оңалту": {"A1": (1, 6), "A5": (2, 1)}})
    m = D(2017, 5, 1)
    return Case(
        "almaty_2017-05.ods", "almaty", data,
        rows={"rehabilitation": rows("rehabilitation", "Оңалту", "almaty",
                                     (3, m, "751210000", "center", 4, 2, 0),
                                     (4, m, "751310000", "university", 3, 1, None),
                                     (5, m, "751710000", "imams", 2, 2, 1),
                                     (6, m, "751510000", "other", 1, 0, None)),
              "commission": rows("commission", "Комиссия", "almaty",
                                 (2, D(2017, 5, 12), "working_group", "Ә. Нұрланов", 3, 2))},
    )


def g05_turkistan_workbook() -> Case:
    out = [
        ["Отчёт аппарата АТК Туркестанской области за 3 квартал 2025 года"],
        ["Район", "Месяц", "Направление", "Последователи, с которыми\nвпервые проведена беседа",
         "Количество бесед", "План"],
        ["А", "Б", "В", 1, 2, 3],
        ["Байдибекский район", "июль 2025", "исламское", 4, 9, 10],
        ["Байдибек", "августа 2025", "другое", 1, 1, None],
        ["город Туркестан", D(2025, 9, 1), "ислам", 2, 5, None],
        ["Туркестан", "09.2025", "басқа", 0, 3, None],
        ["по области", "2025-09", "исламское", 7, 7, None],
        ["Caйpaм", "сентябрь 2025", "другое", 1, 2, None],
        ["Казыгурт", "июль 2025", "исламское", 3, 3, None],
        ["Мақтаарал", "июль 2025", "другое", 0, 1, None],
        ["Итого", None, None, 18, 31, 10],
    ]
    tasks = [
        ["Квартал", "Ответственный орган", "Подлежало исполнению", "Исполнено в срок",
         "Исполнено с нарушением срока"],
        ["3 квартал 2025", "ДП Туркестанской области", 10, 8, 2],
        ["2025-Q3", "Управление по делам религий", 5, 5, None],
        ["3 тоқсан 2025", nfd("Білім басқармасы (Ұйымдастыру бөлімі)"), 7, 6, 1],
        ["III квартал 2025 г.", "  Акимат г. Кентау  ", 4, 3, 0],
        ["Итого", None, 26, 22, 3],
    ]
    rehab = [
        ["Месяц", "Район", "Субъект реабилитации", "Взяты на реабилитацию", "Реабилитировано", "Выбыли"],
        ["А", "Б", "В", 1, 2, 3],
        [D(2025, 7, 1), "Сарыағаш ауданы", "Центр", 5, 2, 1],
        [D(2025, 8, 15), "Сарыагашский район", "Имамы", 3, 3, None],
        [D(2025, 9, 30), "Келес", "Университет", 2, 0, 0],
        ["сентябрь 2025", "Кентау", "Другое", 1, 1, None],
    ]
    events = [
        ["Дата", "Район", "Вид мероприятия", "Наименование", "Аудитория", "Команды", "Мечети", "Участники",
         "Из них женщины", "Из них последователи ДРТ"],
        [D(2025, 7, 12), "Сарыагашский район", "спортивное", "Турнир по волейболу", "молодёжь", 6, None, 72, 0, None],
        [D(2025, 8, 2), None, "учреждение УИС", "Встреча в учреждении", "осуждённые", None, None, 25, None, 4],
        ["15.09.2025", None, "другое", None, None, None, 4, 150, 80, None],
        ["30.09.2025", "Туркестанская область", "профилактическое", "Областной семинар", "общая", None, 12, 300,
         120, 10],
        [],
        ["Исп.: Смагулов Е., 8 (725) 333-44-55"],
    ]
    commission = [
        ["Заседания АТК"],
        ["Дата", "Орган", "Председатель", "Вопросов в повестке", "Дано поручений"],
        [D(2025, 7, 20), "заседание АТК", "Аким области", 6, 12],
        ["2025-09-18", "working group", None, 3, "4"],
    ]
    data = xlsx({"Беседы": out, "Исполнительская дисциплина": tasks, "Реабилитация": rehab,
                 "Мероприятия": events, "Комиссия": commission},
                merges={"Мероприятия": ["B2:B4"]})
    q = D(2025, 7, 1)
    return Case(
        "Туркестан АТК есеп 2025-Q3.xlsx", "turkistan", data,
        rows={
            "outreach": rows("outreach", "Беседы", "turkistan",
                             (4, D(2025, 7, 1), "613600000", "islamic", 4, 9, 10),
                             (5, D(2025, 8, 1), "613600000", "other", 1, 1, None),
                             (6, D(2025, 9, 1), "611000000", "islamic", 2, 5, None),
                             (7, D(2025, 9, 1), "611000000", "other", 0, 3, None),
                             (8, D(2025, 9, 1), "610000000", "islamic", 7, 7, None),
                             (9, D(2025, 9, 1), "615200000", "other", 1, 2, None),
                             (10, D(2025, 7, 1), "614000000", "islamic", 3, 3, None),
                             (11, D(2025, 7, 1), "614400000", "other", 0, 1, None)),
            "commission_tasks": rows("commission_tasks", "Исполнительская дисциплина", "turkistan",
                                     (2, q, "ДП Туркестанской области", 10, 8, 2),
                                     (3, q, "Управление по делам религий", 5, 5, None),
                                     (4, q, "Білім басқармасы (Ұйымдастыру бөлімі)", 7, 6, 1),
                                     (5, q, "Акимат г. Кентау", 4, 3, 0)),
            "rehabilitation": rows("rehabilitation", "Реабилитация", "turkistan",
                                   (3, D(2025, 7, 1), "615400000", "center", 5, 2, 1),
                                   (4, D(2025, 8, 1), "615400000", "imams", 3, 3, None),
                                   (5, D(2025, 9, 1), "613900000", "university", 2, 0, 0),
                                   (6, D(2025, 9, 1), "612000000", "other", 1, 1, None)),
            "events": rows("events", "Мероприятия", "turkistan",
                           (2, D(2025, 7, 12), "615400000", "sports", "Турнир по волейболу", "youth",
                            6, None, 72, 0, None),
                           (3, D(2025, 8, 2), "615400000", "penitentiary", "Встреча в учреждении", "convicts",
                            None, None, 25, None, 4),
                           (4, D(2025, 9, 15), "615400000", "other", None, "general", None, 4, 150, 80, None),
                           (5, D(2025, 9, 30), "610000000", "prevention", "Областной семинар", "general",
                            None, 12, 300, 120, 10)),
            "commission": rows("commission", "Комиссия", "turkistan",
                               (3, D(2025, 7, 20), "commission", "Аким области", 6, 12),
                               (4, D(2025, 9, 18), "working_group", None, 3, 4)),
        },
        issues={W("text_after_table", "Мероприятия!7:7")},
        secrets=("Смагулов", "333-44-55"),
    )


def g06_csv_quarter() -> Case:
    grid = [["Квартал", "Ответственный орган", "Подлежало исполнению", "Исполнено в срок",
             "Исполнено с нарушением срока"],
            ["3 квартал 2025", "ДВД Туркестанской области", 12, 10, 2],
            ["2025-Q3", 'Управление "Молодёжная политика"', 3, 3, 0]]
    q = D(2025, 7, 1)
    return Case(
        "turkistan_2025-Q3__commission_tasks.csv", "turkistan", csv_bytes(grid, ";", bom=True),
        rows={"commission_tasks": rows("commission_tasks", "turkistan_2025-Q3__commission_t", "turkistan",
                                       (2, q, "ДВД Туркестанской области", 12, 10, 2),
                                       (3, q, 'Управление "Молодёжная политика"', 3, 3, 0))},
    )


def _titled(n_title_rows: int) -> list[list]:
    return [[f"Есеп, {i + 1}-жол"] for i in range(n_title_rows)]


def g07_header_on_row_15() -> Case:
    grid = _titled(14) + [RU_OUT, ["июнь 2017", "Медеу", "ислам", 1, 1, None]]
    return Case(
        "almaty_2017-06 header-row-15.xlsx", "almaty", xlsx({"Беседы": grid}),
        rows={"outreach": rows("outreach", "Беседы", "almaty", (16, D(2017, 6, 1), "751710000", "islamic", 1, 1, None))},
    )


# ====================================================================== bad files
def b01_header_on_row_16() -> Case:
    grid = _titled(15) + [RU_OUT, ["июль 2017", "Медеу", "ислам", 1, 1, None]]
    no_body = [["Күні", "Төраға", "Күн тәртібіндегі мәселелер"], [D(2017, 7, 3), "А. Әлиев", 3]]
    return Case("almaty_2017-07 header-row-16.xlsx", "almaty", xlsx({"Беседы": grid, "Комиссия": no_body}),
                issues={E("header_below_limit", "Беседы!16:16"), E("header_not_found", "Комиссия")})


def b02_numbers() -> Case:
    out = [
        KK_OUT,
        ["тамыз 2017", "Алмалы", "ислам", "2500-нан астам", 3000, None],
        ["тамыз 2017", "Медеу", "ислам", "~1500", ">360", "10-15"],
        ["тамыз 2017", "Әуезов", "басқа", 10, 20, "=E4*2"],
        ["тамыз 2017", "Түрксіб", "басқа", 12.5, "жиырма", 5],
        [],
        ["Ескерту: деректер нақтыланады, тел. 8 701 765 43 21"],
        [None, None, None, 45, None, 7],
    ]
    commission = [
        ["Күні", "Орган", "Күн тәртібіндегі мәселелер", "Берілген тапсырмалар"],
        ["03.08.2017", "комиссия отырысы", 4, 2],
        ["10.08.2017", "жұмыс тобы", 3, 1],
        ["Барлығы", None, 8, 3],
    ]
    events = _titled(3) + [
        ["Күні", "Аудан", "Іс-шара түрі", "Атауы", "Аудитория", "Командалар", "Мешіттер", "Қатысушылар"],
        [D(2017, 8, 5), "Алмалы", "спорттық", "Турнир", None, D(2015, 10, 15), None, "2500-нан астам"],
        [D(2017, 8, 10), "Медеу", "семинар", None, None, None, None, 40],
        ["11.08.2017", "Медеу", "семинар", None, None, None, None, None],
    ]
    data = xlsx({"Әңгімелесу": out, "Комиссия": commission, "Іс-шаралар": events},
                merges={"Іс-шаралар": ["H6:H7"]})
    return Case(
        "almaty_2017-08.xlsx", "almaty", data,
        issues={E("qualified_number", "Әңгімелесу!D2"), E("qualified_number", "Әңгімелесу!D3"),
                E("qualified_number", "Әңгімелесу!E3"), E("qualified_number", "Әңгімелесу!F3"),
                E("formula_not_calculated", "Әңгімелесу!F4"), E("not_whole_number", "Әңгімелесу!D5"),
                E("not_a_number", "Әңгімелесу!E5"), E("data_after_table", "Әңгімелесу!D8"),
                E("data_after_table", "Әңгімелесу!F8"), W("text_after_table", "Әңгімелесу!7:7"),
                E("totals_mismatch", "Комиссия!C4"),
                E("qualified_number", "Іс-шаралар!H5"), E("merged_number_cells", "Іс-шаралар!H6"),
                E("not_a_number", "Іс-шаралар!F5")},  # "10-15" that Excel turned into a date
        secrets=("765 43 21",),
    )


def b03_territories_codes_rules() -> Case:
    out = [
        KK_OUT[:5],
        ["қыркүйек 2017", "Сарыағаш ауданы", "ислам", 1, 2],
        ["қыркүйек 2017", 611000000, "ислам", 1, 2],
        ["қыркүйек 2017", "Белгісіз аудан", "ислам", 1, 2],
        ["қыркүйек 2017", "Алмалы", "христиан", 1, 2],
        ["қазан 2017", "Медеу", "ислам", 5, 3],
        ["қыркүйек 2017", "Медеу", "басқа", -5, 0],
        [None, "Медеу", "басқа", 1, 1],
        ["сентябрь", "Медеу", "басқа", 1, 1],
        ["қыркүйек 2017", None, "басқа", 1, 1],
        ["қыркүйек 2017", "Алмалы", None, 1, None],
    ]
    events = [
        ["Күні", "Аудан", "Іс-шара түрі", "Қатысушылар", "Оның ішінде әйелдер", "Оның ішінде ДДА ұстанушылары"],
        ["05.09.2017", "Медеу", "семинар", 10, 12, 11],
        ["05.10.2017", "Медеу", "семинар", 10, None, None],
        ["32.09.2017", "Медеу", "семинар", 10, None, None],
        ["05/09/2017", "Медеу", "семинар", 10, None, None],
        [D(2017, 9, 6), "Медеу", "лекция", None, None, None],
    ]
    return Case(
        "almaty_2017-09.xlsx", "almaty", xlsx({"Әңгімелесу": out, "Іс-шаралар": events}),
        issues={E("territory_outside_office", "Әңгімелесу!B2"), E("territory_outside_office", "Әңгімелесу!B3"),
                E("unknown_territory", "Әңгімелесу!B4"), E("allowed_code", "Әңгімелесу!C5"),
                E("in_period", "Әңгімелесу!A6"), E("gte_adherents_new", "Әңгімелесу!E6"),
                E("non_negative", "Әңгімелесу!D7"), E("required", "Әңгімелесу!A8"),
                E("bad_month", "Әңгімелесу!A9"), E("required", "Әңгімелесу!B10"),
                E("required", "Әңгімелесу!C11"), E("required", "Әңгімелесу!E11"),
                E("lte_participants", "Іс-шаралар!E2"), E("lte_participants", "Іс-шаралар!F2"),
                E("in_period", "Іс-шаралар!A3"), E("bad_date", "Іс-шаралар!A4"), E("bad_date", "Іс-шаралар!A5"),
                E("allowed_code", "Іс-шаралар!C6"), E("required", "Іс-шаралар!D6")},
    )


def b04_turkistan_rules() -> Case:
    events = [
        ["Дата", "Район", "Вид мероприятия", "Участники", "ФИО ответственного"],
        [D(2025, 11, 25), "Сайрам", "семинар", 10, "Иванов И.И."],
        ["10.10.2025", "Түркістан", "семинар", 10, "Петров П.П."],
        ["11.10.2025", "Алмалы ауданы", "семинар", 10, None],
        ["12.10.2025", "Сайрам", "концерт", 10, None],
    ]
    tasks = [
        ["Квартал", "Ответственный орган", "Подлежало исполнению", "Исполнено в срок",
         "Исполнено с нарушением срока"],
        ["4 квартал 2025", "ДП", 5, 6, None],
        ["4 квартал 2025", "УДР", 5, 3, 3],
        ["5 квартал 2025", "УО", 1, 1, 0],
        ["3 квартал 2025", "УЗ", 1, 1, 0],
        ["2025-Q4", None, 1, 1, 0],
    ]
    t = "'Исполнительская дисциплина'"
    return Case(
        "Туркестан 2025-Q4.xlsx", "turkistan", xlsx({"Мероприятия": events, "Исполнительская дисциплина": tasks}),
        issues={E("privacy_person_column", "Мероприятия!E1"), E("not_future", "Мероприятия!A2"),
                E("ambiguous_territory", "Мероприятия!B3"), E("territory_outside_office", "Мероприятия!B4"),
                E("allowed_code", "Мероприятия!C5"),
                E("lte_tasks_due", f"{t}!D2"), E("sum_with_done_on_time_lte_tasks_due", f"{t}!E3"),
                E("bad_quarter", f"{t}!A4"), E("in_period", f"{t}!A5"), E("required", f"{t}!B6")},
        secrets=("Иванов", "Петров"),
    )


IIN = "900101300123"


def b05_privacy() -> Case:
    events = [
        ["Күні", "Аудан", "Іс-шара түрі", "Атауы", "Қатысушылар", "Байланыс", "Аты-жөні"],
        [D(2017, 10, 3), "Медеу", "семинар", f"Қатысушы ЖСН {IIN}", 10, None, "Серікова Айгүл"],
        [D(2017, 10, 4), "Медеу", "семинар", "Жоба № 123456789012", 10, None, None],
        [D(2017, 10, 5), "Медеу", "семинар", "Байланыс: +7 701 123 45 67", 10, None, None],
        [D(2017, 10, 6), "Медеу", "семинар", None, 10, "8 (727) 123-45-67", None],
        [D(2017, 10, 7), "Медеу", "семинар", None, int(IIN), None, None],
    ]
    return Case(
        "almaty_2017-10.xlsx", "almaty", xlsx({"Іс-шаралар": events}),
        issues={E("privacy_person_column", "Іс-шаралар!G1"), W("unknown_column", "Іс-шаралар!F1"),
                E("privacy_iin", "Іс-шаралар!D2"), E("privacy_phone", "Іс-шаралар!D4"),
                E("privacy_phone", "Іс-шаралар!F5"), E("privacy_iin", "Іс-шаралар!E6")},
        secrets=(IIN, "701 123 45 67", "123-45-67", "Серікова", "Айгүл"),
    )


def _valid_outreach(month: str, territory: str = "Медеу") -> bytes:
    return xlsx({"Әңгімелесу": [KK_OUT, [month, territory, "ислам", 1, 2, None]]})


def b06_period_files() -> list[Case]:
    return [
        # forms.md: a name without a token takes the period of the content when it is one period...
        Case("almaty есеп наурыз.xlsx", "almaty", _valid_outreach("наурыз 2017"),
             rows={"outreach": rows("outreach", "Әңгімелесу", "almaty",
                                    (2, D(2017, 3, 1), "751710000", "islamic", 1, 2, None))},
             issues={W("period_from_content", "")}),
        # ...and is rejected when the content spans two
        Case("almaty есеп көктем.xlsx", "almaty",
             xlsx({"Әңгімелесу": [KK_OUT, ["наурыз 2017", "Медеу", "ислам", 1, 2, None],
                                  ["сәуір 2017", "Медеу", "ислам", 1, 2, None]]}),
             issues={E("period_missing", "")}),
        # a named period no dated cell falls in, all in another: one error naming both
        Case("almaty_2017-02 есеп.xlsx", "almaty",
             xlsx({"Әңгімелесу": [KK_OUT, ["наурыз 2017", "Медеу", "ислам", 1, 2, None],
                                  ["наурыз 2017", "Алмалы", "ислам", 1, 2, None]]}),
             issues={E("period_mismatch", "")}),
        Case("almaty_2017-Q1.xlsx", "almaty", _valid_outreach("қаңтар 2017"),
             issues={E("period_wrong_kind", "")}),
        Case("turkistan_2025-07.xlsx", "turkistan", _valid_outreach("шілде 2025", "Сайрам"),
             issues={E("period_wrong_kind", "")}),
    ]


def b07_csv_files() -> list[Case]:
    grid = [RU_OUT, ["март 2017", "Медеуский район", "исламское", 1, 2, None]]
    return [
        Case("almaty_2017-03__outreach.csv", "almaty", csv_bytes(grid, ";", encoding="cp1251"),
             issues={E("csv_not_utf8", "")}),
        Case("almaty_2017-03__беседы.csv", "almaty", csv_bytes(grid, ","),
             issues={E("csv_form_unknown", "")}),
    ]


def b08_cannot_open(good_xlsx: bytes) -> list[Case]:
    return [
        Case("almaty_2017-03 corrupt.xlsx", "almaty", corrupt_zip(), issues={E("cannot_open", "")}),
        Case("almaty_2017-03 truncated.xlsx", "almaty", good_xlsx[: len(good_xlsx) // 2],
             issues={E("cannot_open", "")}),
        Case("almaty_2017-03 protected.xlsx", "almaty", ole("EncryptionInfo", "EncryptedPackage"),
             issues={E("password_protected", "")}),
        Case("almaty_2017-03 old.xlsx", "almaty", ole("Workbook", "SummaryInformation"),
             issues={E("old_xls", "")}),
        Case("almaty_2017-03 protected.ods", "almaty", encrypted_ods(), issues={E("password_protected", "")}),
        Case("almaty_2017-03 random.xlsx", "almaty", random_bytes(), issues={E("not_a_spreadsheet", "")}),
        Case("almaty_2017-03 empty.xlsx", "almaty", b"", issues={E("empty_file", "")}),
        Case("almaty_2017-03.xls", "almaty", ole("Workbook"), issues={E("unsupported_file_type", "")}),
        Case("almaty_2017-03.xlsm", "almaty", good_xlsx, issues={E("unsupported_file_type", "")}),
    ]


def b09_sheets() -> list[Case]:
    events = [["Күні", "Аудан", "Іс-шара түрі", "Қатысушылар", "Қатысушылар"],
              [D(2017, 12, 1), "Медеу", "семинар", 10, 10]]
    return [
        Case("almaty_2017-11.xlsx", "almaty", xlsx({"Sheet1": [["Ай", "Аудан"], ["қараша 2017", "Медеу"]]}),
             issues={E("no_recognised_sheet", ""), W("unknown_sheet", "Sheet1")}),
        Case("almaty_2017-12.xlsx", "almaty",
             xlsx({"Беседы": [KK_OUT, ["желтоқсан 2017", "Медеу", "ислам", 1, 2, None]],
                   " әңгімелесу ": [KK_OUT, ["желтоқсан 2017", "Медеу", "ислам", 1, 2, None]],
                   "Іс-шаралар": events}),
             issues={E("duplicate_form_sheet", "' әңгімелесу '"), E("duplicate_column", "Іс-шаралар!E1")}),
    ]


def all_cases() -> list[Case]:
    g01 = g01_almaty_workbook()
    return [
        g01, g02_csv_comma_bom(), g03_csv_semicolon_nfd(), g04_ods(), g05_turkistan_workbook(),
        g06_csv_quarter(), g07_header_on_row_15(),
        b01_header_on_row_16(), b02_numbers(), b03_territories_codes_rules(), b04_turkistan_rules(),
        b05_privacy(), *b06_period_files(), *b07_csv_files(), *b08_cannot_open(g01.data), *b09_sheets(),
    ]


def build(directory: Path, cases: list[Case] | None = None) -> list[Case]:
    """Write every corpus file into directory (one sub-folder per office) and return the cases."""
    cases = cases if cases is not None else all_cases()
    names = [(c.office, c.name) for c in cases]
    assert len(names) == len(set(names)), "corpus file names must be unique per office"
    for c in cases:
        c.path = directory / c.office / c.name
        c.path.parent.mkdir(parents=True, exist_ok=True)
        c.path.write_bytes(c.data)
    return cases
