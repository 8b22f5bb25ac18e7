"""Connecting an asyncio app: the a-methods, both kinds of client at once, a scoped client."""

import asyncio

import redis.asyncio

import typedredis
from typedredis import Indexed, Model


class Ticket(Model, key="docs_conn_ticket"):
    queue: Indexed[str]
    title: str


async def run(url: str) -> None:
    # One asyncio client for the process (in a web app: in its lifespan, see the FastAPI how-to)
    typedredis.connect(url, asyncio=True)  # or connect(redis.asyncio.Redis.from_url(url))

    first = await Ticket(queue="support", title="printer on fire").asave()
    await Ticket.asave_all([Ticket(queue="support", title=f"ticket {i}") for i in range(3)])
    print(await Ticket.objects.filter(queue="support").acount())
    #> 4
    print((await Ticket.aget(first.pk or 0)).title)
    #> printer on fire
    titles = [t.title async for t in Ticket.objects.filter(queue="support").aiter(batch=2)]
    print(len(titles))  # streamed, 2 objects per call
    #> 4

    # A tenant's own server (here: database 1) for this task only; other tasks are unaffected
    tenant = redis.asyncio.Redis.from_url(url, db=1)
    with typedredis.using(tenant):
        await Ticket(queue="support", title="tenant's ticket").asave()
        print(await Ticket.objects.acount())
        #> 1
    print(await Ticket.objects.acount())
    #> 4

    await typedredis.adisconnect()  # closes typedredis' own connections of this loop
    await tenant.aclose()


def main(url: str) -> None:
    asyncio.run(run(url))
    # The same model, served by a sync client too: both kinds of binding can coexist
    typedredis.connect(url)
    print(Ticket.objects.count())
    #> 4


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
