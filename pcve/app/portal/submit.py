"""What the portal does with an uploaded file: name it safely, keep it for the check,
place it in the office's source, and say when intake will read it (or ask Airflow now).

The pull model is unchanged: the portal only writes into the office's source (as a clerk
copying the file into the shared folder would); intake reads it from there as before.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

from ingest import sources
from ingest.reader import MAX_FILE_BYTES, SUPPORTED_EXT
from pcve.core.errors import PermanentError
from pcve.core.periods import ALMATY_TZ
from pcve.core.privacy import mask
from pcve.core.settings import settings

log = logging.getLogger("pcve.portal")

MAX_NAME_BYTES = 255  # what ext4 and most file systems allow for one name
UPLOAD_TTL_SECONDS = 24 * 3600  # checked-but-not-submitted uploads are removed after a day
# office_intake's schedule (dags/office_intake.py), in the DAGs' time zone (Asia/Almaty)
INTAKE_SCHEDULE = settings().intake_schedule

__all__ = ["MAX_FILE_BYTES", "SUPPORTED_EXT", "NameRefused", "clean_name", "next_intake", "place_in_source",
           "trigger_intake", "Uploads"]


class NameRefused(PermanentError, ValueError):
    """A file name the portal will not store; `rule` names the reason for the message catalogue."""

    def __init__(self, rule: str, detail: str = ""):
        super().__init__(rule)
        self.rule, self.detail = rule, detail


def clean_name(raw: str) -> str:
    """The name a file is checked and stored under, or NameRefused.

    Refused: a NUL byte (a C library would cut the name there), more than 255 bytes, an
    extension intake does not read. Made safe: any folder part (`../`, `C:\\`) is dropped,
    control and shell characters removed (sources.safe_name, as intake does), and IIN-shaped
    numbers and phones masked (privacy.mask, as the ledger records names)."""
    if raw is None or raw == "":
        raise NameRefused("empty_name")
    if "\x00" in raw:
        raise NameRefused("bad_name", "NUL")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise NameRefused("bad_name", f"> {MAX_NAME_BYTES} bytes")
    name = sources.safe_name(mask(raw))
    ext = os.path.splitext(name)[1].lower()
    if ext not in SUPPORTED_EXT:
        raise NameRefused("unsupported_file_type", ext or "(no extension)")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES - 8:  # room for a clash suffix ~NN
        raise NameRefused("bad_name", f"> {MAX_NAME_BYTES - 8} bytes")
    return name


class Uploads:
    """Checked uploads waiting to be submitted: HOME/portal/uploads/<office>/<id>/ (file + meta.json).

    An id is 128 random bits and is looked up only under the user's own office: guessing
    another office's upload finds nothing."""

    def __init__(self, home: Path):
        self.root = Path(home) / "portal" / "uploads"

    def new(self, office: str) -> tuple[str, Path]:
        self._expire()
        uid = secrets.token_urlsafe(16)
        d = self.root / office / uid
        d.mkdir(parents=True, mode=0o700)
        return uid, d

    def folder(self, office: str, uid: str) -> Path | None:
        if not uid or not all(c.isalnum() or c in "-_" for c in uid) or len(uid) > 64:
            return None
        d = self.root / office / uid
        return d if (d / "meta.json").exists() else None

    def meta(self, office: str, uid: str) -> dict | None:
        d = self.folder(office, uid)
        return json.loads((d / "meta.json").read_text(encoding="utf-8")) if d else None

    def save_meta(self, folder: Path, meta: dict) -> None:
        tmp = folder / ".meta.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / "meta.json")

    def remove(self, office: str, uid: str) -> None:
        d = self.folder(office, uid)
        if d:
            shutil.rmtree(d, ignore_errors=True)

    def _expire(self) -> None:
        cutoff = time.time() - UPLOAD_TTL_SECONDS
        if not self.root.exists():
            return
        for office_dir in self.root.iterdir():
            for d in office_dir.iterdir() if office_dir.is_dir() else []:
                try:
                    if d.stat().st_mtime < cutoff:
                        shutil.rmtree(d, ignore_errors=True)
                except FileNotFoundError:
                    continue


def _candidates(name: str):
    stem, ext = os.path.splitext(name)
    yield name
    for n in range(2, 1000):
        yield f"{stem}~{n}{ext}"  # as quarantine names a later file of the same name


def place_in_source(location: str, name: str, src: Path) -> str:
    """Write `src` into the office's source as `name`, or `name~2`, `~3`… if taken; never overwrite.
    Returns the name used.

    Local folder: the bytes go to a hidden temp file (intake skips dot-files), are fsync'd, then
    hard-linked under the final name: link(2) is atomic and fails if the name exists, so intake
    never sees half a file and two submissions racing for one name both survive."""
    fs, root = sources.filesystem(location)
    if sources._is_local(fs):
        folder = Path(root)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".portal-{secrets.token_hex(8)}.part"
        try:
            shutil.copyfile(src, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            for candidate in _candidates(name):
                try:
                    os.link(tmp, folder / candidate)
                except FileExistsError:
                    continue
                dfd = os.open(folder, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
                return candidate
        finally:
            tmp.unlink(missing_ok=True)
        raise FileExistsError(f"999 files named like {name!r} already in the source")
    # sftp:// or s3://: no atomic no-replace create through fsspec; write a hidden part then move
    for candidate in _candidates(name):
        target = f"{root}/{candidate}"
        if fs.exists(target):
            continue
        part = f"{root}/.portal-{secrets.token_hex(8)}.part"
        fs.put_file(str(src), part)
        fs.mv(part, target)
        return candidate
    raise FileExistsError(f"999 files named like {name!r} already in the source")


def next_intake(now: datetime | None = None, schedule: str = INTAKE_SCHEDULE) -> datetime | None:
    """When office_intake next runs on its schedule (Asia/Almaty, like the DAGs); None when it has
    none (PCVE_INTAKE_SCHEDULE=none: intake is triggered from outside)."""
    from croniter import croniter

    if schedule.strip().lower() in ("", "none"):
        return None
    now = (now or datetime.now(ALMATY_TZ)).astimezone(ALMATY_TZ)
    return croniter(schedule, now).get_next(datetime)


def trigger_intake(airflow_url: str, user: str, password: str, office: str, timeout: float = 10.0) -> str:
    """Ask Airflow (REST API v2) to run office_intake for one office now; returns the run id.

    Login: POST /auth/token (Airflow 3's simple and FAB auth managers) for a bearer token;
    then POST /api/v2/dags/office_intake/dagRuns with the DAG's `offices` param."""
    base = airflow_url.rstrip("/")

    def post(path: str, body: dict, token: str | None = None) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (an operator-set URL)
            return json.loads(resp.read() or b"{}")

    token = post("/auth/token", {"username": user, "password": password})["access_token"]
    run = post("/api/v2/dags/office_intake/dagRuns", {"logical_date": None, "conf": {"offices": [office]},
                                                      "note": "triggered by the office portal"}, token)
    return str(run.get("dag_run_id", ""))


def airflow_error(exc: Exception) -> str:
    """A short, credential-free reason for the receipt and the log."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"Airflow answered HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"Airflow unreachable ({type(exc.reason).__name__})"
    return type(exc).__name__
