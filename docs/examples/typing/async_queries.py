"""The asyncio twins: the types of their sync methods once awaited; aget_by is checked like get_by."""

from typing import reveal_type

from models import Event


async def newest(kind: str) -> None:
    recent = Event.query(Event.f.kind == kind).order_by(Event.f.at.desc())
    reveal_type(await recent.aall())  # note: Revealed type is "list[models.Event]"
    reveal_type(await recent.afirst())  # note: Revealed type is "models.Event | None"
    items, total = await recent.limit(20).apage_with_count()
    reveal_type(items)  # note: Revealed type is "list[models.Event]"
    reveal_type(total)  # note: Revealed type is "int"
    async for event in recent.aiter(batch=1000):
        reveal_type(event)  # note: Revealed type is "models.Event"
    async for title, at in recent.only(Event.f.title, Event.f.at).aiter():
        reveal_type(title)  # note: Revealed type is "str"
        reveal_type(at)  # note: Revealed type is "datetime.datetime"
    reveal_type(await Event.aget_by(Event.f.slug, "launch"))  # note: Revealed type is "models.Event"

    # error: Field "Event.slug" holds "str" values; aget_by() got "int"  [typedredis-value]
    await Event.aget_by(Event.f.slug, 42)
    # error: Value of type "Coroutine[Any, Any, list[Event]]" must be used  [unused-coroutine]
    # note: Are you missing an await?
    recent.aall()
