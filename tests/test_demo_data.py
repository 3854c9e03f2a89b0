"""The demo and synthetic submissions, read back independently of the project's parser.

A small reader here (python-calamine, header lookup by the config's labels) checks
that the workbooks follow ../shared/spec/forms.md and that the demo reproduces the
published figures of ../shared/spec/published-figures.md exactly.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from pcve.config import load_config
from pcve.demo import demo_submissions, write_demo, write_synth, write_synth_config
from pcve.periods import ALMATY_TZ, Period, period_from_filename
from tests.oracle import demo_expectations, demo_facts, indicator_values, norm_period

KK = ["қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан",
      "қараша", "желтоқсан"]
RU = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
      "ноябрь", "декабрь"]
KEYBOARD = str.maketrans("әғқңөұүһіё", "агкноуухие")
LATIN = str.maketrans("aceiopxyhABCEHKMOPTXY", "асеіорхуһАВСЕНКМОРТХУ")
PHONE = re.compile(r"(?:\+7|(?<!\d)8)[\s\-.()]*(?:\d[\s\-.()]*){10}")
IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")


class Bad(Exception):
    pass


def norm(text) -> str:
    return " ".join(str(text).translate(LATIN).split()).casefold()


def empty(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def to_int(v) -> int:
    if isinstance(v, bool):
        raise Bad(f"not a number: {v!r}")
    if isinstance(v, int | float):
        if v < 0 or v != int(v):
            raise Bad(f"not a whole number: {v!r}")
        return int(v)
    s = re.sub(r"[ \u00a0\u202f]", "", str(v).strip())
    if not re.fullmatch(r"\d+(,0+)?", s):
        raise Bad(f"not an exact number: {v!r}")
    return int(s.split(",")[0])


def to_date(v) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = str(v).strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    raise Bad(f"not a date: {v!r}")


def to_month(v) -> date:
    if isinstance(v, date | datetime):
        return date(v.year, v.month, 1)
    s = norm(v)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", s):
        return date(int(m[1]), int(m[2]), 1)
    if m := re.fullmatch(r"(\d{2})\.(\d{4})", s):
        return date(int(m[2]), int(m[1]), 1)
    if m := re.fullmatch(r"(\S+) (\d{4})", s):
        for names in (KK, RU):
            if m[1] in names:
                return date(int(m[2]), names.index(m[1]) + 1, 1)
    raise Bad(f"not a month: {v!r}")


def to_quarter(v) -> str:
    s = norm(v)
    if m := re.fullmatch(r"(\d{4})-q([1-4])", s):
        return f"{m[1]}-Q{m[2]}"
    if m := re.fullmatch(r"([1-4]) (?:квартал|тоқсан) (\d{4})", s):
        return f"{m[2]}-Q{m[1]}"
    raise Bad(f"not a quarter: {v!r}")


class Reader:
    """Reads one office's workbooks: forms → rows of canonical values, plus a list of errors."""

    def __init__(self, cfg, office: str):
        self.cfg, self.office = cfg, office
        self.root = cfg.offices[office].root_kato
        self.terrs = cfg.office_territories(office)
        self.totals = {norm(t) for t in cfg.totals_markers}
        self.roots = {norm(a) for a in cfg.root_aliases}
        self.persons = {norm(p) for p in cfg.person_headers}
        self.codes = {dim: {norm(x): code for code, c in entries.items()
                            for x in (code, *c.labels.values(), *c.aliases)}
                      for dim, entries in cfg.codes.items()}

    def territory(self, text) -> str:
        s = norm(text)
        if s in self.roots:
            return self.root
        words = {norm(w) for w in self.cfg.territory_suffixes}

        def strip(n):
            return " ".join(w for w in norm(n).split() if w not in words)

        for f in (norm, strip, lambda n: strip(n).translate(KEYBOARD)):
            hits = {t.kato for t in self.terrs for n in (t.name_kk, t.name_ru) if f(n) == f(text)}
            if len(hits) == 1:
                return hits.pop()
        raise Bad(f"territory not of {self.office}: {text!r}")

    def code(self, dim, text) -> str:
        s = norm(text)
        if s in self.codes[dim]:
            return self.codes[dim][s]
        raise Bad(f"unknown {dim}: {text!r}")

    def convert(self, col, v):
        if empty(v):
            return col.default
        return {"int": to_int, "date": to_date, "month": to_month, "quarter": to_quarter,
                "territory": self.territory, "text": lambda x: unicodedata.normalize("NFC", str(x)),
                "code": lambda x: self.code(col.codes, x)}[col.type](v)

    def read(self, path: Path) -> tuple[dict[str, list[dict]], list[str]]:
        errors: list[str] = []
        forms: dict[str, list[dict]] = {}
        wb = CalamineWorkbook.from_path(str(path))
        for sheet_name in wb.sheet_names:
            form = next((f for f in self.cfg.forms.values()
                         if norm(sheet_name) in {norm(s) for s in f.sheets.values()}), None)
            if form is None:
                continue
            rows = wb.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
            forms[form.name] = self.read_sheet(form, rows, errors)
        if not forms:
            errors.append("no recognised sheet")
        return forms, errors

    def read_sheet(self, form, rows, errors) -> list[dict]:
        labels = {norm(a): c.name for c in form.columns for a in c.aliases}
        required = {c.name for c in form.columns if c.required}
        header = None
        for r, row in enumerate(rows[:15]):
            mapping = {ci: labels[norm(v)] for ci, v in enumerate(row) if isinstance(v, str) and norm(v) in labels}
            if required <= set(mapping.values()):
                header = r, mapping
                break
        if header is None:
            errors.append(f"{form.name}: header not found")
            return []
        hr, mapping = header
        for v in rows[hr]:
            if not empty(v) and norm(v) in self.persons:
                errors.append(f"{form.name}: a column names a person")
        ints = {ci for ci, n in mapping.items() if form.column(n).type == "int"}
        r = hr + 1
        nums = [v for v in rows[r] if not empty(v)] if r < len(rows) else []
        if len(nums) >= 2 and all(isinstance(v, float) for v in nums) and nums == list(range(1, len(nums) + 1)):
            r += 1
        out, end = [], len(rows)
        while r < len(rows):
            row = rows[r]
            if all(empty(v) for v in row):
                end = r
                break
            first = next(v for v in row if not empty(v))
            if isinstance(first, str) and norm(first) in self.totals:
                for ci in ints:
                    if not empty(row[ci]):
                        name = mapping[ci]
                        try:
                            total = to_int(row[ci])
                        except Bad as e:
                            errors.append(f"{form.name}: totals {e}")
                            continue
                        if total != sum(x[name] or 0 for x in out if isinstance(x.get(name), int)):
                            errors.append(f"{form.name}: totals mismatch in {name}")
                end = r + 1
                break
            rec = {"_row": r + 1}
            for ci, name in mapping.items():
                try:
                    rec[name if name != "territory" else "kato"] = self.convert(form.column(name), row[ci])
                except Bad as e:
                    errors.append(f"{form.name} row {r + 1}: {e}")
                    rec[name] = None
            if form.office_wide:
                rec["kato"] = self.root
            out.append(rec)
            r += 1
        for row in rows[end:]:
            for ci in ints:
                if ci < len(row) and not empty(row[ci]):
                    try:
                        to_int(row[ci])
                        errors.append(f"{form.name}: a figure below the table")
                    except Bad:
                        pass
        return out


def lt(a, b) -> bool:
    return a is not None and b is not None and a < b


def check_rules(forms: dict[str, list[dict]], period: Period, today: date) -> list[str]:
    """The row rules of the contract (besides parsing)."""
    errs = []
    for form, rows in forms.items():
        for r in rows:
            for k in ("month", "event_date", "meeting_date"):
                if r.get(k) is not None and not (period.start <= r[k] <= period.end):
                    errs.append(f"{form} row {r['_row']}: {k} outside {period}")
            if r.get("event_date") and r["event_date"] > today:
                errs.append(f"{form} row {r['_row']}: in the future")
            if r.get("quarter") is not None and Period("quarter", int(r["quarter"][:4]), int(r["quarter"][-1])
                                                       ).start < period.start:
                errs.append(f"{form} row {r['_row']}: quarter outside {period}")
            if form == "outreach" and lt(r["conversations"], r["adherents_new"]):
                errs.append(f"outreach row {r['_row']}: conversations < adherents_new")
            for k in ("participants_women", "participants_adherents"):
                if lt(r.get("participants"), r.get(k)):
                    errs.append(f"events row {r['_row']}: {k} > participants")
            if form == "commission_tasks" and lt(r["tasks_due"], (r["done_on_time"] or 0) + (r["done_late"] or 0)):
                errs.append(f"commission_tasks row {r['_row']}: done > due")
            for k in ("month", "territory", "direction", "event_date", "event_type", "participants",
                      "meeting_date", "body", "agenda_items", "quarter", "responsible", "tasks_due"):
                if k in r and r[k] is None:
                    errs.append(f"{form} row {r['_row']}: {k} missing")
    return errs


def all_cells(path: Path):
    wb = CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        for row in wb.get_sheet_by_name(name).to_python(skip_empty_area=False):
            yield from row


def read_inbox(cfg, inbox: Path) -> list[dict]:
    out = []
    for office in sorted(cfg.offices):
        reader = Reader(cfg, office)
        for path in sorted((inbox / office).glob("*.xlsx")):
            period = period_from_filename(path.name)
            forms, errors = reader.read(path)
            if period is None or period.kind != cfg.offices[office].periodicity:
                errors.append("no period token of the office's periodicity")
            else:
                errors += check_rules(forms, period, date(2026, 1, 1))
            out.append({"office": office, "path": path, "period": period, "mtime": path.stat().st_mtime,
                        "forms": forms, "errors": errors})
    return out


def current(files: list[dict]) -> list[dict]:
    cur = {}
    for f in sorted(files, key=lambda f: (f["mtime"], f["path"].name)):
        if not f["errors"]:
            cur[(f["office"], f["period"])] = f
    return list(cur.values())


def rows_of(files, office, form, pred=lambda p: True):
    return [r for f in files if f["office"] == office and pred(f["period"]) for r in f["forms"].get(form, [])]


# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    inbox = tmp_path_factory.mktemp("demo") / "inbox"
    return inbox, write_demo(inbox)


@pytest.fixture(scope="module")
def readback(cfg, demo):
    return read_inbox(cfg, demo[0])


def test_demo_files(demo, readback):
    inbox, paths = demo
    names = {p.parent.name: sorted(x.name for x in paths if x.parent.name == p.parent.name) for p in paths}
    assert len(names["almaty"]) == 26 and len(names["turkistan"]) == 3
    assert sorted(p.name for p in (inbox / "almaty").iterdir()) == names["almaty"]
    periods = {f["period"].token for f in readback if f["office"] == "almaty"}
    assert periods == {f"{y}-{m:02d}" for y in (2017, 2018) for m in range(1, 13)}
    assert {f["period"].token for f in readback if f["office"] == "turkistan"} == {"2025-Q1", "2025-Q2", "2025-Q3"}
    for n in ("almaty_2017-03.xlsx", "Дін істері басқармасы есеп 2017-05.xlsx", "almaty_2017-11.xlsx",
              "almaty_2017-11_түзетілген.xlsx", "almaty_2018-05_алғашқы.xlsx", "almaty_2018-05.xlsx"):
        assert n in names["almaty"]
    assert names["turkistan"] == [f"Туркестан АТК отчет 2025-Q{q}.xlsx" for q in (1, 2, 3)]


def test_only_the_draft_is_rejected_and_the_correction_supersedes(readback):
    bad = {f["path"].name: f["errors"] for f in readback if f["errors"]}
    assert list(bad) == ["almaty_2018-05_алғашқы.xlsx"]
    errs = bad["almaty_2018-05_алғашқы.xlsx"]
    assert "2500-нан астам" in errs[0] and all(e.startswith("events row 15:") for e in errs), errs
    cur = {f["path"].name for f in current(readback)}
    assert "almaty_2017-11_түзетілген.xlsx" in cur and "almaty_2017-11.xlsx" not in cur
    assert "almaty_2018-05.xlsx" in cur and len(cur) == 24 + 3
    by = {f["path"].name: f for f in readback}
    old = sum(r["rehabilitated"] for r in by["almaty_2017-11.xlsx"]["forms"]["rehabilitation"])
    new = sum(r["rehabilitated"] for r in by["almaty_2017-11_түзетілген.xlsx"]["forms"]["rehabilitation"])
    assert old == new + 10
    statuses = {s.file_name: s.status for s in demo_submissions()}
    assert statuses["almaty_2017-11.xlsx"] == "superseded"
    assert statuses["almaty_2018-05_алғашқы.xlsx"] == "rejected"
    assert {n for n, s in statuses.items() if s == "accepted"} == cur


def test_published_figures_almaty_2017(readback):
    cur = current(readback)

    def y2017(p):
        return p.year == 2017

    out = rows_of(cur, "almaty", "outreach", y2017)
    assert sum(r["adherents_new"] for r in out if r["direction"] == "islamic") == 570
    assert sum(r["adherents_new"] for r in out) == 570
    assert all(r["conversations"] >= r["adherents_new"] for r in out)
    reh = rows_of(cur, "almaty", "rehabilitation", y2017)
    assert sum(r["rehabilitated"] for r in reh) == 245
    assert {"center", "university", "imams"} <= {r["provider"] for r in reh}
    ev = rows_of(cur, "almaty", "events", y2017)
    sports = [r for r in ev if r["event_type"] == "sports"]
    assert sum(r["teams"] or 0 for r in sports) == 403
    league = [r for r in sports if r["teams"]]
    assert len(league) == 1 and league[0]["mosques"] == 48
    assert league[0]["participants"] > 2500 and league[0]["participants_adherents"] > 360
    assert 13400 <= sum(r["participants"] for r in sports) <= 13600
    women = [r for r in ev if r["audience"] == "women"]
    assert len(women) > 200 and 1450 <= sum(r["participants_women"] or 0 for r in women) <= 1550
    pen = [r for r in ev if r["event_type"] == "penitentiary"]
    assert len(pen) == 49 and sum(r["participants"] for r in pen) == 1113
    assert {"seminar", "prevention"} <= {r["event_type"] for r in ev}
    assert {"youth", "general"} <= {r["audience"] for r in ev}
    out18 = rows_of(cur, "almaty", "outreach", lambda p: p.year == 2018)
    assert sum(r.get("conversations_planned") or 0 for r in out18) >= 1000
    assert all(r["conversations"] >= r["adherents_new"] for r in out18)


def test_published_figures_turkistan_2025(readback):
    cur = current(readback)
    com = rows_of(cur, "turkistan", "commission")
    assert sum(r["body"] == "commission" for r in com) == 3
    assert sum(r["body"] == "working_group" for r in com) == 19
    ev = rows_of(cur, "turkistan", "events")
    seminars = [r for r in ev if r["event_type"] == "seminar"]
    assert len(seminars) == 3 and all(r["kato"] == "610000000" for r in seminars)
    assert any(r["event_type"] == "campaign" and r["title"] == "Терроризмге жол жоқ!" for r in ev)
    q3 = rows_of(cur, "turkistan", "commission", lambda p: p.number == 3)
    latest = max((r for r in q3 if r["body"] == "commission"), key=lambda r: r["meeting_date"])
    assert latest["agenda_items"] == 4 and latest["meeting_date"].month == 9
    assert sum(r["body"] == "commission" for r in q3) == 1
    tasks = rows_of(cur, "turkistan", "commission_tasks")
    assert len(tasks) >= 3 and all(r["done_on_time"] + (r["done_late"] or 0) <= r["tasks_due"] for r in tasks)
    assert all(not re.search(r"\bТүркістан\b", str(c)) for f in cur if f["office"] == "turkistan"
               for c in all_cells(f["path"]) if c and str(c).strip() == "Түркістан")


def test_expectations_match_the_files(cfg, readback):
    cur = current(readback)
    exp = demo_expectations()
    assert set(exp) == {f"{y}Q{q}" for y in (2017, 2018) for q in (1, 2, 3, 4)} | {"2017", "2018"} | {
        "2025Q1", "2025Q2", "2025Q3"}
    for pid, offices in exp.items():
        for office, values in offices.items():
            p = Period("year", int(pid), 1) if len(pid) == 4 else Period("quarter", int(pid[:4]), int(pid[-1]))
            forms: dict[str, list[dict]] = {}
            for f in cur:
                if f["office"] == office and p.start <= f["period"].start <= p.end:
                    for name, rows in f["forms"].items():
                        forms.setdefault(name, []).extend(rows)
            assert indicator_values(cfg, forms) == values, (pid, office)
    a17 = exp["2017"]["almaty"]
    assert (a17["OUT_ADHERENTS_ISLAMIC"], a17["OUT_ADHERENTS"], a17["REH_REHABILITATED"]) == (570, 570, 245)
    assert (a17["EVT_SPORTS_TEAMS"], a17["EVT_PENITENTIARY_EVENTS"], a17["EVT_PENITENTIARY_REACHED"]) == (403, 49, 1113)
    assert a17["REH_RATE_PCT"] == 43.0 and a17["EVT_WOMEN_EVENTS"] > 200
    assert 13400 <= a17["EVT_SPORTS_PARTICIPANTS"] <= 13600 and 1450 <= a17["EVT_WOMEN_REACHED"] <= 1550
    tk = [exp[f"2025Q{q}"]["turkistan"] for q in (1, 2, 3)]
    assert sum(v["COM_SESSIONS"] for v in tk) == 3 and sum(v["COM_WG_MEETINGS"] for v in tk) == 19
    assert sum(v["EVT_SEMINARS"] for v in tk) == 3 and sum(v["EVT_CAMPAIGNS"] for v in tk) >= 1
    facts = demo_facts()
    assert facts["almaty_2017_league"]["mosques"] == 48 and facts["almaty_2018_conversations_planned"] >= 1000
    assert facts["turkistan_2025Q3_latest_session"]["agenda_items"] == 4


def test_layout_looks_like_office_files(demo, readback):
    inbox, paths = demo
    cells = {p.name: [c for c in all_cells(p) if isinstance(c, str) and c.strip()] for p in paths}
    flat = [c for cs in cells.values() for c in cs]
    assert any(c.startswith("Алматы қаласы бойынша") and "2017 жыл наурыз" in c for c in flat)
    assert "Барлығы" in flat and "Итого" in flat
    assert "Орындаған: бөлім басшысы" in flat
    assert {"қала бойынша", "Алматы қаласы", "по области"} <= set(flat)
    assert {"Алмалы", "Алмалы ауданы"} <= set(flat)
    assert "наурыз 2017" in flat
    assert any(re.fullmatch(r"\d{1,3}[ \u00a0\u202f]\d{3}", c) for c in flat)  # `2 537`
    assert any(re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", c) for c in flat)
    # Some sheets carry a column-numbering row under the header.
    numbered = 0
    for p in paths:
        wb = CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            numbered += any(r[:3] == [1.0, 2.0, 3.0] for r in rows)
    assert numbered >= 3
    # No personal data: no phone numbers or IIN-shaped runs anywhere.
    assert not [c for c in flat if PHONE.search(c) or IIN.search(c)]


def test_received_times(cfg, readback):
    by = {f["path"].name: f for f in readback}
    assert by["almaty_2018-05_алғашқы.xlsx"]["mtime"] < by["almaty_2018-05.xlsx"]["mtime"]
    assert by["almaty_2017-11.xlsx"]["mtime"] < by["almaty_2017-11_түзетілген.xlsx"]["mtime"]
    late = []
    for f in readback:
        rec = datetime.fromtimestamp(f["mtime"], ALMATY_TZ)
        assert f["period"].end < rec.date() <= f["period"].end + timedelta(days=20), f["path"].name
        assert 8 <= rec.hour <= 18
        if rec.date() > f["period"].end + timedelta(days=cfg.offices[f["office"]].due_days):
            late.append(f["path"].name)
    assert 2 <= len(late) <= 4, late
    assert any("Туркестан" in n for n in late)


def test_demo_is_deterministic(demo, tmp_path):
    _, first = demo
    second = write_demo(tmp_path / "inbox")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        assert a.stat().st_mtime == b.stat().st_mtime
        core = zipfile.ZipFile(a).read("docProps/core.xml").decode()
        assert re.search(r"<dcterms:modified[^>]*>(20(1[7-9]|25))-", core), core
        assert {i.date_time for i in zipfile.ZipFile(a).infolist()} == {
            datetime.fromtimestamp(a.stat().st_mtime, ALMATY_TZ).timetuple()[:6]}


def test_kazakh_text_round_trips_nfc(cfg, demo):
    _, paths = demo
    for p in paths:
        assert unicodedata.is_normalized("NFC", p.name)
        wb = CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            assert unicodedata.is_normalized("NFC", name)
        for c in all_cells(p):
            if isinstance(c, str):
                assert unicodedata.is_normalized("NFC", c), c
    almaty = [p for p in paths if p.parent.name == "almaty"]
    assert {tuple(CalamineWorkbook.from_path(str(p)).sheet_names[:3]) for p in almaty} == {
        ("Әңгімелесу", "Оңалту", "Іс-шаралар")}
    tk = CalamineWorkbook.from_path(str([p for p in paths if p.parent.name == "turkistan"][0])).sheet_names
    assert tk[:3] == ["Мероприятия", "Комиссия", "Исполнительская дисциплина"]
    headers = {c for p in almaty for c in all_cells(p) if isinstance(c, str)}
    for col in cfg.forms["outreach"].columns[:5]:
        assert col.labels["kk"] in headers  # byte-exact, Kazakh letters included


def test_synth_is_deterministic_and_counted(tmp_path):
    a = write_synth(tmp_path / "a", offices=4, years=2, rows_per_sheet=6, seed=7, bad_share=0.1)
    b = write_synth(tmp_path / "b", offices=4, years=2, rows_per_sheet=6, seed=7, bad_share=0.1)
    good = 3 * 24 + 8  # almaty and two generated regions monthly, turkistan quarterly
    assert a["workbooks"] == len(a["files"]) == good + round(0.1 * good)
    assert len(a["bad_files"]) == round(0.1 * good)
    assert len(list((tmp_path / "a").rglob("*.xlsx"))) == a["workbooks"]
    assert list(a["offices"]) == ["almaty", "turkistan", "astana", "shymkent"]
    for x, y in zip(a["files"], b["files"], strict=True):
        assert x.relative_to(tmp_path / "a") == y.relative_to(tmp_path / "b")
        assert x.read_bytes() == y.read_bytes() and x.stat().st_mtime == y.stat().st_mtime
    c = write_synth(tmp_path / "c", offices=4, years=2, rows_per_sheet=6, seed=8, bad_share=0.1)
    assert [p.read_bytes() for p in a["files"][:5]] != [p.read_bytes() for p in c["files"][:5]]


def test_synth_follows_the_contract(tmp_path):
    res = write_synth(tmp_path / "inbox", offices=3, years=1, rows_per_sheet=12, seed=1, bad_share=0.3)
    cfg = load_config(str(write_synth_config(res, tmp_path / "config")))
    assert set(cfg.offices) == {"almaty", "turkistan", "astana"}
    assert cfg.offices["almaty"].reports_from == "2024-01" and cfg.offices["turkistan"].reports_from == "2024-Q1"
    files = read_inbox(cfg, tmp_path / "inbox")
    assert len(files) == res["workbooks"] == 28 + round(0.3 * 28)
    bad = {p.name for p in res["bad_files"]}
    assert len(bad) == 8  # one of each kind of defect
    for f in files:
        if f["path"].name in bad:
            assert f["errors"], f"{f['path'].name} should be rejected"
        else:
            assert not f["errors"], (f["path"].name, f["errors"][:3])
    langs = {o: CalamineWorkbook.from_path(str(next((tmp_path / "inbox" / o).glob("*.xlsx")))).sheet_names[0]
             for o in ("almaty", "astana")}
    assert langs == {"almaty": "Әңгімелесу", "astana": "Әңгімелесу"}
    cur = current(files)
    assert len(cur) == 28  # every period arrives valid in the end
    ru = [f for f in cur if f["office"] == "turkistan"]
    assert ru and all("commission_tasks" in f["forms"] for f in ru)


def test_synth_files_open_with_openpyxl_and_pandas(tmp_path):
    import pandas as pd

    res = write_synth(tmp_path, offices=2, years=1, rows_per_sheet=5, seed=0, bad_share=0.0)
    frames = pd.read_excel(res["files"][0], sheet_name=None, header=None, engine="openpyxl")
    assert set(frames) == {"Әңгімелесу", "Оңалту", "Іс-шаралар"}
    assert all(len(df) >= 5 for df in frames.values())


def test_pcve_synth_command_writes_inbox_and_config(tmp_path):
    """`pcve synth` (the benchmark's workload as a command): the same files as write_synth, plus the
    offices' config, a JSON summary, and a refusal to write into a non-empty inbox."""
    import json as _json

    from click.testing import CliRunner

    from pcve.cli import main

    home = tmp_path / "h"
    args = ["synth", "--home", str(home), "--offices", "3", "--years", "1", "--rows-per-sheet", "4", "--seed", "5",
            "--json"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    out = _json.loads(res.output)
    ref = write_synth(tmp_path / "ref", offices=3, years=1, rows_per_sheet=4, seed=5)
    assert out["workbooks"] == ref["workbooks"] == len(list((home / "inbox").rglob("*.xlsx")))
    assert out["bad_workbooks"] == len(ref["bad_files"]) and out["offices"] == 3
    for p in ref["files"]:
        assert (home / "inbox" / p.relative_to(tmp_path / "ref")).read_bytes() == p.read_bytes()
    cfg = load_config(out["config_dir"])
    assert set(cfg.offices) == {"almaty", "turkistan", "astana"}
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "not empty" in again.output


@given(st.sampled_from(["month", "quarter", "year"]), st.integers(1990, 2099), st.integers(1, 12))
def test_the_oracle_reads_every_period_style_as_one(kind, year, n):
    """tests/oracle.py compares tables whose period ids may be DHIS2 (`201703`, `2017Q1`) or ISO-like
    (`2017-03`, `2017-Q1`): both spellings of a period must meet, and different periods must not."""
    p = Period(kind, year, {"month": n, "quarter": (n - 1) // 3 + 1, "year": 1}[kind])
    assert norm_period(p.dhis2) == norm_period(p.sdmx) == norm_period(p.token)
    q = p.next()
    assert norm_period(q.dhis2) != norm_period(p.dhis2)


def test_the_regions_for_generated_offices_come_from_data_files_not_the_real_offices():
    """pcve/demo/regions.csv: with Almaty and Turkistan, Kazakhstan's 17 regions and 3 cities of
    republican significance (20), KATO roots unique and none of config/territories.csv's; enough
    district stems for the largest generated office."""
    import csv

    import pcve.demo

    base = Path(pcve.demo.__file__).parent
    with (base / "regions.csv").open(encoding="utf-8", newline="") as fh:
        regions = list(csv.DictReader(fh))
    with (base / "district_stems.csv").open(encoding="utf-8", newline="") as fh:
        stems = list(csv.DictReader(fh))
    cfg = load_config()
    real = {t.kato for o in cfg.offices for t in cfg.office_territories(o)}
    roots = [r["root_kato"] for r in regions]
    assert len(regions) + 2 == 20 and len(set(roots)) == len(roots) and not set(roots) & real
    assert all(re.fullmatch(r"\d{9}", k) for k in roots)
    assert all(unicodedata.is_normalized("NFC", v) for r in regions + stems for v in r.values())
    assert len(stems) >= 8 + 4  # an office takes up to 12 distinct stems
