"""The pipeline home: every path the pipeline reads or writes, in one place."""

from __future__ import annotations

import fcntl
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pcve.core.errors import EXIT_LOCKED, TransientError
from pcve.core.settings import settings


class HomeLocked(TransientError, RuntimeError):
    """Another pipeline process is writing this home (transient: it ends)."""

    exit_code = EXIT_LOCKED


# Re-entrant within one process: run() holds the lock and calls steps that take it too.
_held: dict[Path, int] = {}


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def at(cls, path: str | os.PathLike | None = None) -> Home:
        p = Path(path or settings().home).expanduser().resolve()
        return cls(p)

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        """Every received file under its sha256: the warehouse can be rebuilt from here."""
        return self.root / "archive"

    @property
    def ledger(self) -> Path:
        """Append-only JSON-lines history of what was received, accepted, rejected, voided."""
        return self.root / "ledger.jsonl"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def airflow(self) -> Path:
        return self.root / "airflow"

    @property
    def state(self) -> Path:
        """Small bookkeeping files (build fingerprints)."""
        return self.root / "state"

    def ensure(self) -> Home:
        for d in (self.root, self.inbox, self.archive, self.staging, self.quarantine, self.exports, self.state):
            d.mkdir(parents=True, exist_ok=True)
        return self

    @contextmanager
    def writer_lock(self, wait: bool = True, timeout_hint: str = ""):
        """One writer per home: DuckDB allows one writing process, and runs must not interleave."""
        if _held.get(self.root):
            _held[self.root] += 1
            try:
                yield
            finally:
                _held[self.root] -= 1
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / ".writer.lock", "a+")
        locked = False
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    raise HomeLocked(
                        f"another pcve run is writing {self.root}; wait for it to finish "
                        f"(or run with --wait){timeout_hint}"
                    ) from None
                logging.getLogger("pcve.home").warning(
                    "another pcve run is writing %s: waiting for it to finish", self.root)
                fcntl.flock(fh, fcntl.LOCK_EX)
            locked = True
            _held[self.root] = 1
            yield
        finally:
            if locked:
                _held.pop(self.root, None)
                fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()
