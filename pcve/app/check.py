"""The dry-run check of one file: intake's parser, privacy gate and GX suites, nothing stored.

`pcve validate` (a cold process) and the office portal (a warm server) both call check_file,
so an office sees exactly what intake will decide. A long-lived process calls `warm()` first:
then reader children are started ahead of the files (ingest.sandbox.ReadyChildren: the same
limits, one file each), GX's context and suites are built once and GX's bookkeeping memoised
(expectations.validate), and the config is read again when a file of it changes, so a check
pays for the workbook, not for the machinery. (GX's suites stay those of the start: a new form
needs a restart.)
"""

from __future__ import annotations

import os
import threading
from datetime import date
from pathlib import Path

from expectations.validate import _context, reuse_configurations, shipped_gx, validate_batch
from ingest.reader import Limits
from ingest.reports import issue_message, issue_rows, sort_issues
from ingest.sandbox import ReadyChildren, parse_sandboxed
from pcve.core import config
from pcve.core.config import Config, load_config
from pcve.core.periods import today_almaty

LANGS = ("kk", "ru", "en")

# GX's ephemeral context and its batch definitions are shared process state: one check at a time
_lock = threading.Lock()
_warm: dict = {}  # set by warm(): "ready" (ReadyChildren), "config" ((signature, Config))


def _config_signature(config_dir: Path) -> tuple:
    try:
        return tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size)
                            for e in os.scandir(config_dir) if e.is_file()))
    except OSError:
        return ()


def current_config() -> Config:
    """The config (load_config keeps it for the process); a warm process reads it again when a
    file of it changed, and its ready children are then replaced (_ready_for), so the parent and
    the child that reads the file never work from two versions."""

    if not _warm:
        return load_config()
    sig = _config_signature(Path(config.CONFIG_DIR))
    cached = _warm.get("config")
    if cached is None or cached[0] != sig:
        load_config.cache_clear()
        cached = _warm["config"] = (sig, load_config())
    return cached[1]


def _parse(cfg: Config, office: str, path: Path, name: str):
    """Read and parse in a child process under intake's limits (ingest/sandbox.py): a bomb uploaded
    to the portal costs that check, never the server."""

    return next(iter(parse_sandboxed([(office, str(path), name)], Limits.from_config(cfg.limits),
                                     config_dir=str(config.CONFIG_DIR), ready=_warm.get("ready"))))


def check_file(office: str, path: Path, file_name: str | None = None, cfg: Config | None = None,
               today: date | None = None) -> dict:
    """Parse and validate `path` as if `office` had sent it under `file_name`.

    Returns the file's period, row counts, error and warning counts and the located issues, each
    with its message in Kazakh, Russian and English (every text privacy-masked, never a flagged value)."""

    cfg = cfg or current_config()
    if office not in cfg.offices:
        raise ValueError(f"unknown office {office!r}; known: {', '.join(cfg.offices)}")
    name = file_name or Path(path).name
    with _lock:
        _ready_for(cfg)
        try:
            pf = _parse(cfg, office, Path(path), name)
            validate_batch(cfg, [pf], today or today_almaty(), file_results="off")
        finally:
            if "ready" in _warm:  # the next check's child starts now, after this one's work
                _warm["ready"].refill()
    issues = sort_issues(pf.issues)
    rows = issue_rows(cfg, pf, issues)
    for row, issue in zip(rows, issues, strict=True):
        row["message_en"] = issue_message(cfg, pf, issue, "en")
    return {"file": name, "office": office, "period": pf.period.token if pf.period else None,
            "rows": {f: len(r) for f, r in pf.rows.items()}, "errors": len(pf.errors),
            "warnings": len(pf.warnings), "issues": rows}


def _ready_for(cfg: Config) -> None:
    """Children started before a config change read with the old one: replaced (under _lock)."""

    if not _warm:
        return
    sig = _warm["config"][0] if "config" in _warm else None
    if "ready" in _warm and _warm.get("ready_sig") == sig:
        return
    if "ready" in _warm:
        _warm.pop("ready").close()
    _warm["ready"] = ReadyChildren(str(config.CONFIG_DIR), Limits.from_config(cfg.limits),
                                   size=_warm.get("children", 2), offices=tuple(cfg.offices))
    _warm["ready_sig"] = sig


def warm(children: int = 2) -> None:
    """Make this process a warm checker: GX context and suites built, GX's bookkeeping memoised
    (expectations.validate.reuse_configurations), `children` reader children started, the config
    followed (current_config)."""

    with _lock:
        _warm["children"] = children
        _warm.pop("config", None)
        cfg = current_config()
        _context(cfg)
        reuse_configurations()
        _ready_for(cfg)


def cool() -> None:
    """Stop the ready children (a server shutting down) and put GX back as shipped; later checks
    are cold ones again."""

    with _lock:
        shipped_gx()
        ready = _warm.pop("ready", None)
        _warm.clear()
        if ready is not None:
            ready.close()
