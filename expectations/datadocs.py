"""GX Data Docs for the validation results: a static site under <home>/docs/validation/.

`validate_batch` leaves on each ParsedFile its own GX validation result per form
(`pf.validation`, JSON). `publish_data_docs` stores them in a file-backed GX
validation results store (<home>/state/gx/validations, so the history survives
runs) and renders each result's page with GX's own SiteBuilder, from an ephemeral context: no
great_expectations.yml anywhere. Only GX's public API: the store's `set`, the context's
`build_data_docs(..., build_index=False)`. The site's index page is rendered here, from a small
list of what each stored result shows there (state/gx/index.json): GX's own index reads and
deserialises every stored result on every build (~6 ms each), which grows with the history
without bound.

Privacy: the results never hold a privacy-flagged value (the parser replaced the
cell by None before GX saw it, and the privacy expectation lists cells, not
values); as a last guard every string of a result goes through privacy.mask()
before it is stored or rendered.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from expectations.suites import SUITES_DIR, load_suite_dict
from expectations.validate import _quiet_gx
from pcve.core.model import ParsedFile
from pcve.core.privacy import mask
from pcve.core.safe_io import atomic_write

SITE_NAME = "pcve_validation"
log = logging.getLogger("pcve.datadocs")


def docs_dir(home) -> Path:
    return Path(home) / "docs" / "validation"


def results_dir(home) -> Path:
    return Path(home) / "state" / "gx" / "validations"


_NOT_DATA = {"id", "expectation_config"}  # GX identifiers and our own suite: never office data


# GX renders some of a result's strings into the pages without HTML escaping: a file name or a
# cell such as `<img src=x onerror=...>` would run in the reader's browser. Markup characters of
# office text are shown as look-alikes instead (whether GX escapes a given field or not).
_INERT = str.maketrans({"<": "\u2039", ">": "\u203a", "&": "\uff06", '"': "\u201d", "'": "\u2019"})


def _shown(text: str) -> str:
    """Office text as the Data Docs may show it: masked (privacy) and inert (no markup)."""
    return mask(text).translate(_INERT)


def _masked(obj):
    """Every string that came from an office file, with IIN-shaped numbers and phones masked,
    and markup characters made inert."""
    if isinstance(obj, str):
        return _shown(obj)
    if isinstance(obj, list):
        return [_masked(v) for v in obj]
    if isinstance(obj, dict):
        return {k: (v if k in _NOT_DATA else _masked(v)) for k, v in obj.items()}
    return obj


def _context(home):

    _quiet_gx()
    from great_expectations.data_context import EphemeralDataContext
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    defaults = InMemoryStoreBackendDefaults()
    stores = dict(defaults.stores)
    stores[defaults.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(results_dir(home))},
    }
    config = DataContextConfig(
        stores=stores,
        expectations_store_name=defaults.expectations_store_name,
        validation_results_store_name=defaults.validation_results_store_name,
        checkpoint_store_name=defaults.checkpoint_store_name,
        data_docs_sites={SITE_NAME: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir(home))},
        }},
        analytics_enabled=False,
    )
    return EphemeralDataContext(project_config=config)


def index_file(home) -> Path:
    return Path(home) / "state" / "gx" / "index.json"


def _entries(files: Iterable[ParsedFile | dict], submission_ids: Sequence[str | None] | None):
    """(office, file_name, period, validation, submission_id) per file."""
    for n, f in enumerate(files):
        sid = submission_ids[n] if submission_ids is not None else None
        if isinstance(f, ParsedFile):
            yield f.office, f.file_name, (f.period.token if f.period else None), f.validation, sid
        else:
            yield (f["office"], f["file_name"], f.get("period"), f.get("validation") or {},
                   sid or f.get("submission_id"))


def _batch_identifier(office: str, file_name: str, sid: str | None) -> str:
    # GX uses it as a folder name: keep it short and plain; the file name is in the page's meta
    stem = re.sub(r"[^\w.-]+", "_", Path(file_name).stem, flags=re.UNICODE)[:40]
    digest = hashlib.sha1(file_name.encode("utf-8")).hexdigest()[:8]
    return "__".join(x for x in (office, sid, stem, digest) if x)


def publish_data_docs(home, files: Iterable[ParsedFile | dict],
                      submission_ids: Sequence[str | None] | None = None,
                      run_name: str | None = None, run_time: datetime | None = None) -> Path | None:
    """Store the files' GX validation results and (re)build the Data Docs site.

    files: ParsedFile objects after `validate_batch` (their `.validation`), or staged dicts with
    keys office, file_name, period, validation (= pf.validation) and optionally submission_id.
    submission_ids: optional, aligned with files (shown on the pages and in the batch identifier).
    Returns <home>/docs/validation/index.html, or None when there was nothing to publish.
    """
    from great_expectations.core.expectation_validation_result import expectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    entries = [e for e in _entries(files, submission_ids) if e[3]]
    if not entries:
        return None
    run_time = run_time or datetime.now(UTC)
    run_id = RunIdentifier(run_name=run_name or f"intake-{run_time:%Y%m%dT%H%M%S}", run_time=run_time)
    ctx = _context(home)
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    for path in sorted(SUITES_DIR.glob("*.json")):
        spec = load_suite_dict(path.stem)
        # built whole, then added: add_expectation() on a suite saves the suite again each time
        suite = gx.ExpectationSuite(name=spec["name"], meta=spec.get("meta", {}), expectations=[
            ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e["meta"]).to_domain_obj()
            for e in spec["expectations"]])
        ctx.suites.add(suite)
    keys = _KeyList()
    listed: dict[str, dict] = {}
    store = ctx.validation_results_store
    for office, file_name, period, validation, sid in entries:
        batch_id = _batch_identifier(office, file_name, sid)
        for form, result in sorted(validation.items()):
            data = _masked(result)
            data["meta"] = {**data.get("meta", {}), "run_id": run_id.to_json_dict(),
                            "active_batch_definition": {"datasource_name": office, "data_asset_name": form,
                                                        "batch_definition_name": _shown(file_name)},
                            "batch_spec": {"data_asset_name": f"{office} · {_shown(file_name)} · {form}",
                                           "office": office, "file": _shown(file_name), "form": form,
                                           "period": period, "submission_id": sid},
                            "pcve": {**data.get("meta", {}).get("pcve", {}), "submission_id": sid}}
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=result["suite_name"]),
                run_id=run_id, batch_identifier=f"{batch_id}__{form}")
            store.set(key, expectationSuiteValidationResultSchema.load(data))
            keys.append(key)
            listed[_page(key)] = {"run_name": run_id.run_name, "run_time": run_time.isoformat(),
                                  "office": office, "file": _shown(file_name), "form": form,
                                  "period": period, "submission_id": sid, "suite": result["suite_name"],
                                  "success": bool(data.get("success"))}
    ctx.build_data_docs(site_names=[SITE_NAME], resource_identifiers=keys, build_index=False)
    index = _index_put(home, listed)
    atomic_write(docs_dir(home) / "index.html", render_index(home, index))
    return docs_dir(home) / "index.html"


def _page(key) -> str:
    """Where the site puts a result's page, relative to the site: validations/<its key's parts>.html."""
    return "validations/" + "/".join(key.to_tuple()) + ".html"


def _index_put(home, listed: dict[str, dict]) -> dict[str, dict]:
    path = index_file(home)
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = {}
    index.update(listed)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(index, ensure_ascii=False, sort_keys=True))
    return index


def render_index(home, index: dict[str, dict]) -> str:
    """The site's index: every stored result, newest run first, linked to its page (as GX's own
    index lists them: run, office and file, form and suite, success). Text of office files was masked
    and made inert before it was listed; escaped here all the same."""
    site = docs_dir(home)
    rows = []
    for page, e in sorted(index.items(), key=lambda kv: (kv[1]["run_time"], kv[0]), reverse=True):
        name = html.escape(f"{e['office']} · {e['file']} · {e['form']}")
        link = f'<a href="{html.escape(page)}">{name}</a>' if (site / page).is_file() else name
        ok = '<td class="ok">✓ passed</td>' if e["success"] else '<td class="failed">✗ failed</td>'
        rows.append(f"<tr><td>{html.escape(e['run_time'][:19])}</td><td>{html.escape(e['run_name'])}</td>"
                    f"<td>{link}</td><td>{html.escape(e.get('period') or '')}</td>"
                    f"<td>{html.escape(e.get('submission_id') or '')}</td><td>{html.escape(e['suite'])}</td>{ok}</tr>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>pcve validation results</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.ok{color:#1a7f37}"
            ".failed{color:#b42318;font-weight:bold}</style></head><body>"
            f"<h1>Validation results</h1><p>{len(rows)} results, newest run first (GX Data Docs).</p>"
            "<table><thead><tr><th>run time (UTC)</th><th>run</th><th>office · file · form</th><th>period</th>"
            "<th>submission</th><th>suite</th><th>result</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></body></html>\n")




class _KeyList(list):
    """The keys to render: GX tests every stored key with `in` against this list; a set makes that
    O(1) instead of a scan (quadratic in the history otherwise)."""

    def __init__(self):
        super().__init__()
        self._set: set = set()

    def append(self, key) -> None:
        super().append(key)
        self._set.add(key)

    def __contains__(self, key) -> bool:
        return key in self._set
