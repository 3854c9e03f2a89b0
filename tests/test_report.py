"""report.html (issue 6) and the spreadsheet checked by the programs people open it with.

(a) the report of a small hand-made warehouse (the helpers of tests/test_exports.py):
    figures, both languages, inline SVG, nothing fetched from elsewhere, no clock,
    byte-identical reruns, the public profile showing suppressed cells as suppressed;
(b) the same report in a real headless Chromium (Debian package ``chromium``):
    a screenshot, and the rendered DOM searched for the figures and the charts;
(c) indicators.xlsx opened by a real headless LibreOffice (``libreoffice-calc-nogui``),
    converted to ODS and CSV and read back: numbers and Kazakh names survive.

(b) and (c) need the system packages of ``scripts/install-system-deps.sh``; they fail
(not skip) when a binary is missing, unless PCVE_ALLOW_MISSING_SYSTEM_DEPS=1.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import re
import shutil
import struct
import subprocess
import time
import zlib
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from exports.extract import write_extracts
from tests.test_exports import ALATAU, ALMALY, ALMATY, AUEZOV, CFG, folder_bytes, make_warehouse

TURKISTAN = CFG.offices["turkistan"].root_kato
INSTALL_HINT = ("run `scripts/install-system-deps.sh` (Debian packages chromium and libreoffice-calc-nogui); "
                "set PCVE_ALLOW_MISSING_SYSTEM_DEPS=1 to skip these tests instead")


@pytest.fixture(autouse=True)
def _no_delivery(monkeypatch):
    monkeypatch.delenv("PCVE_MINISTRY_LOCATION", raising=False)


# --- a small warehouse with two complete quarters ---------------------------------------------------------

def _quarter(pid, adherents, conversations, planned, rehabilitated):
    """Office total + three districts; ``adherents`` etc. are {kato: value} for the districts."""
    out = []
    for code, values in (("OUT_ADHERENTS", adherents), ("OUT_CONVERSATIONS", conversations),
                         ("REH_REHABILITATED", rehabilitated)):
        out.append((code, "almaty", ALMATY, pid, sum(values.values())))
        out += [(code, "almaty", k, pid, v) for k, v in values.items()]
    out.append(("OUT_PLAN_PCT", "almaty", ALMATY, pid, sum(conversations.values()), sum(planned.values())))
    out += [("OUT_PLAN_PCT", "almaty", k, pid, conversations[k], planned[k]) for k in planned]
    out.append(("REH_RATE_PCT", "almaty", ALMATY, pid, sum(rehabilitated.values()), sum(adherents.values())))
    out += [("REH_RATE_PCT", "almaty", k, pid, rehabilitated[k], adherents[k]) for k in adherents]
    return out


CELLS = (
    _quarter("2017Q1", {ALMALY: 300, ALATAU: 270, AUEZOV: 0}, {ALMALY: 600, ALATAU: 500, AUEZOV: 0},
             {ALMALY: 500, ALATAU: 500, AUEZOV: 0}, {ALMALY: 150, ALATAU: 95, AUEZOV: 0})
    + _quarter("2017Q2", {ALMALY: 1000, ALATAU: 231, AUEZOV: 3}, {ALMALY: 1500, ALATAU: 480, AUEZOV: 20},
               {ALMALY: 1500, ALATAU: 900, AUEZOV: 100}, {ALMALY: 200, ALATAU: 97, AUEZOV: 3})
    + _quarter("2017Q3", {ALMALY: 9, ALATAU: 9, AUEZOV: 9}, {ALMALY: 9, ALATAU: 9, AUEZOV: 9},
               {ALMALY: 9, ALATAU: 9, AUEZOV: 9}, {ALMALY: 9, ALATAU: 9, AUEZOV: 9})  # incomplete: never shown
    + [("COM_SESSIONS", "turkistan", TURKISTAN, "2025Q1", 2),
       ("COM_TASKS_ON_TIME_PCT", "turkistan", TURKISTAN, "2025Q1", 41, 44)]
)
COMPLETENESS = [
    ("almaty", "2017Q1", 3, 3, True, ""),
    ("almaty", "2017Q2", 3, 3, True, ""),
    ("almaty", "2017Q3", 3, 1, False, "2017-08,2017-09"),
    ("almaty", "2017", 12, 7, False, "2017-08,2017-09,2017-10,2017-11,2017-12"),
    ("turkistan", "2025Q1", 1, 1, True, ""),
]
SUBMISSIONS = [
    # submission_id, seq, office, period, kind, file_name, sha256, received_at, status, current, err, warn
    ("S000001", 1, "almaty", "2017-01", "month", "almaty_2017-01.xlsx", "1" * 64, "2017-02-08 10:00:00",
     "accepted", True, 0, 0),
    ("S000002", 2, "almaty", "2017-02", "month", "almaty_2017-02.xlsx", "2" * 64, "2017-03-13 09:00:00",
     "superseded", False, 0, 0),
    ("S000003", 3, "almaty", "2017-02", "month", "almaty_2017-02 түзетілген.xlsx", "3" * 64, "2017-03-20 11:30:00",
     "accepted", True, 0, 0),
    ("S000004", 4, "almaty", "2017-03", "month", "almaty_2017-03.xlsx", "4" * 64, "2017-04-01 08:00:00",
     "rejected", False, 3, 0),
    ("S000005", 5, "almaty", "2017-03", "month", "almaty_2017-03.xlsx", "5" * 64, "2017-04-10 17:59:00",
     "accepted", True, 0, 1),
    ("S000006", 6, "almaty", "2017-04", "month", "almaty_2017-04.xlsx", "6" * 64, "2017-05-05 12:00:00",
     "accepted", True, 0, 0),
    ("S000007", 7, "almaty", "2017-05", "month", "almaty_2017-05.xlsx", "7" * 64, "2017-06-09 12:00:00",
     "accepted", True, 0, 0),
    ("S000008", 8, "almaty", "2017-06", "month", "almaty_2017-06.xlsx", "8" * 64, "2017-07-15 16:45:00",
     "accepted", True, 0, 0),
    ("S000009", 9, "turkistan", "2025-Q1", "quarter", "Туркестан АТК есеп 2025-Q1.xlsx", "9" * 64,
     "2025-04-10 17:00:00", "accepted", True, 0, 0),
]
FORMS = [(s[0], "outreach", True, 3) for s in SUBMISSIONS if s[0] != "S000009"]
VALIDATION = [("S000006", "outreach", "expect_column_values_to_not_be_null", "month", True, 4, 0),
              ("S000006", "outreach", "expect_column_values_to_be_between", "conversations", False, 4, 1),
              ("S000007", "outreach", "expect_column_values_to_not_be_null", "month", True, 3, 0)]

NB = "\u00a0"  # thousands separator of the report
ADH_KK = CFG.indicator("OUT_ADHERENTS").names["kk"]
ADH_RU = CFG.indicator("OUT_ADHERENTS").names["ru"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    make_warehouse(tmp_path / "warehouse.duckdb", CELLS, COMPLETENESS, SUBMISSIONS, FORMS, VALIDATION)
    docs = tmp_path / "docs" / "validation"
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<!DOCTYPE html><title>Data Docs</title><h1>GX Data Docs</h1>",
                                     encoding="utf-8")
    return tmp_path


def report_text(home: Path, period: str, base: str = "exports") -> str:
    return (home / base / period / "report.html").read_text(encoding="utf-8")


class Dom(HTMLParser):
    """Elements with their attributes and text (a tiny DOM for the report and Chromium's --dump-dom)."""

    VOID = {"meta", "br", "col", "img", "input", "link", "hr", "circle", "line", "rect", "path", "polyline"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._stack: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": [e["tag"] for e in self._stack],
              "in": [e["attrs"].get("data-chart") or e["attrs"].get("data-office") or "" for e in self._stack]}
        self.elements.append(el)
        if tag not in self.VOID:
            self._stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID and self._stack and self._stack[-1]["tag"] == tag:
            self._stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i]["tag"] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data):
        for el in self._stack:
            el["text"] += data

    def find(self, tag: str | None = None, **attrs) -> list[dict]:
        out = []
        for el in self.elements:
            if tag is not None and el["tag"] != tag:
                continue
            if all(el["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(el)
        return out

    def cell(self, code: str, kato: str, cls: str = "cur") -> dict:
        found = [e for e in self.find("td", data_code=code, data_kato=kato)
                 if cls in (e["attrs"].get("class") or "").split()]
        assert len(found) == 1, (code, kato, cls, len(found))
        return found[0]


# --- (a) content ----------------------------------------------------------------------------------------

def test_report_is_one_of_the_extract_files(home: Path):
    s = write_extracts(home)
    assert [w["period"] for w in s["written"]] == ["2017Q1", "2017Q2", "2025Q1"]
    for period in ("2017Q1", "2017Q2", "2025Q1"):
        folder = home / "exports" / period
        assert folder.is_symlink()
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        data = (folder / "report.html").read_bytes()
        assert m["files"]["report.html"] == hashlib.sha256(data).hexdigest()
        # written inside the revision folder the symlink points at, so it is swapped with the rest
        assert (home / "exports" / ".revisions" / period / "r1" / "report.html").read_bytes() == data
    assert list((home / "exports" / ".staging").iterdir()) == []


def test_report_figures_plan_previous_period_and_languages(home: Path):
    write_extracts(home)
    text = report_text(home, "2017Q2")
    dom = Dom(text)
    assert text.startswith("<!DOCTYPE html>\n<html lang=\"kk\">") and text.endswith("</html>\n")
    # both languages: headings, period, indicator and territory names
    for phrase in ("Көрсеткіштер: жоспар және алдыңғы кезеңмен салыстыру", "Показатели: план и сравнение с "
                   "предыдущим периодом", "2017 жылғы II тоқсан", "II квартал 2017 года", "2017 жылғы I тоқсан",
                   "Есептердің толықтығы және уақтылығы", "Полнота и своевременность отчётности",
                   "Аумақтар бөлінісіндегі көрсеткіштер", "Показатели в разрезе территорий",
                   html.escape(ADH_KK), html.escape(ADH_RU), "Алмалы ауданы", "Алмалинский район",
                   "Алматы қаласы әкімдігінің Дін істері басқармасы", "Управление по делам религий акимата"):
        assert phrase in text, phrase
    assert 'lang="ru"' in text and 'lang="kk"' in text
    # the office total this quarter against the previous quarter, with the change
    cur = dom.cell("OUT_ADHERENTS", ALMATY, "cur")
    assert cur["attrs"]["data-value"] == "1234" and cur["text"] == f"1{NB}234"
    prev = dom.cell("OUT_ADHERENTS", ALMATY, "prev")
    assert prev["attrs"]["data-value"] == "570" and prev["text"] == "570"
    row = dom.find("tr", data_row="OUT_ADHERENTS")[0]
    assert "+664" in row["text"] and "+116" in row["text"]
    change = [e for e in dom.find("td") if e["attrs"].get("data-change") == "664"]
    assert len(change) == 1
    # a percentage: value with its parts, change in points
    rate = dom.cell("REH_RATE_PCT", ALMATY, "cur")
    assert rate["attrs"]["data-value"] == "24.3" and rate["text"].startswith("24,3")  # 300 / 1234
    assert "300 / 1" in rate["text"]
    assert [e["attrs"]["data-change"] for e in dom.find("td") if e["attrs"].get("data-change") == "-18.7"]
    # against plan: conversations 2000 of 2500 planned = 80.0 %, per territory too
    conv = dom.find("tr", data_row="OUT_CONVERSATIONS")[0]
    assert f"2{NB}000" in conv["text"] and f"2{NB}500" in conv["text"] and "80,0" in conv["text"]
    assert [e for e in dom.find("td") if e["attrs"].get("data-plan") == "2500"]
    plan_cells = {e["attrs"]["data-kato"]: e["attrs"].get("data-value") for e in dom.find("td", data_code="OUT_PLAN_PCT")
                  if "cur" not in e["attrs"].get("class", "")}
    assert plan_cells[ALMALY] == "100.0" and plan_cells[ALATAU] == "53.3" and plan_cells[AUEZOV] == "20.0"
    assert text.count('class="pbar"') == 4  # office + three districts
    # the 2017Q1 report has no previous quarter (the office starts in 2017-01): dashes, not zeros
    q1 = Dom(report_text(home, "2017Q1"))
    assert q1.find("tr", data_row="OUT_ADHERENTS")[0]["text"].count("—") >= 2
    # an incomplete quarter is never shown (its 9s), in no chart or table
    assert ">9<" not in text


def test_report_charts_heat_table_and_lateness(home: Path):
    write_extracts(home)
    text = report_text(home, "2017Q2")
    dom = Dom(text)
    # trend charts: inline SVG, one per indicator with data, two quarters (Q1 light, Q2 dark)
    charts = {e["attrs"]["data-chart"] for e in dom.find("div") if e["attrs"].get("data-chart")}
    assert charts == {"OUT_ADHERENTS", "OUT_CONVERSATIONS", "OUT_PLAN_PCT", "REH_REHABILITATED", "REH_RATE_PCT"}
    svgs = dom.find("svg")
    assert len([s for s in svgs if "chart" in s["attrs"].get("class", "")]) == 5
    bars = [e for e in dom.find("rect") if "OUT_ADHERENTS" in e["in"]]
    assert [b["attrs"]["class"] for b in bars] == ["bar", "bar cur"]
    assert float(bars[1]["attrs"]["height"]) > float(bars[0]["attrs"]["height"])  # 1234 > 570
    assert [e for e in dom.find("circle") if "OUT_PLAN_PCT" in e["in"]]  # a percentage: a line with dots
    # the map-like table: districts coloured by value, the largest darkest, zero uncoloured
    heat = {e["attrs"]["data-kato"]: e["attrs"]["class"] for e in dom.find("td", data_code="OUT_ADHERENTS")
            if "num h" in e["attrs"].get("class", "")}
    assert heat == {ALMALY: "num h8", ALATAU: "num h2", AUEZOV: "num h1"}
    # completeness and lateness: received vs due (period end + 10 days) per month
    late = {e["attrs"]["data-period"]: e for e in dom.find("tr") if e["attrs"].get("data-period")}
    assert sorted(late) == ["2017-04", "2017-05", "2017-06"]
    cells = [e for e in dom.find("td") if "data-days" in e["attrs"]]
    assert [c["attrs"]["data-days"] for c in cells] == ["-5", "-1", "5"]
    assert "кешікті" in late["2017-06"]["text"] and "с опозданием" in late["2017-06"]["text"]
    assert "мерзімінде" in late["2017-04"]["text"] and "в срок" in late["2017-05"]["text"]
    assert "15.07.2017 16:45" in late["2017-06"]["text"] and "10.07.2017" in late["2017-06"]["text"]
    assert text.count('class="lbar"') == 3
    # Q1: a correction does not make February on time: the first accepted version counts; rejected never
    q1 = Dom(report_text(home, "2017Q1"))
    feb = [e for e in q1.find("tr") if e["attrs"].get("data-period") == "2017-02"][0]
    assert "13.03.2017 09:00" in feb["text"] and "almaty_2017-02 түзетілген.xlsx" in feb["text"]
    assert [c["attrs"]["data-days"] for c in q1.find("td") if "data-days" in c["attrs"]] == ["-2", "3", "0"]
    # the validation summary is inside; no link to anything on disk (the folder is sent elsewhere): the
    # Data Docs are named by their path in the home, linked only where a docs URL is configured
    assert dom.find("td", data_summary="submissions")[0]["text"] == "3"
    assert dom.find("td", data_summary="expectations")[0]["text"] == "3 (1)"
    assert dom.find("td", data_summary="as-of")[0]["text"] == "15.07.2017 16:45"
    hrefs = [a["attrs"]["href"] for a in dom.find("a")]
    assert hrefs and all(h.startswith("#office-") for h in hrefs)  # the table of contents only
    assert "docs/validation/index.html" in text and "<script" not in text
    # offices left out, with their names
    assert "Түркістан облысы әкімдігі" in text and 'data-left-out="turkistan"' in text


def test_docs_are_linked_only_where_a_docs_url_is_configured(home: Path, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PCVE_DOCS_URL", "https://pcve:secret@docs.example.kz:8443/pcve/")
    write_extracts(home)
    write_extracts(home, profile="public")
    text = report_text(home, "2017Q2")
    links = {a["attrs"]["data-docs"]: a["attrs"]["href"] for a in Dom(text).find("a") if "data-docs" in a["attrs"]}
    assert links == {"validation/index.html": "https://docs.example.kz:8443/pcve/validation/index.html",
                     "dbt/index.html": "https://docs.example.kz:8443/pcve/dbt/index.html"}
    assert "secret" not in text  # never the credentials of the URL
    assert not [a for a in Dom(report_text(home, "2017Q2", "exports/public")).find("a") if "data-docs" in a["attrs"]]
    # not an http(s) URL: no links rather than a link to a file on some machine
    monkeypatch.setenv("PCVE_DOCS_URL", "file:///srv/pcve/docs")
    other = tmp_path_factory.mktemp("no-url")
    write_extracts(home, out=other)
    assert "data-docs" not in (other / "2017Q2" / "report.html").read_text(encoding="utf-8")


def test_report_is_self_contained_and_has_no_clock(home: Path, tmp_path_factory):
    write_extracts(home)
    first = folder_bytes(home / "exports" / "2017Q2")
    text = first["report.html"].decode("utf-8")
    # nothing fetched: no URL with a scheme or host, no external resource or import
    assert not re.search(r"(?i)\b(?:https?|ftp|wss?):|//[a-z0-9-]+\.[a-z]{2,}", text)
    assert not re.search(r"(?i)<(?:link|img|iframe|object|embed|source|video|audio)\b|\bsrc=|@import|url\(", text)
    assert "<style>" in text and "<svg" in text
    # no wall-clock time: today's date appears nowhere; a later rerun, in place or from scratch, is identical
    today = date.today()
    for stamp in (today.isoformat(), today.strftime("%d.%m.%Y"), datetime.now().strftime("%d.%m.%Y %H:")):
        assert stamp not in text
    time.sleep(1.1)
    assert write_extracts(home)["written"] == []
    assert folder_bytes(home / "exports" / "2017Q2") == first
    other = tmp_path_factory.mktemp("again")
    write_extracts(home, out=other)
    assert folder_bytes(other / "2017Q2") == first


def test_a_correction_of_the_previous_quarter_leaves_the_later_report_as_issued(home: Path):
    """The report compares with the previous quarter, but a correction of that quarter changes no value the
    later folder delivers: no new revision of it (issue 17: 2018Q1-Q4 were reissued with an empty
    CHANGES.csv); its report keeps the comparison as of its own revision. The corrected quarter itself
    is revision 2, and the comparison shows the new value in the next revision of the later quarter."""
    from tests.test_exports import update_warehouse

    write_extracts(home)
    before = (home / "exports" / "2017Q2" / "report.html").read_bytes()
    update_warehouse(home / "warehouse.duckdb",
                     f"update main.mart_indicator_values set numerator = 600, value = 600 where indicator_code = "
                     f"'OUT_ADHERENTS' and kato = '{ALMATY}' and dhis2_period_id = '2017Q1'")
    s = write_extracts(home)
    assert [(w["period"], w["revision"], w["changes"]) for w in s["written"]] == [("2017Q1", 2, 1)]
    assert {u["period"]: u["revision"] for u in s["unchanged"]}["2017Q2"] == 1
    assert (home / "exports" / "2017Q2" / "report.html").read_bytes() == before
    dom = Dom(report_text(home, "2017Q2"))
    assert dom.cell("OUT_ADHERENTS", ALMATY, "prev")["attrs"]["data-value"] != "600"
    # a value of 2017Q2 changes: its revision 2 compares with 2017Q1 as it now stands
    update_warehouse(home / "warehouse.duckdb",
                     "update main.mart_indicator_values set numerator = numerator + 1, value = value + 1 "
                     f"where indicator_code = 'OUT_ADHERENTS' and kato = '{ALMATY}' and dhis2_period_id = '2017Q2'")
    s = write_extracts(home)
    assert [(w["period"], w["revision"]) for w in s["written"]] == [("2017Q2", 2)]
    assert Dom(report_text(home, "2017Q2")).cell("OUT_ADHERENTS", ALMATY, "prev")["attrs"]["data-value"] == "600"


def test_public_report_shows_suppressed_cells_as_suppressed(home: Path):
    s = write_extracts(home, profile="public")
    assert "2017Q2" in [w["period"] for w in s["written"]]
    folder = home / "exports" / "public" / "2017Q2"
    published = {(r["indicator_code"], r["kato"]): r for r in
                 csv.DictReader(io.StringIO((folder / "indicators.csv").read_text(encoding="utf-8-sig")))}
    suppressed = {k for k, r in published.items() if r["conf_status"] in ("A", "D")}
    assert ("OUT_ADHERENTS", AUEZOV) in suppressed and ("REH_REHABILITATED", AUEZOV) in suppressed
    text = (folder / "report.html").read_text(encoding="utf-8")
    dom = Dom(text)
    assert 'class="badge public"' in text
    for code, kato in suppressed:
        tds = dom.find("td", data_code=code, data_kato=kato)
        assert tds, (code, kato)
        for td in tds:
            assert "data-value" not in td["attrs"] and td["attrs"]["data-conf"] in ("A", "D")
            assert td["text"].strip() == "к"
    # every published figure the report shows is the CSV's value
    for td in dom.find("td"):
        if td["attrs"].get("data-code") and "data-value" in td["attrs"] and "prev" not in td["attrs"]["class"]:
            assert published[(td["attrs"]["data-code"], td["attrs"]["data-kato"])]["value"] == \
                td["attrs"]["data-value"]
    # colour scale from published values only: AUEZOV's hidden 3 neither coloured nor setting the scale
    assert [e["attrs"]["class"] for e in dom.find("td", data_code="OUT_ADHERENTS", data_kato=AUEZOV)] == \
        ["num hs"]
    # the internal Data Docs (sample unexpected values) are not linked from a public file
    assert not [a for a in dom.find("a") if a["attrs"].get("data-home-rel")]
    assert "docs/validation" not in text


def test_suppressed_values_set_no_scale_and_no_change():
    from dataclasses import replace
    from decimal import Decimal

    from exports import report
    from exports.formats import Row

    base = Row("OUT_ADHERENTS", "almaty", ALMATY, "2017Q2", "2017-Q2", "Q", "persons", 1, True, "city",
               Decimal(500), 500, None)
    hidden = replace(base, conf_status="D", value=None, numerator=None)
    assert report._change(base, hidden)[0] == report._change(hidden, base)[0] == '<span class="supp">к</span>'
    assert report._change(base, replace(base, value=Decimal(400)))[1] == "100"
    # the chart's axis comes from the published bars only
    q = [report.Period("quarter", 2017, n) for n in (1, 2)]
    svg = report.trend_chart([(q[0], base), (q[1], hidden)], False, {q[1].dhis2}, "x")
    assert 'class="na supp"' in svg and ">к<" in svg and svg.count("<rect") == 1
    assert 'height="87.0"' in svg  # the one published bar spans the whole plot (128 - 15 - 26)


def test_every_office_of_a_period_gets_its_whole_indicator_table():
    """With several offices in one extract each section lists the office's own indicators (a
    catalogue taken over every office's rows once listed only what an office happened to report first)."""
    from decimal import Decimal

    from exports import report
    from exports.formats import Row

    def row(code: str, office: str, kato: str, n: int) -> Row:
        return Row(code, office, kato, "2020Q2", "2020-Q2", "Q", "persons", n, True, "city", Decimal(n), n, None)

    codes = ["OUT_ADHERENTS", "REH_REHABILITATED", "EVT_SPORTS_TEAMS"]
    rows = [row(c, o, k, i + 1) for o, k in (("abai", "100000000"), ("akmola", "110000000"))
            for i, c in enumerate(codes)]
    offices = [report.Office("abai", "Абай", "Абай", "100000000"), report.Office("akmola", "Ақмола", "Акмола", "110000000")]
    d = report.ReportData(period=report.Period("quarter", 2020, 2), profile="ministry", offices=offices, rows=rows)
    html_text = report.render_report(d).decode("utf-8")
    sections = re.split(r'<section class="office"', html_text)[1:]
    assert len(sections) == 2
    for sec in sections:
        table = sec.split("<h3>")[1]
        assert all(f'data-indicator="{c}"' in table or c in table for c in codes), sec[:200]
    # the same for both: two sections of the same shape
    first, second = (sec.split("<h3>")[1].count("<tr") for sec in sections)
    assert first == second >= len(codes)


# --- (b) a real browser ------------------------------------------------------------------------------------

def system_binary(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
    if found:
        return found
    if os.environ.get("PCVE_ALLOW_MISSING_SYSTEM_DEPS") == "1":
        pytest.skip(f"{name} is not installed (PCVE_ALLOW_MISSING_SYSTEM_DEPS=1): {INSTALL_HINT}")
    pytest.fail(f"{name} is not installed: {INSTALL_HINT}", pytrace=False)


def test_missing_system_binary_fails_with_the_install_hint(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    monkeypatch.delenv("PCVE_ALLOW_MISSING_SYSTEM_DEPS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="scripts/install-system-deps.sh"):
        system_binary("chromium")
    monkeypatch.setenv("PCVE_ALLOW_MISSING_SYSTEM_DEPS", "1")
    with pytest.raises(pytest.skip.Exception, match="install-system-deps"):
        system_binary("soffice")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    exe = system_binary("chromium")
    profile = tmp_path / "chromium-profile"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",  # no network, even if asked
           f"--user-data-dir={profile}", *args]
    env = {**os.environ, "HOME": str(tmp_path)}
    res = subprocess.run(cmd, capture_output=True, timeout=180, env=env)
    assert res.returncode == 0, res.stderr.decode("utf-8", "replace")[-3000:]
    return res


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if bpp == 3 else bytes(x for j in range(0, stride, 4) for x in line[j:j + 3]))
        prev = line
    return width, height, rows


def count_colour(rows: list[bytes], rgb: tuple[int, int, int]) -> int:
    needle = bytes(rgb)
    return sum(sum(1 for i in range(0, len(r), 3) if r[i:i + 3] == needle) for r in rows)


@pytest.mark.browser
def test_report_in_headless_chromium(home: Path, tmp_path: Path):
    write_extracts(home)
    report = home / "exports" / "2017Q2" / "report.html"
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    # the first screen is drawn: the masthead's band, the office banner, the plan bars (under and on plan)
    assert count_colour(rows, (0x00, 0xA3, 0xC4)) > 2000  # masthead band
    assert count_colour(rows, (0x0B, 0x2E, 0x4F)) > 20000  # office banner
    assert count_colour(rows, (0xD9, 0x8C, 0x1F)) > 1000 and count_colour(rows, (0x2E, 0x8B, 0x57)) > 500
    # the whole page in a tall window: the trend charts' bars and the heat table's colours are painted
    tall = tmp_path / "report-full.png"
    chromium(tmp_path, f"--screenshot={tall}", "--window-size=1280,5000", report.as_uri())
    _, _, rows = png_pixels(tall.read_bytes())
    assert count_colour(rows, (0x17, 0x60, 0x9E)) > 2000  # bars of this quarter
    assert count_colour(rows, (0x9C, 0xC3, 0xE0)) > 1000  # bars of the quarter before
    assert count_colour(rows, (0x08, 0x30, 0x6B)) > 1000  # heat table: the largest district values

    # the rendered DOM (after the browser parsed it): figures and charts
    dom = Dom(chromium(tmp_path, "--dump-dom", report.as_uri()).stdout.decode("utf-8"))
    assert dom.cell("OUT_ADHERENTS", ALMATY, "cur")["text"] == f"1{NB}234"
    assert dom.cell("OUT_ADHERENTS", ALMATY, "prev")["text"] == "570"
    assert "80,0" in dom.find("tr", data_row="OUT_CONVERSATIONS")[0]["text"]
    charts = [e for e in dom.find("svg") if "chart" in e["attrs"].get("class", "")]
    assert len(charts) == 5
    # three counts with two quarters each as bars, two percentages as lines with dots
    assert len([e for e in dom.find("rect") if e["attrs"].get("class") in ("bar", "bar cur")]) == 6
    assert len([e for e in dom.find("circle") if e["attrs"].get("class") in ("dot", "dot cur")]) == 4
    assert [e["text"] for e in dom.find("text") if "OUT_ADHERENTS" in e["in"]
            and e["attrs"].get("class") == "val"] == ["570", f"1{NB}234"]
    # every link stays inside the file, from the period's path and from the real revision folder alike
    real = home / "exports" / ".revisions" / "2017Q2" / "r1" / "report.html"
    dom_real = Dom(chromium(tmp_path, "--dump-dom", real.as_uri()).stdout.decode("utf-8"))
    for d in (dom, dom_real):
        assert all(a["attrs"]["href"].startswith("#office-") for a in d.find("a"))

    # printable: A4 pages, one section per office starting on its own page
    pdf = tmp_path / "report.pdf"
    chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", report.as_uri())
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf.read_bytes()))
    assert pages >= 2


# --- (c) LibreOffice opens indicators.xlsx ------------------------------------------------------------------

def soffice(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    exe = system_binary("soffice")
    profile = (tmp_path / "lo-profile").as_uri()  # own profile: no clash with another running instance
    cmd = [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nolockcheck", *args]
    res = subprocess.run(cmd, capture_output=True, timeout=300, env={**os.environ, "HOME": str(tmp_path)})
    assert res.returncode == 0, (res.stdout + res.stderr).decode("utf-8", "replace")[-3000:]
    assert b"Error" not in res.stderr, res.stderr.decode("utf-8", "replace")
    return res


@pytest.mark.office
def test_indicators_xlsx_round_trips_through_libreoffice(home: Path, tmp_path: Path):
    from openpyxl import load_workbook
    from python_calamine import CalamineWorkbook

    write_extracts(home)
    xlsx = home / "exports" / "2017Q2" / "indicators.xlsx"
    src = tmp_path / "indicators.xlsx"
    shutil.copyfile(xlsx, src)  # convert a copy: nothing is written next to the extract
    out = tmp_path / "out"
    soffice(tmp_path, "--convert-to", "ods", "--outdir", str(out), str(src))
    ods = out / "indicators.ods"
    assert ods.is_file() and ods.stat().st_size > 0

    original = load_workbook(xlsx, read_only=True)
    back = CalamineWorkbook.from_path(str(ods))
    assert back.sheet_names == original.sheetnames == ["almaty"]
    want = [list(r) for r in original["almaty"].iter_rows(values_only=True)]
    got = back.get_sheet_by_name("almaty").to_python()
    assert len(got) == len(want) == 1 + 5 * 4
    for w_row, g_row in zip(want, got, strict=True):
        g_row = list(g_row) + [""] * (len(w_row) - len(g_row))
        for w, g in zip(w_row, g_row, strict=True):
            if isinstance(w, (int, float)):
                assert isinstance(g, (int, float)) and float(g) == float(w), (w, g)  # numbers stay numbers
            else:
                assert (g if g is not None else "") == (w if w is not None else ""), (w, g)
    header = got[0]
    assert header[1] == "Көрсеткіш" and header[2] == "Показатель"
    adh = [r for r in got if r[0] == "OUT_ADHERENTS" and str(r[3]) == ALMATY]
    assert adh and adh[0][1] == ADH_KK and adh[0][2] == ADH_RU and adh[0][4] == "Алматы қаласы"
    assert adh[0][7] == 1234
    rate = [r for r in got if r[0] == "REH_RATE_PCT" and str(r[3]) == ALMATY][0]
    assert rate[7] == pytest.approx(24.3) and rate[8] == 300 and rate[9] == 1234

    # and as CSV (UTF-8, comma), what an official would export from Calc: Kazakh text intact
    csv_out = tmp_path / "csv"
    soffice(tmp_path, "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir", str(csv_out),
            str(src))
    text = (csv_out / "indicators.csv").read_text(encoding="utf-8-sig")
    # Calc quotes text and not numbers: values are numbers, KATO codes are text
    assert f'"OUT_ADHERENTS","{ADH_KK}","{ADH_RU}","{ALMATY}","Алматы қаласы","город Алматы","2017Q2",1234,1234,,' in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Код", "Көрсеткіш", "Показатель"]
    by_key = {(r[0], r[3]): r for r in rows[1:]}
    assert by_key[("OUT_ADHERENTS", ALMATY)][1] == ADH_KK
    assert by_key[("OUT_ADHERENTS", ALMATY)][7] == "1234"
    assert by_key[("OUT_PLAN_PCT", ALMATY)][7:10] == ["80.0", "2000", "2500"]  # the 0.0 format kept
    assert by_key[("OUT_ADHERENTS", AUEZOV)][5] == "Ауэзовский район"
