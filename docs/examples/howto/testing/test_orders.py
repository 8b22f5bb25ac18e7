"""Tests that run against the private server of conftest.py."""

import redis
from app import Order, close_all, open_orders


def test_open_orders_are_oldest_first(db: redis.Redis) -> None:
    Order.save_all([
        Order(customer="ann", status="new", total_cents=500),
        Order(customer="bob", status="new", total_cents=120),
        Order(customer="ann", status="closed", total_cents=900),
        Order(customer="ann", status="paid", total_cents=250),
    ])
    assert [o.total_cents for o in open_orders("ann")] == [500, 250]


def test_close_all_moves_orders_out_of_the_open_index(db: redis.Redis) -> None:
    Order.save_all([Order(customer="ann", status="new", total_cents=n) for n in (1, 2)])
    assert close_all("ann") == 2
    assert open_orders("ann") == []
    assert Order.objects.filter(status="closed").count() == 2


def test_each_test_starts_empty(db: redis.Redis) -> None:
    assert Order.objects.count() == 0
    assert db.dbsize() == 0
