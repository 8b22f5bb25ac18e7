"""Design choices of ranges, ordering, pages and bulk writes, shown running."""

import math
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import ValidationError, field_validator, model_validator

import typedredis
from typedredis import DecodeError, Indexed, Model, QueryError, SchemaError, Sorted, Unique


# --8<-- [start:none]
class Task(Model, key="docs_choice_sorted_task"):
    due: Sorted[int | None] = None
    done: Indexed[bool] = False


def none_values() -> None:
    Task.save_all([Task(due=3), Task(), Task(due=1), Task(due=3)])  # pks 1 to 4
    print(Task.query(Task.f.due < 5).pks(), Task.query(Task.f.due == None).pks())  # noqa: E711
    #> [1, 3, 4] [2]
    print(Task.objects.order_by(Task.f.due).pks())  # None first; ties by pk
    #> [2, 3, 1, 4]
    print(Task.objects.order_by(Task.f.due.desc()).pks())  # None last; ties by pk, descending
    #> [4, 1, 3, 2]
# --8<-- [end:none]


# --8<-- [start:nan]
class Measure(Model, key="docs_choice_measure"):
    value: Sorted[float]


def nan_refused() -> None:
    try:
        Measure(value=math.nan).save()  # refused before anything is sent
    except SchemaError as exc:
        print(exc)
        #> Measure.value: NaN has no order, so it cannot be stored in a Sorted field
    Measure.save_all([Measure(value=math.inf), Measure(value=-0.0), Measure(value=0.0)])
    print(Measure.query(Measure.f.value == 0.0).pks(), Measure.query(Measure.f.value > 1e308).pks())
    #> [2, 3] [1]
# --8<-- [end:nan]


# --8<-- [start:strings]
class Word(Model, key="docs_choice_word"):
    text: Sorted[str]


def string_order() -> None:
    Word.save_all([Word(text=t) for t in ("zebra", "Zebra", "émile", "eve", "Eve", "e")])
    print([w.text for w in Word.objects.order_by(Word.f.text).all()])  # code points
    #> ['Eve', 'Zebra', 'e', 'eve', 'zebra', 'émile']
    print(Word.query(Word.f.text.startswith("e")).count())  # case- and accent-sensitive
    #> 2
# --8<-- [end:strings]


# --8<-- [start:datetimes]
class Log(Model, key="docs_choice_log"):
    at: Sorted[datetime]


def naive_and_aware() -> None:
    Log.save_all([
        Log(at=datetime(2030, 1, 1)),  # pk 1, naive
        Log(at=datetime(2020, 1, 1, tzinfo=UTC)),  # pk 2, aware
        Log(at=datetime(2010, 1, 1)),  # pk 3, naive
    ])
    print(Log.objects.order_by(Log.f.at).pks())  # every naive value before every aware one
    #> [3, 1, 2]
    print(Log.query(Log.f.at > datetime(2025, 1, 1)).pks())  # so the aware 2020 is "after"
    #> [1, 2]
# --8<-- [end:datetimes]


# --8<-- [start:numbers]
class Amount(Model, key="docs_choice_amount"):
    exact: Sorted[int | float | Decimal]  # a union of numbers: exact decimal sort keys
    eq: Indexed[int | float] = 0  # an equality index: 1 and 1.0 are two values


def numeric_unions() -> None:
    Amount.save_all([
        Amount(exact=2**53 + 1, eq=1),  # pk 1: above what a double holds exactly
        Amount(exact=float(2**53), eq=1.0),  # pk 2
        Amount(exact=Decimal("9007199254740992.5")),  # pk 3
        Amount(exact=1),  # pk 4
    ])
    print(Amount.objects.order_by(Amount.f.exact).pks())
    #> [4, 2, 3, 1]
    print(Amount.query(Amount.f.exact == 1.0).pks(), Amount.query(Amount.f.eq == 1.0).pks())
    #> [4] [2]
# --8<-- [end:numbers]


# --8<-- [start:only]
class Person(Model, key="docs_choice_person"):
    name: Sorted[str]
    email: Unique[str]
    age: int = 0


def projections() -> None:
    Person.save_all([Person(name="ann", email="a@x.org", age=30), Person(name="bob", email="b@x.org")])
    rows = Person.objects.order_by(Person.f.name).only(Person.f.name, Person.f.age).all()
    print(rows)  # tuples of the values, not half-filled Person objects
    #> [('ann', 30), ('bob', 0)]
    try:
        Person.objects.only()
    except QueryError as exc:
        print(exc)
        #> only() needs at least one field
# --8<-- [end:only]


# --8<-- [start:update]
class Shipment(Model, key="docs_choice_shipment"):
    code: Indexed[str]
    weight: Sorted[float] = 0.0

    @field_validator("code")
    @classmethod
    def upper(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def positive(self) -> "Shipment":
        if self.weight < 0:
            raise ValueError("weight must be >= 0")
        return self


def bulk_update() -> None:
    Shipment(code="ab1", weight=2.0).save()  # stored as "AB1"
    print(Shipment.objects.update(code="xy9", weight=-1.0))  # the field types only
    #> 1
    print(Shipment.objects.filter(code="xy9").count())  # not upper-cased by the validator
    #> 1
    try:
        Shipment.get(1)  # and the model validator rejects what update() stored
    except DecodeError as exc:
        print(type(exc.__cause__).__name__)
        #> ValidationError
    try:
        Shipment.objects.update(weight="heavy")  # the field's type is still checked
    except ValidationError:
        print("validated against float")
        #> validated against float
    try:
        Shipment.objects.order_by(Shipment.f.weight).limit(10).update(weight=0.0)
    except QueryError as exc:
        print(exc)
        #> update() acts on every matching object: remove limit() and offset()
# --8<-- [end:update]


# --8<-- [start:count]
def count_of_a_page() -> None:
    by_due = Task.objects.order_by(Task.f.due)  # 4 tasks
    print(by_due.count(), by_due.limit(3).count(), by_due.offset(3).limit(3).count())
    #> 4 3 1
# --8<-- [end:count]


def main(url: str) -> None:
    typedredis.connect(url)
    none_values()
    nan_refused()
    string_order()
    naive_and_aware()
    numeric_unions()
    projections()
    bulk_update()
    count_of_a_page()


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
