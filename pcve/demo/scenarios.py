"""The demo: Almaty 2017-2018 (Kazakh, monthly) and Turkistan 2025 Q1-Q3 (Russian, quarterly)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from pcve.config import Config, load_config
from pcve.demo.model import NBSP, NNBSP, Submission, last_day, nfc, split_total, stable_seed
from pcve.demo.names import Geo
from pcve.demo.render import render_workbook
from pcve.demo.xlsx import write_file, xlsx_openpyxl
from pcve.periods import Period

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

KK_TITLES = {
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
LEAGUE_TITLE = "Алматы қаласы мешіттерінің жамағаты арасындағы футбол лигасы"
CAMPAIGN_TITLE = "Терроризмге жол жоқ!"


def office_dict(cfg: Config, code: str) -> dict:
    o = cfg.offices[code]
    return {"code": o.code, "name_en": o.name_en, "name_kk": o.name_kk, "name_ru": o.name_ru,
            "root_kato": o.root_kato, "periodicity": o.periodicity, "reports_from": o.reports_from,
            "language": o.language, "due_days": o.due_days, "source": o.source}


def received_at(p: Period, days: int, hh: int, mm: int, workday: bool = True) -> datetime:
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
    isl = split_total(spec["adherents"], 12, rng, lo=25, spread=0.3)
    other = split_total(spec["other"], 12, rng, lo=0, spread=0.9) if spec["other"] else [0] * 12
    plans = split_total(spec["plan"], 12, rng, lo=70, spread=0.1) if spec["plan"] else None
    for m in range(1, 13):
        mon = date(year, m, 1)
        per = split_total(isl[m - 1], len(places), rng, lo=0, spread=0.8)
        plan_rows = split_total(plans[m - 1], len(places), rng, lo=3, spread=0.5) if plans else None
        for k, (kato, a) in enumerate(zip(places, per, strict=True)):
            conv = a + round(a * rng.uniform(0.5, 1.4)) + rng.randint(0, 4)
            months[m]["outreach"].append({"month": mon, "kato": kato, "direction": "islamic", "adherents_new": a,
                                          "conversations": conv,
                                          "conversations_planned": plan_rows[k] if plan_rows else None})
        if other[m - 1]:
            katos = spec["other_rows"][: 1 + (m % 2)]
            for kato, a in zip(katos, split_total(other[m - 1], len(katos), rng), strict=True):
                months[m]["outreach"].append({"month": mon, "kato": kato, "direction": "other",
                                              "adherents_new": a, "conversations": a + rng.randint(0, 3),
                                              "conversations_planned": None})
    # Rehabilitation: the center and the university city-wide, imams in three districts.
    reh = split_total(spec["rehab"], 12, rng, lo=12, spread=0.35)
    for m in range(1, 13):
        mon = date(year, m, 1)
        imam_katos = [districts[(m + j * 3) % len(districts)] for j in range(3)]
        rows = [(root, "center"), (root, "university")] + [(k, "imams") for k in imam_katos]
        for (kato, prov), r in zip(rows, split_total(reh[m - 1], len(rows), rng, lo=1, spread=0.6), strict=True):
            months[m]["rehabilitation"].append({
                "month": mon, "kato": kato, "provider": prov, "enrolled_new": max(0, r + rng.randint(-1, 3)),
                "rehabilitated": r, "withdrawn": rng.choice([None, 0, 0, 1, 2]) if m % 3 else None})
    # Events.
    ev: dict[int, list[dict]] = {m: [] for m in range(1, 13)}

    def day(m: int) -> date:
        return date(year, m, rng.randint(1, last_day(year, m)))

    def add(m, **row):
        row.setdefault("audience", "general")
        for k in ("teams", "mosques", "participants_women", "participants_adherents", "title"):
            row.setdefault(k, None)
        row.setdefault("event_date", day(m))
        ev[m].append(row)

    women_per_month = split_total(spec["women_events"], 12, rng, lo=10, spread=0.3)
    women = split_total(spec["women"], spec["women_events"], rng, lo=3, spread=0.7)
    wi = 0
    for m in range(1, 13):
        for _ in range(women_per_month[m - 1]):
            w = women[wi]
            wi += 1
            extra = rng.choice([0, 0, 0, 0, 1, 2])
            add(m, kato=rng.choice(places), event_type="prevention", audience="women",
                title=rng.choice(KK_TITLES["women"]), participants=w + extra, participants_women=w,
                participants_adherents=rng.choice([None, None, 0, 1, 2]))
    pen_per_month = split_total(spec["pen_events"], 12, rng, lo=3, spread=0.2)
    pen = split_total(spec["pen"], spec["pen_events"], rng, lo=8, spread=0.6)
    pi = 0
    pen_katos = ["751210000", "751910000", "751310000"]
    for m in range(1, 13):
        for _ in range(pen_per_month[m - 1]):
            add(m, kato=rng.choice(pen_katos), event_type="penitentiary", audience="convicts",
                title=rng.choice(KK_TITLES["pen"]), participants=pen[pi],
                participants_adherents=rng.choice([None, rng.randint(1, 6)]))
            pi += 1
    league = spec["league"]
    add(league["event_date"].month, kato=root, event_type="sports", title=LEAGUE_TITLE, **league)
    rest = spec["sports_total"] - league["participants"]
    if spec["festival"]:
        fest = spec["festival"]
        add(fest["event_date"].month, kato=root, event_type="sports", **fest)
        rest -= fest["participants"]
    sport_months = [m for m in range(1, 13) for _ in range(2 + (3 <= m <= 10) + (m in (5, 6, 9)))]
    sport_months = sorted(rng.sample(sport_months, spec["other_sports"]))
    for m, p in zip(sport_months, split_total(rest, len(sport_months), rng, lo=120, spread=0.6), strict=True):
        add(m, kato=rng.choice(places), event_type="sports", title=rng.choice(KK_TITLES["sports"]),
            participants=p, participants_adherents=rng.choice([None, rng.randint(5, 40)]),
            participants_women=rng.choice([None, None, rng.randint(0, p // 4)]))
    if spec["campaign"]:
        c = spec["campaign"]
        add(c["event_date"].month, kato=root, event_type="campaign", **c)
    for m in range(1, 13):
        k = (m + year) % 3
        add(m, kato=rng.choice(places), event_type="seminar", audience=rng.choice(["youth", "general"]),
            title=KK_TITLES["seminar"][k], participants=rng.randint(35, 140),
            participants_women=rng.randint(10, 30))
        p = rng.randint(40, 220)
        add(m, kato=rng.choice(districts), event_type="prevention", audience="youth",
            title=KK_TITLES["youth"][k], participants=p, participants_women=rng.randint(p // 4, p // 2),
            participants_adherents=rng.choice([None, 0, rng.randint(1, 3)]))
        if m % 2 == 0:
            add(m, kato=rng.choice(districts), event_type="prevention", audience="general",
                title=KK_TITLES["general"][m % 3], participants=rng.randint(25, 90))
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
    rng = random.Random(stable_seed("almaty-demo", 2017))
    subs: list[Submission] = []
    for year in (2017, 2018):
        months = _almaty_year(cfg, year, rng)
        for m in range(1, 13):
            p = Period("month", year, m)
            rt = random.Random(stable_seed("almaty-time", year, m))
            days = _ALMATY_LATE.get((year, m), rt.randint(2, 7))
            rec = received_at(p, days, rt.randint(9, 17), rt.randint(0, 59), workday=(year, m) not in _ALMATY_LATE)
            name = _ALMATY_NAMES.get((year, m), f"almaty_{p.token}.xlsx")
            sub = Submission("almaty", p, name, rec, months[m], _almaty_style(year, m))
            if (year, m) == (2017, 11):
                # First sent with a typo (one imams row 10 too high), then corrected in full.
                wrong = deep_copy_forms(sub.forms)
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
                draft = deep_copy_forms(sub.forms)
                fest = next(r for r in draft["events"] if r.get("title") == _ALMATY_YEARS[2018]["festival"]["title"])
                fest["_raw"] = {"participants": "2500-нан астам"}
                subs.append(Submission("almaty", p, "almaty_2018-05_алғашқы.xlsx", datetime(2018, 6, 4, 9, 18),
                                       draft, {**sub.style, "events": {**sub.style.get("events", {})}},
                                       "rejected", "draft: a qualified number in an int column"))
                sub.received = datetime(2018, 6, 6, 16, 5)
            subs.append(sub)
    return subs


def deep_copy_forms(forms: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {f: [dict(r) for r in rows] for f, rows in forms.items()}


_TK = {  # Turkistan territories by KATO
    "root": "610000000", "turkistan": "611000000", "arys": "611600000", "kentau": "612000000",
    "keles": "613900000", "kazygurt": "614000000", "maktaaral": "614400000", "ordabasy": "614600000",
    "sairam": "615200000", "saryagash": "615400000", "tolebi": "615800000", "zhetysai": "613800000",
}
RU_PREVENTION = [
    ("Встреча с молодёжью по профилактике религиозного экстремизма", "youth"),
    ("Разъяснительная встреча с жителями", "general"),
    ("Круглый стол «Религия и общество» для студентов колледжа", "youth"),
    ("Информационно-разъяснительная работа в махалле", "general"),
    ("Встреча теологов с женщинами", "women"),
    ("Лекция для старшеклассников «Мы против экстремизма»", "youth"),
]
RU_BODIES = ["Управление по делам религий", "Департамент полиции Туркестанской области",
              "Управление образования", "Управление внутренней политики",
              "Департамент уголовно-исполнительной системы по Туркестанской области",
              "Акиматы районов и городов областного значения"]


def _turkistan_subs(cfg: Config) -> list[Submission]:
    rng = random.Random(stable_seed("turkistan-demo", 2025))
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
        for b in RU_BODIES:
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
            t, aud = rng.choice(RU_PREVENTION)
            part = rng.randint(25, 160)
            ev.append({"event_date": date(m.year, m.number, rng.randint(1, last_day(m.year, m.number))),
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


def office_geo(cfg: Config, office: str) -> Geo:
    return Geo(office_dict(cfg, office), cfg.office_territories(office), cfg.territory_suffixes)


def write_demo(inbox: Path, config_dir: str | None = None) -> list[Path]:
    """Write the demo submissions into inbox/<office>/ and return their paths (sorted by received time)."""
    cfg = load_config(config_dir)
    inbox = Path(inbox)
    geos = {o: office_geo(cfg, o) for o in ("almaty", "turkistan")}
    creators = {"almaty": "Дін істері басқармасы", "turkistan": "Аппарат АТК"}
    paths = []
    for sub in sorted(demo_submissions(config_dir), key=lambda s: (s.received, s.file_name)):
        data = xlsx_openpyxl(render_workbook(cfg, sub, geos[sub.office]), sub.received, creators[sub.office])
        paths.append(write_file(inbox / sub.office / sub.file_name, data, sub))
    return paths
