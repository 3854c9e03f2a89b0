"""The privacy rule (forms.md): the warehouse holds aggregates, never people.

One gate for every string that leaves the reader (cell text, sheet names, header
cells, file names and stems, CSV form tokens, notes, log lines): `gate()` folds
the text the way a reader of it would see it — Unicode NFKC (full-width and
other compatibility digits), format characters removed (category Cf: bidi
marks, zero-width joiners, soft hyphens: invisible, so `8704\u200e12300123` reads
as an IIN), digits of any script folded to 0-9 — and the rule is checked on that.

A text is flagged when it holds an IIN-shaped number (exactly 12 digits whose
first six form a valid YYMMDD date) or a phone number (+7 or 8 and ten digits,
with spaces, dashes, dots or brackets). Only the rule name leaves this module:
the value itself is never returned, logged or stored. Text outside a form's
table (names, headers) is kept masked (`mask`); a flagged cell inside a table
rejects the file (the parser).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

from pcve.core.normalise import fold

_TWELVE = re.compile(r"(?<!\d)(\d{12})(?!\d)")
_PHONE = re.compile(r"(?<![\d+])(?:\+\s*7|8)[\s\-.()]*(?:\d[\s\-.()]*){9}\d(?!\d)")
_ASCII_DIGITS = re.compile(r"[0-9]")
_ANY_DIGIT = re.compile(r"\d")  # \d in Python's re: any Unicode decimal digit


def _valid_yymmdd(digits: str) -> bool:
    yy, mm, dd = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    for century in (1900, 2000):
        try:
            date(century + yy, mm, dd)
            return True
        except ValueError:
            continue
    return False


def cell_text(value) -> str:
    """A cell's value as text, for the rule: whole floats without '.0'; inf and NaN as words."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value == int(value):
            return str(int(value))
    return "" if value is None else str(value)


def _fold_char(ch: str) -> str:
    if unicodedata.category(ch) == "Cf":
        return ""
    if ch.isdecimal() and not ("0" <= ch <= "9"):
        return str(unicodedata.decimal(ch))
    return ch


@functools.lru_cache(maxsize=1 << 16)
def _gate_str(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    if s.isascii():
        return s
    return "".join(_fold_char(ch) for ch in s)


def gate(text) -> str:
    """The text as the privacy rule reads it: NFKC, format characters (Cf) removed, digits of any
    script folded to ASCII. For checking only: what is stored keeps the office's own characters."""
    if text is None:
        return ""
    return _gate_str(text if type(text) is str else cell_text(text))


def _find(text: str) -> str | None:
    for m in _TWELVE.finditer(text):
        if _valid_yymmdd(m[1]):
            return "privacy_iin"
    if _PHONE.search(text):
        return "privacy_phone"
    return None


def privacy_rule(value) -> str | None:
    """'privacy_iin', 'privacy_phone' or None. Never returns or logs the value."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = cell_text(value)
    else:
        text = value if type(value) is str else str(value)
    # fewer than 10 digits of any script: neither a phone nor an IIN (the common case, no folding)
    if len(text) < 10 or len(_ANY_DIGIT.findall(text)) < 10:
        return None
    return _find(gate(text))


def is_person_header(text: str, person_headers) -> bool:
    """A header naming a person: 'ФИО', 'ФИО участника', 'Председатель (ФИО)', 'Аты-жөні'."""
    f = fold(gate(text))
    for h in person_headers:
        word = re.escape(fold(h))
        if re.search(rf"(?<![\w.-]){word}(?![\w-])", f):
            return True
    return False


def _mask_gated(text: str) -> str:
    text = _TWELVE.sub(lambda m: "[IIN]" if _valid_yymmdd(m[1]) else m[0], text)
    return _PHONE.sub("[phone]", text)


def mask(text) -> str:
    """Text with IIN-shaped numbers and phones replaced, for anything kept outside a form's table
    (file names, sheet names, headers, log lines). A text without one comes back unchanged, byte
    for byte; a text with one comes back as its gated form, masked (an identifier hidden behind
    invisible marks or other scripts' digits is found and masked too)."""
    if text is None:
        return ""
    if type(text) is not str:
        text = str(text)
    if privacy_rule(text) is None:
        return text
    return _mask_gated(gate(text))


def has_identifier(text) -> bool:
    """Whether a text holds an IIN- or phone-shaped value, as the gate reads it."""
    return privacy_rule(text) is not None
