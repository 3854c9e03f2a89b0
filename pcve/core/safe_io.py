"""Writing files so that two runs never share a temporary name and nothing is written through a
symlink: the temporary file is created with a unique name (O_EXCL) beside its target, then renamed
over it (atomic on one file system). A target that is a symlink is refused, as is a folder that
is a symlink or not a folder at all (`UnsafePath`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pcve.core.errors import PermanentError


class UnsafePath(PermanentError, OSError):
    """A write that would go through a symlink or into something that is not a plain folder."""


def check_folder(folder: Path) -> None:
    if folder.is_symlink():
        raise UnsafePath(f"{folder} is a symlink: refused")
    if folder.exists() and not folder.is_dir():
        raise UnsafePath(f"{folder} is not a folder: refused")


def atomic_write(path: Path | str, data: bytes | str, mode: int | None = None, encoding: str = "utf-8") -> Path:
    """Write `data` to `path` atomically, under a unique temporary name in the same folder."""
    path = Path(path)
    check_folder(path.parent)
    if path.is_symlink():
        raise UnsafePath(f"{path} is a symlink: refused")
    if isinstance(data, str):
        data = data.encode(encoding)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:40]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_copy(src: Path, dest: Path) -> Path:
    """Copy a file to `dest` atomically (unique temporary name, no symlink followed at dest)."""
    import shutil

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    check_folder(dest.parent)
    if dest.is_symlink():
        raise UnsafePath(f"{dest} is a symlink: refused")
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name[:40]}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest
