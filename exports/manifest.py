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
VOLATILE = ("revision", "versions", "files", "input_key")


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
    """A digest of what the extract says: the manifest without revision/versions, plus the data files.

    CHANGES.csv is left out (it describes the revision step, not the content).
    """
    hashes = dict(file_hashes if file_hashes is not None else manifest.get("files", {}))
    hashes.pop("CHANGES.csv", None)
    hashes.pop("manifest.json", None)
    body = {k: v for k, v in manifest.items() if k not in VOLATILE}
    return sha256(render({"body": body, "files": hashes}))
