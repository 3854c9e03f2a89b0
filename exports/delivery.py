"""Copy a ministry extract to the ministry's location, atomically.

The location comes from ``PCVE_MINISTRY_LOCATION`` (unset or empty: no delivery):

- a local folder (``/mnt/ministry/pcve`` or ``file:///...``): the files are written
  to a hidden folder beside the target, fsynced, then swapped in with one
  ``renameat2(RENAME_EXCHANGE)`` (Linux; atomic: readers see the old folder or the
  new one). Where the filesystem cannot exchange, the old folder is renamed
  aside and the new one renamed in: the period is then absent for an instant,
  but never half-written;
- any fsspec URL (``sftp://user@host/path``, ``s3://bucket/prefix``): object
  stores have no folders to swap, so each file is uploaded under a temporary
  name and renamed into place, ``manifest.json`` last: a reader that starts from
  the manifest (it lists every file with its sha256) never reads a partial file.
  Files of an older revision that the new one lacks are removed afterwards.

A delivered copy is plain files (no revisions, no symlinks): ``<location>/<period>/``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path

from exports.revisions import write_files
from pcve.core.settings import settings

ENV = "PCVE_MINISTRY_LOCATION"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def location() -> str | None:
    return settings().ministry_location


def _is_local(loc: str) -> bool:
    return "://" not in loc or loc.startswith("file://")


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2). False when unsupported here."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _deliver_local(root: Path, period: str, source: Path) -> str:

    root.mkdir(parents=True, exist_ok=True)
    target = root / period
    files = {p.name: p.read_bytes() for p in sorted(source.iterdir()) if p.is_file()}
    if target.is_dir() and (target / "manifest.json").exists() \
            and (target / "manifest.json").read_bytes() == files.get("manifest.json"):
        return "unchanged"
    work = Path(tempfile.mkdtemp(prefix=f".{period}.incoming-", dir=root))
    os.chmod(work, 0o755)  # mkdtemp makes 0700: the ministry's readers are other users
    try:
        write_files(work, files)
        if not target.exists():
            os.replace(work, target)
        elif _exchange(work, target):
            shutil.rmtree(work)  # now holds the previous copy
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{period}.old-", dir=root))
            os.chmod(old, 0o755)  # mkdtemp makes 0700: the ministry's readers are other users
            os.rmdir(old)
            os.replace(target, old)
            os.replace(work, target)
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return "delivered"


def _deliver_fsspec(url: str, period: str, source: Path) -> str:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    target = f"{root.rstrip('/')}/{period}"
    files = {p.name: p.read_bytes() for p in sorted(source.iterdir()) if p.is_file()}
    manifest_path = f"{target}/manifest.json"
    if fs.exists(manifest_path) and fs.cat_file(manifest_path) == files.get("manifest.json"):
        return "unchanged"
    fs.makedirs(target, exist_ok=True)
    for name in sorted(files, key=lambda n: (n == "manifest.json", n)):
        tmp = f"{target}/.{name}.part"
        with fs.open(tmp, "wb") as fh:
            fh.write(files[name])
        fs.mv(tmp, f"{target}/{name}")
    for path in fs.ls(target, detail=False):
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if name not in files:
            fs.rm(path)
    return "delivered"


def redacted(loc: str) -> str:
    """The location without any user or password (safe for logs and XCom)."""
    from urllib.parse import urlsplit, urlunsplit

    if _is_local(loc):
        return loc
    parts = urlsplit(loc)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def deliver(period: str, source: Path, loc: str | None = None) -> dict:
    """Deliver one extract folder; returns {period, location, status} (status delivered|unchanged)."""
    loc = loc if loc is not None else location()
    if not loc:
        return {"period": period, "status": "not configured"}
    if _is_local(loc):
        root = Path(loc.removeprefix("file://")).expanduser()
        status = _deliver_local(root, period, source)
    else:
        status = _deliver_fsspec(loc, period, source)
    return {"period": period, "location": redacted(loc), "status": status}
