"""The exception hierarchy: every error typedredis raises derives from `TypedRedisError`.

Invalid field values are the one exception: they raise pydantic's own
`ValidationError`, before anything is sent to Redis. Errors of the Redis client library
(redis-py) never escape: a connection that fails becomes `Unavailable` (or `OutcomeUnknown`
for a write that was sent), an error reply of the server becomes `ServerError`; the client
library's own exception is chained as ``__cause__``.
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


class TypedRedisError(Exception):
    """Base class of every error raised by typedredis itself."""


class NotFound(TypedRedisError, LookupError):
    """No object is stored under the requested primary key."""


class QueryError(TypedRedisError, TypeError):
    """A query or expression cannot be built: unindexed field, mixed models, `bool()` of an expression."""


class InvalidValue(QueryError, ValidationError):
    """A value given to a query (a comparison, a lookup, `update`) is not valid for its field.

    Both a `QueryError` and a pydantic `ValidationError` (so an API can map either to a 422).
    The message names the model and the field (``Order.status: Input should be 'paid' or
    'open' (got 'lost')``); ``model`` and ``field`` name them, and `errors()` lists pydantic's
    errors, as for any `ValidationError`. Build it with `InvalidValue.of`.
    """

    model: str
    field: str
    _message: str

    @classmethod
    def of(cls, error: ValidationError, *, model: str, field: str, message: str) -> InvalidValue:
        """The `InvalidValue` for pydantic's ``error`` about ``model.field``."""
        details: list[InitErrorDetails] = [
            {"type": PydanticCustomError(e["type"], e["msg"]), "loc": e["loc"], "input": e["input"]}
            for e in error.errors(include_url=False)
        ]
        exc = cls.from_exception_data(f"{model}.{field}", details)
        exc.model, exc.field, exc._message = model, field, message
        return exc

    def __str__(self) -> str:
        return self._message


class IndexNotReady(QueryError):
    """A query needs an index that Redis does not hold complete for the current dataset.

    The index was declared after objects were stored, its field changed type (another sort-key
    encoding), or a process running code without it changed objects. typedredis refuses rather
    than answer from an incomplete index; the message names the field and how to rebuild it.
    ``field`` names the field and ``state`` the index's record (``building``, ``dropped``,
    ``ready`` with another encoding, or ``missing``).
    """

    def __init__(self, message: str, *, field: str, state: str) -> None:
        super().__init__(message)
        self.field = field
        self.state = state


class SchemaError(TypedRedisError, TypeError):
    """A model definition (or a value's type) cannot be stored by typedredis."""


class DecodeError(TypedRedisError, ValueError):
    """Bytes stored in Redis do not decode into the model; the message names the key.

    ``key`` is the object's Redis key; ``field`` names the field whose bytes are not a
    typedredis value, or whose value does not validate as the model (None when several
    fields do not).
    """

    def __init__(self, message: str, *, key: bytes | str, field: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.field = field


class ConfigurationError(TypedRedisError):
    """No connection was configured, or a connection is configured in a way typedredis cannot use."""


class Unavailable(TypedRedisError, ConnectionError):
    """Redis could not be reached, or did not answer a read in time: nothing was written.

    Also a builtin `ConnectionError` (an `OSError`), so code that already handles network
    errors handles it too. A write whose bytes were sent raises `OutcomeUnknown` instead.
    """


class ServerError(TypedRedisError):
    """The server answered a call with an error reply (e.g. OOM, NOPERM, WRONGTYPE, BUSY).

    ``code`` is the error code (``"OOM"``, ``"NOPERM"``, ``"WRONGTYPE"``, ``"ERR"``...) and
    ``reply`` the server's error text, starting with it. The message names the script.
    """

    def __init__(self, message: str, *, code: str, reply: str) -> None:
        super().__init__(message)
        self.code = code
        self.reply = reply


class OutcomeUnknown(TypedRedisError):
    """A write was sent but its reply never arrived: it may or may not have been applied.

    typedredis never re-sends a write on its own (a re-sent save or delete could apply twice);
    the original connection error is chained as ``__cause__``.
    """


class ResetAborted(TypedRedisError):
    """A `reset` could not switch in its new dataset; the old dataset is still in place."""


class ReindexAborted(TypedRedisError):
    """A reindex could not make its indexes ready: a process whose code does not maintain them
    changed objects meanwhile (an older release still running), or a reindex planned by other
    code replaced it. The indexes stay refused by queries; run reindex again once every process
    runs the code that declares them."""


class UniqueViolation(TypedRedisError, ValueError):
    """Two objects would share the value of a `Unique` field (or a primary key in `reset`).

    ``field`` names the field and ``value`` is the shared value. Nothing was written, except
    when another client took the value while a `save_all` of several script calls was being
    written: then the calls before the refused one were saved (each object atomically).
    """

    def __init__(self, message: str, *, field: str, value: object) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class AlreadyExists(UniqueViolation):
    """`insert` met an object already stored under the same primary key; nothing was written.

    ``pk`` is that primary key (``field`` is ``"pk"``). `save` is the call that replaces.
    """

    def __init__(self, message: str, *, pk: object) -> None:
        super().__init__(message, field="pk", value=pk)
        self.pk = pk


class TypedRedisWarning(UserWarning):
    """A warning about a setup that can make typedredis return wrong answers."""


def eviction_warning(policy: str) -> TypedRedisWarning | None:
    """The warning for a server whose ``maxmemory-policy`` may evict typedredis' keys (keys
    without a TTL: only the ``allkeys-*`` policies evict them), or None."""
    if not policy.startswith("allkeys-"):
        return None
    return TypedRedisWarning(
        f"the Redis server evicts keys without a TTL (maxmemory-policy {policy}): an evicted object "
        "or index makes queries miss objects; typedredis never returns an evicted object, but it "
        "cannot bring it back. Use noeviction or a volatile-* policy (see the Failure modes page)"
    )
