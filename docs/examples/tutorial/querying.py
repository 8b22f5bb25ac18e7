"""Tutorial, querying: expressions, the Django-style form, and the results."""

from pydantic import ValidationError

import typedredis
from typedredis import Indexed, Model, QueryError


class Book(Model, key="docs_querying_book"):
    title: str
    author: Indexed[str]
    year: Indexed[int]
    series: Indexed[str | None] = None


def main(url: str) -> None:
    typedredis.connect(url)
    Book.save_all([
        Book(title="Emma", author="Austen", year=1815),  # pk 1
        Book(title="Persuasion", author="Austen", year=1817),  # pk 2
        Book(title="Dracula", author="Stoker", year=1897),  # pk 3
        Book(title="Kim", author="Kipling", year=1901),  # pk 4
        Book(title="Hobbit", author="Tolkien", year=1937, series="Middle-earth"),
    ])
    f = Book.f  # the field namespace, to keep the lines short

    # Several expressions are ANDed; != and ~ exclude; | is OR; in_ is "one of"
    print(Book.query(f.author == "Austen", f.year != 1815).pks())
    #> [2]
    print(Book.query((f.author == "Stoker") | (f.year == 1901)).pks())
    #> [3, 4]
    has_series = ~(f.series == None)  # noqa: E711
    print(Book.query(f.author.in_(["Kipling", "Tolkien"]), has_series).pks())
    #> [5]

    # Terminal methods: each one is a single round trip to Redis
    austen = Book.query(f.author == "Austen")
    print([b.title for b in austen.all()])  # ascending pk order
    #> ['Emma', 'Persuasion']
    print(austen.first(), austen.count(), austen.exists())
    #> pk=1 title='Emma' author='Austen' year=1815 series=None 2 True

    # Queries are immutable: filter() and exclude() return new ones
    print(austen.filter(f.year == 1817).pks(), austen.exclude(f.year == 1817).pks())
    #> [2] [1]

    # The Django-style form: field=value, field__ne=value, field__in=[...]
    print(Book.objects.filter(author="Austen").exclude(year=1815).pks())
    #> [2]
    print(Book.objects.filter(series=None, year__ne=1897).count())
    #> 3
    print(Book.objects.count())  # Book.objects is a query of every object
    #> 5

    # explain() shows the condition the query runs inside Redis, as sets and ranges
    print(Book.query(f.author == "Austen", f.year != 1815).explain())
    #> (author == 'Austen' minus year == 1815)

    # Query values are validated against the field's type, before anything is sent
    try:
        Book.query(f.year == "recent")
    except ValidationError as exc:
        print(exc.errors()[0]["type"])
        #> int_parsing

    # An expression is not a bool: `if`, `and`, `or` and `not` on it raise
    try:
        if f.author == "Austen":
            pass
    except QueryError:
        print("not a bool")
        #> not a bool

    # delete() removes every match (with its index entries) and says how many
    print(Book.query(f.author == "Austen").delete(), Book.objects.count())
    #> 2 3


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
