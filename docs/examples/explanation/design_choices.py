"""Design choices, shown running: where typedredis may not do what you expect."""

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator

import typedredis
from typedredis import Indexed, Model, SchemaError


# --8<-- [start:members]
class Reading(Model, key="docs_choice_reading"):
    value: Indexed[bool | int | float | str | None]
    amount: Indexed[Decimal] = Decimal(0)
    at: Indexed[datetime | None] = None


def index_equality() -> None:
    Reading.save_all([Reading(value=v) for v in (True, 1, 1.0, "1")])  # pks 1, 2, 3, 4
    print([Reading.query(Reading.f.value == v).pks() for v in (True, 1, 1.0, "1")])
    #> [[1], [2], [3], [4]]

    Reading.save_all([
        Reading(value=-0.0, amount=Decimal("1.0")),  # pk 5
        Reading(value=math.nan, at=datetime(2024, 1, 1, 12, tzinfo=UTC)),  # pk 6
    ])
    value = Reading.f.value
    print(Reading.query(value == 0.0).pks(), Reading.query(value == math.nan).pks())
    #> [5] [6]
    print(Reading.query(Reading.f.amount == Decimal("1.00")).pks())
    #> [5]
    noon_in_oslo = datetime(2024, 1, 1, 13, tzinfo=ZoneInfo("Europe/Oslo"))  # = 12:00Z
    print(Reading.query(Reading.f.at == noon_in_oslo).pks())
    #> [6]
    print(Reading.query(Reading.f.at == datetime(2024, 1, 1, 12)).pks())  # naive
    #> []
    print(Reading.get(5).value)  # the stored value itself is kept exactly
    #> -0.0
# --8<-- [end:members]


# --8<-- [start:datetimes]
class Meeting(Model, key="docs_choice_meeting"):
    starts: datetime


def datetimes() -> None:
    aware = Meeting(starts=datetime(2024, 6, 1, 9, tzinfo=ZoneInfo("Europe/Oslo")))
    naive = Meeting(starts=datetime(2024, 6, 1, 9))
    Meeting.save_all([aware, naive])
    aware_back, naive_back = Meeting.objects.all()
    print(repr(aware_back.starts.tzinfo))  # a fixed offset, not the Europe/Oslo zone
    #> datetime.timezone(datetime.timedelta(seconds=7200))
    print(naive_back.starts.tzinfo)  # naive stays naive
    #> None
    print(aware_back == aware)  # the same instant, so the objects are equal
    #> True
# --8<-- [end:datetimes]


# --8<-- [start:pks]
class Ticket(Model, key="docs_choice_ticket"):
    title: Indexed[str]


def primary_keys() -> None:
    first = Ticket(title="a").save()
    second = Ticket(title="b").save()
    second.delete()
    Ticket.reset([Ticket(title="c")])
    print(first.pk, second.pk, Ticket.objects.pks(), Ticket(title="d").save().pk)
    #> 1 2 [3] 4

    Ticket(pk=10, title="mine").save()  # a pk you choose is kept...
    print(Ticket(title="e").save().pk)  # ...and counting continues above it
    #> 11
    second.save()  # a deleted object that is saved again comes back under its old pk
    print(Ticket.objects.pks(), Ticket.objects.first())  # first(): the lowest pk
    #> [2, 3, 4, 10, 11] pk=2 title='b'
    try:
        Ticket(pk=0, title="zero")
    except ValidationError:
        print("pks are 1 .. 2**53-1")
        #> pks are 1 .. 2**53-1
# --8<-- [end:pks]


# --8<-- [start:subclasses]
class Animal(Model, key="docs_choice_animal"):
    name: Indexed[str]


class Dog(Animal, key="docs_choice_dog"):
    good: bool = True


def subclasses() -> None:
    Animal(name="rex").save()
    Dog(name="rex").save()
    print(Animal.objects.count(), Dog.objects.count())  # no polymorphic queries
    #> 1 1
    print(Dog.query(Animal.f.name == "rex").count())  # Animal expressions filter Dogs
    #> 1
# --8<-- [end:subclasses]


# --8<-- [start:keys]
def key_names() -> None:
    class DocsHTTPRequestLog(Model):  # the key is "docs_http_request_log"
        path: str

    try:

        class RequestLog(Model, key="docs_http_request_log"):
            path: str

    except SchemaError as exc:
        print("...would" + str(exc).split(" would")[1])
        #> ...would share the key 'docs_http_request_log'; give one of them ...
# --8<-- [end:keys]


# --8<-- [start:validation]
class Member(Model, key="docs_choice_member"):
    email: Indexed[str]
    code: Indexed[Annotated[str, Field(max_length=4)]] = "none"
    age: Indexed[int] = 0

    @field_validator("email")
    @classmethod
    def lower(cls, value: str) -> str:
        return value.lower()


def query_validation() -> None:
    Member(email="Ann@Example.org", age=30).save()  # stored as "ann@example.org"
    print(Member.objects.filter(email="Ann@Example.org").count())  # validators: no...
    #> 0
    print(Member.objects.filter(email="ann@example.org").count())  # ...normalise first
    #> 1
    print(Member.objects.filter(age="30").count())  # the field type: "30" becomes 30
    #> 1
    try:
        Member.f.code == "too long"  # noqa: B015 - and so do constraints on the type
    except ValidationError:
        print("max_length applies")
        #> max_length applies

    member = Member(email="bob@example.org")
    try:
        member.age = "old"  # type: ignore[assignment]  # validate_assignment=True
    except ValidationError:
        print("assignments are validated")
        #> assignments are validated
# --8<-- [end:validation]


# --8<-- [start:negation]
class Task(Model, key="docs_choice_task"):
    owner: Indexed[str | None] = None
    done: Indexed[bool] = False


def negation() -> None:
    Task.save_all([Task(owner="ann"), Task(owner=None), Task(owner="bob", done=True)])
    print(Task.query(Task.f.owner != "ann").pks())  # includes the owner None
    #> [2, 3]
    print(Task.objects.exclude(owner="bob", done=True).pks())  # NOT (bob AND done)
    #> [1, 2]
    print(Task.query(Task.f.owner.in_([])).count())  # provably empty: nothing is sent
    #> 0
# --8<-- [end:negation]


# --8<-- [start:last_writer]
class Counter(Model, key="docs_choice_counter"):
    name: Indexed[str]
    hits: int = 0
    note: str = ""


def last_writer_wins() -> None:
    Counter(name="home").save()
    mine, theirs = Counter.get(1), Counter.get(1)  # two copies, in two processes say
    mine.hits = 1
    mine.save()  # writes hits only
    theirs.note = "checked"
    theirs.save()  # writes note only: hits stays 1
    print(Counter.get(1))
    #> pk=1 name='home' hits=1 note='checked'
    mine.note, theirs.note = "mine", "theirs"
    mine.save()
    theirs.save()  # the same field: the last writer wins
    print(Counter.get(1).note)
    #> theirs
    Counter(pk=1, name="home").save()  # built in memory: written whole
    print(Counter.get(1))
    #> pk=1 name='home' hits=0 note=''
# --8<-- [end:last_writer]


def main(url: str) -> None:
    typedredis.connect(url)
    index_equality()
    datetimes()
    primary_keys()
    subclasses()
    key_names()
    query_validation()
    negation()
    last_writer_wins()


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
