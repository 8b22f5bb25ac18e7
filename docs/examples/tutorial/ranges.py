"""Tutorial, querying: ranges, prefixes, ordering and pages on Sorted fields."""

import typedredis
from typedredis import Indexed, Model, Sorted


class Book(Model, key="docs_ranges_book"):
    title: Sorted[str]  # Sorted: <, <=, >, >=, between, startswith and order_by
    author: Indexed[str]
    year: Sorted[int]


def main(url: str) -> None:
    typedredis.connect(url)
    Book.save_all([
        Book(title="Emma", author="Austen", year=1815),  # pk 1
        Book(title="Persuasion", author="Austen", year=1817),  # pk 2
        Book(title="Dracula", author="Stoker", year=1897),  # pk 3
        Book(title="Kim", author="Kipling", year=1901),  # pk 4
        Book(title="Hobbit", author="Tolkien", year=1937),  # pk 5
        Book(title="Dubliners", author="Joyce", year=1914),  # pk 6
    ])
    f = Book.f

    # Ranges: exact comparisons, evaluated in Redis like every other condition
    print(Book.query(f.year < 1900).pks(), Book.query(f.year.between(1897, 1914)).pks())
    #> [1, 2, 3] [3, 4, 6]
    print(Book.query(f.title.startswith("D"), f.author != "Stoker").pks())
    #> [6]
    print(Book.objects.filter(year__gte=1900, author__in=["Kipling", "Joyce"]).pks())
    #> [4, 6]

    # Ordering and pages: order_by a Sorted field, then offset and limit, on the server
    newest = Book.objects.order_by(f.year.desc())
    print([b.title for b in newest.limit(3).all()])
    #> ['Hobbit', 'Dubliners', 'Kim']
    print([b.title for b in newest.offset(3).limit(3).all()])
    #> ['Dracula', 'Persuasion', 'Emma']
    print(Book.query(f.author == "Austen").order_by(f.title).only(f.title, f.year).all())
    #> [('Emma', 1815), ('Persuasion', 1817)]


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
