"""Migrating from IndexedRedis: the same program with typedredis."""

import typedredis
from typedredis import Indexed, Model


class User(Model, key="docs_migrated_users"):  # KEY_NAME (default: "user")
    name: Indexed[str]  # FIELDS + INDEXED_FIELDS: one annotation per field
    age: Indexed[int]  # valueType=int: the annotation is the type
    city: Indexed[str | None] = None  # irNull: None, and None can be queried
    bio: str = ""  # in FIELDS, not in INDEXED_FIELDS


def main(url: str) -> None:
    typedredis.connect(url)  # setDefaultRedisConnectionParams({...})

    ann = User(name="ann", age=30, city="Oslo")
    ann.save()
    User(name="bob", age=3).save()
    User(name="ann", age=3).save()
    print(ann.pk)  # getPk()
    #> 1

    anns = User.objects.filter(name="ann").filter(age__ne=3).all()
    print([u.age for u in anns])
    #> [30]
    anns = User.query(User.f.name == "ann", User.f.age != 3).all()  # the typed form
    print([u.age for u in anns])
    #> [30]
    print(User.objects.filter(name="ann").pks())  # getPrimaryKeys(): ascending
    #> [1, 3]
    print(User.objects.filter(city=None).count(), User.objects.count())
    #> 2 3
    print(User.get(1).name, User.get_many([99]))  # get() raises NotFound if missing
    #> ann [None]
    print([u.name for u in User.get_many([1, 2]) if u])  # getMultiple
    #> ['ann', 'bob']

    User.reset([User(name="cy", age=41)])  # atomic, never blocks, pks never reused
    print(User.objects.pks())
    #> [4]
    print(User.objects.filter(name="cy").delete())
    #> 1


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
