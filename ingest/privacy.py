"""The privacy rule (forms.md): the warehouse holds aggregates, never people.

A cell is flagged when its text holds an IIN-shaped number (exactly 12 digits
whose first six form a valid YYMMDD date) or a phone number (+7 or 8 and ten
digits, with spaces, dashes, dots or brackets). Only the rule name leaves this
module: the value itself is never returned, logged or stored.
"""

from __future__ import annotations

import re
from datetime import date

from ingest.normalise import fold

_TWELVE = re.compile(r"(?<!\d)(\d{12})(?!\d)")
_PHONE = re.compile(r"(?<![\d+])(?:\+\s*7|8)[\s\-.()]*(?:\d[\s\-.()]*){9}\d(?!\d)")


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
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return "" if value is None else str(value)


def privacy_rule(value) -> str | None:
    """'privacy_iin', 'privacy_phone' or None. Never returns or logs the value."""
    text = cell_text(value)
    if len(text) < 10:
        return None
    for m in _TWELVE.finditer(text):
        if _valid_yymmdd(m[1]):
            return "privacy_iin"
    if _PHONE.search(text):
        return "privacy_phone"
    return None


def is_person_header(text: str, person_headers) -> bool:
    """A header naming a person: 'ФИО', 'ФИО участника', 'Председатель (ФИО)', 'Аты-жөні'."""
    f = fold(text)
    for h in person_headers:
        word = re.escape(fold(h))
        if re.search(rf"(?<![\w.-]){word}(?![\w-])", f):
            return True
    return False


def mask(text: str) -> str:
    """Text with IIN-shaped numbers and phones replaced, for anything that must quote a cell."""
    text = _TWELVE.sub(lambda m: "[IIN]" if _valid_yymmdd(m[1]) else m[0], text)
    return _PHONE.sub("[phone]", text)
