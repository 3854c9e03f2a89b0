"""GX Data Docs for the validation results: a static site under <home>/docs/validation/.

`validate_batch` leaves on each ParsedFile its own GX validation result per form
(`pf.validation`, JSON). `publish_data_docs` stores them in a file-backed GX
validation results store (<home>/state/gx/validations, so the history survives
runs) and renders the Data Docs site with GX's own SiteBuilder, from an
ephemeral context: no great_expectations.yml anywhere.

Privacy: the results never hold a privacy-flagged value (the parser replaced the
cell by None before GX saw it, and the privacy expectation lists cells, not
values); as a last guard every string of a result goes through privacy.mask()
before it is stored or rendered.
"""

from __future__ import annotations

import hashlib
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


def index_cache_file(home) -> Path:
    return Path(home) / "state" / "gx" / "index_cache.json"


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
            # GX's default index page; what it shows of each stored result is cached (see the class)
            "site_index_builder": {"module_name": "expectations.datadocs", "class_name": "CachedSiteIndexBuilder",
                                   "cache_file": str(index_cache_file(home))},
        }},
        analytics_enabled=False,
    )
    return EphemeralDataContext(project_config=config)


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
    store = ctx.validation_results_store
    fast: bool | None = None  # whether our own serialisation writes what GX's store would (checked once)
    index_entries: dict[str, dict] = {}
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
            # GX's store.set() loads the dict into a result object and dumps it back (~20-80 ms a
            # result, mostly deep copies); our dict is already that JSON. Written directly when the
            # first result of the batch shows both give the same text; otherwise GX's own way.
            text = json.dumps({"id": None, **data}, indent=2, sort_keys=True)
            if fast is None:
                fast = store.serialize(expectationSuiteValidationResultSchema.load(data)) == text
                if not fast:
                    log.warning("GX serialises validation results differently: Data Docs stored the slow way")
            if fast:
                store._store_backend.set(store.key_to_tuple(key), text)
            else:
                store.set(key, expectationSuiteValidationResultSchema.load(data))
            keys.append(key)
            meta = json.loads(text)["meta"]  # as stored: keys sorted, as GX would read it back
            asset = meta.get("batch_kwargs", {}).get("data_asset_name") or meta["batch_spec"].get("data_asset_name")
            if asset:  # what the index page shows of it, as CachedSiteIndexBuilder would read it
                index_entries["/".join(key.to_tuple())] = {
                    "success": data["success"], "batch_kwargs": meta.get("batch_kwargs", {}),
                    "batch_spec": meta["batch_spec"], "asset_name": asset}
    if fast and index_entries:
        _cache_put(index_cache_file(home), index_entries)
    ctx.build_data_docs(site_names=[SITE_NAME], resource_identifiers=keys)
    return docs_dir(home) / "index.html"


def _cache_put(path: Path, entries: dict[str, dict]) -> None:
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    cache.update(entries)
    path.parent.mkdir(parents=True, exist_ok=True)

    atomic_write(path, json.dumps(cache, ensure_ascii=False))


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


def _index_builder_class():
    from great_expectations.render.renderer.site_builder import (
        DefaultSiteIndexBuilder,
        _resolve_asset_name,
        resource_key_passes_run_name_filter,
    )

    class CachedSiteIndexBuilder(DefaultSiteIndexBuilder):
        """GX's DefaultSiteIndexBuilder, except that what the index shows of each stored result
        (success, batch kwargs and spec, asset name) is kept in a side file: GX re-reads and
        deserialises every stored result on every build (~6 ms each), so the index of a long
        history would cost more than the run. Results are immutable (their key holds the run),
        so an entry never goes stale; a result missing from the cache is read as GX does."""

        # GX passes its runtime environment by the names of these parameters: spelt out, not *args
        def __init__(self, name, site_name, data_context, target_store, site_section_builders_config,
                     custom_styles_directory=None, custom_views_directory=None, show_how_to_buttons=True,
                     validation_results_limit=None, renderer=None, view=None, data_context_id=None,
                     source_stores=None, cache_file: str | None = None, **kwargs):
            super().__init__(name, site_name, data_context, target_store, site_section_builders_config,
                             custom_styles_directory=custom_styles_directory,
                             custom_views_directory=custom_views_directory,
                             show_how_to_buttons=show_how_to_buttons,
                             validation_results_limit=validation_results_limit, renderer=renderer, view=view,
                             data_context_id=data_context_id, source_stores=source_stores, **kwargs)
            self.cache_file = Path(cache_file) if cache_file else None

        def _load_cache(self) -> dict:
            if self.cache_file is None:
                return {}
            try:
                return json.loads(self.cache_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}

        def _save_cache(self, cache: dict) -> None:
            if self.cache_file is not None:
                _cache_put(self.cache_file, cache)

        def _add_validations_to_index_links(self, index_links_dict, validation_and_profiling_result_site_keys):
            # The body of GX 1.24's DefaultSiteIndexBuilder._add_validations_to_index_links, with the
            # per-key get_validation_result() answered from the cache.
            from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
            from great_expectations.render.renderer.site_builder import FALSEY_YAML_STRINGS

            validations = self.site_section_builders_config.get("validations", "None")
            if not validations or validations in FALSEY_YAML_STRINGS:
                return
            run_name_filter = self.site_section_builders_config["validations"]["run_name_filter"]
            keys = [k for k in validation_and_profiling_result_site_keys
                    if resource_key_passes_run_name_filter(k, run_name_filter)]
            keys = sorted(keys, key=lambda x: x.run_id.run_time, reverse=True)
            if self.validation_results_limit:
                keys = keys[: self.validation_results_limit]
            cache = self._load_cache()
            changed = False
            for key in keys:
                key_tuple = key.to_tuple()
                ident = "/".join(key_tuple)
                info = cache.get(ident)
                if info is None:
                    try:
                        validation = self.data_context.get_validation_result(
                            batch_identifier=key.batch_identifier,
                            expectation_suite_name=key.expectation_suite_identifier.name,
                            run_id=key.run_id,
                            validation_results_store_name=self.source_stores.get("validations"),
                        )
                    except Exception:
                        validation = None
                    if not isinstance(validation, ExpectationSuiteValidationResult):
                        log.warning(f"Validation result not found: {key_tuple!s:s} - skipping")
                        continue
                    info = {"success": validation.success,
                            "batch_kwargs": validation.meta.get("batch_kwargs", {}),
                            "batch_spec": validation.meta.get("batch_spec", {}),
                            "asset_name": _resolve_asset_name(validation)}
                    try:
                        json.dumps(info)
                    except (TypeError, ValueError):
                        pass  # not cacheable as JSON: used this time, read again next time
                    else:
                        cache[ident] = info
                        changed = True
                try:
                    self.add_resource_info_to_index_links_dict(
                        index_links_dict=index_links_dict,
                        expectation_suite_name=key.expectation_suite_identifier.name,
                        section_name="validations",
                        batch_identifier=key.batch_identifier,
                        run_id=key.run_id,
                        validation_success=info["success"],
                        run_time=key.run_id.run_time,
                        run_name=key.run_id.run_name,
                        asset_name=info["asset_name"],
                        batch_kwargs=info["batch_kwargs"],
                        batch_spec=info["batch_spec"],
                    )
                except Exception:
                    log.warning(f"Validation result not found: {key_tuple!s:s} - skipping")
            if changed:
                self._save_cache(cache)

    return CachedSiteIndexBuilder


def __getattr__(name: str):
    # GX instantiates the index builder by module and class name; the class is built on first use
    # so that importing this module does not import GX.
    if name == "CachedSiteIndexBuilder":
        cls = _index_builder_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
