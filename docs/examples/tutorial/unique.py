"""Tutorial, saving: Unique fields, UniqueViolation and get_by."""

import typedredis
from typedredis import Model, Sorted, Unique, UniqueViolation


class Account(Model, key="docs_unique_account"):
    email: Unique[str]  # no two accounts may share an email
    handle: Unique[str | None] = None  # None is exempt: many accounts may have none
    joined: Sorted[int] = 0


def main(url: str) -> None:
    typedredis.connect(url)
    Account(email="ann@example.org", handle="ann").save()  # pk 1
    Account(email="bob@example.org").save()  # pk 2, no handle
    Account(email="cy@example.org").save()  # pk 3, no handle either: fine

    try:
        Account(email="ann@example.org").save()
    except UniqueViolation as exc:  # raised by the save script, which wrote nothing
        print(exc)
        #> Account.email must be unique, and 'ann@example.org' would be shared
        print(exc.field, exc.value)
        #> email ann@example.org

    # save_all checks the list's final state: a violation anywhere writes nothing
    try:
        Account.save_all([Account(email="dan@example.org"), Account(email="bob@example.org")])
    except UniqueViolation as exc:
        print(exc.value, Account.objects.count())
        #> bob@example.org 3

    # ... and values may move between objects saved together
    ann, bob = Account.get(1), Account.get(2)
    ann.handle, bob.handle = None, "ann"
    Account.save_all([ann, bob])
    print(Account.get_by(Account.f.handle, "ann").email)  # the object with that value
    #> bob@example.org


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
