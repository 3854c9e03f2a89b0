"""The analysts' Parquet folder, `published/parquet`: a symlink swapped atomically to each new set."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

# Tables published as Parquet: the star schema and the marts (not staging or intermediate views).
_PUBLISHED_PREFIXES = ("dim_", "fct_", "mart_")


def _swap_parquet(published: Path, new_dir: Path) -> None:
    """Point published/parquet at new_dir with one atomic rename of a symlink, then drop old copies.

    Readers resolve `parquet/<model>.parquet` through the link at open time, so they see the old set
    or the new set, never a mixture; files they hold open stay readable after the old dir is gone.
    """
    link = published / "parquet"
    if link.exists() and not link.is_symlink():  # a plain folder from elsewhere: move it aside once
        os.replace(link, published / f".parquet-legacy-{os.getpid()}-{time.time_ns()}")
    tmp_link = published / f".parquet-link-{os.getpid()}-{time.time_ns()}"
    os.symlink(new_dir.name, tmp_link, target_is_directory=True)
    os.replace(tmp_link, link)
    # keep the previous generation a little longer for readers that resolved the link just before
    old = sorted((p for p in published.glob(".parquet-*") if p.is_dir() and not p.is_symlink() and p != new_dir),
                 key=lambda p: p.stat().st_mtime)
    for leftover in published.glob(".parquet-link-*"):  # from an interrupted swap
        leftover.unlink(missing_ok=True)
    for stale in old[:-1]:
        shutil.rmtree(stale, ignore_errors=True)


def _parquet_ok(link: Path, tables: dict) -> bool:
    """Every Parquet file the last publish wrote is still there."""
    return link.is_dir() and all((link / f"{t}.parquet").is_file() for t in tables)
