"""How-to, pagination: offset pages, "next page" links keyed by the last value, and streaming."""

from collections.abc import Iterator
from datetime import date

import typedredis
from typedredis import Indexed, Model, Query, Sorted, Unique


# --8<-- [start:model]
class Article(Model, key="docs_pages_article"):
    title: str
    section: Indexed[str]
    published: Sorted[date]  # several articles share a day: ties
    issue: Unique[Sorted[int]]  # unique, so no ties: exact "after this one" pages


def fill() -> None:
    days = [date(2024, 3, d) for d in (1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 5, 5)]
    Article.save_all([
        Article(title=f"a{n}", section="sport" if n % 3 == 0 else "news", published=day, issue=100 + n)
        for n, day in enumerate(days, 1)
    ])  # a1 .. a12, pks 1 .. 12; sport: a3, a6, a9, a12


def titles(articles: list[Article]) -> list[str]:
    return [a.title for a in articles]
# --8<-- [end:model]


# --8<-- [start:offset]
def newest_first() -> Query[Article]:
    return Article.objects.order_by(Article.f.published.desc())


def page(number: int, size: int = 5) -> list[Article]:
    """Page ``number`` (from 1) of the articles, newest first."""
    return newest_first().offset((number - 1) * size).limit(size).all()


def offset_pages() -> None:
    total = Article.objects.count()
    print(total, "articles,", -(-total // 5), "pages")  # ceil(total / 5)
    #> 12 articles, 3 pages
    for number in (1, 2, 3, 4):
        print(number, titles(page(number)))
    #> 1 ['a12', 'a11', 'a10', 'a9', 'a8']
    #> 2 ['a7', 'a6', 'a5', 'a4', 'a3']
    #> 3 ['a2', 'a1']
    #> 4 []
    # a9 .. a6 share 2024-03-03: ties go by pk, descending in a descending order, so every
    # request sees them in the same order and no article is on two pages
    print(titles(Article.objects.order_by(Article.f.published).limit(5).all()))  # ascending
    #> ['a1', 'a2', 'a3', 'a4', 'a5']

    # A filtered query pages the same way
    sport = Article.query(Article.f.section == "sport").order_by(Article.f.published.desc())
    print(titles(sport.limit(3).all()), titles(sport.offset(3).limit(3).all()))
    #> ['a12', 'a9', 'a6'] ['a3']
# --8<-- [end:offset]


# --8<-- [start:keyset_wrong]
def keyset_wrong() -> None:
    f = Article.f
    first = newest_first().limit(5).all()
    print(titles(first), first[-1].published)
    #> ['a12', 'a11', 'a10', 'a9', 'a8'] 2024-03-03
    after = Article.query(f.published < first[-1].published).order_by(f.published.desc())
    print(titles(after.limit(5).all()))  # a7 and a6 share a8's day: they are lost
    #> ['a5', 'a4', 'a3', 'a2', 'a1']
# --8<-- [end:keyset_wrong]


# --8<-- [start:keyset_ties]
def pages_after(size: int) -> Iterator[list[Article]]:
    """Newest first, each page continuing from the last value of the one before."""
    f = Article.f
    last: date | None = None  # the last page's last value...
    seen = 0  # ...and how many articles with that value were already shown
    while True:
        query = newest_first()
        if last is not None:
            query = query.filter(f.published <= last).offset(seen)
        articles = query.limit(size).all()
        if not articles:
            return
        yield articles
        value = articles[-1].published
        ties = sum(1 for a in articles if a.published == value)
        seen = seen + ties if value == last else ties
        last = value


def keyset_with_ties() -> None:
    for articles in pages_after(3):
        print(titles(articles))
    #> ['a12', 'a11', 'a10']
    #> ['a9', 'a8', 'a7']
    #> ['a6', 'a5', 'a4']
    #> ['a3', 'a2', 'a1']
    f = Article.f
    page = newest_first().filter(f.published <= date(2024, 3, 3)).offset(1).limit(3)
    print(page.explain())
    #> published <= datetime.date(2024, 3, 3)
    #> order: published descending
    #> page: offset 1, limit 3
    print(page.plan()["strategy"])  # read by rank from the sorted index: O(log N + page)
    #> rank
# --8<-- [end:keyset_ties]


# --8<-- [start:keyset_unique]
def keyset_unique() -> None:
    f = Article.f
    by_issue = Article.objects.order_by(f.issue)
    last = 0
    while articles := by_issue.filter(f.issue > last).limit(5).all():
        print(titles(articles))
        last = articles[-1].issue
    #> ['a1', 'a2', 'a3', 'a4', 'a5']
    #> ['a6', 'a7', 'a8', 'a9', 'a10']
    #> ['a11', 'a12']
# --8<-- [end:keyset_unique]


# --8<-- [start:stream]
def stream() -> None:
    seen = 0
    for article in newest_first().iter(batch=4):  # 1 round trip for the pks, then 1 per 4
        seen += 1
        if article.title == "a10":
            Article.get(1).delete()  # iter() is not a snapshot: a1 is skipped later
    print(seen)
    #> 11
    rows = Article.query(Article.f.section == "sport").only(Article.f.title, Article.f.issue)
    print(list(rows.iter(batch=2)))  # tuples, streamed the same way
    #> [('a3', 103), ('a6', 106), ('a9', 109), ('a12', 112)]
# --8<-- [end:stream]


def main(url: str) -> None:
    typedredis.connect(url)
    fill()
    offset_pages()
    keyset_wrong()
    keyset_with_ties()
    keyset_unique()
    stream()


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
