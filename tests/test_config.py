"""config/ is the single source of truth: it must agree with the contract in
../shared/spec (when the spec folder sits beside the repository, as in CI) and
be internally consistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from pcve.core.config import CONFIG_DIR, load_config

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec"


def test_territories_are_the_specs():
    spec = SPEC / "territories.csv"
    if not spec.exists():
        pytest.skip(f"the spec folder {SPEC} is not beside this checkout")
    assert (CONFIG_DIR / "territories.csv").read_bytes() == spec.read_bytes()


def test_every_indicator_of_the_spec_catalogue_is_configured():
    spec = SPEC / "indicators.md"
    if not spec.exists():
        pytest.skip(f"the spec folder {SPEC} is not beside this checkout")
    import re

    codes = set(re.findall(r"^\| `([A-Z_]+)` \|", spec.read_text(encoding="utf-8"), re.M))
    assert codes == {i.code for i in load_config().indicators}


def test_config_is_consistent():
    cfg = load_config()
    for office in cfg.offices.values():
        kinds = {t.level for t in cfg.office_territories(office.code)}
        assert cfg.territory(office.root_kato).office_code == office.code
        assert len(kinds) >= 2, office.code
    for ind in cfg.indicators:
        assert set(ind.names) == {"kk", "ru", "en"} and ind.unit in cfg.units
    for form in cfg.forms.values():
        assert {"kk", "ru", "en"} <= set(form.sheets)
        for col in form.columns:
            assert {"kk", "ru", "en"} <= set(col.labels), (form.name, col.name)
