"""Where the project's own files are: `config/`, `dbt_project/`, `dags/`.

One function for every caller, from a checkout (editable install, tests, `make demo`) and from an
installed wheel, which carries the three folders as package data under `pcve/_data/`
(pyproject.toml, hatch force-include). A module's `parents[n]` breaks as soon as it is installed.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # .../pcve
# A checkout: pcve/ sits next to pyproject.toml and the project's folders.
CHECKOUT = _PACKAGE.parent if (_PACKAGE.parent / "pyproject.toml").is_file() else None
_SHIPPED = _PACKAGE / "_data"

FOLDERS = ("config", "dbt_project", "dags")


def project_dir(name: str) -> Path:
    """The project folder `name` (one of FOLDERS): the checkout's, else the wheel's copy."""
    if name not in FOLDERS:
        raise KeyError(name)
    if CHECKOUT is not None and (CHECKOUT / name).is_dir():
        return CHECKOUT / name
    return _SHIPPED / name


def project_root() -> Path:
    """The folder holding config/, dbt_project/ and dags/ (the checkout, or the wheel's data)."""
    return project_dir("config").parent
