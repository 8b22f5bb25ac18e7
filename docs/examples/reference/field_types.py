"""Field types: every type below is stored and read back exactly, indexed or not."""

import enum
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from ipaddress import IPv4Address
from pathlib import PurePosixPath

from pydantic import BaseModel

import typedredis
from typedredis import Indexed, Model


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):  # a plain pydantic model, nested
    street: str
    zip: str


class Everything(Model, key="docs_types_everything"):
    text: Indexed[str]
    number: Indexed[int]
    huge: Indexed[int]
    ratio: Indexed[float]
    flag: Indexed[bool]
    maybe: Indexed[str | None]
    raw: Indexed[bytes]
    money: Indexed[Decimal]
    ident: Indexed[uuid.UUID]
    colour: Indexed[Colour]
    when: Indexed[datetime]
    day: Indexed[date]
    clock: Indexed[time]
    span: Indexed[timedelta]
    pair: Indexed[tuple[int, str]]
    labels: Indexed[frozenset[str]]
    scores: dict[str, list[float]]
    address: Address
    either: int | str
    ip: IPv4Address
    path: PurePosixPath


def main(url: str) -> None:
    typedredis.connect(url)
    original = Everything(
        text="naïve: {*}\n",
        number=2**64 - 1,
        huge=-(2**100),
        ratio=-1.5e-300,
        flag=False,
        maybe=None,
        raw=b"\x00\xff",
        money=Decimal("19.990"),
        ident=uuid.UUID(int=7),
        colour=Colour.GREEN,
        when=datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
        day=date(1, 1, 1),
        clock=time(12, 30, tzinfo=UTC),
        span=timedelta(days=-1, microseconds=1),
        pair=(1, "a"),
        labels=frozenset({"x", "y"}),
        scores={"a": [1.0, 2.5]},
        address=Address(street="Main St 1", zip="0150"),
        either="7",
        ip=IPv4Address("192.0.2.1"),
        path=PurePosixPath("/srv/data"),
    ).save()
    back = Everything.get(1)
    print(back == original, type(back.either).__name__, back.money, back.colour)
    #> True str 19.990 Colour.GREEN

    # Every indexed field finds the object by its own value
    f = Everything.f
    conditions = [
        f.text == "naïve: {*}\n",
        f.huge == -(2**100),
        f.maybe == None,  # noqa: E711
        f.raw == b"\x00\xff",
        f.money == Decimal("19.99"),
        f.colour == Colour.GREEN,
        f.labels == frozenset({"y", "x"}),
        f.pair == (1, "a"),
        f.span == timedelta(days=-1, microseconds=1),
        f.when == datetime(2024, 3, 1, 4, 59, 59, 999999, tzinfo=UTC),
    ]
    print([Everything.query(condition).pks() for condition in conditions])
    #> [[1], [1], [1], [1], [1], [1], [1], [1], [1], [1]]


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
