"""How queries run: Query.plan() shows how query.lua would answer, from the sizes it reads."""

import typedredis
from typedredis import Indexed, Model, Sorted
from typedredis.querying import Limits


class Ticket(Model, key="docs_plans_ticket"):
    state: Indexed[str]  # "open" for one ticket in ten
    queue: Indexed[int]  # 100 queues of 100 tickets
    opened: Sorted[int]  # 0 to 9 999


def main(url: str) -> None:
    typedredis.connect(url)
    Ticket.save_all(
        Ticket(state="open" if i % 10 == 0 else "closed", queue=i % 100, opened=i)
        for i in range(10_000)
    )
    f = Ticket.f
    print(Limits())  # what one call of query.lua may do
    #> Limits(budget=20000, walk=5000, rows=1000, writes=300, sort=3000, keys=50000)

    # count(): arithmetic on the sizes, whatever they are (SCARD, ZLEXCOUNT, ZCARD)
    plan = Ticket.query(f.state != "open").plan("count")  # ZCARD(all) - SCARD(open)
    print(plan["strategy"], plan["matches"], plan["objects"])
    #> exact 9000 10000
    print(Ticket.query(f.opened >= 2500).plan("count")["strategy"])  # ZLEXCOUNT
    #> exact

    # a page read by rank from an index: the offset costs nothing
    print(Ticket.objects.order_by(f.opened.desc()).offset(5000).limit(20).plan()["strategy"])
    #> rank

    # a small set's members, each tested against the rest of the condition (SMISMEMBER)
    print(Ticket.query(f.queue == 7, f.state != "open").plan())
    #> {'strategy': 'probe', 'matches': 100, 'cost': ...

    # set operations into scratch keys, within the budget
    print(Ticket.query((f.queue == 7) | (f.opened < 50)).plan("pks"))
    #> {'strategy': 'sets', 'matches': 150, 'cost': ...

    # 9 000 matches: found in one call (SMEMBERS), then fetched in chunk calls of 1 000
    print(Ticket.query(f.state == "closed").plan()["strategy"])
    #> sets
    closed = Ticket.query(f.state == "closed").all()
    print(len(closed), closed[0].pk, closed[-1].pk)
    #> 9000 2 10000

    # 9 000 candidates are too many to test in one call: listed, then tested in chunk calls
    print(Ticket.query(f.state == "closed", f.opened >= 10).plan())
    #> {'strategy': 'candidates', 'matches': 9000, 'cost': ...

    # a page of a large result: walk `all` in pk order, or the order field's index, testing
    # each object, a bounded number per call, until the page is full
    print(Ticket.query(f.state == "closed").limit(20).plan()["strategy"])
    #> p
    print(Ticket.query(f.state == "closed").order_by(f.opened.desc()).limit(3).plan()["strategy"])
    #> o
    print(Ticket.query(f.state == "closed").order_by(f.opened.desc()).limit(3).pks())
    #> [10000, 9999, 9998]
    print(Ticket.query(f.state == "open").limit(0).plan()["strategy"])  # nothing to do
    #> none


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
