"""The ``typedredis`` command, run as a subprocess against the private test server, as a
deploy job would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from typedredis import Indexed, Model, model

from .support import check_invariants, key

KEY = key("cli_item")
MODULE = f"""
from typedredis import Indexed, Model


class Item(Model, key={KEY!r}):
    name: Indexed[str]
    size: Indexed[int]
"""


def typedredis_command(*args: str, cwd: Path, url: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script (the one installed beside this Python) with ``args``."""
    script = Path(sys.executable).parent / "typedredis"
    env = {k: v for k, v in os.environ.items() if k != "TYPEDREDIS_URL"}
    if url is not None:
        env["TYPEDREDIS_URL"] = url
    return subprocess.run([str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def deployed(client: redis.Redis, tmp_path: Path) -> Path:
    """200 objects stored by a release without the ``size`` index; the next release's module
    (with it) in a directory of its own."""
    model._registry.pop(KEY, None)

    class Item(Model, key=KEY):
        name: Indexed[str]
        size: int

    Item.save_all([Item(name=f"n{i % 5}", size=i % 7) for i in range(200)])
    model._registry.pop(KEY, None)
    (tmp_path / "shop_models.py").write_text(MODULE)
    return tmp_path


def test_check_reindex_check(deployed: Path, redis_url: str, client: redis.Redis) -> None:
    check = typedredis_command("check", "--schema", "shop_models:Item", "--url", redis_url, cwd=deployed)
    assert check.returncode == 1, check.stderr
    assert "e:size" in check.stdout and "DIFFERS" in check.stdout
    assert "typedredis reindex shop_models:Item" in check.stdout

    done = typedredis_command("reindex", "shop_models:Item", cwd=deployed, url=redis_url)  # URL from the env
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Item: built e:size (200 objects indexed")
    assert done.stderr == "", "no progress line when not attached to a terminal"

    args = ("check", "--schema", "--json", "shop_models:Item", "--url", redis_url)
    check = typedredis_command(*args, cwd=deployed)
    assert check.returncode == 0, check.stdout
    assert json.loads(check.stdout)["schema_ok"] is True

    stats = typedredis_command("stats", "--json", "shop_models:Item", "--url", redis_url, cwd=deployed)
    found = json.loads(stats.stdout)
    assert (found["objects"], found["job"]) == (200, None)
    assert {i["name"]: i["record"] for i in found["indexes"]} == {"e:name": "ready:m1", "e:size": "ready:m1"}
    assert found["bytes_per_object"] > 0

    sys.path.insert(0, str(deployed))
    try:
        from shop_models import Item  # type: ignore[import-not-found]  # written by the fixture

        assert Item.objects.filter(size=3).count() == 29
        check_invariants(client, Item)
    finally:
        sys.path.remove(str(deployed))
        sys.modules.pop("shop_models", None)
        model._registry.pop(KEY, None)


def test_usage_errors_exit_2_with_a_clear_message(deployed: Path, redis_url: str) -> None:
    no_url = typedredis_command("reindex", "shop_models:Item", cwd=deployed)
    assert no_url.returncode == 2
    assert "no server: pass --url" in no_url.stderr and "TYPEDREDIS_URL" in no_url.stderr
    for target, says in (
        ("shop_models", "name a model as MODULE:Model"),
        ("nowhere:Item", "cannot import 'nowhere'"),
        ("shop_models:Nope", "has no 'Nope'"),
        ("shop_models:Indexed", "is not a typedredis Model"),
    ):
        run = typedredis_command("stats", target, "--url", redis_url, cwd=deployed)
        assert (run.returncode, says in run.stderr) == (2, True), run.stderr


def test_a_failed_reindex_exits_1_naming_the_problem(
    client: redis.Redis, tmp_path: Path, redis_url: str
) -> None:
    model._registry.pop(KEY, None)

    class Item(Model, key=KEY):
        name: str
        size: int

    Item.save_all([Item(name="same", size=1), Item(name="same", size=2)])
    model._registry.pop(KEY, None)
    unique = MODULE.replace("name: Indexed[str]", "name: Unique[str]")
    unique = unique.replace("import Indexed, Model", "import Indexed, Model, Unique")
    (tmp_path / "shop_models.py").write_text(unique)
    run = typedredis_command("reindex", "shop_models:Item", "--url", redis_url, cwd=tmp_path)
    assert run.returncode == 1
    assert "UniqueViolation: Item.name must be unique, and 'same' would be shared" in run.stderr
    model._registry.pop(KEY, None)


def test_reindex_migrate_rewrites_objects_of_an_older_form(
    client: redis.Redis, tmp_path: Path, redis_url: str
) -> None:
    model._registry.pop(KEY, None)

    class Item(Model, key=KEY):  # release 1 has a field the next one drops
        name: Indexed[str]
        size: Indexed[int]
        color: str

    Item.save_all([Item(name=f"n{i}", size=i, color="red") for i in range(80)])
    model._registry.pop(KEY, None)
    (tmp_path / "shop_models.py").write_text(MODULE)
    run = typedredis_command("reindex", "--migrate", "shop_models:Item", "--url", redis_url, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "Item: every index is ready; nothing to do",
        "Item: 80 objects rewritten in the form the code writes",
    ]
    again = typedredis_command(
        "reindex", "--migrate", "--json", "shop_models:Item", "--url", redis_url, cwd=tmp_path
    )
    assert json.loads(again.stdout)["migrated"] == 0
    gen = int(client.hget("{" + KEY + "}:meta", "gen") or 0)
    assert client.hkeys(f"{{{KEY}}}:{gen}:o:7") == [b"name", b"size"]
    model._registry.pop(KEY, None)


def test_check_finds_a_corrupted_index_and_repair_fixes_it(
    deployed: Path, redis_url: str, client: redis.Redis
) -> None:
    assert typedredis_command("reindex", "shop_models:Item", "--url", redis_url, cwd=deployed).returncode == 0
    clean = typedredis_command("check", "shop_models:Item", "--url", redis_url, cwd=deployed)
    assert clean.returncode == 0, clean.stdout
    assert "Item: 200 objects and their indexes agree" in clean.stdout

    spec_prefix = KEY.encode()
    gen = int(client.hget(b"{" + spec_prefix + b"}:meta", "gen") or 0)
    prefix = b"{" + spec_prefix + b"}:" + str(gen).encode() + b":"
    client.srem(prefix + b"i:size:\x03", "4")  # size 3: pk 4 loses its entry
    client.sadd(prefix + b"i:name:\xa2n0", "2")  # pk 2 (name "n1") gains a stale one

    broken = typedredis_command("check", "--json", "shop_models:Item", "--url", redis_url, cwd=deployed)
    assert broken.returncode == 1
    found = json.loads(broken.stdout)
    assert found["indexes"] == ["e:name", "e:size"]
    assert {p["kind"] for p in found["problems"]} == {"missing", "stale"}

    fixed = typedredis_command("repair", "shop_models:Item", "--url", redis_url, cwd=deployed)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Item: built e:name, e:size" in fixed.stdout
    assert "200 objects and their indexes agree" in fixed.stdout
    again = typedredis_command("check", "shop_models:Item", "--url", redis_url, cwd=deployed)
    assert again.returncode == 0
