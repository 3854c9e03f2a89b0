"""Turning what clerks type into canonical values: text, numbers, dates,
months, quarters, territories and code values (forms.md, "Layout inside a sheet").

Every function here is pure; errors are returned as a rule name, never raised,
so the parser can report every problem of a file, not just the first.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from pcve.core.config import Config, Territory
from pcve.core.periods import Period

_LATIN_UPPER = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")
_LATIN_LOWER = str.maketrans("aceiopxyh", "асеіорхуһ")
_RU_KEYBOARD = str.maketrans("әғқңөұүһіё", "агкноуухие")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009]+")
# Invisible format characters (bidi marks, zero-width space/joiners, BOM): removed, not made spaces,
# so that a number typed with one inside still reads as one number (the privacy gate reads it so).
_BIDI = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_text(value) -> str:
    """NFC, bidi marks removed, whitespace runs collapsed, trimmed."""
    if value is None:
        return ""
    if type(value) is str:  # the same texts recur in every row and file (codes, places, headers)
        return _clean_str(value)
    s = nfc(str(value))
    s = _BIDI.sub("", s)
    return _SPACES.sub(" ", s).strip()


@functools.lru_cache(maxsize=1 << 16)
def _clean_str(value: str) -> str:
    s = nfc(value)
    s = _BIDI.sub("", s)
    return _SPACES.sub(" ", s).strip()


def stored_text(value) -> str:
    """Text stored as given (forms.md): NFC, line endings unified, surrounding spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        value = int(value)
    s = nfc(str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return s.strip(" \t\n\u00a0\u202f\ufeff")


def fold(text: str) -> str:
    """Matching key: case, spacing, line breaks and Latin look-alikes ignored."""
    if type(text) is str:
        return _fold_str(text)
    return _fold(text)


@functools.lru_cache(maxsize=1 << 16)
def _fold_str(text: str) -> str:
    return _fold(text)


def _fold(text) -> str:
    s = clean_text(text).translate(_LATIN_UPPER).casefold().translate(_LATIN_LOWER)
    s = s.replace("«", "").replace("»", "").replace('"', "")
    return s.strip(" .:;,")


def header_key(text) -> str:
    """Matching key of a header cell: as fold(), and a word broken over two lines with a hyphen
    ('Қатысу-\nшылар'), soft hyphens and a trailing required-mark '*' are ignored."""
    s = nfc(str(text)).replace("\u00ad", "")
    s = re.sub(r"(\w)-[ \t]*[\r\n]+\s*(\w)", r"\1\2", s)
    return fold(s).rstrip(" *")


def fold_keyboard(text: str) -> str:
    """Kazakh letters as typed on a Russian keyboard."""
    return fold(text).translate(_RU_KEYBOARD)


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and clean_text(value) == "")


# ---------------------------------------------------------------- numbers
_NUMBER = re.compile(r"^[+]?\d+(?:[.,]\d+)?$")
_MINUS = "-\u2212"  # hyphen-minus and the minus sign
# What a spreadsheet shows in a cell whose formula failed (calamine reads them as empty; the reader
# finds them in the sheet's XML, a CSV carries them as text). LibreOffice writes Err:502 and the like.
EXCEL_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!",
                          "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
                          # as a Russian Excel shows them (and writes them into a CSV)
                          "#ДЕЛ/0!", "#Н/Д", "#ИМЯ?", "#ПУСТО!", "#ЧИСЛО!", "#ССЫЛКА!", "#ЗНАЧ!"})
_LO_ERROR = re.compile(r"^Err:\d{3}$")
INT_MIN, INT_MAX = 0, 2_147_483_647  # an int column's range unless forms.yml says otherwise (min:/max:)


def is_excel_error(value) -> bool:
    if not isinstance(value, str):
        return False
    s = value.strip().upper()
    return s in EXCEL_ERRORS or bool(_LO_ERROR.match(value.strip()))


def parse_number(value) -> tuple[float | None, str | None]:
    """A number from a numeric cell or text such as '13 500' or '1500,0'.

    Returns (number, None) or (None, rule). Qualified figures ('2500-нан астам',
    '~1500', '>360', '10-15') are errors: the ministry receives exact figures only.
    inf and NaN are `not_finite`, an Excel error value (#DIV/0!) `excel_error`.
    """
    if isinstance(value, bool):
        return None, "not_a_number"
    if isinstance(value, int):
        return float(value), None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None, "not_finite"
        return value, None
    if isinstance(value, (date, datetime, time)):
        return None, "not_a_number"
    if is_excel_error(value):
        return None, "excel_error"
    s = _SPACES.sub("", clean_text(value))
    if len(s) > 40:  # no count has 40 digits: not parsed (float() of a 100k-digit text is slow)
        return (None, "qualified_number") if re.search(r"\d", s) else (None, "not_a_number")
    try:
        if s[:1] and s[0] in _MINUS and _NUMBER.match(s[1:]) and "+" not in s:
            return -float(s[1:].replace(",", ".")), None
        if _NUMBER.match(s):
            return float(s.replace(",", ".")), None
    except ValueError:  # digits of another script that float() does not take
        return None, "not_a_number"
    if s.casefold() in ("inf", "+inf", "-inf", "infinity", "nan", "-nan"):
        return None, "not_finite"
    if re.search(r"\d", s):
        return None, "qualified_number"
    return None, "not_a_number"


def _exact_text(value) -> Decimal | None:
    """The exact decimal a text cell holds ('1000000000,5' is not 1000000000), or None."""
    s = _SPACES.sub("", clean_text(value)).replace(",", ".").replace("\u2212", "-")
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def parse_int(value, lo: int = -INT_MAX, hi: int = INT_MAX) -> tuple[int | None, str | None]:
    """A whole number in lo..hi, exactly: a fraction anywhere (12.000000001, '1000000000,5') is
    `not_whole_number`; beyond the range `number_out_of_range`. (A negative count within the range
    is left to the GX suite's `non_negative`, which reports it with the rest of the form's rules.)
    A numeric cell is taken as Excel shows it (15 significant digits), so a sum
    stored as 2.9999999999999996 is 3, as on the office's screen."""
    num, rule = parse_number(value)
    if rule:
        return None, rule
    if isinstance(value, str):
        exact = _exact_text(value)
        if exact is None:
            return None, "not_a_number"
        if exact != exact.to_integral_value():
            return None, "not_whole_number"
        n = int(exact)
    elif isinstance(value, int):
        n = value
    else:
        shown = float(f"{num:.15g}")
        if not shown.is_integer():
            return None, "not_whole_number"
        n = int(shown)
    if n > hi or n < lo:
        return None, "number_out_of_range"
    return n, None


# ---------------------------------------------------------------- dates
_MONTHS = {
    # Kazakh
    "қаңтар": 1, "ақпан": 2, "наурыз": 3, "сәуір": 4, "мамыр": 5, "маусым": 6,
    "шілде": 7, "тамыз": 8, "қыркүйек": 9, "қазан": 10, "қараша": 11, "желтоқсан": 12,
    # Russian (nominative and genitive)
    "январь": 1, "января": 1, "февраль": 2, "февраля": 2, "март": 3, "марта": 3,
    "апрель": 4, "апреля": 4, "май": 5, "мая": 5, "июнь": 6, "июня": 6, "июль": 7, "июля": 7,
    "август": 8, "августа": 8, "сентябрь": 9, "сентября": 9, "октябрь": 10, "октября": 10,
    "ноябрь": 11, "ноября": 11, "декабрь": 12, "декабря": 12,
}
_MONTH_KEYS = {fold_keyboard(k): v for k, v in _MONTHS.items()}
_EXCEL_EPOCH = date(1899, 12, 30)


def _excel_serial(num: float) -> date | None:
    # Plausible serials only (2000-01-01 .. 2099-12-31): a bare count is not a date.
    if 36526 <= num <= 73050 and num == int(num):
        return _EXCEL_EPOCH + timedelta(days=int(num))
    return None


_YEAR_WORDS = {"ж", "жыл", "жылы", "жылғы", "жылдың", "г", "год", "года", "году", "гг"}


def _drop_year_words(text: str) -> str:
    """'05.03.2017 ж.' -> '05.03.2017'; '2025 жылғы 3 тоқсан' -> '2025 3 тоқсан'."""
    words = [w for w in text.split(" ") if fold(w) not in _YEAR_WORDS]
    return " ".join(words).strip(" ,")


def parse_date(value) -> tuple[date | None, str | None]:
    """An Excel date cell, 'dd.mm.yyyy' or 'yyyy-mm-dd' (optionally with a time or 'ж.'/'г.')."""
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        d = _excel_serial(float(value))
        return (d, None) if d else (None, "bad_date")
    if not isinstance(value, str):
        return None, "bad_date"
    s = _drop_year_words(clean_text(value).replace(". ", "."))
    s = re.sub(r"(?<=\d)\s*(?:ж|г|жыл|год|года)\.?$", "", s)
    s = re.sub(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", "", s)
    try:
        if m := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", s):
            return date(int(m[3]), int(m[2]), int(m[1])), None
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s):
            return date(int(m[1]), int(m[2]), int(m[3])), None
    except ValueError:
        return None, "bad_date"
    return None, "bad_date"


def parse_month(value) -> tuple[date | None, str | None]:
    """First day of the month, from a date, 'yyyy-mm', 'mm.yyyy' or 'наурыз 2017'."""
    if isinstance(value, (date, datetime)) or isinstance(value, (int, float)):
        d, rule = parse_date(value)
        return (d.replace(day=1), None) if d else (None, "bad_month")
    s = clean_text(value)
    if m := re.fullmatch(r"(\d{4})[-./](\d{1,2})", s):
        y, mo = int(m[1]), int(m[2])
    elif m := re.fullmatch(r"(\d{1,2})[./](\d{4})", s):
        y, mo = int(m[2]), int(m[1])
    else:
        d, _ = parse_date(s)
        if d:
            return d.replace(day=1), None
        words = re.findall(r"[^\W\d_]+", s)
        years = re.findall(r"\d{4}", s)
        months = [_MONTH_KEYS[fold_keyboard(w)] for w in words if fold_keyboard(w) in _MONTH_KEYS]
        if len(years) != 1 or len(set(months)) != 1:
            return None, "bad_month"
        y, mo = int(years[0]), months[0]
    if not 1 <= mo <= 12:
        return None, "bad_month"
    return date(y, mo, 1), None


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "і": 1, "іі": 2, "ііі": 3, "іv": 4}


def parse_quarter(value) -> tuple[Period | None, str | None]:
    """'2025-Q3', '2025 Q3', '3 тоқсан 2025', '3 квартал 2025', 'III квартал 2025'."""
    if not isinstance(value, str):
        return None, "bad_quarter"
    s = _drop_year_words(fold(value))
    if m := re.fullmatch(r"(\d{4})\s*-?\s*[qк]\s*([1-4])", s):
        return Period("quarter", int(m[1]), int(m[2])), None
    if m := re.fullmatch(r"[qк]([1-4])\s*[-/ ]?\s*(\d{4})", s):
        return Period("quarter", int(m[2]), int(m[1])), None
    if m := re.fullmatch(r"([1-4]|[іiv]{1,3})\s*-?\s*(?:ші|шы|ый|ий|й)?\s*(тоқсан|квартал|кв)\.?\s*(\d{4})", s):
        q = int(m[1]) if m[1].isdigit() else _ROMAN.get(m[1])
        if q:
            return Period("quarter", int(m[3]), q), None
    if m := re.fullmatch(r"(\d{4})\s*([1-4])\s*-?\s*(?:ші|шы|ый|ий|й)?\s*(тоқсан|квартал|кв)\.?", s):
        return Period("quarter", int(m[1]), int(m[2])), None
    return None, "bad_quarter"


# ---------------------------------------------------------------- territories and codes
@dataclass
class Matcher:
    """Tolerant unique matching of a cell against named entries (forms.md order)."""

    entries: dict[str, list[str]]  # key (kato or code) -> names
    suffixes: tuple[str, ...] = ()

    def __post_init__(self):
        self._suffixes_folded = {fold(s) for s in self.suffixes} | {"г", "г.", "обл", "обл."}
        self._steps = [self._index(fold), self._index(self._strip), self._index(self._strip_kb)]

    def _strip(self, text: str) -> str:
        words = [w for w in fold(text).split(" ") if w not in self._suffixes_folded]
        return " ".join(words)

    def _strip_kb(self, text: str) -> str:
        return self._strip(text).translate(_RU_KEYBOARD)

    def _index(self, fn) -> dict[str, set[str]]:
        idx: dict[str, set[str]] = {}
        for key, names in self.entries.items():
            for n in names:
                k = fn(n)
                if k:
                    idx.setdefault(k, set()).add(key)
        return idx

    def match(self, value) -> tuple[str | None, str | None]:
        """(key, None) on a unique match; (None, 'ambiguous') or (None, 'unknown')."""
        text = clean_text(value)
        if not text:
            return None, "empty"
        for fn, idx in zip((fold, self._strip, self._strip_kb), self._steps, strict=True):
            hits = idx.get(fn(text))
            if hits:
                if len(hits) == 1:
                    return next(iter(hits)), None
                return None, "ambiguous"
        return None, "unknown"


class TerritoryMatcher:
    def __init__(self, cfg: Config, office_code: str):
        office = cfg.offices[office_code]
        self.root = office.root_kato
        mine = cfg.office_territories(office_code)
        self.katos = {t.kato for t in mine}
        entries = {t.kato: [t.name_kk, t.name_ru, t.name_en] for t in mine}
        entries[self.root] = entries[self.root] + list(cfg.root_aliases)
        self.mine = Matcher(entries, cfg.territory_suffixes)
        others = [t for t in cfg.territories if t.office_code != office_code]
        self.others = Matcher({t.kato: [t.name_kk, t.name_ru, t.name_en] for t in others}, cfg.territory_suffixes)
        self._all: dict[str, Territory] = {t.kato: t for t in cfg.territories}

    def match(self, value) -> tuple[str | None, str | None]:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == int(value):
            value = str(int(value))
        text = clean_text(value)
        if re.fullmatch(r"\d{9}", text):
            if text in self.katos:
                return text, None
            return None, ("territory_outside_office" if text in self._all else "unknown_territory")
        kato, rule = self.mine.match(text)
        if kato:
            return kato, None
        if rule == "ambiguous":
            return None, "ambiguous_territory"
        other, _ = self.others.match(text)
        if other:
            return None, "territory_outside_office"
        return None, "unknown_territory"


def code_matcher(cfg: Config, dimension: str) -> Matcher:
    entries = {
        c.code: [c.code, *c.labels.values(), *c.aliases] for c in cfg.codes[dimension].values()
    }
    return Matcher(entries, ())
