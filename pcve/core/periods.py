"""Reporting periods: months, quarters, years, and their identifiers.

A file name carries a token `YYYY-MM` or `YYYY-Qn`; the ministry's identifiers
follow DHIS2 (`201703`, `2017Q1`, `2017`) and SDMX (`2017-03`, `2017-Q1`, `2017`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ALMATY_TZ = ZoneInfo("Asia/Almaty")

_TOKEN = re.compile(r"(?<!\d)(\d{4})-(?:(0[1-9]|1[0-2])|[QqКк]([1-4]))(?!\d)")


@dataclass(frozen=True, order=True)
class Period:
    kind: str  # "month" | "quarter" | "year" (sorted by start, then kind)
    year: int
    number: int  # month 1-12, quarter 1-4, or 1 for a year

    @property
    def start(self) -> date:
        if self.kind == "month":
            return date(self.year, self.number, 1)
        if self.kind == "quarter":
            return date(self.year, 3 * self.number - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        """Last day of the period (inclusive)."""
        if self.kind == "month":
            nxt = date(self.year + self.number // 12, self.number % 12 + 1, 1)
        elif self.kind == "quarter":
            m = 3 * self.number + 1
            nxt = date(self.year + (m > 12), (m - 1) % 12 + 1, 1)
        else:
            nxt = date(self.year + 1, 1, 1)
        return nxt - timedelta(days=1)

    @property
    def token(self) -> str:
        """The file-name token: 2017-03, 2025-Q1, 2017."""
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def dhis2(self) -> str:
        if self.kind == "month":
            return f"{self.year}{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}Q{self.number}"
        return str(self.year)

    @property
    def sdmx(self) -> str:
        return self.token

    @property
    def freq(self) -> str:
        return {"month": "M", "quarter": "Q", "year": "A"}[self.kind]

    def quarter(self) -> Period:
        if self.kind == "month":
            return Period("quarter", self.year, (self.number - 1) // 3 + 1)
        if self.kind == "quarter":
            return self
        raise ValueError("a year has no single quarter")

    def year_period(self) -> Period:
        return Period("year", self.year, 1)

    def months(self) -> list[Period]:
        first = self.start.month
        last = self.end.month
        return [Period("month", self.year, m) for m in range(first, last + 1)]

    def sub_periods(self, periodicity: str) -> list[Period]:
        """The submission periods of the given periodicity inside this period."""
        if periodicity == "month":
            return self.months()
        if periodicity == "quarter":
            if self.kind == "month":
                raise ValueError("a month holds no quarter")
            return sorted({m.quarter() for m in self.months()})
        raise ValueError(periodicity)

    def next(self) -> Period:
        if self.kind == "month":
            return Period("month", self.year + self.number // 12, self.number % 12 + 1)
        if self.kind == "quarter":
            return Period("quarter", self.year + self.number // 4, self.number % 4 + 1)
        return Period("year", self.year + 1, 1)

    def __str__(self) -> str:
        return self.token


def parse_period(text: str) -> Period:
    """Parse a token (2017-03, 2017-Q1), a DHIS2 id (201703, 2017Q1) or a year (2017)."""
    t = text.strip()
    if m := re.fullmatch(r"(\d{4})-?(0[1-9]|1[0-2])", t):
        return Period("month", int(m[1]), int(m[2]))
    if m := re.fullmatch(r"(\d{4})-?[Qq]([1-4])", t):
        return Period("quarter", int(m[1]), int(m[2]))
    if re.fullmatch(r"\d{4}", t):
        return Period("year", int(t), 1)
    raise ValueError(f"not a period: {text!r} (use 2017-03, 2017-Q1 or 2017)")


def period_from_filename(name: str) -> Period | None:
    """The period token anywhere in a file name, or None when there is none (or more than one)."""
    found = {(m[1], m[2], m[3]) for m in _TOKEN.finditer(name)}
    if len(found) != 1:
        return None
    y, mo, q = found.pop()
    return Period("month", int(y), int(mo)) if mo else Period("quarter", int(y), int(q))


def periods_between(first: Period, last: Period) -> list[Period]:
    out, p = [], first
    while p <= last:
        out.append(p)
        p = p.next()
    return out


def today_almaty() -> date:
    return datetime.now(ALMATY_TZ).date()
