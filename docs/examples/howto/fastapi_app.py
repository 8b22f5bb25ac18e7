"""A FastAPI app on typedredis: lifespan, async endpoints, a safe input model, errors, a reset job."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Literal

import httpx
from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

import typedredis
from typedredis import Indexed, InvalidValue, Model, NotFound, Sorted

log = logging.getLogger("catalog-refresh")


# --8<-- [start:models]
class Product(Model, key="docs_fastapi_product"):
    """The catalog: owned by the refresh job, read by the endpoints."""

    name: str
    status: Indexed[Literal["active", "sold_out"]]
    price: Sorted[Decimal]


class Review(Model, key="docs_fastapi_review"):
    """Written by clients, one `ainsert` per request."""

    product: Indexed[int]
    stars: int
    text: str


class NewReview(BaseModel):
    """What a client may send: no pk, and no product either (that comes from the URL)."""

    model_config = ConfigDict(extra="forbid")  # a "pk" in the body is a 422, not ignored
    stars: int = Field(ge=1, le=5)
    text: str


class ProductPage(BaseModel):
    items: list[Product]
    total: int


PK = Annotated[int, Path(ge=1, le=2**53 - 1)]  # the range of typedredis' pks
# --8<-- [end:models]


# --8<-- [start:job]
SQL_ROWS = [  # stands in for the SQL query that computes the catalog: (id, name, status, price)
    (1, "Darjeeling", "active", "4.50"),
    (2, "Lapsang", "sold_out", "5.20"),
    (3, "Sencha", "active", "6.10"),
    (4, "Assam", "active", "3.90"),
    (5, "Matcha", "active", "12.00"),
]


async def catalog() -> AsyncIterator[Product]:
    for pk, name, status, price in SQL_ROWS:  # an async SQL driver's rows, streamed
        yield Product(pk=pk, name=name, status=status, price=Decimal(price))


async def refresh_forever(every: float, loaded: asyncio.Event) -> None:
    """Swap a freshly computed catalog in every ``every`` seconds, until cancelled."""
    while True:
        try:
            await Product.areset(catalog())  # atomic: readers see the old or the new catalog
            loaded.set()
        except Exception:  # Redis down, a row that does not validate, a bug: retry next time
            log.exception("catalog refresh failed; serving the previous catalog")
        await asyncio.sleep(every)
# --8<-- [end:job]


# --8<-- [start:app]
def create_app(url: str, refresh_every: float = 60.0) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        typedredis.connect(url, asyncio=True)  # one client (and pool) for the whole process
        loaded = asyncio.Event()
        job = asyncio.create_task(refresh_forever(refresh_every, loaded))
        try:
            await loaded.wait()  # start serving once a catalog is in
            yield
        finally:
            job.cancel()  # a cancelled areset leaves a whole catalog, the old or the new one
            await asyncio.gather(job, return_exceptions=True)
            await typedredis.adisconnect()  # closes typedredis' connections of this loop

    app = FastAPI(lifespan=lifespan)

    @app.get("/products")
    async def list_products(
        status: str | None = None,  # validated by typedredis, against Product.status
        min_price: Decimal | None = None,
        order: Literal["price", "-price"] = "price",
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=10_000)] = 0,  # deep offset pages cost more
    ) -> ProductPage:
        query = Product.objects.order_by(Product.f.price.desc() if order == "-price" else Product.f.price)
        if status is not None:
            query = query.filter(status=status)
        if min_price is not None:
            query = query.filter(Product.f.price >= min_price)
        items, total = await query.offset(offset).limit(limit).apage_with_count()
        return ProductPage(items=items, total=total)

    @app.get("/products/{pk}")
    async def get_product(pk: PK) -> Product:
        return await Product.aget(pk)  # NotFound becomes a 404 (below)

    @app.post("/products/{pk}/reviews", status_code=201)
    async def add_review(pk: PK, body: NewReview) -> Review:
        await Product.aget(pk)  # 404 for a product that does not exist
        return await Review(product=pk, **body.model_dump()).ainsert()  # a new pk, never a replace

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(InvalidValue)  # a query value not valid for its field, nothing sent
    async def invalid_value(request: Request, exc: InvalidValue) -> JSONResponse:
        types = [error["type"] for error in exc.errors()]  # pydantic's error codes: stable
        return JSONResponse({"detail": str(exc), "field": exc.field, "types": types}, status_code=422)

    return app
# --8<-- [end:app]


# --8<-- [start:main]
async def run(url: str) -> None:
    app = create_app(url)
    async with app.router.lifespan_context(app):  # httpx's ASGITransport does not run it
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            r = await client.get("/products", params={"status": "active", "limit": 2})
            print(r.status_code, [p["name"] for p in r.json()["items"]], r.json()["total"])
            #> 200 ['Assam', 'Darjeeling'] 4
            r = await client.get("/products", params={"status": "active", "limit": 2, "offset": 2})
            print(r.status_code, [p["name"] for p in r.json()["items"]], r.json()["total"])
            #> 200 ['Sencha', 'Matcha'] 4
            r = await client.get("/products", params={"min_price": "5", "order": "-price"})
            print(r.status_code, r.json()["items"][0], r.json()["total"])
            #> 200 {'pk': 5, 'name': 'Matcha', 'status': 'active', 'price': '12.00'} 3

            r = await client.get("/products", params={"status": "lost"})
            print(r.status_code, r.json()["field"], r.json()["types"])
            #> 422 status ['literal_error']
            print(r.json()["detail"])  # typedredis names the model and field, then pydantic's reason
            #> Product.status: ...

            r = await client.get("/products/2")
            print(r.status_code, r.json())
            #> 200 {'pk': 2, 'name': 'Lapsang', 'status': 'sold_out', 'price': '5.20'}
            r = await client.get("/products/99")
            print(r.status_code, r.json())
            #> 404 {'detail': 'no Product with pk=99'}
            r = await client.get("/products/0")  # FastAPI checks the pk's range
            print(r.status_code, [error["type"] for error in r.json()["detail"]])
            #> 422 ['greater_than_equal']

            r = await client.post("/products/1/reviews", json={"stars": 5, "text": "Lovely"})
            print(r.status_code, r.json())
            #> 201 {'pk': 1, 'product': 1, 'stars': 5, 'text': 'Lovely'}
            r = await client.post("/products/1/reviews", json={"pk": 1, "stars": 1, "text": "Ha"})
            print(r.status_code, [error["type"] for error in r.json()["detail"]])
            #> 422 ['extra_forbidden']
            r = await client.post("/products/99/reviews", json={"stars": 4, "text": "Where?"})
            print(r.status_code)
            #> 404
            print(await Review.objects.acount())  # only the valid review was stored
            #> 1


def main(url: str) -> None:
    asyncio.run(run(url))
# --8<-- [end:main]


if __name__ == "__main__":
    from typedredis.testing import RedisServer

    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
