"""Text that a spreadsheet will show as text, never run as a formula (CSV/formula injection).

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel and LibreOffice as the start of a formula (OWASP "CSV
injection"). Every CSV or XLSX cell the pipeline writes from data (file names,
titles, messages, names from configuration) goes through this module:

- CSV: :func:`safe_cell` prefixes such text with an apostrophe, which every
  spreadsheet shows as a text marker; a number (``-5``, ``+3.5``, ``1e3``) is
  left alone, so numeric columns stay numeric.
- XLSX: :func:`needs_text_guard` tells the writer to store the cell explicitly
  as a string (``data_type = "s"``, ``quotePrefix``) instead of altering the text.

Reused by the error reports of ingest (``<file>.errors.csv``) and the extracts.
"""

from __future__ import annotations

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def is_number(text: str) -> bool:
    """True for a plain number such as ``570``, ``-5``, ``+3.5``, ``43,0`` or ``1e3``."""
    return bool(_NUMBER.fullmatch(text))


def needs_text_guard(text: str) -> bool:
    """True when a spreadsheet would take this text as the start of a formula."""
    return text.startswith(FORMULA_TRIGGERS) and not is_number(text)


def safe_cell(text: object) -> str:
    """The text of a CSV cell, with an apostrophe in front when it would start a formula.

    ``None`` becomes ``""``; non-strings are converted with ``str``.

    >>> safe_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> safe_cell("-5"), safe_cell("-Алматы"), safe_cell("Алматы")
    ('-5', "'-Алматы", 'Алматы')
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    return "'" + s if needs_text_guard(s) else s
