"""Input keys: deciding that a period's extract is unchanged without rendering it.

The input key of a period is a sha256 over everything its folder is rendered from (:class:`InputKeys`);
an intact revision recorded with the same key is current. Two keys are made of the same parts and
differ only in how a period's rows enter them:

- the *source key* takes each (period, office)'s rows as the digest the warehouse computes
  (:data:`exports.warehouse_read._ROWS_DIGEST_DUCKDB`, ``_POSTGRES``), so deciding costs no row read at all; it depends on
  the target's text of a number, so it is kept in the home's state only, with the target in it;
- the *input key* (``input_key`` of the ministry's manifest) digests the rows as Python reads them,
  the same on every target; it is computed only for the periods the source key could not settle.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import operator
from pathlib import Path

from exports import manifest, report, revisions
from exports.formats import Row
from exports.warehouse_read import Warehouse, complete_offices
from pcve.core.home import Home
from pcve.core.periods import parse_period
from pcve.core.safe_io import atomic_write

log = logging.getLogger("pcve.exports")

#: Files besides exports/ whose code shapes the extract files (period ids, SDMX periods, sub-periods).
_CODE_ALSO = ("pcve/core/periods.py",)
_code_digest: str | None = None


def code_version() -> str:
    """A digest of the exporter: the source of every file under exports/ (and pcve/core/periods.py), the
    version of the XLSX writer and of zlib. Any change to how the files are rendered changes it, so
    every period is rendered again (and, its content unchanged, stays the same revision)."""
    global _code_digest
    if _code_digest is None:
        import zlib
        from importlib import metadata

        here = Path(__file__).resolve().parent  # exports/
        files = sorted(p for p in here.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and not p.name.startswith("."))
        files += [here.parent / name for name in _CODE_ALSO]
        h = hashlib.sha256()
        for p in files:
            h.update(f"{p.relative_to(here.parent)}\0".encode())
            h.update(hashlib.sha256(p.read_bytes()).digest() if p.exists() else b"-")
        try:
            writer = metadata.version("xlsxwriter")
        except metadata.PackageNotFoundError:
            writer = "unknown"
        h.update(f"xlsxwriter={writer};zlib={zlib.ZLIB_RUNTIME_VERSION}".encode())
        _code_digest = h.hexdigest()
    return _code_digest


#: Every field of a Row, in order (its repr, without the field names and the dataclass machinery).
_ROW_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(Row)))


def _canon(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, default=repr, separators=(",", ":")).encode("utf-8")


class InputKeys:
    """The input key of a period: a sha256 over everything its folder is rendered from.

    That is the period's rows of its complete offices and the completeness of every office (body,
    offices left out), the rows its report shows of earlier periods (each as its own folder selects
    them; in the public profile every complete office's rows and a year's quarters, which suppression
    reads), the submissions, validation results, forms and versions the provenance and the report
    read, the offices and indicator structure, the program's names, the profile and the exporter's
    code (:func:`code_version`). Equal keys give equal files, so an intact revision recorded with the
    same key is current without rendering anything. Digests of rows and submissions are computed once
    per run and shared by every period that reads them."""

    def __init__(self, wh: Warehouse, profile: str, program: dict, docs: str | None, source: str | None = None):
        """`source`: None for the input key (rows read, :func:`warehouse_read.load_rows`); else the
        target's label, for the source key (the warehouse's row digests)."""
        self.wh, self.profile, self.source = wh, profile, source
        st = wh.structure
        self.static = hashlib.sha256(_canon({
            "code": code_version(), "profile": profile, "program": program, "offices": wh.offices,
            "territories": wh.territories, "indicators": wh.indicators, "docs": docs,
            **({"source": source} if source is not None else {}),
            "structure": {"terms": {k: sorted(v.items()) for k, v in st.terms.items()}, "units": st.units,
                          "children": st.children, "roots": st.roots},
        })).digest()
        self._rows: dict[tuple[str, str], bytes] = {}
        self._by_office: dict[str, dict[str, list[Row]]] = {}
        self._subs: dict[str, list[tuple[object, object, bytes]]] = {}
        for s in wh.submissions:
            sid = s["submission_id"]
            parts = [_canon(s), _canon(sorted(wh.forms.get(sid, [])))]
            parts.append(_canon(list(wh.validation_counts.get(sid, (0, 0)))))
            parts += sorted(_canon(v) for v in wh.validation.get(sid, []))  # read in no set order
            self._add(self._subs, s, hashlib.sha256(b"\n".join(parts)).digest())
        self._versions: dict[str, list[tuple[object, object, bytes]]] = {}
        for v in wh.versions:
            self._add(self._versions, v, hashlib.sha256(_canon(v)).digest())

    @staticmethod
    def _add(index: dict, rec: dict, digest: bytes) -> None:
        try:
            p = parse_period(str(rec["period"]))
            span = (p.start, p.end)
        except ValueError:
            span = (None, None)  # never within a period, as _within says
        index.setdefault(rec["office_code"], []).append((*span, digest))

    def _row_digest(self, pid: str, office: str) -> bytes:
        key = (pid, office)
        if self.source is not None:
            return self.wh.row_digests.get(key, "-").encode()
        if key not in self._rows:
            if pid not in self.wh.loaded:
                raise RuntimeError(f"the rows of {pid} were not read")  # a wrong key is worse than none
            if pid not in self._by_office:
                groups: dict[str, list[Row]] = {}
                for r in self.wh.rows.get(pid, []):
                    groups.setdefault(r.office_code, []).append(r)
                self._by_office[pid] = groups
            fields = _ROW_FIELDS
            text = repr([fields(r) for r in self._by_office[pid].get(office, [])])
            self._rows[key] = hashlib.sha256(text.encode("utf-8")).digest()
        return self._rows[key]

    def forget(self, pid: str) -> None:
        """Drop the rows of `pid` grouped here (its per-office digests, a few bytes each, stay)."""
        self._by_office.pop(pid, None)

    def _period_rows(self, h, pid: str, offices: list[str] | None) -> None:
        """What _period_rows(pid) reads: the rows of its complete offices (only `offices` among them
        when given: the ministry's history rows are filtered so), a year's quarters in public."""
        wh = self.wh
        complete = complete_offices(wh, pid)
        chosen = complete if offices is None else [o for o in offices if o in complete]
        h.update(_canon([pid, complete, chosen]))
        for o in chosen:
            h.update(self._row_digest(pid, o))
        if self.profile == "public":
            period = parse_period(pid)
            if period.kind == "year":
                for q in period.sub_periods("quarter"):
                    h.update(q.dhis2.encode())
                    for o in chosen:
                        h.update(self._row_digest(q.dhis2, o))

    def key(self, pid: str) -> str:
        """The key of the extract of `pid` (its final folder; a provisional folder is always rendered)."""
        wh = self.wh
        period = parse_period(pid)
        offices = complete_offices(wh, pid)
        h = hashlib.sha256(self.static)
        h.update(_canon([pid, sorted(wh.completeness.get(pid, {}).items())]))
        public = self.profile == "public"
        # public: suppression protects every complete office's cells together, so all are read
        self._period_rows(h, pid, None if public else offices)
        for hp in report.history_periods(period):
            self._period_rows(h, hp, None if public else offices)
        for index in (self._subs, self._versions):
            h.update(b"|")
            h.update(b"".join(sorted(
                digest for o in offices for start, end, digest in index.get(o, [])
                if start is not None and period.start <= start and end <= period.end)))
        return h.hexdigest()


def _inputs_file(h: Home, base: Path) -> Path:
    """Where the input keys of a base folder's revisions are remembered (in the home's state, never
    in the extract tree: a public key is a digest of unsuppressed values). A base inside the home is
    named by its path in the home, so a home moved or restored elsewhere keeps what it knows."""
    try:
        name = "home:" + Path(base).resolve().relative_to(Path(h.root).resolve()).as_posix()
    except ValueError:
        name = str(base)
    return h.state / "export_inputs" / (hashlib.sha256(name.encode()).hexdigest()[:20] + ".json")


def _load_inputs(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_inputs(path: Path, data: dict) -> None:
    """Best effort: without the file the next run renders (and finds unchanged) what it cannot tell."""

    try:
        path.parent.mkdir(parents=True, exist_ok=True)

        atomic_write(path, json.dumps(data, sort_keys=True, indent=1))
    except OSError as exc:
        log.warning("could not remember the extracts' input keys in %s: %s", path, exc)


def _manifest_digest(folder: Path) -> str | None:
    try:
        return manifest.sha256((folder / "manifest.json").read_bytes())
    except OSError:
        return None


def _recorded_keys(known: dict, pid: str, revision: int, folder: Path, m: dict) -> set:
    """The input keys an intact revision is known to be rendered from: its manifest's, and the one
    remembered for this very manifest (a revision whose content was found unchanged under another key,
    e.g. after the exporter's code changed)."""
    keys = {m.get("input_key")}
    entry = known.get(pid)
    if isinstance(entry, dict) and entry.get("revision") == revision \
            and entry.get("manifest") == _manifest_digest(folder):
        keys.add(entry.get("input_key"))
    keys.discard(None)
    return keys


def _plan_by_inputs(base: Path, pid: str, input_key: str, known: dict) -> tuple[str, int, Path] | None:
    """("unchanged" | "relink", N, folder) when revision N, intact, was rendered from `input_key`:
    nothing to render. None: render, and let :func:`_plan` decide from the content."""
    cur = revisions.current(base, pid)
    if cur is not None:
        rev, folder = cur
        m = revisions.intact(folder)
        if m is not None and input_key in _recorded_keys(known, pid, rev, folder, m):
            return "unchanged", rev, folder
        return None
    last = revisions.latest_intact(base, pid)
    if last is not None and input_key in _recorded_keys(known, pid, *last):
        return "relink", last[0], last[1]
    return None


def row_periods(pid: str, profile: str) -> set[str]:
    """The periods whose rows the folder of `pid` is rendered from (and its input key digests): its
    own, the earlier ones its report shows, and in the public profile a year's quarters (suppression
    reads them), for every one of those."""
    out = {pid, *report.history_periods(parse_period(pid))}
    if profile == "public":
        for p in list(out):
            period = parse_period(p)
            if period.kind == "year":
                out.update(q.dhis2 for q in period.sub_periods("quarter"))
    return out


def plan_by_source(base: Path, pid: str, source_key: str, known: dict) -> tuple[str, int, Path] | None:
    """("unchanged", N, folder) when the current revision N, intact and the very manifest recorded,
    was found current for `source_key`; None: read the rows and decide by the input key."""
    entry = known.get(pid)
    if not isinstance(entry, dict) or entry.get("source_key") != source_key or not entry.get("input_key"):
        return None
    cur = revisions.current(base, pid)
    if cur is None:
        return None
    rev, folder = cur
    if entry.get("revision") != rev or entry.get("manifest") != _manifest_digest(folder):
        return None
    return ("unchanged", rev, folder) if revisions.intact(folder) is not None else None
