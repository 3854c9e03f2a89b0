"""Small helpers to write real workbooks for tests (openpyxl), with set mtimes."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pcve.core.periods import ALMATY_TZ

OUTREACH_KK = ["Ай", "Аудан", "Бағыт", "Алғаш әңгімелесу жүргізілген ұстанушылар", "Әңгімелесулер саны", "Жоспар"]
REHAB_KK = ["Ай", "Аудан", "Оңалту субъектісі", "Оңалтуға алынғандар", "Оңалтылды"]
EVENTS_KK = ["Күні", "Аудан", "Іс-шара түрі", "Атауы", "Аудитория", "Командалар", "Мешіттер", "Қатысушылар",
             "Оның ішінде әйелдер", "Оның ішінде ДДА ұстанушылары"]


def write_xlsx(path: Path, sheets: dict[str, list[list]], mtime: str | None = None) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.properties.created = wb.properties.modified = datetime(2020, 1, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    if mtime:
        set_mtime(path, mtime)
    return path


def set_mtime(path: Path, when: str) -> None:
    ts = datetime.fromisoformat(when).replace(tzinfo=ALMATY_TZ).timestamp()
    os.utime(path, (ts, ts))


def outreach_sheet(month: str, rows: list[tuple[str, str, int, int]]) -> list[list]:
    """rows: (territory, direction, adherents_new, conversations)."""
    return [["Алматы қаласы бойынша есеп"], [], OUTREACH_KK] + [[month, t, d, a, c, None] for t, d, a, c in rows]
