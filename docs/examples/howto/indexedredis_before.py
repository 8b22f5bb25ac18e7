# mypy: ignore-errors
# ruff: noqa: RUF012
# --8<-- [start:code]
"""Migrating from IndexedRedis: the "before" side (IndexedRedis 6.0).

Needs `pip install IndexedRedis` and a Redis reachable over TCP.
"""

from IndexedRedis import (
    IndexedRedisModel,
    IRField,
    irNull,
    setDefaultRedisConnectionParams,
)


class User(IndexedRedisModel):
    FIELDS = [
        IRField("name"),
        IRField("age", valueType=int),
        IRField("city"),
        IRField("bio"),
    ]
    INDEXED_FIELDS = ["name", "age", "city"]
    KEY_NAME = "Users"


def main(params: dict[str, object]) -> None:
    # params: e.g. {"host": "127.0.0.1", "port": 6379, "db": 0}
    setDefaultRedisConnectionParams(params)

    ann = User(name="ann", age=30, city="Oslo")
    ann.save()
    User(name="bob", age=3).save()
    User(name="ann", age=3).save()
    print(ann.getPk())
    #> 1

    anns = User.objects.filter(name="ann").filter(age__ne=3).all()
    print([u.age for u in anns])
    #> [30]
    print(sorted(User.objects.filter(name="ann").getPrimaryKeys()))  # unordered
    #> [1, 3]
    print(User.objects.filter(city=irNull).count(), User.objects.count())
    #> 2 3
    print(User.objects.get(ann.getPk()).name, User.objects.get(99))  # None if missing
    #> ann None
    print([u.name for u in User.objects.getMultiple([1, 2])])
    #> ['ann', 'bob']

    User.reset([User(name="cy", age=41)])  # atomic, but blocks Redis, reuses pks
    print(User.objects.getPrimaryKeys())
    #> [1]
    print(User.objects.filter(name="cy").delete())
    #> 1
# --8<-- [end:code]
