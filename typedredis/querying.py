"""Reading: objects by primary key, and queries run in calls of bounded server time.

`query` drives query.lua. Its first call chooses how to answer from the cardinalities it
reads: wholly in that call (one consistent state), or by walking an index a bounded number
of entries per call, each call atomic, resuming from the cursor the previous one returned.
A walk pins the generation it started on: if a `reset` switches datasets meanwhile, a read
starts over on the new dataset (at most `RESTARTS` times) and a delete or update stops, as
the objects it was acting on left with the old dataset.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar, cast

from .codec import encode_indexed
from .compiler import (
    WHOLE,
    Action,
    AllObjects,
    CompoundScan,
    Diff,
    Formula,
    Inter,
    Members,
    Page,
    PkSet,
    RangeScan,
    Values,
    compile_formula,
    tokens,
    use_compounds,
)
from .errors import IndexNotReady, NotFound, QueryError, UniqueViolation
from .fields import ModelSpec, invalid, short_repr
from .plan import Arg, Operation, RawCall, ScriptCall, one_ahead, together
from .rows import decode_objects, decode_projection, rows

if TYPE_CHECKING:
    from .expr import Field
    from .model import Model

M = TypeVar("M", bound="Model")


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one call of query.lua may do: this bounds its server time (measured figures
    are on the query strategies page). Tests shrink them to exercise every strategy."""

    budget: int = 20_000
    """The estimated server time a one-call answer may take, in units of about a microsecond
    (query.lua's cost model; a walking call visits no more entries than it allows)."""
    walk: int = 5_000
    """Index entries a walking call visits at most, testing each object against the condition."""
    rows: int = 1_000
    """Objects fetched per call."""
    writes: int = 300
    """Objects deleted or updated per call."""
    sort: int = 3_000
    """Objects a one-call page may sort (by pk, or by a `Sorted` field)."""
    keys: int = 50_000
    """Primary keys a call may list, for the client to act on them in chunks of calls."""


LIMITS = Limits()
"""The limits every query uses."""

RESTARTS: Final = 5
"""How often a multi-call read starts over because a `reset` replaced the dataset under it."""
MAX_PK: Final = 2**53 - 1
"""Primary keys stay exact in Lua's doubles up to here."""
GET_PER_CALL: Final = 1000
"""Objects fetched per call of get.lua."""
CHUNK_CALLS_PER_BATCH: Final = 1
"""Calls sent per round trip when a query acts on its result in chunks, and by a delete by
pks (operations.delete): one. Redis runs the
commands a client pipelined back to back, serving no other client between them, so 32 chunk
calls of 3-9 ms each held other clients for up to ~130 ms (a PING loop, `benchmarks/stall.py`)
while no single call took 10 ms; one call per round trip bounds their wait by one call. The
price: the client no longer reads a chunk's reply while the server runs the next (a fetch of
10 000 rows in 11 chunks took 16-25 % longer; docs/explanation/query-strategies.md). Reads
get that overlap back without the wait: each of their chunk calls is sent ahead of decoding
the reply before it (`plan.one_ahead`); writes keep one call per round trip."""
VALUES_PER_CALL: Final = 2_000
"""The most values of one ``in_()`` a call receives: a longer list is split over several
queries (each call parses and indexes every value it is sent)."""
SORTED_VALUES_PER_CALL: Final = 500
"""The same for ``in_()`` on a `Sorted`-only field (one range command per value)."""


def check_pk(spec: ModelSpec[Any], pk: object) -> int:
    """``pk`` as an int, or `InvalidValue` (a `QueryError`: a float, a bool, a string or a
    number out of range is refused; an API maps it to a 422 like any invalid query value)."""
    if type(pk) is int and 1 <= pk <= MAX_PK:
        return pk
    if isinstance(pk, int) and not isinstance(pk, bool) and 1 <= pk <= MAX_PK:
        return int(pk)
    reason = "must be an int from 1 to 2**53 - 1"
    raise invalid(spec.model.__qualname__, "pk", pk, "pk_range", reason)


Generations: TypeAlias = MutableMapping[bytes, int]
"""The generation last seen current, per model (its meta key): an executor's hint for
`get_plain`, which checks it (any value is safe)."""


def get(spec: ModelSpec[M], pks: Iterable[int], seen: Generations | None = None) -> Operation[list[M | None]]:
    """Fetch objects by primary key: a list with None for the missing ones.

    One object, when ``seen`` knows the model's generation, is read without a script
    (`get_plain`); the others, and that one when the plain read cannot vouch for its answer,
    by get.lua, whose reply tells ``seen`` the current generation."""
    wanted = [check_pk(spec, pk) for pk in pks]
    meta = spec.keys.meta
    if len(wanted) == 1 and seen is not None and meta in seen:
        plain = yield from get_plain(spec, wanted[0], seen)
        if plain is not None:
            return [plain]
    found: dict[int, M] = {}

    def absorb(reply: Any) -> None:
        gen = int(reply[0])
        if seen is not None:
            seen[meta] = gen
        found.update(decode_objects(spec, gen, reply[1]))

    head: tuple[Arg, ...] = (len(spec.stored), *spec.stored)
    calls = [
        ScriptCall("get", (meta,), (*head, *wanted[start : start + GET_PER_CALL]), writes=False)
        for start in range(0, len(wanted), GET_PER_CALL)
    ]
    yield from one_ahead(calls, absorb)
    return [found.get(pk) for pk in wanted]


def get_plain(spec: ModelSpec[M], pk: int, seen: Generations) -> Operation[M | None]:
    """Object ``pk`` read without a script from the generation ``seen`` holds for the model:
    the object, or None when this read cannot tell (that generation is no longer current, and
    ``seen`` learns the current one; or the hash holds none of the model's fields: the object
    may be missing, which get.lua tells apart).

    One round trip: ``HMGET`` of the object's hash in generation g, then ``HGET`` of the
    current generation, in that order (`RawCall.follows`). Generations only grow (``lastgen``
    is a counter, and a reset stages each object once and never writes it again before the
    switch), so when the generation read after the ``HMGET`` is g, the ``HMGET`` read g while it
    was current, or while it was being staged, unchanged until it became current in between:
    either way a state the object had while the read was in flight."""
    meta = spec.keys.meta
    gen = seen[meta]
    values, now = yield (
        RawCall(("HMGET", spec.keys.object(gen, pk), *spec.stored)),
        RawCall(("HGET", meta, "gen"), follows=True),
    )
    current = int(now or 0)
    if current != gen:
        seen[meta] = current
        return None
    if not any(value is not None for value in values):
        return None
    ((_, obj),) = decode_objects(spec, gen, [pk, *values])
    return obj


def project(
    spec: ModelSpec[Any], pks: Sequence[int], fields: tuple[str, ...]
) -> Operation[list[tuple[Any, ...]]]:
    """Fetch some fields of objects by primary key, as tuples; missing objects are left out."""
    out: list[tuple[Any, ...]] = []

    def absorb(reply: Any) -> None:
        gen = int(reply[0])
        out.extend(decode_projection(spec, gen, pk, raw, fields) for pk, raw in rows(reply[1], len(fields)))

    head: tuple[Arg, ...] = (len(fields), *fields)
    calls = [
        ScriptCall("get", (spec.keys.meta,), (*head, *pks[start : start + GET_PER_CALL]), writes=False)
        for start in range(0, len(pks), GET_PER_CALL)
    ]
    yield from one_ahead(calls, absorb)
    return out


def get_one(spec: ModelSpec[M], pk: int, seen: Generations | None = None) -> Operation[M]:
    """Fetch one object; `NotFound` if it does not exist (``seen``: see `get`)."""
    (found,) = yield from get(spec, [pk], seen)
    if found is None:
        raise NotFound(f"no {spec.model.__qualname__} with pk={short_repr(pk)}")
    return found


def get_by(spec: ModelSpec[M], field: Field[Any, Any], value: Any) -> Operation[M]:
    """The object whose ``field`` equals ``value`` (the lowest pk when several do); `NotFound`."""
    if not issubclass(spec.model, field.owner):
        raise QueryError(f"a field of {field.owner.__qualname__} cannot look up {spec.model.__qualname__}")
    formula = use_compounds(compile_formula(field == value), spec.compounds, None)
    found = yield from first(spec, formula, WHOLE)
    if found is None:
        raise NotFound(f"no {spec.model.__qualname__} with {field.name}={short_repr(value)}")
    return found


# -- the query actions, typed ----------------------------------------------------------------


def fetch(spec: ModelSpec[M], formula: Formula | None, page: Page) -> Operation[list[M]]:
    """The matching objects, on the page."""
    return cast("list[M]", (yield from query(spec, formula, "fetch", page)))


def first(spec: ModelSpec[M], formula: Formula | None, page: Page) -> Operation[M | None]:
    """The first matching object on the page, or None."""
    return cast("M | None", (yield from query(spec, formula, "first", page)))


def fetch_only(
    spec: ModelSpec[Any], formula: Formula | None, page: Page, only: tuple[str, ...]
) -> Operation[list[Any]]:
    """The values of ``only`` of the matching objects, as tuples, on the page."""
    return cast("list[Any]", (yield from query(spec, formula, "fetch", page, only)))


def first_only(
    spec: ModelSpec[Any], formula: Formula | None, page: Page, only: tuple[str, ...]
) -> Operation[Any]:
    """The values of ``only`` of the first matching object, or None."""
    return (yield from query(spec, formula, "first", page, only))


def count(spec: ModelSpec[Any], formula: Formula | None, page: Page) -> Operation[int]:
    """How many objects match (offset and limit applied)."""
    return cast(int, (yield from query(spec, formula, "count", page)))


def exists(spec: ModelSpec[Any], formula: Formula | None, page: Page) -> Operation[bool]:
    """Whether any object matches."""
    return cast(bool, (yield from query(spec, formula, "exists", page)))


def pks(spec: ModelSpec[Any], formula: Formula | None, page: Page) -> Operation[list[int]]:
    """The pks of the matching objects, in the query's order."""
    return cast("list[int]", (yield from query(spec, formula, "pks", page)))


def delete_matching(spec: ModelSpec[Any], formula: Formula | None, page: Page) -> Operation[int]:
    """Delete every matching object; refuses a page (it acts on every match)."""
    _refuse_page(page, "delete")
    return cast(int, (yield from query(spec, formula, "delete", page)))


def update_matching(
    spec: ModelSpec[Any], formula: Formula | None, page: Page, values: dict[str, Any]
) -> Operation[int]:
    """Set ``values`` on every matching object; refuses a page, and a change of pk."""
    _refuse_page(page, "update")
    if "pk" in values:
        raise QueryError("update() cannot change pk")
    if not values:
        return 0
    return cast(int, (yield from query(spec, formula, "update", page, updates=values)))


def page_with_count(
    spec: ModelSpec[M], formula: Formula | None, page: Page
) -> Operation[tuple[list[M], int]]:
    """The page and the whole result's count from one dataset: both start over if a `reset`
    switched datasets between them. A page that query.lua answers by rank (`by_rank`) comes
    with its count from the same call, an atomic snapshot; any other is read side by side with
    a count call (one round trip when each fits in one call)."""
    for _ in range(RESTARTS + 1):
        pin = Pin()
        if by_rank(formula, page):
            items, total = yield from _page_and_count(spec, cast("Formula", formula), page, pin)
            if items is not _RESTART and total is None:  # not answered by rank (an index not ready)
                total = yield from query(spec, formula, "count", WHOLE, pin=pin)
        else:
            items, total = yield from together(
                query(spec, formula, "fetch", page, pin=pin), query(spec, formula, "count", WHOLE, pin=pin)
            )
        if items is not _RESTART and total is not _RESTART:
            return cast("list[M]", items), cast(int, total)
    raise _restarted(spec)


def by_rank(formula: Formula | None, page: Page) -> bool:
    """Whether query.lua answers ``page`` of ``formula`` by rank (its ``by_rank``): every object,
    or a range of the sorted set that gives the order, and a limit within one call's rows. Its
    count is then the span of the range, which the same call reads."""
    if page.limit is None or not 0 < page.limit <= LIMITS.rows:
        return False
    if isinstance(formula, AllObjects):
        return True
    if isinstance(formula, (RangeScan, CompoundScan)):
        return formula.field is not None and formula.field == page.order
    return False


def _page_and_count(spec: ModelSpec[Any], formula: Formula, page: Page, pin: Pin) -> Operation[Any]:
    """A page fetched with query.lua's ``page`` action: ``(items, count)``, the count None when
    the call did not answer by rank (then it fetched as ``fetch`` does); ``(_RESTART, None)``."""
    request = Request(spec, formula, "fetch", page, counted=True)
    answer = _Answer(request)
    items = yield from _run(request, pin, answer)
    return items, answer.whole


def _refuse_page(page: Page, action: str) -> None:
    if page.offset or page.limit is not None:
        raise QueryError(f"{action}() acts on every matching object: remove limit() and offset()")


def stream_pks(
    spec: ModelSpec[Any], formula: Formula | None, page: Page, batch: int
) -> Operation[Sequence[int]]:
    """The first step of `Query.iter`: the matching pks, 8 bytes each on the client."""
    if type(batch) is not int or batch < 1:
        raise QueryError(f"iter() needs a batch size >= 1, got {short_repr(batch)}")
    return array("q", (yield from pks(spec, formula, page)))


def stream_chunks(
    spec: ModelSpec[Any], found: Sequence[int], batch: int, only: tuple[str, ...] | None
) -> Iterator[Operation[list[Any]]]:
    """The rest of `Query.iter`: one operation per ``batch`` pks, fetching their objects (or the
    values of ``only``). Objects deleted meanwhile are left out; changed ones come as they are."""
    for start in range(0, len(found), batch):
        chunk = list(found[start : start + batch])
        if only is None:
            yield _present(get(spec, chunk))
        else:
            yield project(spec, chunk, only)


def _present(operation: Operation[list[M | None]]) -> Operation[list[Any]]:
    return [obj for obj in (yield from operation) if obj is not None]


def update_args(spec: ModelSpec[Any], values: dict[str, Any]) -> tuple[Arg, ...]:
    """The ``update`` arguments of query.lua: validated, encoded values and their index entries."""
    args: list[Arg] = [len(values)]
    for name, value in values.items():
        field = spec.field(name)
        valid = field.validate(value)
        stored, member = encode_indexed(valid)
        flags = (
            ("e" if field.equality else "") + ("u" if field.unique else "") + ("s" if field.sorted else "")
        )
        sortkey = field.sort_key_of(valid) if field.sort_key_of is not None else b""
        args += [name, flags, stored, member, sortkey]
    return tuple(args)


def query_call(
    spec: ModelSpec[Any],
    formula: Formula,
    action: str,
    fields: tuple[str, ...],
    page: Page,
    resume: tuple[bytes | str, bytes | str, bytes | str] = (b"", b"", b""),
    extra: tuple[Arg, ...] = (),
) -> ScriptCall:
    """One call of query.lua (see its header for the arguments); ``resume`` is the pinned
    generation, the strategy and the cursor of a walk's next call (all empty on a first call);
    ``extra`` an update's values."""
    args: list[Arg] = [action, len(fields), *fields, spec.signature, *tokens(formula)]
    args += [
        page.order or b"",
        b"1" if page.descending else b"",
        page.offset,
        -1 if page.limit is None else page.limit,
        *resume,
        LIMITS.budget,
        LIMITS.walk,
        LIMITS.rows,
        LIMITS.writes,
        LIMITS.sort,
        LIMITS.keys,
        *spec.schema,
        *extra,
    ]
    return ScriptCall("query", (spec.keys.meta,), tuple(args), writes=action in ("delete", "update"))


@dataclass(frozen=True, slots=True)
class Request:
    """One query to run: what to act on, how, and on which page (the fixed part of its calls)."""

    spec: ModelSpec[Any]
    formula: Formula
    action: Action
    page: Page = WHOLE
    only: tuple[str, ...] | None = None
    updates: dict[str, Any] | None = None
    extra: tuple[Arg, ...] = ()
    """The encoded ``updates`` (see `update_args`)."""
    counted: bool = False
    """A fetch that asks a rank answer for the whole result's count too (query.lua's ``page``)."""

    @property
    def writing(self) -> bool:
        """Whether the query changes data (its calls must never be sent twice)."""
        return self.action in ("delete", "update")

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields a fetch reads."""
        return (self.only or self.spec.stored) if self.action == "fetch" else ()

    def call(
        self, page: Page, resume: tuple[bytes, bytes, bytes], formula: Formula | None = None
    ) -> ScriptCall:
        """The query.lua call for ``page`` (of ``formula``, when narrowed), resuming a walk."""
        formula = formula or self.formula
        action = "page" if self.counted else self.action
        return query_call(self.spec, formula, action, self.fields, page, resume, self.extra)


def query(
    spec: ModelSpec[Any],
    formula: Formula | None,
    action: Action,
    page: Page = WHOLE,
    only: tuple[str, ...] | None = None,
    updates: dict[str, Any] | None = None,
    pin: Pin | None = None,
) -> Operation[Any]:
    """Run a compiled query and return what ``action`` asks for, on the requested page.

    With ``pin``, the query reads the generation pinned there (or pins the one it finds), and
    returns `_RESTART` instead of starting over when a `reset` replaced it: the caller, which
    reads other parts of the answer from the same generation, starts them all over."""
    if action in ("count", "exists") and not page.whole:
        total = yield from query(spec, formula, "count", pin=pin)
        if total is _RESTART:
            return _RESTART
        count = max(0, total - page.offset)
        count = count if page.limit is None else min(count, page.limit)
        return count if action == "count" else count > 0
    if action == "first":
        limit = 1 if page.limit is None else min(page.limit, 1)
        one = Page(page.order, page.descending, page.offset, limit)
        found = yield from query(spec, formula, "fetch", one, only, pin=pin)
        if found is _RESTART:
            return _RESTART
        return found[0] if found else None
    extra = update_args(spec, updates or {}) if action == "update" else ()  # validated before any I/O
    if formula is None or (page.limit == 0 and action in ("pks", "fetch")):
        return {"count": 0, "exists": False, "pks": [], "fetch": [], "delete": 0, "update": 0}[action]
    request = Request(spec, formula, action, page, only, updates, extra)
    pieces = _split(formula) if page.whole and only is None and not _unique_update(request) else None
    if pieces is not None:  # the pieces' results are disjoint: add them up, from one dataset
        for _ in range(RESTARTS + 1):
            shared = pin or Pin()
            results = []
            for piece in pieces:
                result = yield from query(spec, piece, action, page, only, updates, pin=shared)
                if result is _RESTART:
                    break
                results.append(result)
            else:
                break
            if pin is not None:
                return _RESTART
        else:
            raise _restarted(spec)
        if action in ("count", "delete", "update"):
            return sum(results)
        if action == "exists":
            return any(results)
        merged = [item for result in results for item in result]
        merged.sort(key=None if action == "pks" else _pk_of)  # pieces are not projections
        return merged
    for _ in range(RESTARTS + 1):
        result = yield from _run(request, pin)
        if result is _RESTART and pin is not None:
            return _RESTART
        if result is _TOO_LARGE:
            if isinstance(formula, Inter) and isinstance(formula.parts[0], PkSet):  # pragma: no cover
                raise AssertionError("query.lua refused an update narrowed to one object")
            return (yield from _update_one(request))
        if result is not _RESTART:
            return result
    raise _restarted(spec)


@dataclass(slots=True)
class Pin:
    """The generation that the parts of one answer read (empty until the first part pins it)."""

    gen: bytes = b""


def _restarted(spec: ModelSpec[Any]) -> QueryError:
    return QueryError(
        f"{spec.model.__qualname__}: the query was restarted {RESTARTS} times because `reset` kept "
        "replacing the dataset while it ran; run it again"
    )


def _unique_update(request: Request) -> bool:
    return request.action == "update" and any(request.spec.field(n).unique for n in request.updates or {})


def _split(formula: Formula) -> list[Formula] | None:
    """The formula as pieces with at most `VALUES_PER_CALL` values of an ``in_()`` each, when
    its whole result lies within one long ``in_()`` (alone, ANDed, or minus something).
    Values of one field match disjoint objects, so the pieces' results never overlap."""

    def chunks(node: Members | Values) -> list[Formula]:
        if isinstance(node, Members):
            size, items = VALUES_PER_CALL, node.members
            return [Members(node.field, items[i : i + size]) for i in range(0, len(items), size)]
        size, items = SORTED_VALUES_PER_CALL, node.keys
        return [Values(node.field, items[i : i + size]) for i in range(0, len(items), size)]

    def long(node: Formula) -> bool:
        if isinstance(node, Members):
            return len(node.members) > VALUES_PER_CALL
        return isinstance(node, Values) and len(node.keys) > SORTED_VALUES_PER_CALL

    if isinstance(formula, (Members, Values)) and long(formula):
        return chunks(formula)
    if isinstance(formula, Inter):
        for at, part in enumerate(formula.parts):
            if isinstance(part, (Members, Values)) and long(part):
                rest = formula.parts[:at] + formula.parts[at + 1 :]
                return [Inter((piece, *rest)) for piece in chunks(part)]
    if isinstance(formula, Diff) and isinstance(formula.base, (Members, Values)) and long(formula.base):
        return [Diff(piece, formula.minus) for piece in chunks(formula.base)]
    return None


_RESTART: Final = object()
_TOO_LARGE: Final = object()


def _update_one(request: Request) -> Operation[int]:
    """update() of a Unique field on a query too costly for one call: at most one object may
    match, so find the matches (two are a violation), then update that one object atomically
    with the query re-checked on it."""
    from .operations import _violation  # the unique-violation message is the save path's

    spec, updates = request.spec, request.updates or {}
    pks = yield from query(spec, request.formula, "pks", Page(limit=2))
    if len(pks) > 1:
        name = next(n for n in updates if spec.field(n).unique)
        stored, member = encode_indexed(spec.field(name).validate(updates[name]))
        raise _violation(spec, name, member or stored, " (more than one object matches)")
    if not pks:
        return 0
    narrowed = Inter((PkSet((pks[0],)), request.formula))  # always probed in one call
    count: int = yield from query(spec, narrowed, "update", updates=updates)
    return count


class _Answer:
    """What the calls of one query attempt have answered so far."""

    __slots__ = ("collected", "request", "total", "whole")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.total = 0
        self.collected: list[Any] = []
        self.whole: int | None = None
        """The whole result's count, when a ``page`` call answered it."""

    def absorb(self, gen: bytes, payload: Any) -> None:
        """Add one call's payload (see query.lua); raises what an update refused."""
        request = self.request
        if request.action == "update" and isinstance(payload, list):
            _refused_update(request.spec, payload)
        if request.action in ("count", "delete", "update", "exists"):
            self.total += int(payload)
        elif request.action == "pks":
            self.collected += [int(pk) for pk in payload]
        else:  # (pk, object or tuple): a whole result is sorted by pk at the end
            number, spec, only = int(gen), request.spec, request.only
            if only is None:
                self.collected += decode_objects(spec, number, payload)
            else:
                found = rows(payload, len(request.fields))
                self.collected += [(pk, decode_projection(spec, number, pk, raw, only)) for pk, raw in found]

    @property
    def result(self) -> Any:
        """The query's answer from what was absorbed (a whole result sorted by pk)."""
        action = self.request.action
        if action == "exists":
            return self.total > 0
        if action in ("count", "delete", "update"):
            return self.total
        if self.request.page.whole:  # scripts return a whole result in any order
            self.collected.sort(key=None if action == "pks" else _first)
        return self.collected if action == "pks" else [item for _, item in self.collected]


def _run(request: Request, pin: Pin | None = None, answer: _Answer | None = None) -> Operation[Any]:
    """One attempt at a query: its first call, then a walk's calls or the narrowed chunks."""
    page = request.page
    answer = answer or _Answer(request)
    gen: bytes = pin.gen if pin is not None else b""
    strategy: bytes = b""
    cursor: bytes = b""
    skip, want = page.offset, page.limit
    while True:
        current = Page(page.order, page.descending, skip, want)
        (reply,) = yield (request.call(current, (gen, strategy, cursor)),)
        if reply[1] == b"!gen":  # a reset replaced the dataset between two calls of a walk
            return answer.result if request.writing else _RESTART
        _refuse_not_ready(request.spec, reply)
        if pin is not None and pin.gen != reply[0]:
            if pin.gen:  # read side by side with another part, from another generation
                return answer.result if request.writing else _RESTART
            pin.gen = reply[0]
        gen, strategy, cursor, skip, payload = reply[0], reply[1], reply[2], int(reply[3]), reply[4]
        if len(reply) > 5:  # a page answered by rank: the whole result's count
            answer.whole = int(reply[5])
        if request.action == "update" and isinstance(payload, list) and payload[0] == b"!toolarge":
            return _TOO_LARGE
        if strategy == b"keys":  # pks to act on in chunks (the cursor: the chunk size[:stamp])
            pks = sorted(int(pk) for pk in payload) if page.whole else [int(pk) for pk in payload]
            per, _, stamp = cursor.partition(b":")
            done = yield from _chunks(request, gen, pks, int(per), answer, stamp)
            return answer.result if done or request.writing else _RESTART
        answer.absorb(gen, payload)
        if request.action == "exists" and answer.total:
            return True
        if page.limit is not None and request.action in ("pks", "fetch"):
            want = page.limit - len(answer.collected)
            if want <= 0:
                cursor = b""
        if not cursor:
            return answer.result


def _chunks(
    request: Request, gen: bytes, pks: list[int], per: int, answer: _Answer, stamp: bytes = b""
) -> Operation[bool]:
    """Run the query narrowed to chunks of ``per`` of ``pks`` (a result, or the candidates
    that hold it), a read's calls each sent ahead of decoding the reply before it, a write's
    `CHUNK_CALLS_PER_BATCH` calls per round trip: each call re-checks the condition
    on its objects and acts atomically, or, for a result listed with the write ``stamp``,
    reads its rows while no object changed since (query.lua, strategy 'l'). False when a
    reset replaced generation ``gen`` meanwhile."""
    ordered = Page(request.page.order, request.page.descending)
    resume = (gen, b"l" if stamp else b"", stamp)
    calls = [
        request.call(ordered, resume, Inter((PkSet(tuple(pks[i : i + per])), request.formula)))
        for i in range(0, len(pks), per)
    ]
    if not request.writing and request.action != "exists":  # (exists stops at its first hit)
        return (yield from _read_chunks(request, calls, answer))
    for start in range(0, len(calls), CHUNK_CALLS_PER_BATCH):
        for reply in (yield calls[start : start + CHUNK_CALLS_PER_BATCH]):
            if reply[1] == b"!gen":
                return False
            _refuse_not_ready(request.spec, reply)
            answer.absorb(reply[0], reply[4])
        if request.action == "exists" and answer.total:
            break
    return True


def _read_chunks(request: Request, calls: list[ScriptCall], answer: _Answer) -> Operation[bool]:
    """`_chunks` for a read: each call is sent ahead of decoding the reply before it
    (`one_ahead`). False when a reset replaced the generation meanwhile."""

    def absorb(reply: Any) -> bool:
        if reply[1] == b"!gen":
            return False
        _refuse_not_ready(request.spec, reply)
        answer.absorb(reply[0], reply[4])
        return True

    return (yield from one_ahead(calls, absorb))


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


def _pk_of(obj: Any) -> int:
    return obj.pk  # type: ignore[no-any-return]  # a saved Model's pk is an int


def _refuse_not_ready(spec: ModelSpec[Any], reply: list[Any]) -> None:
    """Raise `IndexNotReady` for query.lua's refusal to use an index that is not ready."""
    if reply[1] != b"!notready":
        return
    name, record = reply[2].decode(), reply[3].decode()
    kind, field = name.split(":", 1)
    model = spec.model.__qualname__
    state, _, stored = record.partition(":")
    fix = (
        f"build it online with `typedredis reindex {spec.model.__module__}:{model}` (or "
        f"{model}.reindex(), await {model}.areindex()), or rewrite every object into a new "
        f"generation with complete indexes: {model}.reset({model}.objects.iter()) (see "
        "'Changing a model' in the docs)"
    )
    wanted = spec.by_name[field].sort_encoding if kind == "s" and field in spec.by_name else None
    if state == "ready" and wanted is not None and stored != wanted:
        why = f"its sorted index holds {stored} sort keys, and the code declares {wanted} ones"
    elif state == "dropped":
        why = "a process whose code does not define this index changed objects, so it may be stale"
    else:
        why = "objects stored before the index was declared are not in it yet"
    raise IndexNotReady(
        f"{model}.{field}: its {'sorted' if kind == 's' else 'equality'} index is not ready in Redis "
        f"({state or 'not recorded'}: {why}); {fix}",
        field=field,
        state=state or "missing",
    )


def _refused_update(spec: ModelSpec[Any], reply: list[Any]) -> None:
    from .operations import _violation  # the unique-violation message is the save path's

    if reply[0] == b"!unique":
        raise _violation(spec, reply[1], reply[2])
    raise UniqueViolation(f"unexpected update reply {reply!r}", field="", value=None)


def plan(
    spec: ModelSpec[Any], formula: Formula | None, action: Action, page: Page
) -> Operation[dict[str, Any]]:
    """How query.lua would answer the first call of this query, and the estimates behind it."""
    if formula is None:
        return {"strategy": "empty", "matches": 0, "cost": 0, "objects": None}
    real = "fetch" if action == "first" else action
    (reply,) = yield (query_call(spec, formula, "plan:" + real, (), page),)
    _refuse_not_ready(spec, reply)
    estimates = reply[4]
    return {
        "strategy": reply[1].decode(),
        "matches": int(estimates[0]),
        "cost": None if int(estimates[1]) < 0 else int(estimates[1]),
        "objects": int(estimates[2]),
    }
