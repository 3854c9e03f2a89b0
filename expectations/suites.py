"""One GX 1.x expectation suite per form, generated from config/forms.yml and
kept as JSON files in expectations/suites/ (reviewed like code; a test checks
they are in sync with the config: `pcve suites --write` regenerates them).

Every expectation carries meta.rule (the contract rule it enforces) and
meta.column (the column a failure points at in the office's sheet).
"""

from __future__ import annotations

import json
from pathlib import Path

from pcve.core.config import Config, Form, load_config

SUITES_DIR = Path(__file__).resolve().parent / "suites"


def _exp(type_: str, rule: str, points_at: str, **kwargs) -> dict:
    return {"type": type_, "kwargs": kwargs, "meta": {"rule": rule, "column": points_at}, "severity": "critical"}


def derived_sum_column(a: str, b: str) -> str:
    return f"_sum__{a}__{b}"


def build_suite(cfg: Config, form: Form) -> dict:
    exps: list[dict] = []
    for col in form.columns:
        target = "kato" if col.type == "territory" else col.name
        if col.type == "territory" and form.office_wide:
            continue
        if col.required:
            exps.append(_exp("expect_column_values_to_not_be_null", "required", col.name, column=target))
        if col.type == "int":
            exps.append(_exp("expect_column_values_to_be_between", "non_negative", col.name,
                             column=target, min_value=0))
        if col.type == "code":
            codes = sorted(cfg.codes[col.codes])
            exps.append(_exp("expect_column_values_to_be_in_set", "allowed_code", col.name,
                             column=target, value_set=codes))
        if col.type == "territory":
            exps.append(_exp("expect_column_values_to_match_regex", "kato_code", col.name,
                             column=target, regex=r"^\d{9}$"))
        for rule in col.rules:
            if rule == "in_period":
                exps.append(_exp("expect_column_pair_values_a_to_be_greater_than_b", "in_period", col.name,
                                 column_A=target, column_B="_period_start", or_equal=True,
                                 ignore_row_if="either_value_is_missing"))
                exps.append(_exp("expect_column_pair_values_a_to_be_greater_than_b", "in_period", col.name,
                                 column_A="_period_end", column_B=target, or_equal=True,
                                 ignore_row_if="either_value_is_missing"))
            elif rule == "not_future":
                exps.append(_exp("expect_column_pair_values_a_to_be_greater_than_b", "not_future", col.name,
                                 column_A="_today", column_B=target, or_equal=True,
                                 ignore_row_if="either_value_is_missing"))
            else:
                r = dict(rule)
                if "gte" in r:  # this column >= other
                    exps.append(_exp("expect_column_pair_values_a_to_be_greater_than_b", f"gte_{r['gte']}",
                                     col.name, column_A=target, column_B=r["gte"], or_equal=True,
                                     ignore_row_if="either_value_is_missing"))
                elif "sum_with" in r:  # this + other <= limit
                    exps.append(_exp("expect_column_pair_values_a_to_be_greater_than_b",
                                     f"sum_with_{r['sum_with']}_lte_{r['lte']}", col.name,
                                     column_A=r["lte"], column_B=derived_sum_column(r["sum_with"], target),
                                     or_equal=True, ignore_row_if="either_value_is_missing"))
                elif "lte" in r:  # this column <= other
                    exps.append(_exp("expect_column_pair_values_a_to_be_greater_than_b", f"lte_{r['lte']}",
                                     col.name, column_A=r["lte"], column_B=target, or_equal=True,
                                     ignore_row_if="either_value_is_missing"))
    exps.append(_exp("expect_column_values_to_be_null", "privacy", "_privacy", column="_privacy"))
    return {"name": f"pcve_{form.name}", "meta": {"form": form.name, "generated_from": "config/forms.yml"},
            "expectations": exps}


def suite_json(cfg: Config, form: Form) -> str:
    return json.dumps(build_suite(cfg, form), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_suites(cfg: Config | None = None, directory: Path = SUITES_DIR) -> list[Path]:
    cfg = cfg or load_config()
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for form in cfg.forms.values():
        p = directory / f"{form.name}.json"
        p.write_text(suite_json(cfg, form), encoding="utf-8")
        out.append(p)
    return out


def load_suite_dict(form_name: str, directory: Path = SUITES_DIR) -> dict:
    return json.loads((directory / f"{form_name}.json").read_text(encoding="utf-8"))
