"""The test matrix: Django 5.2 on Python 3.11 and 3.12, Django 6.0 on Python 3.12 and 3.13.

`nox` runs the fast unit subset (no integration, browser or packaging tests) on SQLite for each pair;
`make test` runs the whole suite once on the project's own interpreter. The interpreters come from pyenv
(~/.pyenv/versions) when they are not on PATH; nox never downloads one. Sessions install from the registry.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = False

MATRIX = [("3.11", "5.2"), ("3.12", "5.2"), ("3.12", "6.0"), ("3.13", "6.0")]
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


def interpreter(version: str) -> str:
    """The newest pyenv build of this Python version, else the name nox looks up on PATH."""
    builds = sorted(PYENV.glob(f"{version}.*"), key=lambda p: [int(x) for x in p.name.split(".") if x.isdigit()])
    return str(builds[-1] / "bin" / "python") if builds else f"python{version}"


@nox.session(name="tests")
@nox.parametrize(
    ("python", "django"), [(interpreter(py), dj) for py, dj in MATRIX], ids=[f"py{p}-dj{d}" for p, d in MATRIX]
)
def tests(session: nox.Session, django: str) -> None:
    """The unit suite on SQLite with one Django version."""
    session.install("-r", "requirements-dev.txt", f"Django~={django}.0")
    session.run(
        "python", "-m", "pytest", "-q", "-m", "not integration and not browser and not packaging",
        env={"DATABASE_URL": "", "REDIS_URL": ""},
    )  # fmt: skip
