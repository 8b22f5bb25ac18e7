"""Tutorial, saving and loading: save, get, update, delete, and the bulk forms."""

import typedredis
from typedredis import Indexed, Model, NotFound


class Book(Model, key="docs_saving_book"):
    title: str
    author: Indexed[str]
    year: Indexed[int]


def main(url: str) -> None:
    typedredis.connect(url)

    emma = Book(title="Emma", author="Austen", year=1815)
    emma.save()  # inserts, and assigns the primary key
    print(emma.pk)
    #> 1

    # get: one object by pk; a missing pk raises NotFound
    print(Book.get(1))
    #> pk=1 title='Emma' author='Austen' year=1815
    try:
        Book.get(99)
    except NotFound as exc:
        print(exc)
        #> no Book with pk=99

    # Update: change the object and save it again (the same pk, the index follows)
    emma.year = 1816
    emma.save()
    print(Book.objects.filter(year=1815).count(), Book.objects.filter(year=1816).count())
    #> 0 1

    # save_all: many objects, pipelined; save() returns the object
    Book.save_all([
        Book(title="Persuasion", author="Austen", year=1817),
        Book(title="Ulysses", author="Joyce", year=1922),
    ])
    dracula = Book(title="Dracula", author="Stoker", year=1897).save()
    print(dracula.pk)
    #> 4

    # get_many: one round trip, in the order asked, None where nothing is stored
    print([b.title if b else None for b in Book.get_many([4, 7, 2])])
    #> ['Dracula', None, 'Persuasion']

    # delete: True if the object was stored; delete_many: how many were
    print(dracula.delete(), dracula.delete())
    #> True False
    print(Book.delete_many([2, 3, 12]))
    #> 2

    # Primary keys are never handed out twice, not even after a delete
    print(Book(title="Kim", author="Kipling", year=1901).save().pk)
    #> 5


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
