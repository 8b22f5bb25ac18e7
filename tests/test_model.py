"""Model definition, save, get, delete and bulk save against a real private Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from pydantic import ValidationError

import typedredis
import typedredis.executor
from typedredis import Indexed, IndexNotReady, Model, NotFound, SchemaError, operations, querying

from . import support
from .support import SHARED, check_invariants, clean, key, session_keys


class User(Model, key=key("user")):
    name: Indexed[str]
    age: Indexed[int]
    city: Indexed[str | None] = None
    bio: str = ""


def test_save_assigns_increasing_pks_and_get_round_trips(client: redis.Redis) -> None:
    ann = User(name="ann", age=30).save()
    bob = User(name="bob", age=3, city="Oslo").save()
    assert (ann.pk, bob.pk) == (1, 2)
    assert User.get(2) == bob
    check_invariants(client, User, {1: ann, 2: bob})


def test_get_missing_raises_not_found(client: redis.Redis) -> None:
    with pytest.raises(NotFound, match="User with pk=7"):
        User.get(7)


def test_get_many_is_ordered_with_none_for_missing(client: redis.Redis) -> None:
    users = [User(name=n, age=i) for i, n in enumerate("abc")]
    User.save_all(users)
    assert User.get_many([3, 99, 1]) == [users[2], None, users[0]]
    assert User.get_many([]) == []


def test_update_moves_index_entries_using_stored_values(client: redis.Redis) -> None:
    ann = User(name="ann", age=30, city="Oslo").save()
    stale = User.get(ann.pk)  # a second in-memory copy, now outdated
    ann.city = "Rome"
    ann.save()
    stale.age = 31  # writes city=Oslo again: the index must follow the stored value, not guess
    stale.save(fields=["age", "city"])  # (a plain save() writes only what changed: age)
    check_invariants(client, User, {ann.pk: stale})  # type: ignore[dict-item]
    assert User.query(User.f.city == "Rome").count() == 0
    assert User.query(User.f.city == "Oslo").pks() == [ann.pk]


def test_delete_removes_object_and_index_entries(client: redis.Redis) -> None:
    ann = User(name="ann", age=30).save()
    bob = User(name="bob", age=30).save()
    assert ann.delete() is True
    assert ann.delete() is False
    assert User(name="new", age=1).delete() is False
    check_invariants(client, User, {bob.pk: bob})  # type: ignore[dict-item]
    assert User.delete_many([bob.pk, 12345]) == 1  # type: ignore[list-item]
    check_invariants(client, User, {})


def test_explicit_pk_is_kept_and_never_reallocated(client: redis.Redis) -> None:
    User(pk=10, name="ten", age=10).save()
    new = User(name="next", age=1).save()
    assert new.pk == 11
    User.save_all([User(pk=20, name="x", age=1), User(name="y", age=2)])
    assert User.query(User.f.name == "y").first().pk == 21  # type: ignore[union-attr]


def test_invalid_values_fail_validation_before_any_write(client: redis.Redis) -> None:
    with pytest.raises(ValidationError):
        User(name="ann", age="old")  # type: ignore[arg-type]
    ann = User(name="ann", age=1)
    with pytest.raises(ValidationError):
        ann.age = "x"  # type: ignore[assignment]
    with pytest.raises(ValidationError):
        User.query(User.f.age == "x")
    assert not session_keys(client)


def test_save_all_refuses_foreign_objects_and_writes_nothing(client: redis.Redis) -> None:
    class Other(Model, key=key("other")):
        x: int

    class Admin(User, key=key("admin")):
        level: int = 0

    with pytest.raises(TypeError):
        User.save_all([User(name="a", age=1), Other(x=1)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"expected a User, got .*Admin"):
        User.save_all([Admin(name="a", age=1)])  # a subclass lives under its own keys
    assert not session_keys(client)


def test_unsupported_value_type_raises_schema_error_before_writing(client: redis.Redis) -> None:
    class Odd(Model, key=key("odd")):
        thing: object

    with pytest.raises(SchemaError, match=r"Odd\.thing: cannot store a value of type object"):
        Odd(thing=object()).save()
    assert not session_keys(client)


def test_key_name_defaults_to_snake_case_and_must_be_unique() -> None:
    class HTTPRequestLog(Model):
        path: str

    assert HTTPRequestLog.spec().keys.meta == b"{http_request_log}:meta"
    with pytest.raises(SchemaError, match="would share the key"):

        class Clash(Model, key="http_request_log"):
            path: str


def test_reserved_and_invalid_definitions_raise_schema_error() -> None:
    with pytest.raises(SchemaError, match="reserved"), pytest.warns(UserWarning):

        class Bad(Model, key=key("bad")):
            save: int  # type: ignore[assignment]

    with pytest.raises(SchemaError, match="braces"):

        class Braces(Model, key="a{b}"):
            x: int

    with pytest.raises(SchemaError, match="no fields"):

        class Empty(Model, key=key("empty")):
            pass

        Empty.spec()


def test_no_connection_is_a_clear_error() -> None:
    from typedredis import session

    saved = session._default, dict(session._bound)
    session._default = session.Binding()
    session._bound.clear()
    try:
        with pytest.raises(typedredis.ConfigurationError, match=r"typedredis\.connect"):
            User.get(1)
    finally:
        session._default, bound = saved
        session._bound.update(bound)


@pytest.mark.skipif(support.CLUSTER, reason="a Redis Cluster has one database")
def test_per_model_connection(client: redis.Redis, redis_url: str) -> None:
    class Logged(Model, key=key("logged")):
        msg: Indexed[str]

    other = redis.Redis.from_url(redis_url, db=1)
    clean(other, shared=SHARED)
    support.connect(redis_url, Logged, db=1)
    try:
        Logged(msg="hi").save()
        assert other.exists(Logged.spec().keys.meta)
        assert not client.exists(Logged.spec().keys.meta)
    finally:
        typedredis.disconnect(Logged)
        clean(other, shared=SHARED)


def test_decode_responses_client_is_handled(client: redis.Redis, redis_url: str) -> None:
    support.connect(redis_url, decode_responses=True)
    ann = User(name="ann", age=1, city="\u00e9").save()
    assert User.get(ann.pk) == ann  # type: ignore[arg-type]
    assert User.query(User.f.city == "\u00e9").all() == [ann]


def test_corrupt_stored_data_names_key_and_field(client: redis.Redis) -> None:
    ann = User(name="ann", age=1).save()
    object_key = User.spec().keys.object(0, ann.pk)  # type: ignore[arg-type]
    client.hset(object_key, "bio", b"\xc1")  # 0xc1 is never valid msgpack
    with pytest.raises(typedredis.DecodeError, match=r"\{.*user\}:0:o:1: field 'bio'") as info:
        User.get(ann.pk)  # type: ignore[arg-type]
    assert info.value.field == "bio"
    client.hset(
        object_key, mapping={"bio": b"\xa0", "age": b"\xa3old"}
    )  # a msgpack string where an int belongs
    says = "field 'age' of stored data does not validate as User"
    with pytest.raises(typedredis.DecodeError, match=says) as info:
        User.query(User.f.name == "ann").all()
    assert info.value.field == "age"


def test_a_field_indexed_later_is_refused_until_a_reset_rebuilds_it(client: redis.Redis) -> None:
    from typedredis import model

    model._registry.pop(key("later"), None)  # the After of this test's other executor run

    class Before(Model, key=key("later")):
        name: str

    Before(name="ann").save()
    model._registry.pop(key("later"))  # as a new release of the application would define it

    class After(Model, key=key("later")):
        name: Indexed[str]

    with pytest.raises(IndexNotReady, match=r"After\.name: its equality index is not ready") as info:
        After.query(After.f.name == "ann").pks()  # never the silent [] of an incomplete index
    assert info.value.field == "name"
    After.get(1).save()  # saves maintain the new index, but objects not saved again lack it
    with pytest.raises(IndexNotReady):
        After.query(After.f.name == "ann").pks()
    After.reset(After.objects.all())  # what the error says to run (iter() in an app)
    assert After.query(After.f.name == "ann").pks() == [1]
    check_invariants(client, After)


def test_an_instance_listed_twice_is_saved_once(client: redis.Redis) -> None:
    ann = User(name="ann", age=1)
    User.save_all([ann, ann])
    assert ann.pk == 1 and User.objects.count() == 1


def test_two_copies_of_one_object_in_one_save_all(client: redis.Redis) -> None:
    ann = User(name="ann", age=1, city="Oslo").save()
    first, second = User.get(ann.pk), User.get(ann.pk)  # type: ignore[arg-type]
    first.city, second.city = "Rome", "Paris"
    User.save_all([first, second])  # the later copy wins, and only its values are indexed
    assert User.get(ann.pk).city == "Paris"  # type: ignore[arg-type]
    check_invariants(client, User)


# -- a get by pk without a script, checked against the current generation -------------------------


def _calls(client: redis.Redis, command: str) -> int:
    return int(support.commandstats(client).get(f"cmdstat_{command}", {"calls": 0})["calls"])


def test_a_get_after_the_first_reads_without_a_script(client: redis.Redis) -> None:
    ann = User(name="ann", age=30).save()
    assert User.get(ann.pk) == ann  # get.lua: learns the generation
    scripts, reads = _calls(client, "evalsha"), _calls(client, "hmget")
    for _ in range(3):
        assert User.get(ann.pk) == ann
    assert _calls(client, "evalsha") == scripts
    assert _calls(client, "hmget") == reads + 3
    with pytest.raises(NotFound):  # no field read: get.lua tells a missing object apart
        User.get(99)
    assert _calls(client, "evalsha") == scripts + 1


def _executor(redis_url: str) -> typedredis.executor.SyncExecutor:
    return typedredis.executor.SyncExecutor(support.raw_client(redis_url))


def test_a_get_hinted_with_a_retired_generation_reads_the_current_one(
    client: redis.Redis, redis_url: str
) -> None:
    spec = User.spec()
    User.reset([User(pk=1, name="old", age=1)])
    old_gen = int(client.hget(spec.keys.meta, "gen") or 0)
    old_hash = client.dump(spec.keys.object(old_gen, 1))
    User.reset([User(pk=1, name="new", age=2)])
    # the old generation's hash, as it is until the clean-up after a reset removes it
    client.restore(spec.keys.object(old_gen, 1), 0, old_hash)
    seen = {spec.keys.meta: old_gen}
    found = _executor(redis_url).run(querying.get_one(spec, 1, seen))
    assert (found.name, found.age) == ("new", 2)
    assert seen[spec.keys.meta] == int(client.hget(spec.keys.meta, "gen") or 0), "the hint is corrected"


def test_a_get_hinted_with_a_generation_being_staged_never_reads_it(
    client: redis.Redis, redis_url: str
) -> None:
    spec = User.spec()
    User.reset([User(pk=1, name="old", age=1)])
    executor = _executor(redis_url)
    found: list[User] = []

    def source() -> Iterator[User]:
        yield User(pk=1, name="new", age=2)
        yield from (User(name=f"u{i}", age=i) for i in range(operations.RESET_CHUNK - 1))
        # pulled for the second chunk: the first one is staged, pk 1 "new" included
        (staged,) = client.zrange(spec.keys.staging, 0, -1)
        assert client.hget(spec.keys.object(int(staged), 1), "name") is not None
        seen = {spec.keys.meta: int(staged)}
        found.append(executor.run(querying.get_one(spec, 1, seen)))

    User.reset(source())
    assert [(u.name, u.age) for u in found] == [("old", 1)]
    assert User.get(1).name == "new"


class Loose(Model, key=key("loose")):
    a: str = "x"


def test_a_hash_holding_none_of_the_fields_reads_the_same_with_a_hint(
    client: redis.Redis, redis_url: str
) -> None:
    spec = Loose.spec()
    Loose(a="y").save()
    gen = int(client.hget(spec.keys.meta, "gen") or 0)
    client.hset(spec.keys.object(gen, 7), "gone", b"\xc0")  # a field the model no longer has
    executor = _executor(redis_url)
    assert executor.run(querying.get_one(spec, 7, {spec.keys.meta: gen})) == Loose(pk=7)
    assert Loose.get(7) == Loose(pk=7)
