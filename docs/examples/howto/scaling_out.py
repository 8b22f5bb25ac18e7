"""Scaling out: each model lives in one slot of a Redis Cluster; models spread over the nodes."""

import typedredis
from typedredis import Indexed, Model, Sorted, Unique


class Customer(Model, key="shop:customer"):
    email: Unique[str]
    region: Indexed[str]


class Order(Model, key="shop:order"):
    customer: Indexed[int]
    status: Indexed[str]
    amount: Sorted[int]


# One model per region: each has keys (and a slot) of its own, so each can live on another node
class EuOrder(Order, key="shop:order:eu"):
    pass


class UsOrder(Order, key="shop:order:us"):
    pass


ORDERS: dict[str, type[Order]] = {"eu": EuOrder, "us": UsOrder}


def main(url: str) -> None:
    # The URL of any node: the client finds the others. A redis.cluster.RedisCluster of your
    # own works too, and asyncio=True makes a redis.asyncio.cluster.RedisCluster
    client = typedredis.connect(url, cluster=True)

    ann = Customer(email="ann@example.com", region="eu").save()
    bob = Customer(email="bob@example.com", region="us").save()
    for customer, amount in [(ann, 120), (ann, 80), (bob, 300)]:
        ORDERS[customer.region](customer=customer.pk, status="paid", amount=amount).save()

    print(EuOrder.query(EuOrder.f.customer == ann.pk, EuOrder.f.amount >= 100).count())
    #> 1
    print(UsOrder.objects.filter(status="paid").count())
    #> 1

    # Every key of a model shares its hash tag ({shop:order:eu}), hence one slot
    for model in (Customer, EuOrder, UsOrder):
        print(model.__name__, "is in slot", client.keyslot(model.spec().keys.meta))
    #> Customer is in slot 16029
    #> EuOrder is in slot 824
    #> UsOrder is in slot 8333
    nodes = {client.get_node_from_key(m.spec().keys.meta).name for m in (Customer, EuOrder, UsOrder)}
    print(len(nodes), "nodes")  # on a cluster of three primaries with the slots split evenly
    #> 3 nodes

    typedredis.disconnect()
    client.close()


if __name__ == "__main__":
    from typedredis.testing import RedisCluster

    with RedisCluster(primaries=3) as cluster:  # a private, throwaway local cluster
        main(cluster.url)
