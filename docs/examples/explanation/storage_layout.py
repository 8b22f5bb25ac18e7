"""Storage layout: the keys and hashes that one small model leaves in Redis."""

from datetime import UTC, datetime, timedelta, timezone

import redis

import typedredis
from typedredis import Indexed, Model


class Event(Model, key="docs_storage_event"):
    kind: Indexed[str]
    at: Indexed[datetime]
    note: str = ""


def main(url: str) -> None:
    typedredis.connect(url)
    r = redis.Redis.from_url(url)
    oslo_summer = timezone(timedelta(hours=2))
    Event.save_all([
        Event(kind="login", at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC), note="first"),
        Event(kind="login", at=datetime(2024, 5, 1, 14, 0, tzinfo=oslo_summer)),  # same
    ])
    for key in sorted(r.scan_iter(match="{docs_storage_event}*")):  # SCAN: for a demo
        print(r.type(key), key)
    #> b'zset' b'{docs_storage_event}:0:all'
    #> b'set' b'{docs_storage_event}:0:i:at:\xc7\x19\x022024-05-01T12:00:00+00:00'
    #> b'set' b'{docs_storage_event}:0:i:kind:\xa5login'
    #> b'zset' b'{docs_storage_event}:0:ix'
    #> b'hash' b'{docs_storage_event}:0:o:1'
    #> b'hash' b'{docs_storage_event}:0:o:2'
    #> b'hash' b'{docs_storage_event}:0:schema'
    #> b'hash' b'{docs_storage_event}:meta'

    # One msgpack value per field. The second event's "at" is stored as it was given
    # (+02:00); "#at" holds its index member, the canonical UTC form, for the scripts.
    for field, value in r.hgetall(b"{docs_storage_event}:0:o:1").items():
        print(field, value)
    #> b'kind' b'\xa5login'
    #> b'at' b'\xc7\x19\x022024-05-01T12:00:00+00:00'
    #> b'note' b'\xa5first'
    for field, value in r.hgetall(b"{docs_storage_event}:0:o:2").items():
        print(field, value)
    #> b'kind' b'\xa5login'
    #> b'at' b'\xc7\x19\x022024-05-01T14:00:00+02:00'
    #> b'note' b'\xa0'
    #> b'#at' b'\xc7\x19\x022024-05-01T12:00:00+00:00'
    noon_utc = b"\xc7\x19\x022024-05-01T12:00:00+00:00"
    print(sorted(r.smembers(b"{docs_storage_event}:0:i:at:" + noon_utc)))
    #> [b'1', b'2']
    print(r.hgetall(b"{docs_storage_event}:meta"))  # the write stamp, the last pk handed out
    #> {b'n': b'1', b'pk': b'2'}

    # `all` is a sorted set scored by pk: walks and pages in pk order read it by rank
    print(r.zrange(b"{docs_storage_event}:0:all", 0, -1, withscores=True))
    #> [(b'1', 1.0), (b'2', 2.0)]
    # `ix` names every index key of the generation (all scores 0), so nothing is ever scanned
    for name, score in r.zrange(b"{docs_storage_event}:0:ix", 0, -1, withscores=True):
        print(score, name)
    #> 0.0 b'{docs_storage_event}:0:i:at:\xc7\x19\x022024-05-01T12:00:00+00:00'
    #> 0.0 b'{docs_storage_event}:0:i:kind:\xa5login'

    # `schema` records which indexes generation 0 holds complete, and their encodings
    print(sorted(r.hgetall(b"{docs_storage_event}:0:schema").items()))
    #> [(b':v', b'1'), (b':w', b'2|e:kind=m1,e:at=m1'), (b'e:at', b'ready:m1'), (b'e:kind', b'ready:m1')]

    Event.reset([Event(kind="logout", at=datetime(2024, 5, 2, tzinfo=UTC))])
    print(sorted(r.hgetall(b"{docs_storage_event}:meta").items()))  # generation 1
    #> [(b'gen', b'1'), (b'lastgen', b'1'), (b'n', b'2'), (b'pk', b'3')]
    old = list(r.scan_iter(match="{docs_storage_event}:0:*"))  # all gone
    print(old)
    #> []
    # reset's clean-up is finished: no generation waits in {K}:retired, none in {K}:staging
    print(r.exists(b"{docs_storage_event}:retired", b"{docs_storage_event}:staging"))
    #> 0


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
