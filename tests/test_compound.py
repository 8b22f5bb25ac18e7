"""Compound indexes: declared on the model, kept exact by every write path, used by the planner
only when complete, and answering equality + range / order / count queries in O(log N + page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
import redis

from typedredis import Compound, Indexed, Model, SchemaError, Sorted, Unique, querying

from .support import check_invariants, key

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Order(Model, key=key("corder")):
    customer: Indexed[str]
    status: Indexed[str]
    amount: Sorted[int]
    created_at: Sorted[datetime]
    ref: Unique[str]

    __indexes__: ClassVar[Any] = (
        Compound("customer", "created_at"),
        Compound("status", "amount", name="by_status_amount"),
        Compound("customer", "status"),
    )


def orders(n: int) -> list[Order]:
    statuses = ["paid", "open", "void"]
    return [
        Order(
            customer=f"c{i % 7}",
            status=statuses[i % 3],
            amount=(i * 37) % 1000,
            created_at=T0 + timedelta(minutes=i),
            ref=f"r{i}",
        )
        for i in range(n)
    ]


def test_declarations_are_checked() -> None:
    cases = [
        ((Compound("customer"),), "two or more"),
        ((Compound("customer", "nope"),), "no field 'nope'"),
        ((Compound("amount", "customer"),), "must be Indexed or Unique"),
        ((Compound("customer", "amount"), Compound("customer", "amount")), "share a name"),
        ((Compound("customer", "status", name="no spaces"),), "identifier"),
        (("customer",), "Compound"),
    ]
    for indexes, message in cases:
        with pytest.raises(SchemaError, match=message):
            type(
                "Bad",
                (Model,),
                {
                    "__module__": __name__,
                    "__annotations__": {
                        "customer": Indexed[str],
                        "status": Indexed[str],
                        "amount": Sorted[int],
                    },
                    "__indexes__": indexes,
                },
            )


def test_every_write_path_keeps_the_compounds_exact(client: redis.Redis) -> None:
    objs = orders(60)
    Order.save_all(objs)
    check_invariants(client, Order)
    objs[0].status, objs[0].amount = "void", 5  # moves in two compounds
    objs[1].customer = "c9"
    Order.save_all(objs[:2])
    check_invariants(client, Order)
    assert Order.query(Order.f.status == "paid").update(status="archived") == 19  # objs[0] left
    assert Order.query(Order.f.customer == "c3").update(amount=1) > 0
    check_invariants(client, Order)
    assert Order.query(Order.f.customer == "c2").delete() > 0
    Order.delete_many([objs[5].pk or 0])
    check_invariants(client, Order)
    Order.reset(orders(30))
    check_invariants(client, Order)


def test_the_planner_answers_from_the_compound(client: redis.Redis) -> None:
    objs = orders(2_000)
    Order.reset(objs)
    f = Order.f
    paid_big = Order.query(f.status == "paid", f.amount >= 500)
    assert paid_big.plan("count")["strategy"] == "exact"  # ZLEXCOUNT of one sorted set
    assert paid_big.count() == sum(1 for o in objs if o.status == "paid" and o.amount >= 500)
    newest = Order.query(f.customer == "c3").order_by(f.created_at.desc()).limit(50)
    assert newest.plan()["strategy"] == "rank"  # O(log N + 50)
    expected = sorted((o for o in objs if o.customer == "c3"), key=lambda o: o.created_at, reverse=True)
    assert newest.all() == expected[:50]
    page = Order.query(f.status == "open", f.amount.between(100, 300)).order_by(f.amount).offset(20).limit(20)
    assert page.plan()["strategy"] == "rank"
    want = sorted(
        (o for o in objs if o.status == "open" and 100 <= o.amount <= 300), key=lambda o: (o.amount, o.pk)
    )
    assert page.all() == want[20:40]
    pair = Order.query(f.customer == "c1", f.status == "void")
    assert pair.plan("count")["strategy"] == "exact"  # SCARD of the (customer, status) set
    assert pair.count() == sum(1 for o in objs if o.customer == "c1" and o.status == "void")
    # the rest of a condition is tested on the objects the compound yields
    mixed = Order.query(f.customer == "c4", f.created_at >= T0 + timedelta(minutes=1000), f.amount < 200)
    assert mixed.pks() == sorted(
        o.pk or 0
        for o in objs
        if o.customer == "c4" and o.created_at >= T0 + timedelta(minutes=1000) and o.amount < 200
    )


def declared_late(name: str) -> type[Model]:
    """A model whose Compound("kind", "size") is declared after 100 objects were saved without
    it (so it is not ready), with one object saved by the new code (kind "a", size 1000)."""

    def model(indexes: tuple[Compound, ...]) -> type[Model]:
        class Late(Model, key=name):
            kind: Indexed[str]
            size: Sorted[int]
            __indexes__: ClassVar[Any] = indexes

        return Late

    before = model(())
    before.save_all([before(kind="a" if i % 2 else "b", size=i) for i in range(100)])  # type: ignore[call-arg]  # (Late's fields)
    after = model((Compound("kind", "size"),))
    after.save_all([after(kind="a", size=1000)])  # type: ignore[call-arg]  # a save with the new code
    return after


def test_a_compound_declared_on_existing_data_waits_for_a_reset(client: redis.Redis) -> None:
    after = declared_late(key("late"))
    query = after.query(after.f.kind == "a", after.f.size >= 50)
    assert query.plan("count")["strategy"] != "exact", "the index lacks the older objects: not used"
    assert query.count() == 26  # 25 older + the new one: answered without the index
    after.reset(after.objects.all())  # a reset builds it whole
    assert query.plan("count")["strategy"] == "exact"
    assert query.count() == 26
    check_invariants(client, after)


def test_compound_queries_walk_and_chunk_like_the_others(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    objs = orders(300)
    Order.reset(objs)
    tiny = querying.Limits(budget=0, walk=7, rows=3, writes=2, sort=4, keys=5)
    monkeypatch.setattr(querying, "LIMITS", tiny)
    f = Order.f
    q = Order.query(f.customer == "c2", f.created_at < T0 + timedelta(minutes=200)).order_by(
        f.created_at.desc()
    )
    expected = sorted(
        (o for o in objs if o.customer == "c2" and o.created_at < T0 + timedelta(minutes=200)),
        key=lambda o: o.created_at,
        reverse=True,
    )
    assert q.pks() == [o.pk for o in expected]
    assert q.offset(3).limit(4).pks() == [o.pk for o in expected[3:7]]
    assert q.count() == len(expected)
    assert q.update(status="x") == len(expected)
    assert q.delete() == len(expected)
    monkeypatch.undo()
    check_invariants(client, Order)


def test_unique_fields_can_be_compound_fields(client: redis.Redis) -> None:
    class Account(Model, key=key("caccount")):
        team: Indexed[str]
        email: Unique[str]
        __indexes__: ClassVar[Any] = (Compound("team", "email"),)

    Account.save_all([Account(team="t", email=f"{i}@x") for i in range(10)])
    assert Account.query(Account.f.team == "t", Account.f.email == "3@x").plan("count")["strategy"] == "exact"
    assert Account.query(Account.f.team == "t", Account.f.email == "3@x").count() == 1
    check_invariants(client, Account)


def test_a_page_and_its_total_come_in_one_round_trip(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typedredis.transports import AsyncTransport, SyncTransport

    objs = orders(500)
    Order.reset(objs)
    batches: list[int] = []
    sync_round_trip, async_round_trip = SyncTransport.round_trip, AsyncTransport.round_trip

    def counted(self: SyncTransport, commands: list[Any]) -> list[Any]:
        batches.append(len(commands))
        return sync_round_trip(self, commands)

    async def acounted(self: AsyncTransport, commands: list[Any]) -> list[Any]:
        batches.append(len(commands))
        return await async_round_trip(self, commands)

    monkeypatch.setattr(SyncTransport, "round_trip", counted)
    monkeypatch.setattr(AsyncTransport, "round_trip", acounted)
    f = Order.f
    query = Order.query(f.status == "paid", f.amount.between(100, 800)).order_by(f.amount.desc())
    items, total = query.offset(20).limit(20).page_with_count()
    matching = sorted(
        (o for o in objs if o.status == "paid" and 100 <= o.amount <= 800),
        key=lambda o: (o.amount, o.pk or 0),
    )[::-1]
    assert total == len(matching) and items == matching[20:40]
    assert batches == [1], "a page by rank: one call answers the page and its count"
    batches.clear()
    newest = Order.query(f.customer == "c3").order_by(f.created_at.desc()).limit(5).page_with_count()
    mine = sorted((o for o in objs if o.customer == "c3"), key=lambda o: o.created_at, reverse=True)
    assert newest == (mine[:5], len(mine)) and batches == [1]
    batches.clear()
    unordered = Order.query(f.customer == "c3", f.status == "paid").limit(5).page_with_count()
    both = [o for o in objs if o.customer == "c3" and o.status == "paid"]
    assert unordered == (both[:5], len(both))
    assert batches == [2], "not by rank: the page call and a count call, in one round trip"
    batches.clear()
    empty = Order.query(f.status == "nobody").limit(5).page_with_count()
    assert empty == ([], 0) and empty.total == 0
    everything = Order.objects.order_by(f.amount).offset(495).limit(10).page_with_count()
    assert everything == (sorted(objs, key=lambda o: (o.amount, o.pk or 0))[495:], 500)
    assert Order.objects.order_by(f.amount).offset(600).limit(10).page_with_count() == ([], 500)
    past = query.offset(len(matching)).limit(20).page_with_count()
    assert past == ([], len(matching)), "a page past the end still counts the whole range"
    assert Order.objects.limit(3).page_with_count() == (sorted(objs, key=lambda o: o.pk or 0)[:3], 500)


def test_a_page_by_a_compound_still_building_counts_without_it(client: redis.Redis) -> None:
    """The client expects a rank answer with its count; while the compound is not ready the
    call fetches without it, and the count follows, pinned to the same dataset."""
    after = declared_late(key("latepage"))
    query = after.query(after.f.kind == "a", after.f.size >= 50).order_by(after.f.size.desc()).limit(3)
    assert querying.by_rank(query.formula(), query._page), "the client expects a rank answer"
    assert query.plan()["strategy"] != "rank", "the index lacks the older objects: not used"
    items, total = query.page_with_count()
    assert [o.size for o in items] == [1000, 99, 97] and total == 26  # type: ignore[attr-defined]  # (a Late)
    after.reset(after.objects.all())
    assert query.plan()["strategy"] == "rank"
    items, total = query.page_with_count()
    assert [o.size for o in items] == [1000, 99, 97] and total == 26  # type: ignore[attr-defined]  # (a Late)
    check_invariants(client, after)
