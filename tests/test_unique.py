"""Unique fields against a real Redis: violations write nothing, swaps within one call work,
long lists are checked before the first write, and racing processes: exactly one wins."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
import redis

from typedredis import Indexed, Model, NotFound, Unique, UniqueViolation, operations

from . import support
from .support import check_invariants, key, session_keys


class Account(Model, key=key("account")):
    email: Unique[str]
    team: Indexed[str] = "t"
    nick: Unique[str | None] = None


def test_a_taken_value_is_refused_naming_field_and_value(client: redis.Redis) -> None:
    Account(email="a@x").save()
    with pytest.raises(UniqueViolation, match=r"Account\.email must be unique, and 'a@x'") as info:
        Account(email="a@x", team="other").save()
    assert (info.value.field, info.value.value) == ("email", "a@x")
    assert Account.objects.count() == 1
    check_invariants(client, Account)


def test_a_violating_batch_writes_nothing(client: redis.Redis) -> None:
    with pytest.raises(UniqueViolation):
        Account.save_all([Account(email="b@x"), Account(email="c@x"), Account(email="b@x")])
    assert not session_keys(client) or Account.objects.count() == 0
    check_invariants(client, Account, {})


def test_saving_an_object_again_keeps_its_own_value(client: redis.Redis) -> None:
    ann = Account(email="ann@x").save()
    ann.team = "new"
    ann.save()
    assert Account.get_by(Account.f.email, "ann@x") == ann
    with pytest.raises(NotFound, match="email='nobody'"):
        Account.get_by(Account.f.email, "nobody")


def test_values_can_be_swapped_within_one_call(client: redis.Redis) -> None:
    a, b = Account(email="a@x"), Account(email="b@x")
    Account.save_all([a, b])
    a.email, b.email = "b@x", "a@x"
    Account.save_all([a, b])
    assert Account.get_by(Account.f.email, "a@x").pk == b.pk
    check_invariants(client, Account)


def test_long_lists_are_checked_before_the_first_write(client: redis.Redis) -> None:
    Account(email="taken").save()
    many = [Account(email=f"u{i}") for i in range(3 * operations.OBJECTS_PER_CALL)] + [Account(email="taken")]
    with pytest.raises(UniqueViolation, match="'taken'"):
        Account.save_all(many)
    assert Account.objects.count() == 1, "the first calls were not written either"
    assert all(a.pk is None for a in many)
    check_invariants(client, Account)


def test_moves_across_calls_follow_the_order_of_the_calls(client: redis.Redis) -> None:
    per_call = operations.OBJECTS_PER_CALL
    first, last = Account(email="x"), Account(email="y")
    Account.save_all([first, last])
    filler = [Account(email=f"f{i}") for i in range(per_call)]
    first.email = "y"  # call 1 would take y while `last` (call 2) still holds it: refused up front
    last.email = "z"
    with pytest.raises(UniqueViolation, match="'y'"):
        Account.save_all([first, *filler, last])
    assert Account.objects.count() == 2
    Account.save_all([last, *filler, first])  # the other order works: y is released in call 1
    assert Account.get_by(Account.f.email, "y").pk == first.pk
    check_invariants(client, Account)


def test_none_is_never_a_duplicate(client: redis.Redis) -> None:
    Account.save_all([Account(email="a", nick=None), Account(email="b", nick=None)])
    Account(email="c", nick=None).save()
    Account.query(Account.f.email != "zzz").update(nick=None)
    assert Account.query(Account.f.nick == None).count() == 3  # noqa: E711
    Account(email="d", nick="n").save()
    with pytest.raises(UniqueViolation, match="nick"):
        Account(email="e", nick="n").save()
    check_invariants(client, Account)


def test_update_of_a_unique_field(client: redis.Redis) -> None:
    Account.save_all(
        [Account(email="a", team="x"), Account(email="b", team="x"), Account(email="c", team="y")]
    )
    with pytest.raises(UniqueViolation, match="'same'"):
        Account.query(Account.f.team == "x").update(email="same")
    with pytest.raises(UniqueViolation, match="'c'"):
        Account.query(Account.f.email == "a").update(email="c")
    assert Account.query(Account.f.email == "a").update(email="a2", team="z") == 1
    assert Account.get_by(Account.f.email, "a2").team == "z"
    check_invariants(client, Account)


def test_reset_refuses_duplicates_before_staging(client: redis.Redis) -> None:
    Account.reset([Account(email="keep")])
    with pytest.raises(UniqueViolation):
        Account.reset([Account(email="d"), Account(email="d")])
    assert [a.email for a in Account.objects.all()] == ["keep"]
    check_invariants(client, Account)


def claim(url: str, barrier: Any, results: Any, kind: support.Kind) -> None:
    support.connect(url, kind=kind)
    barrier.wait()
    try:
        Account(email="prize").save()
        results.put("won")
    except UniqueViolation:
        results.put("lost")


def test_racing_processes_exactly_one_wins(
    client: redis.Redis, redis_url: str, executor_kind: support.Kind
) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(6)
    results: multiprocessing.Queue[str] = context.Queue()
    args = (redis_url, barrier, results, executor_kind)
    workers = [context.Process(target=claim, args=args) for _ in range(6)]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=30) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    assert outcomes == ["lost"] * 5 + ["won"]
    assert Account.query(Account.f.email == "prize").count() == 1
    check_invariants(client, Account)
