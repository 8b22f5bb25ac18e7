"""The tour on the home page: a model, saves, queries and an atomic reset."""

import typedredis
from typedredis import Indexed, Model


class User(Model, key="docs_quickstart_user"):
    name: Indexed[str]
    age: Indexed[int]
    city: Indexed[str | None] = None  # None is a value like any other
    bio: str = ""  # stored, not indexed


def main(url: str) -> None:
    typedredis.connect(url)

    ann = User(name="ann", age=30, city="Oslo").save()  # assigns ann.pk, never reused
    assert ann.pk is not None  # (pk is int | None: None until saved)
    User.save_all([User(name="bob", age=3), User(name="ann", age=41)])
    print(ann.pk, User.get(ann.pk) == ann)
    #> 1 True

    anns = User.query(User.f.name == "ann", User.f.age != 3).all()  # list[User]
    print([(u.pk, u.age) for u in anns])
    #> [(1, 30), (3, 41)]
    print(User.query((User.f.age == 3) | (User.f.city == "Oslo")).count())
    #> 2
    print(User.objects.filter(name="ann").exclude(age=30).pks())  # Django-style
    #> [3]

    User.reset([User(name="cy", age=7)])  # swaps in a whole new dataset, atomically
    print([(u.pk, u.name) for u in User.objects.all()])
    #> [(4, 'cy')]


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
