"""A fast read cache in front of SQL.

A periodic job recomputes datasets from SQL and swaps them into Redis with `reset`;
web handlers read only Redis. Run it: `python docs/examples/howto/sql_cache.py` (it
uses a private redis-server and a throwaway SQLite file), or serve the handler with
`serve(db_path, url)` and open http://127.0.0.1:8000/?category=tea&in_stock=1
"""

import json
import logging
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.util import setup_testing_defaults

import typedredis
from typedredis import Indexed, Model

log = logging.getLogger("cache-job")


# --8<-- [start:models]
class ProductCard(Model, key="docs_sql_product_card"):
    """One product as the listing page shows it, precomputed from SQL."""

    sku: Indexed[str]
    category: Indexed[str]
    in_stock: Indexed[bool]
    name: str
    price: Decimal
    sold_last_30_days: int


class CategoryStats(Model, key="docs_sql_category_stats"):
    """One row per category: an aggregate too slow to compute per request."""

    category: Indexed[str]
    products: int
    revenue: Decimal
# --8<-- [end:models]


# --8<-- [start:job]
CARDS_SQL = """
    SELECT p.id, p.sku, p.category, p.name, p.price_cents, p.stock > 0,
           COALESCE(SUM(o.quantity), 0)
    FROM product AS p
    LEFT JOIN order_line AS o
           ON o.product_id = p.id AND o.ordered_at >= date(:today, '-30 days')
    GROUP BY p.id
    ORDER BY p.id
"""

STATS_SQL = """
    SELECT p.category, COUNT(DISTINCT p.id),
           COALESCE(SUM(o.quantity * p.price_cents), 0)
    FROM product AS p LEFT JOIN order_line AS o ON o.product_id = p.id
    GROUP BY p.category
    ORDER BY p.category
"""


def cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)  # 450 -> Decimal('4.50')


def compute_cards(db: sqlite3.Connection, today: str) -> list[ProductCard]:
    rows = db.execute(CARDS_SQL, {"today": today})
    return [
        # The SQL id becomes the pk: ProductCard.get(product_id) works, and running
        # the job twice on the same data stores exactly the same objects.
        ProductCard(pk=pid, sku=sku, category=category, name=name, price=cents(price),
                    in_stock=bool(in_stock), sold_last_30_days=sold)
        for pid, sku, category, name, price, in_stock, sold in rows
    ]


def compute_stats(db: sqlite3.Connection) -> list[CategoryStats]:
    return [
        CategoryStats(category=category, products=count, revenue=cents(revenue))
        for category, count, revenue in db.execute(STATS_SQL)
    ]


def refresh(db: sqlite3.Connection, today: str) -> None:
    """One run of the job: read everything, then swap each dataset in atomically."""
    # One read transaction, so that both datasets come from the same snapshot (on
    # PostgreSQL or MySQL: a REPEATABLE READ transaction)
    db.execute("BEGIN")
    try:
        cards = compute_cards(db, today)
        stats = compute_stats(db)
    finally:
        db.rollback()  # nothing was written: this just ends the transaction
    ProductCard.reset(cards)
    CategoryStats.reset(stats)


def run_job(
    db_path: str, every: float, runs: int | None = None, stop: threading.Event | None = None
) -> None:
    """The periodic job: refresh every `every` seconds until `stop` is set (or `runs` runs)."""
    stop = stop or threading.Event()
    db = sqlite3.connect(db_path)
    done = 0
    while not stop.is_set() and (runs is None or done < runs):
        started = time.monotonic()
        try:
            refresh(db, today=time.strftime("%Y-%m-%d"))
        except Exception:
            # Whatever failed (Redis down or restarting, a lost reply, SQL, a row that
            # does not validate), nothing was swapped in: readers keep the previous
            # datasets, and a failed reset cleans up after itself. Log, retry next tick.
            log.exception("cache refresh failed; serving the previous data")
        done += 1
        if runs is None or done < runs:
            stop.wait(max(0.0, every - (time.monotonic() - started)))
    db.close()
# --8<-- [end:job]


# --8<-- [start:handler]
def products(category: str, in_stock_only: bool) -> dict[str, Any]:
    """What the listing endpoint returns; it reads Redis only, never SQL."""
    query = ProductCard.objects.filter(category=category)
    if in_stock_only:
        query = query.filter(in_stock=True)
    cards = query.all()  # one round trip, one consistent snapshot
    stats = CategoryStats.objects.filter(category=category).first()
    return {
        "category": category,
        "revenue": str(stats.revenue) if stats else "0.00",
        "products": [c.model_dump(mode="json", exclude={"in_stock"}) for c in cards],
    }


StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """A plain WSGI application (any framework's handler looks the same)."""
    params = parse_qs(environ.get("QUERY_STRING", ""))
    category = params.get("category", [""])[0]
    in_stock_only = params.get("in_stock", ["0"])[0] == "1"
    body = json.dumps(products(category, in_stock_only)).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response("200 OK", headers)
    return [body]


def serve(db_path: str, url: str, port: int = 8000) -> None:
    """Run the job in a thread and serve the handler (to try it by hand)."""
    from wsgiref.simple_server import make_server

    typedredis.connect(url)
    threading.Thread(target=run_job, args=(db_path, 60.0), daemon=True).start()
    with make_server("127.0.0.1", port, app) as server:
        server.serve_forever()
# --8<-- [end:handler]


# --8<-- [start:main]
SAMPLE = """
CREATE TABLE product (id INTEGER PRIMARY KEY, sku TEXT, category TEXT, name TEXT,
                      price_cents INTEGER, stock INTEGER);
CREATE TABLE order_line (product_id INTEGER, quantity INTEGER, ordered_at TEXT);
INSERT INTO product VALUES (1, 'T-01', 'tea', 'Darjeeling', 450, 12),
                           (2, 'T-02', 'tea', 'Lapsang', 520, 0),
                           (3, 'J-01', 'jam', 'Quince jam', 380, 3);
INSERT INTO order_line VALUES (1, 2, date('now')), (1, 1, date('now', '-3 days')),
                              (2, 4, date('now', '-100 days')), (3, 1, date('now'));
"""


def call(environ_query: str) -> dict[str, Any]:
    """Call the WSGI app the way a server would, and decode its JSON."""
    environ: dict[str, Any] = {"QUERY_STRING": environ_query}
    setup_testing_defaults(environ)
    status: list[str] = []
    body = b"".join(app(environ, lambda s, headers: status.append(s)))
    assert status == ["200 OK"]
    return json.loads(body)  # type: ignore[no-any-return]


def main(url: str) -> None:
    typedredis.connect(url)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = str(Path(tmp) / "shop.db")
        with sqlite3.connect(db_path) as db:
            db.executescript(SAMPLE)
        db.close()

        run_job(db_path, every=0.0, runs=1)
        page = call("category=tea&in_stock=1")
        print(page["revenue"])
        #> 34.30
        for product in page["products"]:
            print(product)
        #> {'pk': 1, 'sku': 'T-01', 'category': 'tea', 'name': 'Darjeeling', ...

        # The shop restocks Lapsang in SQL; the web side sees it after the next run
        with sqlite3.connect(db_path) as db:
            db.execute("UPDATE product SET stock = 5 WHERE sku = 'T-02'")
        db.close()
        print([p["name"] for p in call("category=tea&in_stock=1")["products"]])
        #> ['Darjeeling']
        run_job(db_path, every=0.0, runs=1)
        print([p["name"] for p in call("category=tea&in_stock=1")["products"]])
        #> ['Darjeeling', 'Lapsang']
        print(ProductCard.get(2).sold_last_30_days, CategoryStats.objects.count())
        #> 0 2
# --8<-- [end:main]


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
