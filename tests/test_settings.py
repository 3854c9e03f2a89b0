"""Settings (issue 14): every PCVE_* variable is read in pcve/core/settings.py and nowhere else, the
README's table is the one generated from it, and CLI, DAGs and runner share one default home."""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import fields
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from pcve.app import airflow_runner
from pcve.app.cli import main
from pcve.core import settings as S
from pcve.core.home import Home
from pcve.core.settings import Settings, default_home, markdown_table, settings

REPO = Path(__file__).resolve().parents[1]
# The shipped code. tests/ and bench/ read their own harness variables (PCVE_TEST_POSTGRES,
# PCVE_BENCH_PORT, PCVE_FUZZ): they configure the harness, not the program.
SHIPPED = ("pcve", "ingest", "expectations", "exports", "dags")
ENV_NAMES = {f.metadata["env"] for f in fields(Settings) if "env" in f.metadata}
# PCVE_* strings in the code that are not variables the program reads: written for dbt's
# profiles.yml (dbt reads them), and identifiers of the SDMX/DHIS2 structures.
NOT_READ = {"PCVE_WAREHOUSE_PATH", "PCVE_WAREHOUSE_HOST", "PCVE_WAREHOUSE_PORT", "PCVE_WAREHOUSE_USER",
            "PCVE_WAREHOUSE_DBNAME", "PCVE_STRUCTURE", "PCVE_Q", "PCVE_A"}


def _pcve_name(node, consts: dict[str, str]) -> str | None:
    """The PCVE_* variable an expression names: a literal, an f-string's literal head, or a
    module-level constant holding one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("PCVE_"):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant) \
            and str(node.values[0].value).startswith("PCVE_"):
        return str(node.values[0].value) + "…"
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id]
    return None


def _is_environ(node) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or \
        (isinstance(node, ast.Name) and node.id == "environ")


def env_reads(source: str) -> list[tuple[int, str]]:
    """(line, variable) of every read of a PCVE_* variable from the process environment."""
    tree = ast.parse(source)
    consts = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
              and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
              and n.value.value.startswith("PCVE_") for t in n.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        arg = None
        if isinstance(node, ast.Call):
            f = node.func
            getenv = (isinstance(f, ast.Attribute) and f.attr == "getenv") or (isinstance(f, ast.Name) and f.id == "getenv")
            environ_get = isinstance(f, ast.Attribute) and f.attr in ("get", "pop") and _is_environ(f.value)
            if (getenv or environ_get) and node.args:
                arg = node.args[0]
            for kw in node.keywords:  # click's envvar="PCVE_…"
                if kw.arg == "envvar" and _pcve_name(kw.value, consts):
                    found.append((node.lineno, _pcve_name(kw.value, consts)))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(node.value):
            arg = node.slice
        elif isinstance(node, ast.Compare) and any(isinstance(o, ast.In | ast.NotIn) for o in node.ops) \
                and any(_is_environ(c) for c in node.comparators):
            arg = node.left
        if arg is not None and (name := _pcve_name(arg, consts)):
            found.append((node.lineno, name))
    return found


def _shipped_files():
    for top in SHIPPED:
        yield from sorted((REPO / top).rglob("*.py"))


def test_the_detector_sees_every_way_of_reading():
    # the detector itself, on the forms the tree used before settings existed
    src = ('import os\nfrom os import environ, getenv\nENV = "PCVE_X"\n'
           'a = os.getenv("PCVE_A1")\nb = os.environ.get(ENV)\nc = os.environ["PCVE_C1"]\n'
           'd = getenv(f"PCVE_SOURCE_{o}")\ne = "PCVE_E1" in os.environ\nf = environ.get("PCVE_F1", "")\n'
           'os.environ["PCVE_W"] = "written, not read"\ng = os.getenv("HOME")\n'
           'click.option("--home", envvar="PCVE_H1")\n')
    assert sorted(n for _, n in env_reads(src)) == sorted(
        ["PCVE_A1", "PCVE_X", "PCVE_C1", "PCVE_SOURCE_…", "PCVE_E1", "PCVE_F1", "PCVE_H1"])


def test_no_file_but_settings_reads_a_pcve_variable():
    offenders = []
    for path in _shipped_files():
        if path == REPO / "pcve" / "core" / "settings.py":
            continue
        offenders += [f"{path.relative_to(REPO)}:{line} {name}" for line, name in env_reads(path.read_text())]
    assert offenders == []


def test_every_pcve_variable_named_in_the_code_is_a_setting():
    named = set()
    for path in _shipped_files():
        named |= set(re.findall(r"\bPCVE_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    unknown = {n for n in named - ENV_NAMES - NOT_READ if not n.startswith(S.SOURCE_PREFIX)}
    assert unknown == set()


def test_readme_table_is_the_generated_one():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- settings-table:start -->\n(.*?)<!-- settings-table:end -->", readme, re.S)
    assert block, "README lost its settings table"
    assert block.group(1) == markdown_table(), "regenerate it: .venv/bin/python -m pcve.core.settings"
    for name in ENV_NAMES:
        assert f"`{name}`" in block.group(1)


_int_fields = [f for f in fields(Settings) if f.metadata.get("parse") is int]


@given(st.sampled_from(_int_fields), st.integers(-10**6, 10**6))
def test_an_integer_variable_reads_as_written(f, n):
    assert getattr(Settings.from_env({f.metadata["env"]: str(n)}), f.name) == n


@given(st.sampled_from([f for f in fields(Settings) if "env" in f.metadata]))
def test_unset_and_empty_both_mean_the_default(f):
    assert getattr(Settings.from_env({f.metadata["env"]: ""}), f.name) == getattr(Settings.from_env({}), f.name)


_office = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
    lambda o: o.upper() + "_CONN_ID" not in ENV_NAMES and "PCVE_SOURCE_" + o.upper() not in ENV_NAMES
    and not o.endswith("_conn_id"))


@given(_office, st.text("abcdefghij/:.{}", min_size=1, max_size=30), st.text("abc_", min_size=1, max_size=10))
def test_office_source_variables(office, location, conn):
    s = Settings.from_env({f"PCVE_SOURCE_{office.upper()}": location,
                           f"PCVE_SOURCE_{office.upper()}_CONN_ID": conn})
    assert s.source_location(office) == location
    assert s.source_conn_id(office) == conn
    other = Settings.from_env({})
    assert other.source_location(office) is None
    assert other.source_conn_id(office) == f"pcve_source_{office}"


def test_secrets_stay_out_of_repr():
    secret = "not-a-real-secret-7f3a"
    s = Settings.from_env({"PCVE_PORTAL_SECRET": secret, "PCVE_WAREHOUSE_PASSWORD": secret,
                           "PCVE_SFTP_PASSWORD": secret, "PCVE_PORTAL_AIRFLOW_PASSWORD": secret})
    assert s.portal_secret == secret and secret not in repr(s)


def test_read_once_then_again_only_when_the_environment_changes(monkeypatch):
    monkeypatch.setenv("PCVE_TASK_RETRIES", "7")
    first = settings()
    assert first.task_retries == 7 and settings() is first
    monkeypatch.setenv("PCVE_TASK_RETRIES", "2")
    assert settings().task_retries == 2


def test_one_default_home_for_cli_dags_and_runner(monkeypatch):
    monkeypatch.delenv("PCVE_HOME", raising=False)
    expected = (REPO / "demo").resolve()  # a checkout: its demo/, what `make demo` fills
    assert default_home().resolve() == expected
    assert Home.at(None).root == expected
    out = CliRunner().invoke(main, ["status", "--help"])
    assert "checkout's demo/" in out.output
    assert Path(settings().home).resolve() == expected
    monkeypatch.syspath_prepend(str(airflow_runner.DAGS_FOLDER))
    sys.modules.pop("_common", None)
    import _common  # the DAG files' own module (the DAG processor puts dags/ on sys.path)

    assert Path(_common.home()) == expected
    monkeypatch.setenv("PCVE_HOME", str(REPO / "elsewhere"))
    assert Path(_common.home()) == Home.at(None).root == (REPO / "elsewhere").resolve()
