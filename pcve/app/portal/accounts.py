"""Portal accounts: office users and engineers, in HOME/portal/users.json (mode 0600).

Passwords are argon2id hashes (argon2-cffi); the file never holds a password. After
MAX_FAILED failed logins in a row an account is locked for LOCKOUT_SECONDS (or until
`pcve portal unlock`); a locked account refuses even the right password, so guessing
gets nowhere. Writes go through a lock file and an atomic replace: two workers or a
CLI call at the same time never lose an update.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pcve.core.errors import PermanentError
from pcve.core.settings import settings

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes anything, but a megabyte "password" is a denial of service


MAX_FAILED = settings().portal_max_failed
LOCKOUT_SECONDS = settings().portal_lockout_seconds

_hasher = PasswordHasher()
# verified against when the name is unknown: the answer takes as long as for a known name
_DUMMY = _hasher.hash("not a password of anyone")


class AccountError(PermanentError, ValueError):
    """A bad account request (name, password, unknown user): the message says what to fix."""


@dataclass(frozen=True)
class User:
    name: str
    office: str | None  # None: an engineer (every office)
    epoch: int  # bumped at logout: sessions signed with an older epoch are void

    @property
    def is_engineer(self) -> bool:
        return self.office is None

    def may_see(self, office: str) -> bool:
        return self.office is None or self.office == office


class Accounts:
    def __init__(self, home: Path):
        self.dir = Path(home) / "portal"
        self.path = self.dir / "users.json"

    # ------------------------------------------------------------ storage
    @contextmanager
    def _locked(self):
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.dir / ".users.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                data = self._read()
                yield data
                self._write(data)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _read(self) -> dict:
        if not self.path.exists():
            return {"users": {}}
        return json.loads(self.path.read_text(encoding="utf-8"))

    def _write(self, data: dict) -> None:
        tmp = self.path.with_name(".users.json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    # ------------------------------------------------------------ administration
    def add(self, name: str, password: str, office: str | None, replace: bool = False) -> User:
        if not NAME_RE.fullmatch(name or ""):
            raise AccountError("a user name is 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
        if not (MIN_PASSWORD <= len(password) <= MAX_PASSWORD):
            raise AccountError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        with self._locked() as data:
            old = data["users"].get(name)
            if old and not replace:
                raise AccountError(f"user {name} exists; add --replace to set a new password")
            data["users"][name] = {"hash": _hasher.hash(password), "office": office, "failed": 0,
                                   "locked_until": 0, "epoch": (old or {}).get("epoch", 0) + 1}
        return User(name, office, data["users"][name]["epoch"])

    def unlock(self, name: str) -> None:
        with self._locked() as data:
            if name not in data["users"]:
                raise AccountError(f"no portal user {name}")
            data["users"][name].update(failed=0, locked_until=0)

    def listing(self) -> list[dict]:
        now = time.time()
        return [{"name": n, "office": u["office"], "locked": u.get("locked_until", 0) > now}
                for n, u in sorted(self._read()["users"].items())]

    # ------------------------------------------------------------ sessions
    def get(self, name: str) -> User | None:
        u = self._read()["users"].get(name)
        return User(name, u["office"], u.get("epoch", 0)) if u else None

    def authenticate(self, name: str, password: str, now: float | None = None) -> User | None:
        """The user, or None for a wrong name or password or a locked account (one answer for all:
        a visitor learns nothing about which names exist or which are locked)."""
        now = time.time() if now is None else now
        if len(password) > MAX_PASSWORD:
            return None
        with self._locked() as data:
            u = data["users"].get(name)
            if u is None:
                _verify(_DUMMY, password)
                return None
            if u.get("locked_until", 0) > now:
                _verify(_DUMMY, password)
                return None
            if not _verify(u["hash"], password):
                u["failed"] = u.get("failed", 0) + 1
                if u["failed"] >= MAX_FAILED:
                    u["locked_until"], u["failed"] = now + LOCKOUT_SECONDS, 0
                return None
            u["failed"], u["locked_until"] = 0, 0
            if _hasher.check_needs_rehash(u["hash"]):
                u["hash"] = _hasher.hash(password)
            return User(name, u["office"], u.get("epoch", 0))

    def end_sessions(self, name: str) -> None:
        """Logout: every session cookie issued to this user so far stops being accepted."""
        with self._locked() as data:
            if name in data["users"]:
                data["users"][name]["epoch"] = data["users"][name].get("epoch", 0) + 1


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
