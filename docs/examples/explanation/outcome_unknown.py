"""Consistency: a write whose reply is lost raises OutcomeUnknown; it is not re-sent."""

import threading
import time

import redis

import typedredis
from typedredis import Indexed, Model, OutcomeUnknown


class Payment(Model, key="docs_consistency_payment"):
    order: Indexed[str]
    cents: int


# A stand-in for a slow server: a script that keeps Redis busy for ARGV[1] milliseconds
BUSY = """
local function ms() local t = redis.call('TIME') return t[1] * 1000 + t[2] / 1000 end
local start = ms()
repeat until ms() - start > tonumber(ARGV[1])
"""


def main(url: str) -> None:
    # The client gives up on a reply after 0.1 s (redis-py raises its TimeoutError, which
    # typedredis turns into OutcomeUnknown, since the save was sent)
    typedredis.connect(redis.Redis.from_url(url, socket_timeout=0.1))
    Payment(order="A-16", cents=500).save()  # connected; works as usual
    blocker = redis.Redis.from_url(url)
    blocker.ping()  # connect now, so that the thread below only has to send its script
    busy = threading.Thread(target=blocker.eval, args=(BUSY, 0, 400))
    busy.start()
    time.sleep(0.05)  # the server is now busy for the next 350 ms

    payment = Payment(order="A-17", cents=1999)
    try:
        payment.save()
    except OutcomeUnknown as exc:
        print(exc)  # names the script that was sent; redis-py's message follows in brackets
        #> the connection failed after sending save ...
        # A TypedRedisError, but not a ConnectionError (unlike Unavailable: nothing written)
        print(isinstance(exc, typedredis.TypedRedisError), isinstance(exc, ConnectionError))
        #> True False
        print(isinstance(exc.__cause__, redis.RedisError))  # redis-py's error, chained
        #> True
    busy.join()

    # Here the save did happen: the server ran it once the script finished. Had
    # typedredis retried it (as redis-py does by default), there would be two payments.
    # The object has no pk: the reply that carried it never arrived.
    print(payment.pk, Payment.objects.filter(order="A-17").count())
    #> None 1


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
