"""Tutorial, a first model: fields, indexes, validation and the key name."""

from datetime import date

from pydantic import ValidationError

from typedredis import Indexed, Model, QueryError


class Book(Model, key="docs_tutorial_book"):
    title: str  # stored, not indexed
    author: Indexed[str]  # indexed: can be queried with ==, != and in_
    year: Indexed[int]
    published: date | None = None
    tags: tuple[str, ...] = ()


class DocsTutorialShelf(Model):  # no key=: the class name in snake case
    label: Indexed[str]


def main(url: str) -> None:
    book = Book(title="Emma", author="Austen", year=1815)
    print(book)
    #> pk=None title='Emma' author='Austen' year=1815 published=None tags=()

    # A Model is a pydantic model: values are validated when they are set...
    try:
        Book(title="Emma", author="Austen", year="eighteen-fifteen")
    except ValidationError as exc:
        print(exc.errors()[0]["type"])  # pydantic's error code (its "msg" is for humans)
        #> int_parsing
    # ... and when they are assigned (validate_assignment=True)
    try:
        book.year = "soon"  # type: ignore[assignment]
    except ValidationError as exc:
        print(exc.errors()[0]["loc"])
        #> ('year',)

    # Book.f is the field namespace: this is an expression, not a bool
    print(Book.f.author == "Austen")
    #> Book.f.author == 'Austen'
    try:
        Book.f.title == "Emma"  # noqa: B015 - title is not indexed
    except QueryError as exc:
        print(exc)  # names the field and the fix
        #> Book.title is not indexed, so it cannot be queried; annotate it as `title: Indexed[...]` ...

    # Every Redis key of a model starts with its key name in braces (a hash tag)
    print(Book.spec().keys.meta, DocsTutorialShelf.spec().keys.meta)
    #> b'{docs_tutorial_book}:meta' b'{docs_tutorial_shelf}:meta'


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
