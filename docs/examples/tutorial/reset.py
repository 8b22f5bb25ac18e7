"""Tutorial, reset: replace a model's whole dataset in one atomic step."""

import typedredis
from typedredis import Indexed, Model


class Price(Model, key="docs_reset_price"):
    sku: Indexed[str]
    shop: Indexed[str]
    cents: int


def main(url: str) -> None:
    typedredis.connect(url)
    Price.save_all([
        Price(sku="tea", shop="north", cents=450),
        Price(sku="jam", shop="north", cents=300),
    ])

    # Monday's prices replace every stored Price at once. Readers see either the
    # old dataset or the new one, never a mix, and nothing of the old one is left.
    monday = [
        Price(sku="tea", shop="north", cents=470),
        Price(sku="tea", shop="south", cents=460),
        Price(sku="honey", shop="south", cents=800),
    ]
    Price.reset(monday)
    print([(p.pk, p.sku, p.cents) for p in Price.objects.all()])
    #> [(3, 'tea', 470), (4, 'tea', 460), (5, 'honey', 800)]
    print(monday[0].pk)  # reset assigns pks to the objects you gave it...
    #> 3
    print(Price.query(Price.f.sku == "jam").count())  # ...and the old ones are gone
    #> 0

    # Objects that carry a pk keep it: use your source's ids as primary keys
    Price.reset([
        Price(pk=101, sku="tea", shop="north", cents=480),
        Price(sku="jam", shop="north", cents=310),
    ])
    print(Price.objects.pks())  # new objects get pks above every pk seen so far
    #> [101, 102]

    # Any iterable will do, and a generator is never held whole: reset takes 3 200
    # objects at a time. Here a generator stands for the rows of a SQL cursor.
    def from_source():
        for n in range(10_000):
            yield Price(pk=1000 + n, sku=f"sku{n}", shop="web", cents=100 + n % 50)

    Price.reset(from_source())
    print(Price.objects.count(), Price.get(1000).sku, Price.get(10_999).cents)
    #> 10000 sku0 149

    Price.reset([])  # an empty dataset is a dataset too
    print(Price.objects.count())
    #> 0


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
