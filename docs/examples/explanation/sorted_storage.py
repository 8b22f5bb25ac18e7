"""Storage layout: the sorted sets of Sorted fields, and the sort keys they hold."""

from datetime import UTC, datetime
from decimal import Decimal

import redis

import typedredis
from typedredis import Model, Sorted, Unique


class Price(Model, key="docs_storage_price"):
    sku: Unique[str]
    amount: Sorted[Decimal]
    name: Sorted[str | None] = None


def main(url: str) -> None:
    typedredis.connect(url)
    r = redis.Redis.from_url(url)
    Price.save_all([
        Price(sku="a", amount=Decimal("9.50"), name="Tea"),  # pk 1
        Price(sku="b", amount=Decimal("10"), name="Coffee"),  # pk 2
        Price(sku="c", amount=Decimal("-1.25")),  # pk 3, no name
    ])
    for key in sorted(r.scan_iter(match="{docs_storage_price}*")):  # SCAN: for a demo
        print(r.type(key), key)
    #> b'zset' b'{docs_storage_price}:0:all'
    #> b'set' b'{docs_storage_price}:0:i:sku:\xa1a'
    #> b'set' b'{docs_storage_price}:0:i:sku:\xa1b'
    #> b'set' b'{docs_storage_price}:0:i:sku:\xa1c'
    #> b'zset' b'{docs_storage_price}:0:ix'
    #> b'hash' b'{docs_storage_price}:0:o:1'
    #> b'hash' b'{docs_storage_price}:0:o:2'
    #> b'hash' b'{docs_storage_price}:0:o:3'
    #> b'zset' b'{docs_storage_price}:0:s:amount'
    #> b'zset' b'{docs_storage_price}:0:s:name'
    #> b'hash' b'{docs_storage_price}:0:schema'
    #> b'hash' b'{docs_storage_price}:meta'

    # One sorted set per Sorted field, every score 0: each member is the value's sort key
    # followed by the 8-byte pk, and ZRANGEBYLEX compares members byte by byte
    for member, score in r.zrange(b"{docs_storage_price}:0:s:amount", 0, -1, withscores=True):
        print(score, member[:-8].hex(" "), "| pk", member[-8:].hex(" "))
    #> 0.0 01 01 7e fe f2 cc ff | pk 00 00 00 00 00 00 00 03
    #> 0.0 01 03 81 01 60 00 | pk 00 00 00 00 00 00 00 01
    #> 0.0 01 03 81 02 0b 00 | pk 00 00 00 00 00 00 00 02
    for member in r.zrange(b"{docs_storage_price}:0:s:name", 0, -1):
        print(member[:-8], int.from_bytes(member[-8:], "big"))
    #> b'\x00' 3
    #> b'\x01Coffee\x00\x00' 2
    #> b'\x01Tea\x00\x00' 1

    # The hash keeps each sort key under "~<field>", so saves and deletes find the old entry
    print({k: v for k, v in r.hgetall(b"{docs_storage_price}:0:o:1").items() if k[:1] == b"~"})
    #> {b'~amount': b'\x01\x03\x81\x01`\x00', b'~name': b'\x01Tea\x00\x00'}

    # Sort keys are exact where a double score would round: 2**53 + 1 and 2**53 differ
    class Big(Model, key="docs_storage_big"):
        n: Sorted[int]
        at: Sorted[datetime]

    Big.save_all([
        Big(n=2**53 + 1, at=datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC)),
        Big(n=2**53, at=datetime(2024, 1, 1, tzinfo=UTC)),
    ])
    print(Big.objects.order_by(Big.f.n).pks(), Big.query(Big.f.n > 2**53).pks())
    #> [2, 1] [1]
    print(Big.query(Big.f.at > datetime(2024, 1, 1, tzinfo=UTC)).pks())  # 1 microsecond later
    #> [1]


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
