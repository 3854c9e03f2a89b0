"""Revisioned, atomically swapped extract folders.

Layout under a base directory (``<home>/exports``, ``<home>/exports/public`` or ``--out``)::

    2017Q1 -> .revisions/2017Q1/r2     a relative symlink: what readers open
    .revisions/2017Q1/r1/              every revision, kept, never modified after the swap
    .revisions/2017Q1/r2/
    .staging/                          work in progress (same filesystem as the base)

A revision is written completely in ``.staging``, fsynced, renamed into
``.revisions/<period>/r<N>`` (not visible under the period's name yet), and then
made current by ``os.replace`` of a new symlink over ``<period>``: ``rename(2)``
of a symlink is atomic, so a reader who opens ``<period>/`` sees the old revision
or the new one in full, never a mix or a half-written folder; a reader already
inside the old revision keeps reading it (it is never changed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from pcve.core.faults import checkpoint

REVISIONS = ".revisions"
STAGING = ".staging"
_REV = re.compile(r"r(\d+)")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write and fsync each file (manifest.json last), then the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in sorted(files, key=lambda n: (n == "manifest.json", n)):
        with open(folder / name, "wb") as fh:
            fh.write(files[name])
            fh.flush()
            os.fsync(fh.fileno())
        checkpoint("export.file")
    _fsync_dir(folder)


def current(base: Path, period: str) -> tuple[int, Path] | None:
    """(revision, folder) of the period's current extract, or None when there is none."""
    link = base / period
    if not (link.is_symlink() or link.is_dir()):
        return None
    folder = link.resolve()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        rev = int(manifest.get("revision", 0))
    except (OSError, ValueError):
        m = _REV.fullmatch(folder.name)
        rev = int(m[1]) if m else 0
    return rev, folder


def intact(folder: Path) -> dict | None:
    """The folder's manifest when every file it lists is there with its sha256, else None
    (a revision folder deleted, emptied, cut short or edited by hand)."""
    import hashlib

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for name, digest in (manifest.get("files") or {}).items():
            if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
                return None
    except (OSError, ValueError, AttributeError):
        return None
    return manifest if isinstance(manifest, dict) else None


def revision_numbers(base: Path, period: str) -> list[int]:
    """Numbers of the revision folders kept for a period, ascending."""
    revs = base / REVISIONS / period
    if not revs.is_dir():
        return []
    return sorted(int(m[1]) for p in revs.iterdir() if (m := _REV.fullmatch(p.name)) and p.is_dir())


def latest_intact(base: Path, period: str, below: int | None = None) -> tuple[int, Path, dict] | None:
    """(revision, folder, manifest) of the newest intact revision (below `below` if given)."""
    for n in reversed(revision_numbers(base, period)):
        if below is not None and n >= below:
            continue
        folder = base / REVISIONS / period / f"r{n}"
        m = intact(folder)
        if m is not None:
            return n, folder, m
    return None


def relink(base: Path, period: str, revision: int) -> Path:
    """Make an existing revision current again (the period's link was lost): one atomic rename."""
    final = base / REVISIONS / period / f"r{revision}"
    if not final.is_dir():
        raise FileNotFoundError(final)
    _swap_link(base, period, revision)
    return final


def clean_staging(base: Path) -> None:
    """Drop work left in .staging by a run that was killed (call under the home's writer lock)."""
    staging = base / STAGING
    if not staging.is_dir():
        return
    for p in staging.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def _swap_link(base: Path, period: str, revision: int) -> None:
    staging = base / STAGING
    staging.mkdir(exist_ok=True)
    tmp_link = staging / f".{period}.link.{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(os.path.join(REVISIONS, period, f"r{revision}"), tmp_link)
    os.replace(tmp_link, base / period)
    _fsync_dir(base)


def existing_periods(base: Path) -> list[str]:
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir()
                  if not p.name.startswith(".") and p.is_symlink() and re.fullmatch(r"\d{4}(Q[1-4])?", p.name))


def publish(base: Path, period: str, revision: int, files: dict[str, bytes], repair: bool = False) -> Path:
    """Write the files as revision N of the period and make it current atomically.

    `repair`: revision N is the current one but damaged (files missing or altered) and these files
    are its content again: replace it in place (two renames; the damaged copy is then dropped)."""
    base.mkdir(parents=True, exist_ok=True)
    staging = base / STAGING
    staging.mkdir(exist_ok=True)
    revs = base / REVISIONS / period
    revs.mkdir(parents=True, exist_ok=True)
    link = base / period

    if link.is_dir() and not link.is_symlink():
        # A plain folder (written before revisions existed): file it under its revision first.
        old = current(base, period)
        dest = revs / f"r{old[0] if old and old[0] else 0}"
        if dest.exists():
            dest = revs / f"r{old[0] if old else 0}.{os.getpid()}"
        os.replace(link, dest)  # the period name is absent for this instant only (one-time migration)

    work = Path(tempfile.mkdtemp(prefix=f"{period}-r{revision}-", dir=staging))

    os.chmod(work, 0o755)  # mkdtemp makes 0700: the ministry's readers are other users
    try:
        write_files(work, files)
        final = revs / f"r{revision}"
        if final.exists():
            # left over by an interrupted run: never current (the link points elsewhere), so replaceable
            cur = link.resolve() if link.is_symlink() else None
            if cur == final.resolve() and not repair:
                raise RuntimeError(f"{final} is current and would be overwritten")
            aside = revs / f".r{revision}.damaged.{os.getpid()}"
            os.replace(final, aside)
            os.replace(work, final)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(work, final)
        _fsync_dir(revs)
        checkpoint("export.revision")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise

    _swap_link(base, period, revision)
    checkpoint("export.linked")
    return final


# --- what a revision says about itself ---------------------------------------------------------------------

def void_times(ledger: Path) -> dict[str, str]:
    """submission id -> when it was voided (the ledger's "voided" events; {} without a ledger)."""
    out: dict[str, str] = {}
    try:
        with open(ledger, encoding="utf-8") as fh:
            for line in fh:
                if '"voided"' not in line:
                    continue
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("event") == "voided" and e.get("submission_id"):
                    out[e["submission_id"]] = str(e.get("at") or "")
    except OSError:
        pass
    return out


def note(revision: int, previous: dict | None, body: dict, changes: list[tuple], statuses: dict[str, dict],
         voided_at: dict[str, str]) -> dict:
    """Why revision N was issued, for the report and the manifest: its date, the submissions that
    replaced, were replaced or were voided since the previous revision, and the changed values.

    Revision 1 is dated by the day the period became complete. A later one by the latest of the
    received times of its new submissions and the void times of the withdrawn ones."""
    reasons: list[dict] = []
    dates: list[str] = []
    if previous is not None and revision > 1:
        old = {s["submission_id"]: s for s in previous.get("submissions") or []}
        new = {s["submission_id"]: s for s in body.get("submissions") or []}
        for sid in sorted(set(old) - set(new)):
            st = statuses.get(sid, {})
            kind = "voided" if st.get("status") == "voided" else "superseded"
            if kind == "voided" and voided_at.get(sid):
                dates.append(voided_at[sid])
            s = old[sid]
            reasons.append({"kind": kind, "submission_id": sid, "office_code": s.get("office_code"),
                            "period": s.get("period"), "file_name": s.get("file_name")})
        for sid in sorted(set(new) - set(old)):
            s = new[sid]
            if s.get("received_at"):
                dates.append(str(s["received_at"]))
            reasons.append({"kind": "accepted", "submission_id": sid, "office_code": s.get("office_code"),
                            "period": s.get("period"), "file_name": s.get("file_name")})
        was = {o["office_code"] for o in previous.get("offices") or []}
        now = {o["office_code"] for o in body.get("offices") or []}
        reasons += [{"kind": "office_added", "office_code": o} for o in sorted(now - was)]
        reasons += [{"kind": "office_removed", "office_code": o} for o in sorted(was - now)]
    elif revision > 1:
        # the previous revision was lost or damaged beyond reading: issued again from the warehouse
        reasons.append({"kind": "reissued"})
    if revision > 1 and not reasons and not changes:
        # no value and no submission changed: the files did (their format, or names in the configuration)
        reasons.append({"kind": "format"})
    date = max((d[:10] for d in dates), default=None) or body.get("complete_date")
    return {"revision": revision, "date": date, "reasons": reasons, "changes": [list(c) for c in changes]}
