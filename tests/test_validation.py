"""The GX suites over the whole corpus in one batch (GX is costly: one shared pass),
the located GX failures, per-file validation results and the Data Docs site."""

from __future__ import annotations

import html
import json
import re
import unicodedata

import pytest

from expectations.suites import SUITES_DIR, build_suite, suite_json
from ingest.parse import parse_file
from pcve.core.config import load_config
from tests.corpus.cases import IIN, TODAY, all_cases, build

CFG = load_config()
CASES = all_cases()


def _id(case) -> str:
    return case.name


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    from expectations.validate import validate_batch

    cases = build(tmp_path_factory.mktemp("corpus"), CASES)
    pfs = [parse_file(CFG, c.office, c.path, c.name) for c in cases]
    summaries = validate_batch(CFG, pfs, TODAY)
    return {c.name: (c, pf, s) for c, pf, s in zip(cases, pfs, summaries, strict=True)}


@pytest.fixture(scope="module")
def docs_home(validated, tmp_path_factory):
    from expectations.datadocs import publish_data_docs

    home = tmp_path_factory.mktemp("home")
    pfs = [pf for _, pf, _ in validated.values()]
    index = publish_data_docs(home, pfs, submission_ids=[f"S{n:06d}" for n in range(1, len(pfs) + 1)])
    return home, index


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_every_issue_after_validation(validated, case):
    _, pf, _ = validated[case.name]
    assert {(i.severity, i.rule, i.cell) for i in pf.issues} == case.issues


@pytest.mark.parametrize("case", [c for c in CASES if c.good], ids=_id)
def test_good_files_pass_every_expectation(validated, case):
    _, pf, summaries = validated[case.name]
    assert pf.errors == []
    assert summaries and all(s.success for s in summaries)
    for form, rows in pf.rows.items():
        assert {s.element_count for s in summaries if s.form == form} == {len(rows)}
        assert pf.validation[form]["success"] is True


def test_summaries_count_failures_per_file(validated):
    _, pf, summaries = validated["almaty_2017-09.xlsx"]
    failed = {(s.form, s.expectation, s.column): s.unexpected_count for s in summaries if not s.success}
    assert failed[("outreach", "expect_column_values_to_not_be_null", "month")] == 2  # A8 empty, A9 unreadable
    assert failed[("outreach", "expect_column_values_to_be_in_set", "direction")] == 1
    assert failed[("events", "expect_column_pair_values_a_to_be_greater_than_b", "participants_women")] == 1
    assert all(s.element_count == len(pf.rows[s.form]) for s in summaries)


def test_gx_failures_quote_the_value_as_written(validated):
    _, pf, _ = validated["almaty_2017-09.xlsx"]
    values = {i.cell: i.value for i in pf.issues}
    assert values["Әңгімелесу!A6"] == "қазан 2017"
    assert values["Әңгімелесу!C5"] == "христиан"
    assert values["Әңгімелесу!D7"] == "-5"
    assert values["Іс-шаралар!A3"] == "05.10.2017"


def test_privacy_values_never_reach_gx_results(validated):
    _, pf, summaries = validated["almaty_2017-10.xlsx"]
    text = json.dumps(pf.validation, ensure_ascii=False)
    for secret in (IIN, "701 123 45 67", "123-45-67", "Серікова"):
        assert secret not in text
    privacy = [r for r in pf.validation["events"]["results"] if r["expectation_config"]["meta"]["rule"] == "privacy"]
    assert privacy[0]["success"] is False
    assert {x["cell"] for x in privacy[0]["result"]["unexpected_index_list"]} == {
        "Іс-шаралар!D2", "Іс-шаралар!D4", "Іс-шаралар!F5", "Іс-шаралар!E6"}  # the flagged cells, never values
    assert all(x["value"] is None for x in privacy[0]["result"]["unexpected_index_list"])


def test_suites_are_in_sync_with_config():
    for name, form in CFG.forms.items():
        assert (SUITES_DIR / f"{name}.json").read_text(encoding="utf-8") == suite_json(CFG, form)


def test_suites_cover_every_rule_of_the_contract():
    for form in CFG.forms.values():
        rules = {(e["meta"]["rule"], e["meta"]["column"]) for e in build_suite(CFG, form)["expectations"]}
        assert ("privacy", "_privacy") in rules
        for c in form.columns:
            if c.type == "territory" and form.office_wide:
                continue
            if c.required:
                assert ("required", c.name) in rules
            if c.type == "int":
                assert ("non_negative", c.name) in rules
            if c.type == "code":
                assert ("allowed_code", c.name) in rules
            for rule in c.rules:
                if rule in ("in_period", "not_future"):
                    assert (rule, c.name) in rules
    assert ("gte_adherents_new", "conversations") in {
        (e["meta"]["rule"], e["meta"]["column"]) for e in build_suite(CFG, CFG.forms["outreach"])["expectations"]}


# ---------------------------------------------------------------- Data Docs
def test_data_docs_site(docs_home, validated):
    home, index = docs_home
    assert index == home / "docs" / "validation" / "index.html" and index.exists()
    pages = list((home / "docs" / "validation" / "validations").rglob("*.html"))
    expected = sum(len(pf.validation) for _, pf, _ in validated.values())
    assert len(pages) == expected
    html = index.read_text(encoding="utf-8")
    assert "pcve_events" in html and "pcve_outreach" in html
    page = next(p for p in pages if "almaty_2017-09" in p.name and p.name.endswith("events.html"))
    text = page.read_text(encoding="utf-8")
    assert "Іс-шаралар!E2" in text and "лекция" in text  # failures located by cell, value as written


def test_data_docs_index_links_every_result_page(docs_home):
    # the index is rendered by expectations/datadocs.py (GX's own re-reads every stored result)
    home, index = docs_home
    site = home / "docs" / "validation"
    pages = {p.relative_to(site).as_posix() for p in (site / "validations").rglob("*.html")}
    links = set(re.findall(r'<a href="([^"]+)"', index.read_text(encoding="utf-8")))
    assert pages and pages <= {html.unescape(x) for x in links}


def test_no_private_value_anywhere_under_docs(docs_home):
    home, _ = docs_home
    secrets = [IIN, "701 123 45 67", "123-45-67", "Серікова", "Айгүл", "Иванов", "Петров", "Ахметова", "765 43 21"]
    for root in (home / "docs", home / "state"):
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for secret in secrets:
                    for form in ("NFC", "NFD"):
                        assert unicodedata.normalize(form, secret).encode("utf-8") not in data, (path, secret)


def test_data_docs_accumulate_across_runs(docs_home, validated):
    from expectations.datadocs import publish_data_docs

    home, index = docs_home
    _, pf, _ = validated["almaty_2017-05.ods"]
    staged = {"office": pf.office, "file_name": pf.file_name, "period": "2017-05", "validation": pf.validation,
              "submission_id": "S000999"}
    publish_data_docs(home, [staged], run_name="second-run")
    html = index.read_text(encoding="utf-8")
    assert "second-run" in html and "S000999" in html
    assert publish_data_docs(home, []) is None
