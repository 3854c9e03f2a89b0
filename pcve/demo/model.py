"""The shared pieces of the demo generator: month names, stable seeds, the canonical submission
and the grid a sheet is rendered into."""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from pcve.periods import ALMATY_TZ, Period

KK_MONTHS = ["қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек",
             "қазан", "қараша", "желтоқсан"]
RU_MONTHS = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
             "октябрь", "ноябрь", "декабрь"]
NBSP, NNBSP = "\u00a0", "\u202f"
KK_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")

FORM_ORDER = ("outreach", "rehabilitation", "events", "commission", "commission_tasks")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def stable_seed(*parts) -> int:
    """A stable seed (str hash() is salted per process; this is not)."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def split_total(total: int, n: int, rng: random.Random, lo: int = 0, spread: float = 0.5) -> list[int]:
    """n non-negative ints, each >= lo, summing exactly to total, varying around the mean."""
    if n <= 0:
        return []
    if total < lo * n:
        raise ValueError(f"cannot split {total} into {n} parts of at least {lo}")
    w = [rng.uniform(1 - spread, 1 + spread) for _ in range(n)]
    rest, s = total - lo * n, sum(w)
    raw = [rest * x / s for x in w]
    out = [int(x) for x in raw]
    for i in sorted(range(n), key=lambda i: (raw[i] - out[i], -i), reverse=True)[: rest - sum(out)]:
        out[i] += 1
    return [v + lo for v in out]


def last_day(y: int, m: int) -> int:
    return Period("month", y, m).end.day


# --------------------------------------------------------------------------------------------
# Submissions (canonical rows) and their rendering into sheets.
# --------------------------------------------------------------------------------------------

@dataclass
class Submission:
    office: str
    period: Period
    file_name: str
    received: datetime  # naive wall time, Asia/Almaty
    forms: dict[str, list[dict]]
    style: dict = field(default_factory=dict)
    status: str = "accepted"  # what the pipeline must decide: accepted | rejected | superseded
    note: str = ""

    @property
    def mtime(self) -> float:
        return self.received.replace(tzinfo=ALMATY_TZ).timestamp()


@dataclass
class Grid:
    name: str
    cells: list[list]
    header_row: int  # 0-based
    merges: list[tuple[int, int, int, int]]  # (row, col0, row, col1), 0-based inclusive
    widths: list[float]
    date_formats: dict[int, str]
