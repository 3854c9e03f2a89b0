"""The one source of truth: offices, forms, codes, territories, indicators.

Everything else (parser, GX suites, templates, dbt cfg tables, extracts) reads
these objects; nothing hard-codes an office, a form or an indicator.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pcve.core.errors import ConfigError
from pcve.core.settings import settings

CONFIG_DIR = settings().config_dir


@dataclass(frozen=True)
class Territory:
    kato: str
    office_code: str
    level: str
    name_en: str
    name_kk: str
    name_ru: str


@dataclass(frozen=True)
class Office:
    code: str
    name_en: str
    name_kk: str
    name_ru: str
    root_kato: str
    periodicity: str  # "month" | "quarter"
    reports_from: str  # period token, e.g. "2017-01" or "2025-Q1"
    language: str  # "kk" | "ru"
    due_days: int
    source: str  # location string, may contain {home}

    def source_location(self, home: Path | str) -> str:
        override = settings().source_location(self.code)
        return (override or self.source).replace("{home}", str(home))


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # int | month | date | quarter | territory | code | text
    required: bool
    labels: dict[str, str]  # kk / ru / en header
    codes: str | None = None
    default: str | None = None
    rules: tuple = ()
    min: int = 0  # an int column's range (forms.yml min:/max:), checked exactly by the parser
    max: int = 2_147_483_647

    @property
    def aliases(self) -> list[str]:
        return [self.labels[k] for k in ("kk", "ru", "en") if self.labels.get(k)] + [self.name]


@dataclass(frozen=True)
class Form:
    name: str
    grain: str
    sheets: dict[str, str]
    columns: tuple[Column, ...]
    office_wide: bool = False

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def sheet_names(self) -> list[str]:
        return list(dict.fromkeys(self.sheets.values()))


@dataclass(frozen=True)
class Code:
    dimension: str
    code: str
    labels: dict[str, str]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Term:
    """One aggregated quantity: sum of a column (or count of rows) of a form, optionally filtered."""

    form: str
    measure: str  # a column name, or "_rows" for a count
    filter_column: str | None = None
    filter_value: str | None = None


@dataclass(frozen=True)
class Indicator:
    code: str
    unit: str
    names: dict[str, str]
    sort_order: int
    value: Term | None = None
    numerator: Term | None = None
    denominator: Term | None = None

    @property
    def is_percent(self) -> bool:
        return self.unit == "percent"


@dataclass(frozen=True)
class Config:
    offices: dict[str, Office]
    forms: dict[str, Form]
    codes: dict[str, dict[str, Code]]
    territories: tuple[Territory, ...]
    indicators: tuple[Indicator, ...]
    units: dict[str, dict[str, str]]
    program: dict[str, str]
    totals_markers: tuple[str, ...]
    root_aliases: tuple[str, ...]
    territory_suffixes: tuple[str, ...]
    person_headers: tuple[str, ...]
    header_search_rows: int
    limits: dict = field(default_factory=dict)  # forms.yml `limits:` (ingest.reader.Limits.from_config)
    _by_kato: dict[str, Territory] = field(default_factory=dict, repr=False)

    def territory(self, kato: str) -> Territory:
        return self._by_kato[kato]

    def office_territories(self, office_code: str) -> list[Territory]:
        return [t for t in self.territories if t.office_code == office_code]

    def indicator(self, code: str) -> Indicator:
        for i in self.indicators:
            if i.code == code:
                return i
        raise KeyError(code)


def _term(spec: dict, by_code: dict[str, dict]) -> Term:
    if "indicator" in spec:
        ref = by_code[spec["indicator"]]
        if "value" not in ref:
            raise ConfigError(f"indicator {spec['indicator']} used as a term must have a value term")
        return _term(ref["value"], by_code)
    where = spec.get("where") or {}
    if len(where) > 1:
        raise ConfigError("a term filters on at most one code column")
    (fcol, fval), = where.items() if where else ((None, None),)
    if "count" in spec:
        return Term(spec["form"], "_rows", fcol, fval)
    return Term(spec["form"], spec["sum"], fcol, fval)


@lru_cache(maxsize=4)
def load_config(config_dir: str | None = None) -> Config:
    root = Path(config_dir) if config_dir else CONFIG_DIR
    offices_y = yaml.safe_load((root / "offices.yml").read_text(encoding="utf-8"))
    forms_y = yaml.safe_load((root / "forms.yml").read_text(encoding="utf-8"))
    ind_y = yaml.safe_load((root / "indicators.yml").read_text(encoding="utf-8"))

    offices = {
        code: Office(code=code, **{k: (str(v) if k != "due_days" else int(v)) for k, v in spec.items()})
        for code, spec in offices_y["offices"].items()
    }
    forms = {}
    for fname, spec in forms_y["forms"].items():
        cols = []
        for c in spec["columns"]:
            rules = tuple(r if isinstance(r, str) else tuple(sorted(r.items())) for r in c.get("rules", []))
            cols.append(
                Column(
                    name=c["name"], type=c["type"], required=bool(c.get("required")),
                    labels={k: c[k] for k in ("kk", "ru", "en") if k in c},
                    codes=c.get("codes"), default=c.get("default"), rules=rules,
                    **{k: int(c[k]) for k in ("min", "max") if k in c},
                )
            )
        forms[fname] = Form(fname, spec.get("grain", ""), dict(spec["sheets"]), tuple(cols),
                            bool(spec.get("office_wide", False)))
    codes: dict[str, dict[str, Code]] = {}
    for dim, entries in forms_y["codes"].items():
        codes[dim] = {
            code: Code(dim, code, {k: e[k] for k in ("kk", "ru", "en") if k in e}, tuple(e.get("aliases", [])))
            for code, e in entries.items()
        }
    with (root / "territories.csv").open(encoding="utf-8", newline="") as fh:
        territories = tuple(Territory(**row) for row in csv.DictReader(fh))
    for o in offices.values():
        if not any(t.kato == o.root_kato for t in territories):
            raise ConfigError(f"office {o.code}: root territory {o.root_kato} is not in territories.csv")

    by_code = {i["code"]: i for i in ind_y["indicators"]}
    indicators = []
    for n, spec in enumerate(ind_y["indicators"], start=1):
        names = {k: spec[k] for k in ("kk", "ru", "en")}
        if spec["unit"] == "percent":
            ind = Indicator(spec["code"], spec["unit"], names, n,
                            numerator=_term(spec["numerator"], by_code),
                            denominator=_term(spec["denominator"], by_code))
        else:
            ind = Indicator(spec["code"], spec["unit"], names, n, value=_term(spec["value"], by_code))
        for t in (ind.value, ind.numerator, ind.denominator):
            if t is None:
                continue
            if t.form not in forms:
                raise ConfigError(f"{ind.code}: unknown form {t.form}")
            if t.measure != "_rows":
                forms[t.form].column(t.measure)
        indicators.append(ind)

    return Config(
        offices=offices, forms=forms, codes=codes, territories=territories,
        indicators=tuple(indicators), units=ind_y["units"], program=ind_y["program"],
        totals_markers=tuple(forms_y["totals_markers"]), root_aliases=tuple(forms_y["root_aliases"]),
        territory_suffixes=tuple(forms_y["territory_suffixes"]),
        person_headers=tuple(forms_y["person_headers"]),
        header_search_rows=int(forms_y.get("header_search_rows", 15)),
        limits=dict(forms_y.get("limits") or {}),
        _by_kato={t.kato: t for t in territories},
    )
