"""Compound indexes: the queries a web page runs, in O(log N + page)."""

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import typedredis
from typedredis import Compound, Indexed, Model, Sorted


# --8<-- [start:model]
class Order(Model, key="docs_compound_order"):
    customer: Indexed[str]
    status: Indexed[str]
    amount: Sorted[int]
    created_at: Sorted[datetime]

    # equality fields first, then at most one Sorted field
    __indexes__: ClassVar[Any] = (
        Compound("customer", "created_at"),  # a customer's orders, by time
        Compound("status", "amount"),  # orders of one status, by amount
    )
# --8<-- [end:model]


T0 = datetime(2026, 3, 1, tzinfo=UTC)


def main(url: str) -> None:
    typedredis.connect(url)
    statuses = ["paid", "open", "void"]
    Order.reset(
        Order(
            customer=f"c{i % 50}",
            status=statuses[i % 3],
            amount=(i * 37) % 1000,
            created_at=T0 + timedelta(minutes=i),
        )
        for i in range(3_000)
    )
    # --8<-- [start:queries]
    f = Order.f
    # the newest orders of a customer: a page read by rank from one sorted set
    newest = Order.query(f.customer == "c7").order_by(f.created_at.desc()).limit(3)
    print([o.created_at.strftime("%d %H:%M") for o in newest.all()])
    #> ['03 01:17', '03 00:27', '02 23:37']
    plan = newest.plan()
    print(plan["strategy"], plan["matches"], plan["objects"])  # 60 of the customer's orders
    #> rank 60 3000

    # a count of one status within a range: ZLEXCOUNT of one sorted set, however many match
    big = Order.query(f.status == "paid", f.amount >= 500)
    print(big.count(), big.plan("count")["strategy"])
    #> 500 exact

    # a page and the total, in one round trip
    cheap = Order.query(f.status == "open", f.amount.between(100, 300)).order_by(f.amount)
    items, total = cheap.offset(20).limit(5).page_with_count()
    print(total, [o.amount for o in items])
    #> 201 [120, 121, 122, 123, 124]

    # explain() shows which part of the condition the compound answers
    print(big.explain())
    #> (status == 'paid' and amount >= 500) from the compound index status_amount
    # --8<-- [end:queries]


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
