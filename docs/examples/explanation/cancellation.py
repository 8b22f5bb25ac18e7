"""A cancelled or timed-out asyncio task: the old dataset stays, nothing half done is left."""

import asyncio
from collections.abc import AsyncIterator

import typedredis
from typedredis import Indexed, Model


class Price(Model, key="docs_cancel_price"):
    sku: Indexed[str]
    cents: int


async def slow_source() -> AsyncIterator[Price]:
    """A dataset read from a slow SQL query: the first 5 000 rows, then it hangs."""
    for i in range(5_000):
        yield Price(sku=f"sku-{i}", cents=199)
    await asyncio.sleep(3600)


async def run(url: str) -> None:
    typedredis.connect(url, asyncio=True)
    await Price.areset([Price(sku="old", cents=100)])

    try:
        async with asyncio.timeout(0.5):  # a refresh job's deadline
            await Price.areset(slow_source())  # 3 200 objects staged before it hangs
    except TimeoutError:
        print("the refresh timed out")
        #> the refresh timed out

    # The staged generation was retired before the cancellation went on:
    # readers still see the whole old dataset, and nothing staged is left behind
    print([p.sku async for p in Price.objects.aiter()])
    #> ['old']
    await typedredis.adisconnect()


def main(url: str) -> None:
    asyncio.run(run(url))


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
