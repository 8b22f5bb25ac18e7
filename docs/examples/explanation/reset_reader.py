"""Consistency: a reader running during `reset` sees one whole dataset each time."""

import threading

import typedredis
from typedredis import Indexed, Model


class Item(Model, key="docs_consistency_item"):
    batch: Indexed[str]
    n: int


def main(url: str) -> None:
    typedredis.connect(url)
    sizes = {"monday": 1000, "tuesday": 1500}
    Item.reset([Item(batch="monday", n=i) for i in range(sizes["monday"])])

    def writer() -> None:  # swaps the two datasets back and forth
        for run in range(6):
            batch = "tuesday" if run % 2 == 0 else "monday"
            Item.reset([Item(batch=batch, n=i) for i in range(sizes[batch])])

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[tuple[set[str], int]] = []
    while thread.is_alive() or not seen:
        items = Item.objects.all()  # one query: one round trip, one consistent state
        seen.append(({item.batch for item in items}, len(items)))
    thread.join()

    whole = all(len(days) == 1 and size == sizes[min(days)] for days, size in seen)
    print("every observation was one whole dataset:", whole)
    #> every observation was one whole dataset: True
    print(Item.objects.count(), Item.query(Item.f.batch == "monday").count())  # last won
    #> 1000 1000


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
