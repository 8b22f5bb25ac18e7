"""The audit (``typedredis check``) finds each kind of damage to a model's indexes, and the
repair (``typedredis repair``) fixes it online."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import redis

from typedredis import Compound, Indexed, IndexNotReady, Model, Sorted, audit

from .support import check_invariants, key


class Shelf(Model, key=key("audit_shelf")):
    room: Indexed[str]
    height: Sorted[float]
    label: str = ""
    __indexes__: ClassVar[Any] = (Compound("room", "height"),)


def run_audit() -> audit.Audit:
    return Shelf._sync("check").run(audit.audit(Shelf.spec()))


def run_repair() -> audit.Repair:
    return Shelf._sync("repair").run(audit.repair(Shelf.spec()))


@pytest.fixture(params=["real budgets", "tiny budgets"], autouse=True)
def budgets(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real budgets, and budgets so small that every walk resumes from its cursors: inside a
    set (SSCAN), inside a sorted set (by entry), right after picking a key."""
    if request.param == "tiny budgets":
        monkeypatch.setattr(audit, "OBJECTS_PER_CALL", 7)
        monkeypatch.setattr(audit, "ENTRIES_PER_CALL", 3)


@pytest.fixture
def shelves(client: redis.Redis) -> bytes:
    Shelf.save_all([Shelf(room=("hall", "den", "attic")[i % 3], height=i / 4) for i in range(300)])
    gen = int(client.hget(Shelf.spec().keys.meta, "gen") or 0)
    return Shelf.spec().keys.generation(gen)


def test_an_intact_model_passes(client: redis.Redis, shelves: bytes) -> None:
    found = run_audit()
    assert (found.ok, found.objects, found.problems) == (True, 300, ())


def test_each_kind_of_damage_is_found_and_repaired(client: redis.Redis, shelves: bytes) -> None:
    member = b"\xa3den"  # msgpack of "den"
    client.srem(shelves + b"i:room:" + member, "2")  # an entry missing
    client.sadd(shelves + b"i:room:\xa4hall", "2")  # an entry no object implies
    client.hset(shelves + b"o:5", "#room", b"\xa4attc")  # an index state that is not its value's
    client.delete(shelves + b"o:7")  # an evicted object: its pk stays in the all-set
    found = run_audit()
    kinds = {(p.kind, p.index) for p in found.problems}
    assert ("missing", "e:room") in kinds
    assert ("stale", "e:room") in kinds
    assert ("member", "e:room") in kinds
    assert ("nohash", None) in kinds
    assert set(found.indexes) >= {"e:room"} and not found.ok

    done = run_repair()
    assert done.deleted == (7,)
    assert "e:room" in done.rebuilt.built
    assert done.after.ok, done.after.problems
    assert Shelf.query(Shelf.f.room == "den").count() == 100
    assert Shelf.query(Shelf.f.room == "hall").count() == 99  # pk 7 was one
    check_invariants(client, Shelf)


def test_damage_to_sorted_and_compound_indexes(client: redis.Redis, shelves: bytes) -> None:
    client.zadd(shelves + b"s:height", {b"\x00bogus" + (9).to_bytes(8, "big"): 0})  # stale
    client.delete(shelves + b"c:room_height:\xa5attic")  # the registry names a key that is gone
    found = run_audit()
    kinds = {(p.kind, p.index) for p in found.problems}
    assert ("stale", "s:height") in kinds
    assert ("gone", "room_height") in kinds and ("missing", "room_height") in kinds
    done = run_repair()
    assert set(done.rebuilt.built) == {"s:height", "room_height"}
    assert done.after.ok
    wanted = sum(1 for i in range(300) if i % 3 == 2 and i / 4 < 10)
    assert Shelf.query(Shelf.f.room == "attic", Shelf.f.height < 10).count() == wanted
    check_invariants(client, Shelf)


def test_a_repaired_index_is_refused_until_rebuilt(client: redis.Redis, shelves: bytes) -> None:
    client.srem(shelves + b"i:room:\xa3den", "2")
    broken = run_audit()
    Shelf._sync("repair").run(_drop_only(broken))
    with pytest.raises(IndexNotReady):
        Shelf.query(Shelf.f.room == "den").count()  # never the 99 of the damaged index
    assert run_repair().after.ok
    assert Shelf.query(Shelf.f.room == "den").count() == 100


def _drop_only(found: audit.Audit) -> Any:
    from typedredis.plan import ScriptCall, single

    args = (found.generation, len(found.indexes), *found.indexes, *Shelf.spec().schema)
    return single(ScriptCall("check_drop", (Shelf.spec().keys.meta,), args, writes=True))


def test_what_resets_left_behind_is_found_and_cleaned_up(client: redis.Redis, shelves: bytes) -> None:
    ks = Shelf.spec().keys
    for gen, pks in ((90, ["1", "2"]), (91, ["3"])):  # the layout a reset leaves (see storage.md)
        prefix = ks.generation(gen)
        for pk in pks:
            client.hset(prefix + b"o:" + pk.encode(), "room", b"\xa3den")
        client.zadd(prefix + b"all", {pk: int(pk) for pk in pks})
    client.zadd(ks.staging, {"90": 1})  # a heartbeat from 1970: its writer is long gone
    client.hset(ks.retired, "91", "o")  # a clean-up a restart stopped
    found = run_audit()
    assert {(p.kind, p.key) for p in found.problems} == {
        ("abandoned", ks.generation(90).decode()),
        ("leftover", ks.generation(91).decode()),
    }
    assert (found.abandoned, found.leftover) == ((90,), (91,))
    assert run_repair().after.ok
    assert not client.exists(ks.generation(90) + b"o:1", ks.generation(91) + b"all")
    check_invariants(client, Shelf)  # (no staging, no retired generation, no unexplained key)
