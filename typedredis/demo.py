"""``python -m typedredis demo``: a short, printed tour of models, saves, queries and reset.

It starts a private redis-server (from PATH, or the one bundled by the ``embedded`` extra)
unless ``TYPEDREDIS_URL`` names a server to use; on such a server it only touches the keys of
its own models (``{typedredis-demo:...}``) and removes them at the end.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import redis

import typedredis
from typedredis import Indexed, Model, Sorted, Unique
from typedredis.testing import RedisServer


class City(Model, key="typedredis-demo:city"):
    """A demo model: two indexed fields and one stored-only field."""

    name: Indexed[str]
    country: Indexed[str]
    population: int = 0


class User(Model, key="typedredis-demo:user"):
    """The README's model."""

    name: Indexed[str]
    age: Indexed[int]
    city: Indexed[str | None] = None
    bio: str = ""


class Event(Model, key="typedredis-demo:event"):
    """Range, prefix and unique indexes."""

    kind: Indexed[str]
    size: Sorted[int]
    title: Sorted[str]
    slug: Unique[str]


def _show(out: Callable[[str], None], source: str) -> object:
    """Print a line of code and what it returns (the tour runs exactly the code it shows)."""
    result = eval(source, {"User": User, "City": City, "Event": Event})
    out(f"{source:<62} -> {result!r}")
    return result


def tour(out: Callable[[str], None] = print) -> None:
    """Run the tour against the current connection, printing what happens."""
    out("\n== Save: one Redis hash per object, msgpack values, pk from a server-side counter")
    ann = User(name="ann", age=30, city="Oslo").save()
    User.save_all([User(name="bob", age=3), User(name="cy", age=30, city="Rome"), User(name="ann", age=41)])
    out(f"User(name='ann', age=30, city='Oslo').save() -> pk={ann.pk}; save_all() stored 3 more")
    _show(out, "User.get(1)")
    _show(out, "User.get_many([2, 9])")

    out("\n== Query: expressions compile to set operations that run on the server, in one round trip")
    query = _show(out, 'User.query(User.f.name == "ann", User.f.age != 3)')
    assert isinstance(query, typedredis.Query)
    out("  which runs:  " + query.explain().replace("\n", "\n               "))
    _show(out, 'User.query(User.f.name == "ann", User.f.age != 3).all()')
    _show(out, "User.query((User.f.age == 30) | ~(User.f.city == None)).count()")
    _show(out, 'User.query(User.f.name.in_(["bob", "cy"])).pks()')
    _show(out, 'User.objects.filter(name="ann").exclude(age=30).first()')
    try:
        User.query(User.f.bio == "x")
    except typedredis.QueryError as exc:
        source = 'User.query(User.f.bio == "x")'
        out(f"{source:<62} -> QueryError: {exc}")

    out("\n== Sorted and Unique fields: exact ranges, prefixes, server-side ordering and pages")
    Event.save_all(
        [
            Event(
                kind="talk" if i % 2 else "demo",
                size=i * 10,
                title=f"{'Re' if i % 3 else 'Fw'}: {i}",
                slug=f"e{i}",
            )
            for i in range(1, 11)
        ]
    )
    _show(out, "Event.query(Event.f.size >= 30, Event.f.size < 60).pks()")
    _show(out, 'Event.query(Event.f.title.startswith("Fw")).count()')
    _show(out, 'Event.query(Event.f.kind == "talk").order_by(Event.f.size.desc()).limit(2).pks()')
    _show(
        out, "Event.objects.order_by(Event.f.size).offset(2).limit(3).only(Event.f.slug, Event.f.size).all()"
    )
    try:
        Event(kind="talk", size=1, title="dup", slug="e1").save()
    except typedredis.UniqueViolation as exc:
        source = "Event(..., slug='e1').save()"
        out(f"{source:<62} -> UniqueViolation: {exc}")

    out("\n== Update: a save writes what changed, moving index entries from the *stored* old values")
    ann.city = "Paris"
    ann.save()
    out("ann.city = 'Paris'; ann.save()")
    _show(out, 'User.query(User.f.city == "Oslo").pks()')
    _show(out, 'User.query(User.f.city == "Paris").pks()')
    _show(out, "User.query(User.f.age == 30).delete()")

    out("\n== Reset: stage a whole new dataset, switch in O(1), clean the old one up incrementally")
    City.reset([City(name=f"old-{i}", country="A") for i in range(20_000)])
    out("City.reset(20 000 cities of country A); now a reader thread queries in a loop while")
    seen: dict[int, int] = {}
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            count = City.query(City.f.country.in_(["A", "B"])).count()
            seen[count] = seen.get(count, 0) + 1

    thread = threading.Thread(target=reader)
    thread.start()
    started = time.perf_counter()
    City.reset([City(name=f"new-{i}", country="B", population=i) for i in range(30_000)])
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join()
    out(f"City.reset(30 000 cities of country B) took {elapsed:.2f}s")
    out(f"the reader's counts of country A or B, and how often it saw each: {dict(sorted(seen.items()))}")
    _show(out, "City.objects.count()")


def _cleanup(client: redis.Redis) -> None:
    for model in (User, City, Event):
        model.reset([])
        client.delete(model.spec().keys.meta)


def main() -> None:
    """Entry point of ``python -m typedredis demo``."""
    url = os.environ.get("TYPEDREDIS_URL")
    if url:
        print(f"Using TYPEDREDIS_URL={url} (only the demo's own keys are touched)")
        client = typedredis.connect(url)
        _cleanup(client)
        try:
            tour()
        finally:
            _cleanup(client)
        return
    with RedisServer() as server:
        print(f"Started a private redis-server {server.version} ({server.binary}) on {server.url}")
        typedredis.connect(server.url)
        tour()
    print("\nStopped the private server. Set TYPEDREDIS_URL to run the demo against your own Redis.")
