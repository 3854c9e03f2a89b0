"""The dry-run check of one file: intake's parser, privacy gate and GX suites, nothing stored.

`pcve validate` (a cold process) and the office portal (a warm server) both call check_file,
so an office sees exactly what intake will decide. A long-lived process keeps its parsers
(per office) and the GX context (expectations.validate builds it once per process).
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from expectations.validate import _context, validate_batch
from ingest.parse import FileParser
from ingest.reader import Limits
from ingest.reports import issue_message, issue_rows, sort_issues
from ingest.sandbox import parse_sandboxed
from pcve.core import config
from pcve.core.config import Config, load_config
from pcve.core.periods import today_almaty

LANGS = ("kk", "ru", "en")

_parsers: dict[tuple[int, str], object] = {}
# GX's ephemeral context and its batch definitions are shared process state: one check at a time
_lock = threading.Lock()


def _parser(cfg: Config, office: str):

    key = (id(cfg), office)
    if key not in _parsers:  # matchers index every territory and code name: built once per office
        _parsers[key] = FileParser(cfg, office)
    return _parsers[key]


def _parse(cfg: Config, office: str, path: Path, name: str):
    """Read and parse in a child process under intake's limits (ingest/sandbox.py): a bomb uploaded
    to the portal costs that check, never the server."""

    return next(iter(parse_sandboxed([(office, str(path), name)], Limits.from_config(cfg.limits),
                                     config_dir=str(config.CONFIG_DIR))))


def check_file(office: str, path: Path, file_name: str | None = None, cfg: Config | None = None,
               today: date | None = None) -> dict:
    """Parse and validate `path` as if `office` had sent it under `file_name`.

    Returns the file's period, row counts, error and warning counts and the located issues, each
    with its message in Kazakh, Russian and English (every text privacy-masked, never a flagged value)."""

    cfg = cfg or load_config()
    if office not in cfg.offices:
        raise ValueError(f"unknown office {office!r}; known: {', '.join(cfg.offices)}")
    name = file_name or Path(path).name
    with _lock:
        pf = _parse(cfg, office, Path(path), name)
        validate_batch(cfg, [pf], today or today_almaty(), file_results="off")
    issues = sort_issues(pf.issues)
    rows = issue_rows(cfg, pf, issues)
    for row, issue in zip(rows, issues, strict=True):
        row["message_en"] = issue_message(cfg, pf, issue, "en")
    return {"file": name, "office": office, "period": pf.period.token if pf.period else None,
            "rows": {f: len(r) for f, r in pf.rows.items()}, "errors": len(pf.errors),
            "warnings": len(pf.warnings), "issues": rows}


def warm(cfg: Config | None = None) -> None:
    """Build what the first check would otherwise wait for: the GX context and every office's parser."""

    cfg = cfg or load_config()
    with _lock:
        _context(cfg)
        for office in cfg.offices:
            _parser(cfg, office)
