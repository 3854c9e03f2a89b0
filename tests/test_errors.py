"""One error hierarchy (issue 14): every exception class the code defines says whether a retry can
help, the DAGs' retry policy and the CLI's exit codes both come from that, and an error of no class
of ours exits 70 with its name only (no message: it may quote a cell)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from pcve.app import cli
from pcve.core import errors as E
from pcve.core.errors import ConfigError, PcveError, PermanentError, TransientError, exit_code
from pcve.core.home import HomeLocked

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("pcve", "ingest", "expectations", "exports")
# Bases only: PcveError (of the two kinds), SourceError (of SourceUnavailable/SourceRefused, never
# raised itself: checked below).
ABSTRACT = {"ingest.sources.SourceError", "pcve.core.errors.PcveError"}


def _exception_classes():
    """(module, class) of every exception class the shipped packages define, private ones aside."""
    out = []
    for top in PACKAGES:
        for path in sorted((REPO / top).rglob("*.py")):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                    cls = getattr(importlib.import_module(module), node.name)
                    if isinstance(cls, type) and issubclass(cls, BaseException):
                        out.append((module, cls))
    return out


CLASSES = _exception_classes()


def test_the_scan_finds_the_known_classes():
    names = {c.__name__ for _, c in CLASSES}
    assert {"HomeLocked", "ConfigError", "WarehouseBuildError", "SourceUnavailable", "SourceRefused",
            "MissingTable", "AirflowRunError", "SuppressionFailed", "UnsafePath"} <= names


@pytest.mark.parametrize("module,cls", CLASSES, ids=lambda v: getattr(v, "__name__", v))
def test_every_error_is_permanent_or_transient(module, cls):
    if f"{module}.{cls.__name__}" in ABSTRACT:
        assert issubclass(cls, PcveError)
        return
    assert issubclass(cls, (PermanentError, TransientError)), f"{module}.{cls.__name__}"


def test_the_abstract_source_error_is_never_raised():
    for path in (REPO / "ingest").rglob("*.py"):
        assert not re.search(r"raise SourceError\(", path.read_text()), path


def test_config_errors_are_config_errors():
    # configuration problems were bare ValueErrors; ConfigError still is one, for callers that catch it
    src = (REPO / "pcve/core/config.py").read_text() + (REPO / "pcve/core/db.py").read_text()
    assert "raise ValueError(" not in src
    assert issubclass(ConfigError, ValueError) and issubclass(ConfigError, PermanentError)


def _retry_verdict(exc: BaseException) -> str:
    """How dags/_common.py's ExceptionRetryPolicy decides: the first rule whose classes match."""
    if isinstance(exc, E.PERMANENT):
        return "fail"
    if isinstance(exc, E.TRANSIENT):
        return "retry"
    return "task retries"


@given(st.sampled_from([c for m, c in CLASSES if f"{m}.{c.__name__}" not in ABSTRACT]))
def test_retry_and_exit_code_agree(cls):
    exc = cls.__new__(cls)  # no __init__: some take several arguments; the class is what counts
    verdict = _retry_verdict(exc)
    code = exit_code(exc)
    if issubclass(cls, PermanentError):
        assert verdict == "fail" and code in (E.EXIT_PERMANENT, E.EXIT_CONFIG)
    else:
        assert verdict == "retry" and code in (E.EXIT_TRANSIENT, E.EXIT_LOCKED)


def test_exit_codes_by_class():
    assert exit_code(ConfigError("x")) == 78
    assert exit_code(HomeLocked("x")) == 3
    assert exit_code(PermanentError("x")) == 1
    assert exit_code(TransientError("x")) == 75
    assert exit_code(OSError("disk full")) == 75
    assert exit_code(RuntimeError("x")) == 70
    assert exit_code(ZeroDivisionError()) == 70
    assert exit_code(KeyboardInterrupt()) == 130
    codes = [c for c, _ in E.EXIT_CODES]
    assert len(codes) == len(set(codes))


def test_help_lists_every_exit_code():
    out = CliRunner().invoke(cli.main, ["--help"]).output
    for code, what in E.EXIT_CODES:
        assert re.search(rf"^\s*{code}\s+{re.escape(what[:30])}", out, re.M), code


def _run_raising(exc: BaseException):
    @click.command()
    @cli._guard
    def boom():
        raise exc

    return CliRunner().invoke(boom, [])


def test_cli_unknown_error_exits_70_with_its_name_only():
    cell = "870412300123"  # an IIN-shaped value an unexpected error might carry in its message
    r = _run_raising(KeyError(cell))
    assert r.exit_code == 70
    assert "KeyError" in r.output and "-vv" in r.output
    assert cell not in r.output


@pytest.mark.parametrize("exc,code", [(ConfigError("offices.yml: no such office"), 78),
                                      (HomeLocked("another run holds the home"), 3),
                                      (TransientError("source down"), 75),
                                      (PermanentError("dbt test failed"), 1)])
def test_cli_known_errors_exit_with_their_class_code_and_say_what(exc, code):
    r = _run_raising(exc)
    assert r.exit_code == code and str(exc) in r.output


def test_cli_no_longer_catches_every_exception_blindly():
    src = (REPO / "pcve/app/cli.py").read_text()
    # one catch-all, and it is the one that answers 70
    blocks = re.findall(r"except Exception[^\n]*\n(?:[^\n]*\n){0,3}", src)
    assert len(blocks) == 1 and "EXIT_INTERNAL" in blocks[0]


def test_readme_lists_the_exit_codes():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for code, what in E.EXIT_CODES:
        assert f"| {code} | {what} |" in readme, code
