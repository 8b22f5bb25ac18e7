"""The README's promises: its quickstart runs (twice on one server), CI runs its test command
verbatim, it says how to build the docs, and the LICENSE it points to is pyproject's MIT."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import redis

from . import support

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_quickstart_runs_against_a_private_server(client: redis.Redis, redis_url: str) -> None:
    """The quickstart runs, and runs again on the same server (a user runs it twice): it must
    not assume that its objects get the first primary keys."""
    (code,) = re.findall(r"## Quickstart\n\n```python\n(.*?)```", README, re.S)
    assert len(code.splitlines()) < 25, "the quickstart stays under 25 lines"
    assert 'typedredis.connect("redis://localhost:6379/0")' in code
    code = code.replace('"redis://localhost:6379/0"', repr(redis_url))
    code = code.replace("class User(Model):", f"class User(Model, key={support.key('readme_user')!r}):")
    for run in ("first", "second"):
        namespace: dict[str, object] = {}
        try:
            exec(compile(code, "README.md", "exec"), namespace)
        except Exception as exc:
            exc.add_note(f"in the {run} run of the README's quickstart on one server")
            raise
        user = namespace["User"]
        names = sorted(u.name for u in user.objects.all())  # type: ignore[attr-defined]
        assert names == ["bob", "cy"], f"the {run} run left {names}"


def test_ci_runs_the_readme_commands() -> None:
    (test_it,) = re.findall(r"## Test it\n\n```sh\n(.*?)\n```", README, re.S)
    (try_it,) = re.findall(r"## Try it\n\n```sh\n(.*?)\n```", README, re.S)
    assert test_it in (ROOT / ".ci" / "run").read_text()
    assert try_it == 'pip install ".[embedded]" && python -m typedredis demo'


def _section(title: str) -> str:
    found = re.findall(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert len(found) == 1, f"the README needs one '## {title}' section"
    return str(found[0])


def test_readme_says_how_to_build_and_serve_the_docs() -> None:
    docs = _section("Documentation")
    assert "docs/" in docs and "mkdocs" in docs.lower()
    for command in ('pip install -e ".[docs]"', "mkdocs serve", "mkdocs build --strict"):
        assert command in docs, command
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(req.startswith("mkdocs") for req in extras["docs"]), "the docs extra installs mkdocs"
    assert (ROOT / "mkdocs.yml").exists() and (ROOT / "docs" / "index.md").exists()


def test_license_is_the_mit_license_that_pyproject_declares() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 typedredis developers" in text
    assert "Permission is hereby granted, free of charge, to any person obtaining a copy" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
    assert "[LICENSE](LICENSE)" in README
