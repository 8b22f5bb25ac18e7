"""Packaging: the README's editable install is one that a user's mypy can see.

setuptools' editable install of a flat layout puts an import-hook finder in site-packages: Python
imports through it, but mypy reads only plain path entries, so a user's mypy could not find
typedredis at all (``import-not-found``, or every typedredis name silently ``Any`` with
``ignore_missing_imports``). The build backend's editable install must be a plain ``.pth`` path.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())

APP = """\
from typedredis import Indexed, Model


class User(Model):
    age: Indexed[int]


User.query(User.f.age == "x")
reveal_type(User.get(1))
"""


def dev_requirement(name: str) -> str:
    """The requirement on ``name`` in pyproject's dev extra, verbatim (e.g. ``mypy>=1.15,<2.5``)."""
    for spec in PYPROJECT["project"]["optional-dependencies"]["dev"]:
        if Requirement(spec).name == name:
            return str(spec)
    raise LookupError(name)


def run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in ``cwd`` with an environment that cannot leak this checkout into it."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "MYPYPATH", "VIRTUAL_ENV"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.mark.slow
def test_editable_install_is_visible_to_mypy(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    done = run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    python = venv / "bin" / "python"
    done = run([python, "-m", "pip", "install", "-q", "-e", REPO, dev_requirement("mypy")], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr

    project = tmp_path / "project"  # not the checkout: typedredis must come from the install
    project.mkdir()
    (project / "app.py").write_text(APP)
    (project / "pyproject.toml").write_text('[tool.mypy]\nplugins = ["typedredis.mypy"]\n')
    done = run([python, "-m", "mypy", "--show-error-codes", "--no-error-summary", "app.py"], cwd=project)
    output = done.stdout + done.stderr

    errors = [line for line in done.stdout.splitlines() if ": error: " in line]
    codes = {m.group(1) for line in errors if (m := re.search(r"\[([a-z-]+)\]$", line))}
    assert codes == {"typedredis-value"}, output  # and no import-not-found: typedredis was found
    assert len(errors) == 1 and errors[0].startswith("app.py:8:"), output
    revealed = [line for line in done.stdout.splitlines() if line.startswith("app.py:9: note:")]
    assert len(revealed) == 1 and '"app.User"' in revealed[0], output  # the model, not Any
    assert done.returncode == 1, output
