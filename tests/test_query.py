"""Queries against a real Redis: every operator, Django-style lookups and terminal methods."""

from __future__ import annotations

import pytest
import redis

from typedredis import Indexed, Model, QueryError

from . import support
from .support import key


class User(Model, key=key("quser")):
    name: Indexed[str]
    age: Indexed[int]
    city: Indexed[str | None] = None
    bio: str = ""


class Post(Model, key=key("qpost")):
    title: Indexed[str]


@pytest.fixture
def users(client: redis.Redis) -> list[User]:
    people = [
        User(name="ann", age=30, city="Oslo"),
        User(name="bob", age=3),
        User(name="cy", age=30, city="Rome"),
        User(name="ann", age=41),
    ]
    User.save_all(people)
    return people


def names(result: list[User]) -> list[tuple[str, int]]:
    return [(u.name, u.age) for u in result]


def test_equality_and_not_equal(users: list[User]) -> None:
    assert names(User.query(User.f.name == "ann", User.f.age != 3).all()) == [("ann", 30), ("ann", 41)]
    assert names(User.query(User.f.age != 30).all()) == [("bob", 3), ("ann", 41)]


def test_or_and_not_and_none(users: list[User]) -> None:
    query = User.query((User.f.age == 30) | ~(User.f.city == None))  # noqa: E711
    assert query.count() == 2
    assert names(User.query(User.f.city == None).all()) == [("bob", 3), ("ann", 41)]  # noqa: E711
    assert User.query(~((User.f.name == "ann") | (User.f.name == "bob"))).pks() == [3]


def test_in_first_exists_pks(users: list[User]) -> None:
    assert User.query(User.f.name.in_(["bob", "cy"])).pks() == [2, 3]
    assert User.query(User.f.name.in_(["zed", "ann"])).first() == users[0]
    assert User.query(User.f.name == "zed").first() is None
    assert User.query(User.f.name.in_([])).all() == []
    assert User.query(User.f.name.in_([])).count() == 0
    assert User.query(User.f.name == "cy").exists()
    assert not User.query(User.f.name == "cy", User.f.age == 3).exists()


def test_count_uses_intersection(users: list[User]) -> None:
    assert User.query(User.f.name == "ann", User.f.age == 30).count() == 1
    assert User.query(User.f.age == 30).count() == 2
    assert User.query().count() == 4


def test_a_count_of_index_sets_is_one_sintercard(users: list[User], client: redis.Redis) -> None:
    """On Redis 7 and newer, count() and exists() of an AND of equality sets are one SINTERCARD
    each (query.lua answers them before it makes its other functions); older servers lack the
    command and intersect otherwise."""
    server = support.owner(client, User)
    modern = int(str(server.info("server")["redis_version"]).split(".")[0]) >= 7
    query = User.query(User.f.name == "ann", User.f.age == 30)
    before = support.commandstats(client).get("cmdstat_sintercard", {}).get("calls", 0)
    assert query.count() == 1 and query.exists()
    assert not User.query(User.f.name == "bob", User.f.age == 30).exists()
    after = support.commandstats(client).get("cmdstat_sintercard", {}).get("calls", 0)
    assert after - before == (3 if modern else 0)
    assert query.plan("count")["strategy"] == ("sintercard" if modern else "probe")


def test_django_style_filter_and_exclude(users: list[User]) -> None:
    assert names(User.objects.filter(name="ann").exclude(age=3).all()) == [("ann", 30), ("ann", 41)]
    assert User.objects.filter(name__in=["bob", "cy"]).exclude(city="Rome").pks() == [2]
    assert User.objects.exclude(name="ann", age=30).pks() == [2, 3, 4]  # NOT (a AND b)
    assert User.objects.filter(age__ne=30).count() == 2
    assert User.objects.count() == 4


def test_query_delete_returns_count_and_keeps_indexes(users: list[User], client: redis.Redis) -> None:
    from .support import check_invariants

    assert User.query(User.f.age == 30).delete() == 2
    check_invariants(client, User, {2: users[1], 4: users[3]})  # type: ignore[dict-item]


def test_builders_return_new_queries(users: list[User]) -> None:
    base = User.objects.filter(name="ann")
    narrower = base.filter(age=30)
    assert base.count() == 2 and narrower.count() == 1


def test_unindexed_field_error_names_field_and_fix() -> None:
    with pytest.raises(QueryError, match=r"User.bio is not indexed.*Indexed\["):
        User.f.bio == "x"  # noqa: B015
    with pytest.raises(QueryError, match="bio is not indexed"):
        User.objects.filter(bio="x")


def test_unknown_field_and_lookup_errors() -> None:
    with pytest.raises(AttributeError, match="User has no field 'nope'"):
        User.f.nope  # noqa: B018
    with pytest.raises(QueryError, match="no field 'nope'"):
        User.objects.filter(nope=1)
    with pytest.raises(QueryError, match="unknown lookup"):
        User.objects.filter(age__like=1)
    with pytest.raises(QueryError, match=r"User\.age has no range index.*Sorted\["):
        User.objects.filter(age__gt=1)


def test_expressions_of_another_model_are_refused() -> None:
    with pytest.raises(QueryError, match="cannot filter"):
        User.query(Post.f.title == "x")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="cannot combine"):
        (User.f.name == "a") & (Post.f.title == "b")  # type: ignore[operator]


def test_bool_of_expression_raises() -> None:
    with pytest.raises(QueryError, match="truth value"):
        if User.f.name == "x":
            pass


def test_awkward_index_values_do_not_collide(client: redis.Redis) -> None:
    class Tag(Model, key=key("tag")):
        value: Indexed[str | bytes | int | float | bool | None]

    values: list[str | bytes | int | float | bool | None] = [
        "",
        "*",
        "a:b",
        "{x}",
        "with space",
        "line\nbreak",
        b"\xff\xfe",
        1,
        1.0,
        True,
        "1",
        None,
        b"1",
    ]
    Tag.save_all([Tag(value=v) for v in values])
    for pk, v in enumerate(values, 1):
        assert Tag.query(Tag.f.value == v).pks() == [pk], v
