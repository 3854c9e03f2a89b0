"""manifest.json: what an extract was made from, and the checksums of what it holds.

Deterministic: keys sorted, indent 2, a trailing newline, no wall-clock time
(only the submissions' received times, in Asia/Almaty time). Package versions
are recorded but are not part of the *content* that decides whether a period
needs a new revision (see :func:`content_key`): upgrading dbt alone does not
rewrite every extract.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata

#: Not content: the revision step, package versions, checksums, and the key of what it was rendered from.
VOLATILE = ("revision", "versions", "files", "input_key", "revision_note")
#: What a revision delivers: the manifest says which period, profile, status and offices; the data files
#: say the values. The provenance (which submission, validation counts, offices left out) and report.html
#: (its comparison with the previous period) describe the values and do not make a new revision alone.
DELIVERED_BODY = ("period", "profile", "status", "offices")
NOT_DELIVERED_FILES = ("CHANGES.csv", "manifest.json", "report.html")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def versions() -> dict[str, str]:
    out = {}
    for name, dist in (("pcve", "pcve-warehouse"), ("dbt-core", "dbt-core"), ("dbt-duckdb", "dbt-duckdb")):
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def render(manifest: dict) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def finish(body: dict, revision: int, files: dict[str, bytes]) -> bytes:
    """The manifest with its revision, versions and the sha256 of every other file in the folder."""
    m = dict(body)
    m["revision"] = revision
    m["versions"] = versions()
    m["files"] = {name: sha256(data) for name, data in sorted(files.items()) if name != "manifest.json"}
    return render(m)


def content_key(manifest: dict, file_hashes: dict[str, str] | None = None) -> str:
    """A digest of what the extract delivers: DELIVERED_BODY of the manifest and the data files.

    A new revision is written only when this changes: a delivered value (or the files' format), not
    when only the provenance or the report's comparison with an earlier period would read differently.
    """
    hashes = dict(file_hashes if file_hashes is not None else manifest.get("files", {}))
    for name in NOT_DELIVERED_FILES:
        hashes.pop(name, None)
    body = {k: manifest.get(k) for k in DELIVERED_BODY}
    return sha256(render({"body": body, "files": hashes}))
