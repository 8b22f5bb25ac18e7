"""The dataset, the models, the queries and the client processes of benchmarks/postgres.py.

Everything both sides need lives here, so that the client processes of the throughput runs
(started with multiprocessing's ``spawn``: no connection is ever inherited) import exactly
what the driver uses.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from typedredis import Compound, Indexed, Model, Sorted

# -- the dataset ------------------------------------------------------------------------------

CATEGORIES = [f"cat{i:02d}" for i in range(50)]
STATUSES = (("paid", 0.50), ("open", 0.25), ("void", 0.15), ("refunded", 0.10))
BASE = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_US = 366 * 86_400 * 1_000_000  # created_at: uniform over 2024, microsecond resolution
PRICE_MIN, PRICE_MAX = 100, 100_000  # cents: 1.00 to 1,000.00
AMOUNT_MAX = 100_000  # order amounts: 1 .. 100 000 (int)
PRICE_WINDOW = 40_000  # query 2: price between a and a + 40 000 cents (~40 % of a category)
PAGE_OFFSET, PAGE_LIMIT = 20, 20  # query 2: page 2 of 20
NEWEST = 50  # query 3
TOP = 20  # query 5
WORDS = [
    "red",
    "blue",
    "green",
    "black",
    "white",
    "steel",
    "oak",
    "linen",
    "wool",
    "paper",
    "glass",
    "small",
    "large",
    "light",
    "heavy",
    "classic",
    "modern",
    "compact",
    "deluxe",
    "basic",
    "travel",
    "kitchen",
    "garden",
    "office",
    "studio",
]
NOUNS = [
    "lamp",
    "chair",
    "table",
    "mug",
    "kettle",
    "bag",
    "jacket",
    "shelf",
    "clock",
    "brush",
    "pen",
    "notebook",
    "rug",
    "vase",
    "stool",
]


@dataclass(frozen=True)
class Sizes:
    products: int
    orders: int
    customers: int


def product_rows(sizes: Sizes, seed: int) -> list[tuple[int, str, str, int, datetime]]:
    """(id, category, name, price in cents, created_at) per product, ids 1..products."""
    rnd = random.Random(f"products:{seed}")
    out = []
    for pk in range(1, sizes.products + 1):
        name = f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} {rnd.choice(NOUNS)} #{pk}"
        out.append(
            (
                pk,
                rnd.choice(CATEGORIES),
                name,
                rnd.randrange(PRICE_MIN, PRICE_MAX),
                BASE + timedelta(microseconds=rnd.randrange(SPAN_US)),
            )
        )
    return out


def order_rows(sizes: Sizes, seed: int) -> list[tuple[int, str, str, int, datetime]]:
    """(id, customer, status, amount, created_at) per order, ids 1..orders."""
    rnd = random.Random(f"orders:{seed}")
    names = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    statuses = rnd.choices(names, weights, k=sizes.orders)
    out = []
    for pk in range(1, sizes.orders + 1):
        out.append(
            (
                pk,
                customer_name(rnd.randrange(sizes.customers)),
                statuses[pk - 1],
                rnd.randrange(1, AMOUNT_MAX + 1),
                BASE + timedelta(microseconds=rnd.randrange(SPAN_US)),
            )
        )
    return out


def customer_name(n: int) -> str:
    return f"cust{n:05d}"


# -- the models (the declarations) ----------------------------------------------------


class Product(Model, key="bench_pg_product"):
    category: Indexed[str]
    name: str
    price: Sorted[int]
    created_at: Sorted[datetime]
    __indexes__: ClassVar[Any] = (Compound("category", "price"),)


class Order(Model, key="bench_pg_order"):
    customer: Indexed[str]
    status: Indexed[str]
    amount: Sorted[int]
    created_at: Sorted[datetime]
    __indexes__: ClassVar[Any] = (Compound("customer", "created_at"), Compound("status", "amount"))


def product_of(row: Sequence[Any]) -> Product:
    """A validated Product from a SQL row (id, category, name, price, created_at)."""
    return Product(pk=row[0], category=row[1], name=row[2], price=row[3], created_at=row[4])


def order_of(row: Sequence[Any]) -> Order:
    """A validated Order from a SQL row (id, customer, status, amount, created_at)."""
    return Order(pk=row[0], customer=row[1], status=row[2], amount=row[3], created_at=row[4])


# -- PostgreSQL: schema and statements --------------------------------------------------------

PRODUCT_COLUMNS = "id, category, name, price, created_at"
ORDER_COLUMNS = "id, customer, status, amount, created_at"


def create_tables_sql(suffix: str = "") -> list[str]:
    return [
        f"CREATE TABLE product{suffix} (id bigint PRIMARY KEY, category text NOT NULL, "
        "name text NOT NULL, price integer NOT NULL, created_at timestamptz NOT NULL)",
        f"CREATE TABLE orders{suffix} (id bigint PRIMARY KEY, customer text NOT NULL, "
        "status text NOT NULL, amount integer NOT NULL, created_at timestamptz NOT NULL)",
    ]


def create_indexes_sql(suffix: str = "") -> list[str]:
    """The B-tree indexes a DBA adds for the five queries (the primary keys come with the tables)."""
    return [
        f"CREATE INDEX ON product{suffix} (category, price)",
        f"CREATE INDEX ON product{suffix} (created_at)",
        f"CREATE INDEX ON orders{suffix} (customer, created_at)",
        f"CREATE INDEX ON orders{suffix} (status, amount)",
    ]


SQL = {
    "get": f"SELECT {PRODUCT_COLUMNS} FROM product WHERE id = %s",
    # the count and the page in one statement, one round trip: the count is an index-only scan
    # of (category, price), the page an index scan of the same index that stops after 40 rows
    "page": (
        "SELECT t.total, p.id, p.category, p.name, p.price, p.created_at FROM "
        "(SELECT count(*) AS total FROM product "
        "WHERE category = %(c)s AND price BETWEEN %(a)s AND %(b)s) t "
        "LEFT JOIN LATERAL (SELECT * FROM product "
        "WHERE category = %(c)s AND price BETWEEN %(a)s AND %(b)s "
        f"ORDER BY price, id OFFSET {PAGE_OFFSET} LIMIT {PAGE_LIMIT}) p ON true"
    ),
    "newest": (
        f"SELECT {ORDER_COLUMNS} FROM orders WHERE customer = %s "
        f"ORDER BY created_at DESC, id DESC LIMIT {NEWEST}"
    ),
    "count": "SELECT count(*) FROM orders WHERE status = %s AND amount >= %s",
    "top": f"SELECT {PRODUCT_COLUMNS} FROM product ORDER BY created_at DESC, id DESC LIMIT {TOP}",
}

# Other ways to get query 2's page and count, measured beside the one above (single client)
SQL_PAGE_WINDOW = (
    "SELECT count(*) OVER () AS total, id, category, name, price, created_at FROM product "
    "WHERE category = %(c)s AND price BETWEEN %(a)s AND %(b)s "
    f"ORDER BY price, id OFFSET {PAGE_OFFSET} LIMIT {PAGE_LIMIT}"
)
SQL_PAGE_ONLY = (
    f"SELECT {PRODUCT_COLUMNS} FROM product WHERE category = %(c)s AND price BETWEEN %(a)s AND %(b)s "
    f"ORDER BY price, id OFFSET {PAGE_OFFSET} LIMIT {PAGE_LIMIT}"
)
SQL_COUNT_ONLY = "SELECT count(*) FROM product WHERE category = %(c)s AND price BETWEEN %(a)s AND %(b)s"


# -- the queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuerySpec:
    key: str
    label: str
    typedredis: str  # the code, for the page
    sql: str


QUERIES = (
    QuerySpec("get", "product by pk", "Product.get(pk)", SQL["get"]),
    QuerySpec(
        "page",
        "category = c and price between a and b, by price, page 2 of 20, with the total count",
        "Product.query(Product.f.category == c, Product.f.price.between(a, b))"
        ".order_by(Product.f.price).offset(20).limit(20).page_with_count()",
        SQL["page"],
    ),
    QuerySpec(
        "newest",
        "newest 50 orders of a customer",
        "Order.query(Order.f.customer == c).order_by(Order.f.created_at.desc()).limit(50).all()",
        SQL["newest"],
    ),
    QuerySpec(
        "count",
        "count of status = 'paid' and amount >= x",
        "Order.query(Order.f.status == 'paid', Order.f.amount >= x).count()",
        SQL["count"],
    ),
    QuerySpec(
        "top",
        "first 20 products by created_at desc",
        "Product.objects.order_by(Product.f.created_at.desc()).limit(20).all()",
        SQL["top"],
    ),
)
QUERY_KEYS = tuple(q.key for q in QUERIES)


def params_for(key: str, rng: random.Random, sizes: Sizes) -> Any:
    """One call's parameters for query ``key``; the same rng state gives the same parameters on
    both sides."""
    if key == "get":
        return rng.randint(1, sizes.products)
    if key == "page":
        a = rng.randrange(PRICE_MIN, PRICE_MAX - PRICE_WINDOW)
        return (rng.choice(CATEGORIES), a, a + PRICE_WINDOW)
    if key == "newest":
        return customer_name(rng.randrange(sizes.customers))
    if key == "count":
        return rng.randrange(1, AMOUNT_MAX + 1)
    return None


def params_seq(key: str, seed: str, sizes: Sizes, n: int) -> list[Any]:
    rng = random.Random(seed)
    return [params_for(key, rng, sizes) for _ in range(n)]


# -- typedredis -------------------------------------------------------------------------------


def redis_page_query(c: str, a: int, b: int) -> Any:
    return (
        Product.query(Product.f.category == c, Product.f.price.between(a, b))
        .order_by(Product.f.price)
        .offset(PAGE_OFFSET)
        .limit(PAGE_LIMIT)
    )


def redis_newest_query(customer: str) -> Any:
    return Order.query(Order.f.customer == customer).order_by(Order.f.created_at.desc()).limit(NEWEST)


def redis_count_query(x: int) -> Any:
    return Order.query(Order.f.status == "paid", Order.f.amount >= x)


def redis_top_query() -> Any:
    return Product.objects.order_by(Product.f.created_at.desc()).limit(TOP)


class RedisSide:
    """The queries through typedredis (the models bound with ``typedredis.connect``)."""

    name = "typedredis"

    def __init__(self, url: str) -> None:
        import typedredis

        self.client = typedredis.connect(url)

    def get(self, pk: int) -> Product:
        return Product.get(pk)

    def page(self, p: tuple[str, int, int]) -> tuple[list[Product], int]:
        items, total = redis_page_query(*p).page_with_count()
        return items, total

    def newest(self, customer: str) -> list[Order]:
        return redis_newest_query(customer).all()  # type: ignore[no-any-return]

    def count(self, x: int) -> int:
        return redis_count_query(x).count()  # type: ignore[no-any-return]

    def top(self, _: None) -> list[Product]:
        return redis_top_query().all()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.client.close()


class PgSide:
    """The same queries through psycopg 3: prepared statements, rows validated into the same models."""

    name = "postgres"

    def __init__(self, conninfo: dict[str, Any]) -> None:
        import psycopg

        self.conn = psycopg.connect(**conninfo, autocommit=True)
        self.cur = self.conn.cursor()

    def _rows(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        cur = self.cur
        cur.execute(sql, params, prepare=True)
        return cur.fetchall()

    def get(self, pk: int) -> Product:
        rows = self._rows(SQL["get"], (pk,))
        if not rows:
            raise LookupError(pk)
        return product_of(rows[0])

    def page(self, p: tuple[str, int, int]) -> tuple[list[Product], int]:
        c, a, b = p
        rows = self._rows(SQL["page"], {"c": c, "a": a, "b": b})
        return [product_of(r[1:]) for r in rows if r[1] is not None], rows[0][0]

    def page_window(self, p: tuple[str, int, int]) -> tuple[list[Product], int]:
        """The window-function variant; a page past the end has no row to carry the count, so
        it then counts in a second statement."""
        c, a, b = p
        args = {"c": c, "a": a, "b": b}
        rows = self._rows(SQL_PAGE_WINDOW, args)
        if rows:
            return [product_of(r[1:]) for r in rows], rows[0][0]
        return [], self._rows(SQL_COUNT_ONLY, args)[0][0]

    def page_pipeline(self, p: tuple[str, int, int]) -> tuple[list[Product], int]:
        """Two statements (page, count) sent together in psycopg's pipeline mode: one round trip."""
        c, a, b = p
        args = {"c": c, "a": a, "b": b}
        conn = self.conn
        with conn.pipeline():
            page = conn.cursor()
            page.execute(SQL_PAGE_ONLY, args, prepare=True)
            count = conn.cursor()
            count.execute(SQL_COUNT_ONLY, args, prepare=True)
        return [product_of(r) for r in page.fetchall()], count.fetchone()[0]  # type: ignore[index]

    def newest(self, customer: str) -> list[Order]:
        return [order_of(r) for r in self._rows(SQL["newest"], (customer,))]

    def count(self, x: int) -> int:
        return int(self._rows(SQL["count"], ("paid", x))[0][0])

    def top(self, _: None) -> list[Product]:
        return [product_of(r) for r in self._rows(SQL["top"], None)]

    def backend_pid(self) -> int:
        return int(self._rows("SELECT pg_backend_pid()", None)[0][0])

    def close(self) -> None:
        self.conn.close()


PLAIN_GET_FLOOR = "redis-py pipeline of HMGET + HGET gen (typedredis' get, reply not decoded)"
"""The floor under typedredis' get by pk: its two commands on a bare redis-py client."""
NEWEST_FLOOR = "redis floor: one bare script, an HMGET of each order (pks given), reply not decoded"
"""The floor under query 3 on Redis: the per-object reads of its script, without the rest."""
RELOAD_FLOORS = {
    "sorted": "Redis floor, the same keys by redis-py pipelines, members in each key's order",
    "random": "Redis floor, the same keys by redis-py pipelines, members in random order",
}
"""The floors under the reload on Redis (what typedredis' reset writes, written without Lua),
by key in the results and as their rows of the page's reload table."""


def call_of(side: Any, key: str) -> Callable[[Any], Any]:
    return getattr(side, key)  # type: ignore[no-any-return]


# -- the reload -------------------------------------------------------------------------------


def reload_redis(products: Sequence[tuple[Any, ...]], orders: Sequence[tuple[Any, ...]]) -> None:
    """What a refresh job does: objects built (validated) from the SQL rows, streamed into reset."""
    Product.reset(product_of(r) for r in products)
    Order.reset(order_of(r) for r in orders)


def build_only(products: Sequence[tuple[Any, ...]], orders: Sequence[tuple[Any, ...]]) -> None:
    """The validation part of `reload_redis` alone (objects built and dropped)."""
    for r in products:
        product_of(r)
    for r in orders:
        order_of(r)


def swap_postgres(conn: Any, products: Sequence[tuple[Any, ...]], orders: Sequence[tuple[Any, ...]]) -> None:
    """PostgreSQL's table swap, in one transaction: new tables, ``COPY ... FREEZE`` (binary) into
    them, their indexes, ``ANALYZE``, then both renames and the drop of the old tables. Readers
    keep reading the old tables until the commit; the renames block them only from the first
    rename to the commit."""
    with conn.transaction():
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS product_new, orders_new")
        for sql in create_tables_sql("_new"):
            cur.execute(sql)
        copy_rows(
            cur, "product_new", PRODUCT_COLUMNS, products, ("int8", "text", "text", "int4", "timestamptz")
        )
        copy_rows(cur, "orders_new", ORDER_COLUMNS, orders, ("int8", "text", "text", "int4", "timestamptz"))
        for sql in create_indexes_sql("_new"):
            cur.execute(sql)
        cur.execute("ANALYZE product_new")
        cur.execute("ANALYZE orders_new")
        cur.execute("ALTER TABLE product RENAME TO product_old")
        cur.execute("ALTER TABLE product_new RENAME TO product")
        cur.execute("ALTER TABLE orders RENAME TO orders_old")
        cur.execute("ALTER TABLE orders_new RENAME TO orders")
        cur.execute("DROP TABLE product_old, orders_old")


def copy_rows(
    cur: Any, table: str, columns: str, rows: Sequence[tuple[Any, ...]], types: Sequence[str]
) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY, FREEZE)") as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


def load_postgres(conn: Any, products: Sequence[tuple[Any, ...]], orders: Sequence[tuple[Any, ...]]) -> None:
    """The first load: tables, rows, indexes, then VACUUM ANALYZE (visibility map for index-only
    scans, statistics for the planner)."""
    with conn.transaction():
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS product, orders")
        for sql in create_tables_sql():
            cur.execute(sql)
        copy_rows(cur, "product", PRODUCT_COLUMNS, products, ("int8", "text", "text", "int4", "timestamptz"))
        copy_rows(cur, "orders", ORDER_COLUMNS, orders, ("int8", "text", "text", "int4", "timestamptz"))
        for sql in create_indexes_sql():
            cur.execute(sql)
    conn.execute("VACUUM ANALYZE product")
    conn.execute("VACUUM ANALYZE orders")


# -- client processes -------------------------------------------------------------------------


def run_calls(
    side: Any, key: str, sizes: Sizes, seed: str, start_at: float, duration: float
) -> tuple[Any, ...]:
    """One client's part of a throughput run: a few warm-up calls, then calls in a loop from
    ``start_at`` (wall clock, the same for every client) for ``duration`` seconds.

    Returns ("ok", calls, seconds from start_at to the end of the last call, longest call)."""
    call = call_of(side, key)
    params = params_seq(key, seed, sizes, 4096)
    for p in params[:5]:  # statements prepared, scripts loaded, caches warm
        call(p)
    delay = start_at - time.time()
    if delay <= 0:
        return ("late", -delay)
    time.sleep(delay)
    end = start_at + duration
    n = 0
    perf = time.perf_counter
    worst = 0.0
    now = time.time()
    while now < end:
        t0 = perf()
        call(params[n % 4096])
        dt = perf() - t0
        if dt > worst:
            worst = dt
        n += 1
        now = time.time()
    return ("ok", n, now - start_at, worst)


def pool_worker(index: int, redis_url: str, pg_conninfo: dict[str, Any], sizes: Sizes, conn: Any) -> None:
    """A throughput client process (started once, used for every run): its own connections to
    both servers; runs `run_calls` on each command it receives, until it receives None."""
    try:
        sides = {"typedredis": RedisSide(redis_url), "postgres": PgSide(pg_conninfo)}
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", index))
    while True:
        msg = conn.recv()
        if msg is None:
            break
        side, key, seed, start_at, duration = msg
        try:
            conn.send(run_calls(sides[side], key, sizes, f"{seed}:{index}", start_at, duration))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    for s in sides.values():
        s.close()


def stall_probe(kind: str, target: Any, ready: Any, stop: Any, out: Any, interval: float = 0.0005) -> None:
    """Another client during a reload: a round trip every ``interval`` seconds (PING on Redis,
    ``Product.get`` by pk on PostgreSQL: a read of the table being swapped); reports the longest."""
    import os

    with contextlib.suppress(OSError, AttributeError):  # real-time priority, where allowed
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    if kind == "typedredis":
        import redis

        client = redis.Redis(unix_socket_path=target)

        def call() -> None:
            client.ping()
    else:
        side = PgSide(target)

        def call() -> None:
            side.get(1)

    call()
    ready.set()
    worst = 0.0
    n = 0
    perf = time.perf_counter
    while not stop.is_set():
        t0 = perf()
        call()
        dt = perf() - t0
        worst = max(worst, dt)
        n += 1
        time.sleep(interval)
    out.put((worst, n))


def chunks(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]
