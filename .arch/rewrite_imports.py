"""Rewrite old module paths to the pcve.core / pcve.app layout (issue 14). Idempotent: run it again
after merging main (other helpers' code still imports pcve.config, ingest.intake, ...).

    .venv/bin/python .arch/rewrite_imports.py [--check]
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MODULES = {
    "pcve.config": "pcve.core.config",
    "pcve.periods": "pcve.core.periods",
    "pcve.home": "pcve.core.home",
    "pcve.db": "pcve.core.db",
    "pcve.errors": "pcve.core.errors",
    "pcve.safe_io": "pcve.core.safe_io",
    "pcve.faults": "pcve.core.faults",
    "pcve.procs": "pcve.core.procs",
    "exports.safe_text": "pcve.core.safe_text",
    "ingest.privacy": "pcve.core.privacy",
    "ingest.normalise": "pcve.core.normalise",
    "pcve.pipeline": "pcve.app.pipeline",
    "pcve.status": "pcve.app.status",
    "pcve.cli": "pcve.app.cli",
    "pcve.airflow_runner": "pcve.app.airflow_runner",
    "pcve.check": "pcve.app.check",
    "pcve.notify": "pcve.app.notify",
    "pcve.celery_compat": "pcve.app.celery_compat",
    "pcve.warehouse": "pcve.app.warehouse",
    "pcve.portal": "pcve.app.portal",
    "ingest.intake": "pcve.app.intake",
    "ingest.rebuild": "pcve.app.rebuild",
}
# helper "tiers" turns pcve/demo_data.py into the package pcve/demo/: follow it once it has landed
if (ROOT / "pcve/demo/__init__.py").exists():
    MODULES["pcve.demo_data"] = "pcve.demo"
# Names that left a module (module -> {name: new module}); `from M import a, b` is split.
NAMES = {
    "ingest.parse": {"Issue": "pcve.core.model", "ParsedFile": "pcve.core.model"},
}
# Extra modules that exist after the split of warehouse.py / report.py (filled as they land).
NAMES.update({})

SUFFIXES = {".py", ".md", ".yml", ".yaml", ".toml", ".sh", ".env", ".cfg", ".ini", ".txt", ".html"}
NAMED = {"Makefile", "Dockerfile", ".importlinter"}
SKIP_DIRS = {".venv", ".git", "demo", "target", "dbt_packages", ".arch", "__pycache__", ".pytest_cache",
             ".ruff_cache", "logs"}

_LOGGER = re.compile(r"getLogger\(\s*[\"'][^\"']*[\"']\s*\)")


def _dotted(text: str) -> str:
    for old, new in MODULES.items():
        text = re.sub(r"(?<![\w./])" + re.escape(old) + r"(?![\w])", new, text)
        if old == "pcve.demo_data":
            continue
        old_p, new_p = old.replace(".", "/"), new.replace(".", "/")
        # file paths in prose and comments: pcve/config.py, pcve/portal/
        text = re.sub(r"(?<![\w./])" + re.escape(old_p) + r"(?=\.py\b|/)", new_p, text)
    return text


_FROM = re.compile(r"^(?P<ind>[ \t]*)from (?P<pkg>[\w.]+) import (?P<names>\([^)]*\)|[^\n#]*?)(?P<tail>[ \t]*(#[^\n]*)?)$",
                   re.M)


def _split_from(m: re.Match) -> str:
    ind, pkg, raw, tail = m["ind"], m["pkg"], m["names"], m["tail"] or ""
    names = [n.strip() for n in raw.strip("()").replace("\n", " ").split(",") if n.strip()]
    groups: dict[str, list[str]] = {}
    for n in names:
        base = n.split(" as ")[0].strip()
        target = pkg
        if pkg in NAMES and base in NAMES[pkg]:
            target = NAMES[pkg][base]
        else:
            full = f"{pkg}.{base}"
            if full in MODULES:
                new = MODULES[full]
                target, _, newbase = new.rpartition(".")
                if newbase != base:
                    n = f"{newbase} as {n.split(' as ')[1]}" if " as " in n else f"{newbase} as {base}"
        groups.setdefault(target, []).append(n)
    if list(groups) == [pkg]:
        return m.group(0)
    lines = []
    for i, (target, ns) in enumerate(groups.items()):
        lines.append(f"{ind}from {target} import {', '.join(ns)}" + (tail if i == 0 else ""))
    return "\n".join(lines)


def rewrite(text: str, python: bool) -> str:
    protected: list[str] = []

    def keep(m):
        protected.append(m.group(0))
        return f"\x00{len(protected) - 1}\x00"

    text = _LOGGER.sub(keep, text)  # logger names are part of the logs, not module paths
    if python:
        text = _FROM.sub(_split_from, text)
    text = _dotted(text)
    return re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], text)


def files():
    for p in ROOT.rglob("*"):
        if any(part in SKIP_DIRS for part in p.relative_to(ROOT).parts):
            continue
        if p.is_file() and (p.suffix in SUFFIXES or p.name in NAMED or p.name.endswith(".env")):
            yield p


def main() -> int:
    check = "--check" in sys.argv
    changed = []
    for p in files():
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite(text, p.suffix == ".py")
        if new != text:
            changed.append(p)
            if not check:
                p.write_text(new, encoding="utf-8")
    py = [str(p) for p in changed if p.suffix == ".py"]
    if py and not check:
        subprocess.run([str(ROOT / ".venv/bin/ruff"), "check", "--fix", "--select", "I", "-q", *py],
                       cwd=ROOT)
    for p in changed:
        print(("would rewrite " if check else "rewrote ") + str(p.relative_to(ROOT)))
    return 1 if (check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
