"""The hand-made corpus through the parser: exact canonical rows for every good file,
every problem of every bad file at its exact cell, and reports that never echo
signatures, names, phones or IINs. (GX rules are checked in test_validation.py.)"""

from __future__ import annotations

import unicodedata

import pytest

from ingest.messages import MESSAGES, render
from ingest.parse import parse_file
from ingest.reports import _params, errors_csv, errors_html, issue_rows, receipt_html
from pcve.core.config import load_config
from tests.corpus.cases import COLUMNS, IIN, all_cases, build, is_gx_rule

CFG = load_config()
CASES = all_cases()
GOOD = [c for c in CASES if c.good]
BAD = [c for c in CASES if not c.good]


def _id(case) -> str:
    return case.name


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    cases = build(tmp_path_factory.mktemp("corpus"), CASES)
    return {c.name: (c, parse_file(CFG, c.office, c.path, c.name)) for c in cases}


def canonical(form: str, rows: list[dict]) -> list[dict]:
    keys = ["_sheet", "_row", "kato", *[k for k in COLUMNS[form] if k != "kato"]]
    return [{k: r.get(k) for k in keys} for r in rows]


def test_corpus_size():
    assert len(GOOD) >= 7 and len(BAD) >= 20


@pytest.mark.parametrize("case", GOOD, ids=_id)
def test_good_file_gives_exact_rows(parsed, case):
    _, pf = parsed[case.name]
    assert pf.errors == []
    assert set(pf.rows) == set(case.rows)
    for form, expected in case.rows.items():
        assert canonical(form, pf.rows[form]) == canonical(form, expected), form


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_every_parser_issue_at_its_cell(parsed, case):
    _, pf = parsed[case.name]
    got = {(i.severity, i.rule, i.cell) for i in pf.issues}
    assert got == {x for x in case.issues if not is_gx_rule(x[1])}


def test_column_lineage(parsed):
    _, pf = parsed["almaty_2017-03.xlsx"]
    row = pf.rows["outreach"][0]
    assert (row["_sheet"], row["_row"]) == ("Әңгімелесу", 6)
    assert row["_cols"] == {"month": "C", "territory": "B", "direction": "D", "adherents_new": "E",
                            "conversations": "F", "conversations_planned": "G"}
    events = pf.rows["events"][0]  # two-row header: "Оның ішінде" over "әйелдер" / "ДДА ұстанушылары"
    assert events["_cols"]["participants_women"] == "I" and events["_cols"]["participants_adherents"] == "J"


def test_kazakh_text_survives_byte_for_byte(parsed):
    """Decomposed (NFD) input comes out NFC, every other byte as given."""
    case, pf = parsed["almaty_2017-04__events.csv"]
    assert unicodedata.normalize("NFD", "Мейірім").encode() in case.data  # the input really is decomposed
    titles = [r["title"] for r in pf.rows["events"]]
    assert [t.encode("utf-8") for t in titles] == [
        unicodedata.normalize("NFC", "Жастармен кездесу «Мейірім»").encode("utf-8"),
        unicodedata.normalize("NFC", "Акция; «Қайырымдылық»").encode("utf-8")]
    _, pf = parsed["Туркестан АТК есеп 2025-Q3.xlsx"]
    assert pf.rows["commission_tasks"][2]["responsible"] == "Білім басқармасы (Ұйымдастыру бөлімі)"
    assert all(unicodedata.is_normalized("NFC", v) for r in pf.rows["commission_tasks"] for v in r.values()
               if isinstance(v, str))


def test_merged_cells_fill_down(parsed):
    _, pf = parsed["Туркестан АТК есеп 2025-Q3.xlsx"]  # territory B2:B4 merged (xlsx)
    assert [r["kato"] for r in pf.rows["events"][:3]] == ["615400000"] * 3
    _, pf = parsed["almaty_2017-05.ods"]  # month A5:A6 merged (ods, from content.xml)
    assert pf.rows["rehabilitation"][3]["month"].isoformat() == "2017-05-01"


# ---------------------------------------------------------------- reports
def _report_bytes(pf) -> bytes:
    return errors_csv(CFG, pf) + errors_html(CFG, pf) + receipt_html(CFG, pf, "S000001", "accepted")


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_reports_never_echo_private_text(parsed, case):
    _, pf = parsed[case.name]
    data = _report_bytes(pf)
    for secret in (*case.secrets, IIN):
        for form in ("NFC", "NFD"):
            assert unicodedata.normalize(form, secret).encode("utf-8") not in data, secret


@pytest.mark.parametrize("case", BAD, ids=_id)
def test_error_report_names_every_cell(parsed, case):
    _, pf = parsed[case.name]
    rows = issue_rows(CFG, pf, pf.issues)
    csv_text = errors_csv(CFG, pf).decode("utf-8-sig")
    html_text = errors_html(CFG, pf).decode("utf-8")
    for sev, rule, cell in case.issues:
        if is_gx_rule(rule):
            continue
        assert any(r["rule"] == rule and r["cell"] == cell and r["severity"] == sev for r in rows)
        if cell:
            assert cell in csv_text
            assert cell.replace("'", "&#x27;") in html_text
    for r in rows:  # every message exists in Kazakh and Russian, filled in
        assert r["message_kk"] != r["rule"] and r["message_ru"] != r["rule"]
        assert "{" not in r["message_kk"] + r["message_ru"], r


def test_wrong_type_values_are_quoted_as_written(parsed):
    _, pf = parsed["almaty_2017-08.xlsx"]
    values = {i.cell: i.value for i in pf.issues}
    assert values["Әңгімелесу!D2"] == "2500-нан астам"
    assert values["Әңгімелесу!D5"] == "12.5"
    assert values["Әңгімелесу!E5"] == "жиырма"
    assert values["Комиссия!C4"] == "8"
    assert values["Іс-шаралар!F5"] == "15.10.2015"  # a count Excel turned into a date, shown as Excel shows it
    _, pf = parsed["almaty_2017-10.xlsx"]
    assert all(i.value is None for i in pf.issues if i.rule.startswith("privacy"))


def test_csv_not_utf8_message(parsed):
    _, pf = parsed["almaty_2017-03__outreach.csv"]
    (row,) = issue_rows(CFG, pf, pf.issues)
    assert "CSV UTF-8" in row["message_ru"] and "CSV UTF-8" in row["message_kk"]


def test_every_rule_has_messages():
    rules = {r for c in CASES for _, r, _ in c.issues if not r.startswith(("gte_", "lte_", "sum_with_"))}
    assert rules <= set(MESSAGES), rules - set(MESSAGES)
    for rule in MESSAGES:
        for lang in ("kk", "ru", "en"):
            assert render(rule, lang, {}) != rule


def test_corpus_covers_the_contract():
    rules = {r for c in CASES for _, r, _ in c.issues}
    assert rules >= {
        "header_below_limit", "header_not_found", "unknown_column", "unknown_sheet", "text_after_table",
        "data_after_table", "totals_mismatch", "qualified_number", "not_a_number", "not_whole_number",
        "bad_date", "bad_month", "bad_quarter", "unknown_territory", "ambiguous_territory",
        "territory_outside_office", "allowed_code", "required", "non_negative", "in_period", "not_future",
        "gte_adherents_new", "lte_participants", "lte_tasks_due", "sum_with_done_on_time_lte_tasks_due",
        "privacy_iin", "privacy_phone", "privacy_person_column", "period_missing", "period_wrong_kind",
        "csv_not_utf8", "csv_form_unknown", "cannot_open", "password_protected", "old_xls", "not_a_spreadsheet",
        "empty_file", "unsupported_file_type", "no_recognised_sheet", "duplicate_form_sheet", "duplicate_column",
        "formula_not_calculated", "merged_number_cells",
    }
    names = [c.name for c in CASES]
    assert any(n.endswith(".ods") for n in names) and sum(n.endswith(".csv") for n in names) >= 4


def test_params_for_cross_column_rules():
    from pcve.core.model import Issue, ParsedFile

    pf = ParsedFile("turkistan", "x_2025-Q3.xlsx", None, "workbook")
    issue = Issue("error", "sum_with_done_on_time_lte_tasks_due", column="done_late")
    text = render(issue.rule, "ru", _params(CFG, pf, issue, "ru"))
    assert "Исполнено в срок" in text and "Подлежало исполнению" in text and "нарушением" in text
