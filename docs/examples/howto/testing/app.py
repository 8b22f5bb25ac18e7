"""The application under test: a model and a function that uses it."""

from typedredis import Indexed, Model


class Order(Model, key="docs_testing_order"):
    customer: Indexed[str]
    status: Indexed[str]
    total_cents: int


def open_orders(customer: str) -> list[Order]:
    """The customer's orders that are not closed yet, oldest first."""
    query = Order.query(Order.f.customer == customer, Order.f.status != "closed")
    return query.all()


def close_all(customer: str) -> int:
    """Close every open order of the customer; returns how many were closed."""
    orders = open_orders(customer)
    for order in orders:
        order.status = "closed"
    Order.save_all(orders)
    return len(orders)
