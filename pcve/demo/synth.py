"""Synthetic submissions for the benchmark."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from pcve.config import CONFIG_DIR, Config, Territory, load_config
from pcve.demo.model import KK_MONTHS, NBSP, NNBSP, RU_MONTHS, Submission, nfc, stable_seed
from pcve.demo.names import Geo
from pcve.demo.render import render_workbook
from pcve.demo.scenarios import (
    CAMPAIGN_TITLE,
    KK_TITLES,
    RU_BODIES,
    RU_PREVENTION,
    deep_copy_forms,
    office_dict,
    received_at,
)
from pcve.demo.xlsx import write_file, xlsx_direct
from pcve.periods import Period

_DATA = Path(__file__).parent


def _read_rows(name: str) -> list[tuple[str, ...]]:
    with (_DATA / name).open(encoding="utf-8", newline="") as fh:
        return [tuple(r.values()) for r in csv.DictReader(fh)]


# Regions of Kazakhstan besides Almaty city and Turkistan region, in the order generated offices take
# them: office code, KATO root, level, names (en, kk, ru). config/territories.csv holds only the two
# real offices, so the generated ones come from this file.
_REGIONS = _read_rows("regions.csv")
# District names for generated offices: Kazakh stem (+ ауданы), Russian adjective (+ район), English.
_STEMS = _read_rows("district_stems.csv")
_SYNTH_TITLES = {
    "kk": {"sports": KK_TITLES["sports"], "prevention": KK_TITLES["youth"] + KK_TITLES["general"],
           "women": KK_TITLES["women"], "penitentiary": KK_TITLES["pen"], "seminar": KK_TITLES["seminar"],
           "campaign": ["«Терроризмге жол жоқ!» акциясы", "«Дін – бейбітшілік пен келісім» акциясы"],
           "other": ["Дөңгелек үстел", "Ақпараттық-түсіндіру тобының кездесуі"]},
    "ru": {"sports": ["Турнир по мини-футболу среди молодёжи", "Соревнования по национальным видам спорта"],
           "prevention": [t for t, a in RU_PREVENTION if a != "women"],
           "women": [t for t, a in RU_PREVENTION if a == "women"],
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
        o = office_dict(cfg, code)
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
        rng = random.Random(stable_seed("synth-geo", code))
        stems = rng.sample([s for s in _STEMS if s[0] not in kk], 8 + k % 5)
        for i, (skk, sru, sen) in enumerate(stems):
            terr.append({"kato": f"{root[:3]}{10 + i:02d}0000", "office_code": code, "level": "district",
                         "name_en": sen, "name_kk": f"{skk} ауданы", "name_ru": f"{sru} район"})
    return offices, terr


def _synth_rows(form: str, p: Period, geo: Geo, rows: int, rng: random.Random) -> list[dict]:
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
        for b in RU_BODIES[: max(1, min(rows, len(RU_BODIES)))]:
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


def _make_bad(sub: Submission, kind: str, geo: Geo, other_geo: Geo, rng: random.Random) -> None:
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
    geos = {c: Geo(o, [t for t in territories if t.office_code == c], cfg.territory_suffixes)
            for c, o in office_entries.items()}
    jobs = []
    for code, o in office_entries.items():
        kind = o["periodicity"]
        p = Period(kind, first_year, 1)
        while p.year <= last_year:
            jobs.append((code, p))
            p = p.next()
    pick = random.Random(stable_seed("synth-bad", seed, offices, years))
    n_bad = round(bad_share * len(jobs))
    bad = dict(zip(sorted(pick.sample(range(len(jobs)), n_bad)),
                   (_BAD_KINDS[i % len(_BAD_KINDS)] for i in range(n_bad)), strict=True))
    codes = list(office_entries)
    files, bad_files = [], []
    for j, (code, p) in enumerate(jobs):
        o = office_entries[code]
        geo = geos[code]
        rng = random.Random(stable_seed("synth", seed, code, p.token, rows_per_sheet))
        if o["periodicity"] == "quarter":
            forms = ["events", "commission", "commission_tasks", "outreach", "rehabilitation"]
        else:
            forms = ["outreach", "rehabilitation", "events"] + (["commission"] if codes.index(code) % 3 == 2 else [])
        rows = {f: _synth_rows(f, p, geo, rows_per_sheet, rng) for f in forms}
        days = rng.randint(1, o["due_days"] + 4)
        rec = received_at(p, days, rng.randint(9, 18), rng.randint(0, 59))
        lang_word = "есеп" if o["language"] == "kk" else "отчет"
        name = rng.choice([f"{code}_{p.token}.xlsx", f"{code} {lang_word} {p.token}.xlsx"])
        sub = Submission(code, p, name, rec, rows, _synth_style(rng))
        if j in bad:
            b = Submission(code, p, name.replace(".xlsx", "_draft.xlsx"), rec - timedelta(days=rng.randint(1, 3),
                           hours=rng.randint(0, 5)), deep_copy_forms(rows), {**sub.style}, "rejected", bad[j])
            b.style = {k: (dict(v) if isinstance(v, dict) else v) for k, v in b.style.items()}
            other = geos[codes[(codes.index(code) + 1) % len(codes)]] if len(codes) > 1 else geo
            if other is geo:  # a single office: a made-up district no office has
                other = Geo({**o, "root_kato": "999000000"}, [
                    Territory("999000000", "x", "region", "X", "Жоқ облысы", "Несуществующая область"),
                    Territory("999010000", "x", "district", "Y", "Жоқ ауданы", "Несуществующий район")], ())
            _make_bad(b, bad[j], geo, other, rng)
            data = xlsx_direct(render_workbook(cfg, b, geo), b.received, "synth")
            path = write_file(inbox / code / nfc(b.file_name), data, b)
            files.append(path)
            bad_files.append(path)
        data = xlsx_direct(render_workbook(cfg, sub, geo), sub.received, "synth")
        files.append(write_file(inbox / code / nfc(sub.file_name), data, sub))
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
