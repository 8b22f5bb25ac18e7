"""``reindex --migrate``: objects stored by an earlier release are rewritten in the form the
current code writes (values a migration hook converts, removed fields dropped, added fields
stored), with their index entries; a concurrent save is never overwritten.

Each test plays a deploy, as tests/test_reindex.py does: a model class is defined and objects
are stored, then "the next release" defines the same model (same key) otherwise.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
import pytest
import redis
from pydantic import field_validator

import typedredis
from typedredis import DecodeError, Indexed, Model, ReindexReport, Unique, UniqueViolation, migrate

from . import support
from .support import another_process, check_invariants, key, release

COLORS = {"red": 1, "green": 2, "blue": 3}


@pytest.fixture(autouse=True)
def fresh_classes() -> None:
    release("lamp")


def release1() -> Any:
    class Lamp(Model, key=key("lamp")):
        name: Indexed[str]
        color: str  # "red", "green", "blue"; release 2 stores a code
        watts: int  # release 2 no longer has it

    return Lamp


def release2() -> Any:
    release("lamp")

    class Lamp(Model, key=key("lamp")):
        name: Indexed[str]
        color: Indexed[int]  # a new index, over values the hook converts
        dimmable: bool = False  # added with a default

        @field_validator("color", mode="before")
        @classmethod
        def _from_release_1(cls, value: object) -> object:
            return COLORS.get(value, value) if isinstance(value, str) else value

    return Lamp


def stored(client: redis.Redis, model: type[Model], pk: int) -> dict[str, Any]:
    """The object's hash as stored, its values decoded (hidden fields left as bytes)."""
    ks = model.spec().keys
    raw = client.hgetall(ks.object(int(client.hget(ks.meta, "gen") or 0), pk))
    return {
        k.decode(): v if k[:1] in (b"#", b"~") else msgpack.unpackb(v)  # (the bytes msgpack itself wrote)
        for k, v in raw.items()
    }


def test_migrate_rewrites_old_objects_in_the_code_s_form(client: redis.Redis) -> None:
    v1 = release1()
    v1.save_all([v1(name=f"lamp {i}", color=("red", "green", "blue")[i % 3], watts=i) for i in range(120)])
    v2 = release2()
    assert stored(client, v2, 1) == {"name": "lamp 0", "color": "red", "watts": 0}
    assert v2.get(1).color == 1, "the hook converts on every read"

    report = v2.reindex(migrate=True)
    assert report.built == ("e:color",) and report.indexed == 120
    assert (report.migrated, report.skipped) == (120, 0)
    assert stored(client, v2, 1) == {"name": "lamp 0", "color": 1, "dimmable": False}
    assert v2.objects.filter(color=2).count() == 40
    check_invariants(client, v2)
    assert v2.reindex(migrate=True) == ReindexReport((), (), 0, 0, 0), "a second run finds nothing to do"


def test_objects_already_in_the_new_form_are_left_alone(client: redis.Redis) -> None:
    v1 = release1()
    v1.save_all([v1(name=f"lamp {i}", color="red", watts=i) for i in range(10)])
    v2 = release2()
    v2.reindex()
    v2(pk=3, name="lamp 2", color=1, dimmable=True).save()  # stored whole, in release 2's form
    assert v2.reindex(migrate=True).migrated == 9
    assert stored(client, v2, 3) == {"name": "lamp 2", "color": 1, "dimmable": True}


def test_a_concurrent_save_is_never_overwritten(client: redis.Redis, redis_url: str) -> None:
    v1 = release1()
    v1.save_all([v1(name=f"lamp {i}", color="red", watts=i) for i in range(3 * migrate.MIGRATE_PER_CALL)])
    v2 = release2()
    v2.reindex()
    target = migrate.MIGRATE_PER_CALL + 5  # in the second batch

    def save_meanwhile(done: int, total: int) -> None:
        # the second batch was read in the round trip that wrote the first one
        if done == migrate.MIGRATE_PER_CALL:
            with another_process(redis_url):
                lamp = v2.get(target)
                lamp.color = 3
                lamp.name = "moved"
                lamp.save()

    report = v2.reindex(progress=save_meanwhile, migrate=True)
    assert (report.migrated, report.skipped) == (3 * migrate.MIGRATE_PER_CALL - 1, 1)
    # (the writer wrote only what it changed, so the field release 2 removed is still there)
    assert stored(client, v2, target) == {"name": "moved", "color": 3, "dimmable": False, "watts": 54}
    assert v2.reindex(migrate=True).migrated == 1, "the next run migrates what a writer changed meanwhile"
    assert stored(client, v2, target) == {"name": "moved", "color": 3, "dimmable": False}
    check_invariants(client, v2)


def test_a_reset_during_the_migration_makes_it_start_over(client: redis.Redis, redis_url: str) -> None:
    v1 = release1()
    v1.save_all([v1(name=f"lamp {i}", color="red", watts=i) for i in range(2 * migrate.MIGRATE_PER_CALL)])
    v2 = release2()
    v2.reindex()

    def reset_meanwhile(done: int, total: int) -> None:
        if done == migrate.MIGRATE_PER_CALL and total == 2 * migrate.MIGRATE_PER_CALL:
            with another_process(redis_url):  # the old release's refresh job, still running
                v2.reset([v2(name=f"new {i}", color=2) for i in range(30)])
                ks = v2.spec().keys
                gen = int(client.hget(ks.meta, "gen") or 0)
                for pk in v2.objects.pks():  # stored as release 1 would have: a string color
                    client.hset(
                        ks.object(gen, pk), mapping={"color": msgpack.packb("green"), "watts": b"\x01"}
                    )

    report = v2.reindex(progress=reset_meanwhile, migrate=True)
    assert report.migrated == migrate.MIGRATE_PER_CALL + 30, "the first batch, then all of the new dataset"
    pks = sorted(v2.objects.pks())
    assert [stored(client, v2, pk) for pk in pks] == [
        {"name": f"new {i}", "color": 2, "dimmable": False} for i in range(30)
    ]
    check_invariants(client, v2)


def test_a_value_the_hook_cannot_convert_stops_it_naming_key_and_field(client: redis.Redis) -> None:
    v1 = release1()
    v1.save_all([v1(name="a", color="red", watts=1), v1(name="b", color="ultraviolet", watts=2)])
    v2 = release2()
    with pytest.raises(DecodeError) as caught:
        v2.reindex(migrate=True)  # the index build meets it first
    assert caught.value.field == "color" and str(caught.value.key).endswith(":o:2")
    client.hset(caught.value.key, "color", msgpack.packb("blue"))  # the operator fixes it
    assert v2.reindex(migrate=True).migrated == 2
    check_invariants(client, v2)


def test_a_migration_that_would_share_a_unique_value_writes_nothing_of_that_call(client: redis.Redis) -> None:
    class Lamp(Model, key=key("lamp")):
        name: Unique[str]

    Lamp.save_all([Lamp(name="Desk"), Lamp(name="hall"), Lamp(name="desk")])
    release("lamp")

    class Lamp2(Model, key=key("lamp")):  # release 2 lowercases names
        name: Unique[str]

        @field_validator("name", mode="before")
        @classmethod
        def _lower(cls, value: object) -> object:
            return value.lower() if isinstance(value, str) else value

    with pytest.raises(UniqueViolation) as caught:
        Lamp2.reindex(migrate=True)
    assert caught.value.field == "name"
    assert stored(client, Lamp2, 1) == {"name": "Desk"}, "the call that was refused wrote nothing"
    assert stored(client, Lamp2, 2) == {"name": "hall"}
    Lamp2.get(3).delete()  # the operator resolves the clash
    assert Lamp2.reindex(migrate=True).migrated == 1
    assert Lamp2.get_by(Lamp2.f.name, "desk").pk == 1
    check_invariants(client, Lamp2)


def test_amigrate(client: redis.Redis, redis_url: str) -> None:
    v1 = release1()
    v1.save_all([v1(name=f"lamp {i}", color="green", watts=i) for i in range(60)])
    v2 = release2()

    async def main() -> ReindexReport:
        typedredis.connect(redis_url, asyncio=True, cluster=support.CLUSTER)
        try:
            return await v2.areindex(migrate=True)
        finally:
            await typedredis.adisconnect()

    assert asyncio.run(main()).migrated == 60
    typedredis.connect(redis_url, cluster=support.CLUSTER)
    assert v2.objects.filter(color=2).count() == 60
    check_invariants(client, v2)
