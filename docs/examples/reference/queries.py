"""Queries reference: every operator and terminal method, with what each runs in Redis."""

from datetime import UTC, datetime

from pydantic import ValidationError

import typedredis
from typedredis import Indexed, InvalidValue, Model, NotFound, QueryError, Sorted, Unique, UniqueViolation


# --8<-- [start:model]
class Event(Model, key="docs_queries_event"):
    kind: Indexed[str]  # equality index: one set per value
    size: Sorted[int]  # range index: one sorted set, exact order
    title: Sorted[str]  # ranges, order_by and startswith (code-point order)
    at: Sorted[datetime]
    slug: Unique[str]  # an equality index whose values are unique
    room: Indexed[Sorted[str]] = "main"  # both: == uses the set, < and order_by the sorted set
    note: str = ""  # stored, not queryable


def day(d: int, hour: int) -> datetime:
    return datetime(2024, 5, d, hour, tzinfo=UTC)


def fill() -> None:
    Event.save_all([
        Event(kind="talk", size=30, title="Redis internals", at=day(1, 10), slug="internals"),
        Event(kind="talk", size=120, title="Rust for Pythonistas", at=day(1, 11), slug="rust"),
        Event(kind="workshop", size=15, title="Lua scripting", at=day(2, 9), slug="lua", room="b"),
        Event(kind="talk", size=120, title="Range queries", at=day(2, 10), slug="ranges"),
        Event(kind="keynote", size=500, title="Opening", at=day(1, 9), slug="opening"),
        Event(kind="workshop", size=30, title="Redis on k8s", at=day(3, 9), slug="k8s", room="b"),
    ])  # pks 1 to 6
# --8<-- [end:model]


# --8<-- [start:equality]
def equality() -> None:
    f = Event.f
    print(Event.query(f.kind == "talk").pks(), Event.query(f.kind != "talk").pks())
    #> [1, 2, 4] [3, 5, 6]
    print(Event.query(f.kind.in_(["keynote", "workshop"])).pks())
    #> [3, 5, 6]
    print(Event.query((f.kind == "talk") & (f.room == "main")).pks())  # same as query(a, b)
    #> [1, 2, 4]
    print(Event.query((f.kind == "keynote") | (f.room == "b")).pks())
    #> [3, 5, 6]

    # explain() shows the condition as the compiler normalised it
    print(Event.query(f.kind == "talk", f.room != "b").explain())  # a & ~b: a difference
    #> (kind == 'talk' minus room == 'b')
    print(Event.query(f.kind != "talk").explain())  # ~a alone: every object minus a
    #> (all minus kind == 'talk')
    print(Event.query(f.kind.in_(["keynote", "workshop"]), f.room == "b").explain())
    #> (kind in ['keynote', 'workshop'] and room == 'b')
    print(Event.query(f.kind.in_([])).explain())  # provably empty: no round trip at all
    #> (empty result: nothing is sent to Redis)

    # plan() asks Redis how it would answer, from the sizes of the sets involved
    print(Event.query(f.kind == "talk").plan("count"))  # the set's size: SCARD
    #> {'strategy': 'exact', 'matches': 3, 'cost': 0, 'objects': 6}
    print(Event.query(f.kind != "talk").plan("count"))  # every object minus the set's size
    #> {'strategy': 'exact', 'matches': 3, 'cost': 10, 'objects': 6}
    print(Event.query(f.kind == "talk", f.room != "b").plan("fetch"))  # set operations
    #> {'strategy': 'sets', 'matches': 3, 'cost': 2, 'objects': 6}
# --8<-- [end:equality]


# --8<-- [start:ranges]
def ranges() -> None:
    f = Event.f
    print(Event.query(f.size < 30).pks(), Event.query(f.size <= 30).pks())
    #> [3] [1, 3, 6]
    print(Event.query(f.size > 120).pks(), Event.query(f.size >= 120).pks())
    #> [5] [2, 4, 5]
    print(Event.query(f.at.between(day(1, 10), day(2, 10))).pks())  # both ends included
    #> [1, 2, 3, 4]
    print(Event.query(f.title.startswith("Re")).pks())  # a prefix is a range of strings
    #> [1, 6]
    print(Event.query(f.size == 120).pks(), Event.query(f.size.in_([15, 500])).pks())
    #> [2, 4] [3, 5]

    # A range alone is counted from the sorted index (ZLEXCOUNT), whatever its size
    print(Event.query(f.size >= 100).plan("count"))
    #> {'strategy': 'exact', 'matches': 3, 'cost': 4, 'objects': 6}
    print(Event.query(f.kind == "talk", f.title.startswith("R")).explain())
    #> (kind == 'talk' and title.startswith('R'))

    # Two comparisons of one field are merged into one range, the same scan as between()
    print(Event.query(f.size >= 20, f.size <= 200).explain())
    #> size >= 20 and <= 200
    print(Event.query(f.size.between(20, 200)).explain())
    #> size.between(20, 200)

    # On a field that is Indexed and Sorted, == uses the set; on a Sorted-only one, a range
    print(Event.query(f.room == "b").formula())
    #> Key(field='room', member=b'\xa1b')

    # Ranges need a Sorted field
    try:
        Event.query(f.kind < "talk")
    except QueryError as exc:
        print(exc)
        #> Event.kind has no range index, so it cannot be compared with <, <=, >, >=, between, ...
# --8<-- [end:ranges]


# --8<-- [start:invalid]
def invalid_values() -> None:
    f = Event.f
    try:
        Event.query(f.size < "big")  # refused when the expression is built: nothing is sent
    except InvalidValue as exc:
        print(str(exc).split(":")[0], exc.model, exc.field)  # the message names model.field
        #> Event.size Event size
        print(exc.errors()[0]["type"])  # pydantic's error list, as for any ValidationError
        #> int_parsing
        print(isinstance(exc, QueryError), isinstance(exc, ValidationError))
        #> True True
    try:
        Event.objects.filter(kind="talk").update(size="huge")  # update() values too
    except InvalidValue as exc:
        print(exc.field, exc.errors()[0]["type"])
        #> size int_parsing
    try:
        Event.objects.order_by(f.at).limit(-1)
    except QueryError as exc:
        print(exc)
        #> limit() takes an int from 0 to 2**53 - 1, got -1
# --8<-- [end:invalid]


# --8<-- [start:lookups]
def lookups() -> None:
    events = Event.objects  # a query of every object
    print(events.filter(kind="talk", size__gte=100).pks())
    #> [2, 4]
    print(events.filter(kind__in=["talk", "keynote"], kind__ne="talk").pks())
    #> [5]
    print(events.filter(size__gt=15, size__lt=500, title__startswith="R").pks())
    #> [1, 2, 4, 6]
    print(events.filter(at__lte=day(1, 23)).exclude(size__lt=100).pks())
    #> [2, 5]
    try:
        events.filter(size__between=(1, 2))
    except QueryError as exc:
        print(exc)
        #> unknown lookup 'size__between': use size=, size__ne=, size__in=, __lt= ...
# --8<-- [end:lookups]


# --8<-- [start:ordering]
def ordering() -> None:
    f = Event.f
    by_size = Event.objects.order_by(f.size)  # ties (30, 120) by pk, ascending
    print(by_size.pks())
    #> [3, 1, 6, 2, 4, 5]
    print(Event.objects.order_by(f.size.desc()).pks())  # ties by pk, descending
    #> [5, 4, 2, 6, 1, 3]
    print(by_size.offset(2).limit(3).pks())  # a page: applied on the server
    #> [6, 2, 4]
    print(Event.query(f.kind == "talk").order_by(f.at.desc()).first().title)
    #> Range queries
    print(Event.query(f.kind == "talk").offset(1).limit(1).pks())  # no order_by: by pk
    #> [2]

    # count() and exists() of a page: the whole result's count, then offset and limit
    print(by_size.offset(4).limit(10).count(), by_size.offset(6).exists())
    #> 2 False

    print(Event.query(f.kind == "talk").order_by(f.at).offset(20).limit(10).explain())
    #> kind == 'talk'
    #> order: at ascending
    #> page: offset 20, limit 10
# --8<-- [end:ordering]


# --8<-- [start:terminal]
def terminal() -> None:
    f = Event.f
    talks = Event.query(f.kind == "talk")  # nothing runs until a terminal method
    print(talks.count(), talks.exists(), talks.pks())
    #> 3 True [1, 2, 4]
    print([e.slug for e in talks.all()], talks.first().slug)
    #> ['internals', 'rust', 'ranges'] internals

    # only(): some fields, as tuples (typed: list[tuple[str, int]])
    print(talks.order_by(f.size.desc()).only(f.title, f.size).all())
    #> [('Range queries', 120), ('Rust for Pythonistas', 120), ('Redis internals', 30)]
    print(talks.only(f.slug, f.at).first())  # a tuple, or None
    #> ('internals', datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.timezone.utc))

    # iter(): the matching pks in one round trip, then the objects batch by batch
    print([e.pk for e in Event.objects.order_by(f.at).iter(batch=4)])
    #> [5, 1, 2, 3, 4, 6]
# --8<-- [end:terminal]


# --8<-- [start:lookup_by_key]
def by_key() -> None:
    print(Event.get(3).slug, [e and e.slug for e in Event.get_many([5, 99, 1])])
    #> lua ['opening', None, 'internals']
    print(Event.get_by(Event.f.slug, "rust").pk)  # a query of one Unique value
    #> 2
    try:
        Event.get_by(Event.f.slug, "nope")
    except NotFound as exc:
        print(exc)
        #> no Event with slug='nope'
# --8<-- [end:lookup_by_key]


# --8<-- [start:writes]
def writes() -> None:
    f = Event.f
    # update(): one script; index entries follow; returns how many objects it changed
    print(Event.query(f.kind == "workshop").update(room="lab", size=20))
    #> 2
    print(Event.query(f.room == "lab", f.size == 20).pks())
    #> [3, 6]
    try:
        Event.query(f.kind == "talk").update(slug="same")  # 3 objects, one unique value
    except UniqueViolation as exc:
        print(exc.field, exc.value)
        #> slug same
    try:
        Event.objects.order_by(f.at).limit(2).delete()  # acts on every match, so refused
    except QueryError as exc:
        print(exc)
        #> delete() acts on every matching object: remove limit() and offset()

    print(Event.query(f.at < day(2, 0)).delete(), Event.objects.count())
    #> 3 3
# --8<-- [end:writes]


def main(url: str) -> None:
    typedredis.connect(url)
    fill()
    equality()
    ranges()
    invalid_values()
    lookups()
    ordering()
    terminal()
    by_key()
    writes()


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
