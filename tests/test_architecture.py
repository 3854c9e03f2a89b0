"""The layers of docs/ARCHITECTURE.md hold (issue 14): the import contracts pass, the foundation
imports nothing above it even inside a function, and no module reaches into GX's private API."""

from __future__ import annotations

import ast
import configparser
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "expectations", "exports")


def _imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, module, inside a function) of every import of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            inner |= {id(n) for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, id(node) in inner) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out += [(node.lineno, f"{node.module}.{a.name}", id(node) in inner) for a in node.names]
    return out


def test_import_contracts_pass_with_no_exceptions():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / ".importlinter")
    contracts = [s for s in cfg.sections() if s.startswith("importlinter:contract:")]
    assert {cfg[s]["type"] for s in contracts} >= {"layers", "independence", "forbidden", "acyclic_siblings"}
    assert not any(cfg[s].get("ignore_imports") for s in contracts)
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]
    assert f"Contracts: {len(contracts)} kept, 0 broken" in r.stdout


def test_foundation_imports_no_stage_and_no_app_anywhere():
    # lint-imports sees function-level imports too; this says it in the foundation's own terms
    bad = []
    for path in sorted((REPO / "pcve" / "core").rglob("*.py")):
        for line, mod, _ in _imports(path):
            if mod.split(".")[0] in STAGES or mod.startswith(("pcve.app", "pcve.demo", "dags")):
                bad.append(f"{path.relative_to(REPO)}:{line} {mod}")
    assert bad == []


def test_no_function_level_import_of_the_foundation():
    # pcve.core is cheap and below everything: importing it inside a function only ever hid a cycle
    bad = []
    for top in ("pcve", *STAGES, "dags"):
        for path in sorted((REPO / top).rglob("*.py")):
            bad += [f"{path.relative_to(REPO)}:{line} {mod}" for line, mod, inner in _imports(path)
                    if inner and mod.startswith("pcve.core")]
    assert bad == []


def test_no_private_gx_api():
    bad = []
    for top in ("pcve", *STAGES):
        for path in sorted((REPO / top).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("great_expectations"):
                    bad += [f"{path.relative_to(REPO)}:{node.lineno} {a.name}" for a in node.names
                            if a.name.startswith("_")]
                if isinstance(node, ast.Attribute) and node.attr in ("_store_backend",):
                    bad.append(f"{path.relative_to(REPO)}:{node.lineno} .{node.attr}")
                if isinstance(node, ast.ClassDef):
                    gx_bases = [ast.unparse(b) for b in node.bases if "SiteIndexBuilder" in ast.unparse(b)
                                or "SiteBuilder" in ast.unparse(b)]
                    bad += [f"{path.relative_to(REPO)}:{node.lineno} subclasses {b}" for b in gx_bases]
    assert bad == []
