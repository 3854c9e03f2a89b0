"""What clerks type -> canonical values (forms.md "Layout inside a sheet"), one rule at a time."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time

import pytest

from pcve.core.config import load_config
from pcve.core.normalise import (
    TerritoryMatcher,
    clean_text,
    code_matcher,
    fold,
    header_key,
    parse_date,
    parse_int,
    parse_month,
    parse_number,
    parse_quarter,
    stored_text,
)
from pcve.core.periods import Period
from pcve.core.privacy import is_person_header, mask, privacy_rule

CFG = load_config()


# ---------------------------------------------------------------- numbers
@pytest.mark.parametrize("value, expected", [
    (13500, 13500), (13500.0, 13500), ("13500", 13500), ("13 500", 13500), ("13\u00a0500", 13500),
    ("13\u202f500", 13500), ("1500,0", 1500), ("1500.0", 1500), (" 7 ", 7), ("0", 0), ("-5", -5),
    ("\u22125", -5), (0.1 + 0.2 - 0.3 + 4, 4),
])
def test_numbers_as_numbers_or_text(value, expected):
    assert parse_int(value) == (expected, None)


@pytest.mark.parametrize("value", ["2500-нан астам", "~1500", ">360", "10-15", "около 300", "15 адам", "50%",
                                   "1 500+", "2500-ден астам"])
def test_qualified_numbers_are_errors(value):
    assert parse_int(value) == (None, "qualified_number")


@pytest.mark.parametrize("value, rule", [
    ("жиырма", "not_a_number"), (True, "not_a_number"), (date(2017, 3, 1), "not_a_number"),
    (time(10, 0), "not_a_number"), (12.5, "not_whole_number"), ("12,5", "not_whole_number"),
    ("1,500.00", "qualified_number"), (float("nan"), "not_finite"), (float("inf"), "not_finite"),
        ("12.000000001", "not_whole_number"), ("1000000000,5", "not_whole_number"), (12.000000001, "not_whole_number"),
        ("99999999999999999999", "number_out_of_range"), (9223372036854775807, "number_out_of_range"),
        (1e400, "not_finite"), ("#DIV/0!", "excel_error"), ("Err:502", "excel_error"), ("#ДЕЛ/0!", "excel_error"),
])
def test_not_numbers(value, rule):
    assert parse_int(value) == (None, rule)


def test_number_keeps_decimals():
    assert parse_number("1500,25") == (1500.25, None)


# ---------------------------------------------------------------- dates and months
@pytest.mark.parametrize("value, expected", [
    (date(2017, 3, 5), date(2017, 3, 5)), (datetime(2017, 3, 5, 10, 30), date(2017, 3, 5)),
    (42799, date(2017, 3, 5)), (42799.0, date(2017, 3, 5)), ("05.03.2017", date(2017, 3, 5)),
    ("5.3.2017", date(2017, 3, 5)), ("2017-03-05", date(2017, 3, 5)), ("2017-03-05 00:00:00", date(2017, 3, 5)),
    ("05.03.2017 ж.", date(2017, 3, 5)), ("05.03.2017г.", date(2017, 3, 5)), (" 05.03.2017 ", date(2017, 3, 5)),
])
def test_dates(value, expected):
    assert parse_date(value) == (expected, None)


@pytest.mark.parametrize("value", ["32.03.2017", "05/03/2017", "2017-13-01", "наурыз 2017", 12, "42799", time(1, 0),
                                   "05.03.17", ""])
def test_bad_dates(value):
    assert parse_date(value) == (None, "bad_date")


@pytest.mark.parametrize("value", [
    "наурыз 2017", "Наурыз 2017 ж.", "2017 жылғы наурыз", "март 2017", "марта 2017 г.", "МАРТ 2017", "2017-03",
    "03.2017", "3.2017", date(2017, 3, 1), date(2017, 3, 31), datetime(2017, 3, 15), "15.03.2017", "2017-03-15",
    42795,
])
def test_months(value):
    assert parse_month(value) == (date(2017, 3, 1), None)


@pytest.mark.parametrize("word, month", [
    ("қаңтар", 1), ("ақпан", 2), ("сәуір", 4), ("мамыр", 5), ("маусым", 6), ("шілде", 7), ("тамыз", 8),
    ("қыркүйек", 9), ("қазан", 10), ("қараша", 11), ("желтоқсан", 12), ("январь", 1), ("августа", 8),
    ("сентябрь", 9), ("декабря", 12), ("кыркуйек", 9),  # Russian keyboard
])
def test_month_names(word, month):
    assert parse_month(f"{word} 2017") == (date(2017, month, 1), None)
    assert parse_month(unicodedata.normalize("NFD", f"{word} 2017")) == (date(2017, month, 1), None)


@pytest.mark.parametrize("value", ["наурыз", "2017", "март-апрель 2017", "13.2017", "наурыз 2017 2018", 3])
def test_bad_months(value):
    assert parse_month(value) == (None, "bad_month")


@pytest.mark.parametrize("value", ["3 тоқсан 2025", "3 квартал 2025", "2025-Q3", "2025-q3", "2025 Q3", "Q3 2025",
                                   "III квартал 2025 г.", "3-тоқсан 2025 ж.", "3 кв. 2025", "2025 жылғы 3 тоқсан",
                                   "3 квартал 2025 года", "2025-К3"])
def test_quarters(value):
    assert parse_quarter(value) == (Period("quarter", 2025, 3), None)


@pytest.mark.parametrize("value", ["5 квартал 2025", "2025-Q5", "квартал 2025", date(2025, 7, 1), 3, "3 квартал"])
def test_bad_quarters(value):
    assert parse_quarter(value) == (None, "bad_quarter")


# ---------------------------------------------------------------- text
def test_text_is_nfc_and_kept_as_given():
    decomposed = unicodedata.normalize("NFD", "  Ұйымдастыру  бөлімі\r\nжиыны ")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    assert stored_text(decomposed) == "Ұйымдастыру  бөлімі\nжиыны"
    assert stored_text(decomposed).encode() == unicodedata.normalize("NFC", "Ұйымдастыру  бөлімі\nжиыны").encode()
    assert clean_text("a\u00a0\u202f b\n c\u200f") == "a b c"


def test_fold_ignores_case_spacing_breaks_and_latin_lookalikes():
    assert fold("  АУДАН ") == fold("Аудан")
    assert fold("Aлмaлы") == fold("Алмалы")  # Latin a
    assert fold("Caйpaм") == fold("Сайрам")  # Latin C, a, p
    assert fold("ХТОМКЕВАРСНУ") == fold("XTOMKEBAPCHY")
    assert fold("iсламдық") == fold("ісламдық")  # Latin i -> Kazakh і
    assert header_key("Алғаш әңгімелесу\nжүргізілген\nұстанушылар") == fold("Алғаш әңгімелесу жүргізілген ұстанушылар")
    assert header_key("Қатысу-\nшылар") == fold("Қатысушылар")
    assert header_key("Күні*") == fold("Күні")


# ---------------------------------------------------------------- territories
ALMATY = TerritoryMatcher(CFG, "almaty")
TURKISTAN = TerritoryMatcher(CFG, "turkistan")


@pytest.mark.parametrize("matcher, value, kato", [
    (ALMATY, "Бостандық ауданы", "751410000"),  # full name (kk)
    (ALMATY, "Бостандыкский район", "751410000"),  # full name (ru)
    (ALMATY, "Bostandyk", "751410000"),  # full name (en)
    (ALMATY, "Бостандық", "751410000"),  # without ауданы
    (ALMATY, "Бостандыкский", "751410000"),  # without район
    (ALMATY, "Бостандык ауданы", "751410000"),  # Russian keyboard
    (ALMATY, "Бостандык", "751410000"),
    (ALMATY, "БОСТАНДЫҚ   АУДАНЫ", "751410000"),
    (ALMATY, "Aлмaлы", "751110000"),  # Latin look-alikes
    (ALMATY, "Әуезов", "751310000"), (ALMATY, "Ауезов", "751310000"),
    (ALMATY, 751810000, "751810000"), (ALMATY, 751810000.0, "751810000"), (ALMATY, "751810000", "751810000"),
    (ALMATY, "Алматы қаласы", "750000000"), (ALMATY, "город Алматы", "750000000"), (ALMATY, "г. Алматы", "750000000"),
    (ALMATY, "қала бойынша", "750000000"), (ALMATY, "по городу", "750000000"), (ALMATY, "Алматы", "750000000"),
    (TURKISTAN, "по области", "610000000"), (TURKISTAN, "облыс бойынша", "610000000"),
    (TURKISTAN, "Туркестанская область", "610000000"), (TURKISTAN, "Түркістан облысы", "610000000"),
    (TURKISTAN, "Түркістан қаласы", "611000000"), (TURKISTAN, "город Туркестан", "611000000"),
    (TURKISTAN, "Казыгурт", "614000000"), (TURKISTAN, "Сарыагашский район", "615400000"),
    (TURKISTAN, unicodedata.normalize("NFD", "Сайрам ауданы"), "615200000"),
])
def test_territory_matching(matcher, value, kato):
    assert matcher.match(value) == (kato, None)


@pytest.mark.parametrize("matcher, value, rule", [
    (TURKISTAN, "Түркістан", "ambiguous_territory"),
    (TURKISTAN, "Туркистан", "ambiguous_territory"),  # keyboard step: both the region and the city
    (TURKISTAN, "Алмалы ауданы", "territory_outside_office"),
    (TURKISTAN, "751110000", "territory_outside_office"),
    (ALMATY, "Сайрам", "territory_outside_office"),
    (ALMATY, "Белгісіз аудан", "unknown_territory"), (ALMATY, "123456789", "unknown_territory"),
])
def test_territory_errors(matcher, value, rule):
    assert matcher.match(value) == (None, rule)


def test_root_aliases_follow_config():
    assert set(CFG.root_aliases) >= {"по области", "облыс бойынша", "қала бойынша", "по городу"}


@pytest.mark.parametrize("dimension, value, code", [
    ("direction", "ислам", "islamic"), ("direction", "исламское", "islamic"), ("direction", "Islamic", "islamic"),
    ("direction", "islamic", "islamic"), ("direction", "басқа", "other"), ("direction", "другое", "other"),
    ("direction", "ИСЛАМ БАҒЫТЫ", "islamic"),
    ("provider", "Орталық", "center"), ("provider", "Центр", "center"), ("provider", "Нұр-Мүбарак", "university"),
    ("provider", "Имамдар", "imams"), ("provider", "imams", "imams"),
    ("event_type", "спорттық", "sports"), ("event_type", "спортивное", "sports"), ("event_type", "sports", "sports"),
    ("event_type", "алдын алу", "prevention"), ("event_type", "учреждение УИС", "penitentiary"),
    ("event_type", "семинар", "seminar"), ("event_type", "акция", "campaign"), ("event_type", "другое", "other"),
    ("audience", "молодёжь", "youth"), ("audience", "молодежь", "youth"), ("audience", "Women", "women"),
    ("audience", "сотталғандар", "convicts"), ("audience", "осуждённые", "convicts"),
    ("body", "заседание АТК", "commission"), ("body", "жұмыс тобы", "working_group"),
    ("body", "working group", "working_group"),
])
def test_code_values_kk_ru_en(dimension, value, code):
    assert code_matcher(CFG, dimension).match(value) == (code, None)


def test_unknown_code():
    assert code_matcher(CFG, "event_type").match("концерт") == (None, "unknown")


# ---------------------------------------------------------------- privacy
@pytest.mark.parametrize("value, rule", [
    ("900101300123", "privacy_iin"), (900101300123, "privacy_iin"), (900101300123.0, "privacy_iin"),
    ("ЖСН 000229400123 бар", "privacy_iin"),  # 2000-02-29 is a date
    ("+7 701 123 45 67", "privacy_phone"), ("8 (727) 123-45-67", "privacy_phone"), ("87011234567", "privacy_phone"),
    ("тел.: 8-701-123-45-67", "privacy_phone"), ("+77011234567", "privacy_phone"), ("8.701.123.45.67", "privacy_phone"),
])
def test_privacy_flags(value, rule):
    assert privacy_rule(value) == rule


@pytest.mark.parametrize("value", [
    "123456789012", "Жоба № 123456789012", "1234567890123", "751410000", 13500, "2017-03-05", "900101300123456",
    "050229400123",  # 05-02-29: neither 1905 nor 2005 had a 29 February
])
def test_privacy_does_not_flag(value):
    assert privacy_rule(value) is None


def test_mask_never_returns_the_value():
    text = "ЖСН 900101300123, тел. +7 701 123 45 67"
    masked = mask(text)
    assert "900101300123" not in masked and "701 123 45 67" not in masked


@pytest.mark.parametrize("header, person", [
    ("ФИО", True), ("Ф.И.О.", True), ("ФИО ответственного", True), ("Председатель (ФИО)", True),
    ("Аты-жөні", True), ("аты жөні", True), ("Full name", True), ("ИИН", True), ("ЖСН", True),
    ("Атауы", False), ("Аудан", False), ("Наименование", False), ("Төраға", False),
])
def test_person_headers(header, person):
    assert is_person_header(header, CFG.person_headers) is person
