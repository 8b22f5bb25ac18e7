"""The README's promises: its quickstart runs, and CI runs its test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_quickstart_runs_against_a_private_server(client: redis.Redis, redis_url: str) -> None:
    (code,) = re.findall(r"## Quickstart\n\n```python\n(.*?)```", README, re.S)
    assert len(code.splitlines()) < 25, "the quickstart stays under 25 lines"
    assert 'typedredis.connect("redis://localhost:6379/0")' in code
    code = code.replace('"redis://localhost:6379/0"', repr(redis_url))
    code = code.replace("class User(Model):", "class User(Model, key='readme_user'):")
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    user = namespace["User"]
    assert sorted(u.name for u in user.objects.all()) == ["bob", "cy"]  # type: ignore[attr-defined]


def test_ci_runs_the_readme_commands() -> None:
    (test_it,) = re.findall(r"## Test it\n\n```sh\n(.*?)\n```", README, re.S)
    (try_it,) = re.findall(r"## Try it\n\n```sh\n(.*?)\n```", README, re.S)
    assert test_it in (ROOT / ".ci" / "run").read_text()
    assert try_it == 'pip install ".[embedded]" && python -m typedredis demo'
