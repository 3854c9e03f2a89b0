"""Where offices drop their files: a local folder by default, or an SFTP /
object-store location by configuration alone (fsspec URLs: sftp://, s3://).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from pcve.periods import ALMATY_TZ

REPORTS_DIR = "_reports"


def filesystem(location: str):
    import fsspec

    fs, root = fsspec.core.url_to_fs(location)
    return fs, root.rstrip("/")


def _is_candidate(name: str) -> bool:
    # Excel's lock files (~$x.xlsx) and hidden files are never submissions.
    return not (name.startswith(".") or name.startswith("~$") or name == REPORTS_DIR)


def list_files(location: str) -> list[dict]:
    """Files directly in the source folder: name, modification time, size."""
    fs, root = filesystem(location)
    if not fs.exists(root):
        return []
    out = []
    for info in fs.ls(root, detail=True):
        name = info["name"].rstrip("/").rsplit("/", 1)[-1]
        if info.get("type") != "file" or not _is_candidate(name):
            continue
        mtime = info.get("mtime") or info.get("LastModified") or info.get("last_modified") or info.get("created")
        if isinstance(mtime, datetime):
            ts = mtime.timestamp()
        else:
            ts = float(mtime or 0)
        out.append({"name": name, "path": info["name"], "mtime": ts, "size": int(info.get("size") or 0)})
    return out


def received_at(mtime: float) -> str:
    """The file's arrival in the source, Asia/Almaty, ISO seconds (no offset)."""
    return datetime.fromtimestamp(mtime, ALMATY_TZ).replace(tzinfo=None, microsecond=0).isoformat()


def fetch(location: str, path: str, dest_dir: Path) -> tuple[Path, str]:
    """Copy one source file into dest_dir under a temp name; return (path, sha256)."""
    fs, _ = filesystem(location)
    dest_dir.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=".fetch-")
    with os.fdopen(fd, "wb") as out, fs.open(path, "rb") as src:
        while chunk := src.read(1 << 20):
            h.update(chunk)
            out.write(chunk)
    return Path(tmp), h.hexdigest()


def archive_file(tmp: Path, sha256: str, archive_dir: Path, sync: bool = True) -> Path:
    """Move a fetched file into the archive under its sha256 (idempotent, atomic).
    sync=False leaves the flush to the caller (sync_archive once for a batch)."""
    dest = archive_dir / sha256[:2] / sha256
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        tmp.unlink(missing_ok=True)
    else:
        if sync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    return dest


def sync_archive(archive_dir: Path, files: list[Path]) -> None:
    """Make archived files durable before the ledger names them: one syncfs(2) of the archive's file
    system for a batch (an fsync per file costs ~2 ms each), else an fsync per file and folder."""
    if not files:
        return
    if len(files) > 4 and _syncfs(archive_dir):
        return
    for f in files:
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    for folder in {f.parent for f in files}:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename into it
        finally:
            os.close(fd)


def _syncfs(path: Path) -> bool:
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):  # not Linux: no syncfs
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return fn(fd) == 0
    finally:
        os.close(fd)


NAME_MAX_BYTES = 160  # a name kept locally, before the suffixes the pipeline adds (.errors.html, ~2)


def safe_name(name: str, max_bytes: int = NAME_MAX_BYTES) -> str:
    """A file name safe to create locally: no separators, no '..', no control or shell characters, no
    right-to-left override (which would show `x\u202excod.exe` as `xexe.docx` in a folder listing),
    and short enough in bytes for any file system with the suffixes the pipeline adds (a longer
    name keeps its extension and gets a short hash of the whole name, so two stay distinct)."""
    original = name
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", name)  # controls, bidi overrides
    name = re.sub(r"[<>:\"|?*`$;&!'(){}\[\]]", "_", name).strip(" .")
    name = name or "unnamed"
    if len(name.encode("utf-8")) > max_bytes:
        stem, ext = os.path.splitext(name)
        ext = ext if len(ext.encode("utf-8")) <= 16 else ""
        tag = "~" + hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        room = max_bytes - len(ext.encode("utf-8")) - len(tag)
        stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" .")
        name = f"{stem}{tag}{ext}"
    return name


class ReportsRefused(OSError):
    """The office's _reports is a symlink or not a folder: nothing is written through it."""


def write_back(location: str, name: str, data: bytes) -> str:
    """Write a report beside the office's files, under _reports/ (atomic where the fs allows).
    Locally, a `_reports` that is a symlink or a file is refused (ReportsRefused): a report is
    never written outside the office's folder."""
    fs, root = filesystem(location)
    target_dir = f"{root}/{REPORTS_DIR}"
    target = f"{target_dir}/{safe_name(name)}"
    if _is_local(fs):
        from pcve.safe_io import UnsafePath, atomic_write, check_folder

        folder = Path(target_dir)
        try:
            check_folder(folder)
            folder.mkdir(parents=True, exist_ok=True)
            check_folder(folder)  # raced into a symlink between the two
            atomic_write(Path(target), data)
        except UnsafePath as exc:
            raise ReportsRefused(str(exc)) from None
    else:
        fs.makedirs(target_dir, exist_ok=True)
        with fs.open(target, "wb") as fh:
            fh.write(data)
    return target


def _is_local(fs) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


def copy_local(src: Path, dest: Path) -> None:
    from pcve.safe_io import atomic_copy

    atomic_copy(src, dest)
