"""`Model`: a pydantic model stored as one Redis hash per object, with indexed fields."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from typing_extensions import Unpack

from . import operations, querying
from .errors import SchemaError
from .expr import Expr, Field, Fields
from .fields import ModelSpec, snake_case
from .query import Query
from .reindex import ReindexReport, reindex
from .session import async_executor, sync_executor

if TYPE_CHECKING:
    from .executor import AsyncExecutor, SyncExecutor

M = TypeVar("M", bound="Model")
T = TypeVar("T")

MAX_PK = 2**53 - 1
"""Primary keys stay exact in Lua's doubles up to here."""


class _FieldsDescriptor:
    """``Model.f``: the model's `Fields` namespace (class access only)."""

    def __get__(self, obj: object, owner: type[M]) -> Fields[M]:
        if owner is Model:  # pydantic looks at the base's attributes while building a subclass
            return self  # type: ignore[return-value]  # no namespace: Model has no fields
        return owner.spec().namespace()


class _ObjectsDescriptor:
    """``Model.objects``: a `Query` of every object, for the Django-style API."""

    def __get__(self, obj: object, owner: type[M]) -> Query[M]:
        return Query(owner)


_registry: dict[str, type[Model]] = {}


class Model(BaseModel):
    """Base class of stored models. Annotate a field ``Indexed[T]`` to make it queryable.

    Class keyword ``key`` sets the key name (default: the class name in snake case); every
    Redis key of the model starts with ``{key}`` so a model lives in one cluster slot.
    """

    model_config = ConfigDict(validate_assignment=True)

    pk: Annotated[int | None, PydanticField(ge=1, le=MAX_PK)] = None
    """The primary key: assigned by the first `save` (or set it yourself)."""

    f: ClassVar[_FieldsDescriptor] = _FieldsDescriptor()
    """The field namespace: ``User.f.name`` is a `Field` for building query expressions."""
    objects: ClassVar[_ObjectsDescriptor] = _ObjectsDescriptor()
    """A `Query` of every object, for the Django-style API: ``User.objects.filter(name="ann")``."""

    __typedredis_key__: ClassVar[str]
    __typedredis_spec__: ClassVar[ModelSpec[Any] | None] = None

    def __init_subclass__(cls, *, key: str | None = None, **kwargs: Unpack[ConfigDict]) -> None:
        super().__init_subclass__(**kwargs)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        key = kwargs.get("key")
        if key is None:
            key = snake_case(cls.__name__)
        reserved = _RESERVED.intersection(cls.model_fields)
        if reserved:
            raise SchemaError(
                f"{cls.__qualname__}: field name(s) {sorted(reserved)} are reserved by typedredis.Model"
            )
        other = _registry.get(key)
        if other is not None and (other.__module__, other.__qualname__) != (cls.__module__, cls.__qualname__):
            raise SchemaError(
                f"{cls.__module__}.{cls.__qualname__} and {other.__module__}.{other.__qualname__} "
                f"would share the key {key!r}; give one of them another with `class ...(Model, key=...)`"
            )
        cls.__typedredis_key__ = key
        cls.__typedredis_spec__ = None
        ModelSpec.check_key(cls, key)
        if cls.__pydantic_complete__:
            cls.spec()  # a field typedredis cannot index fails here, not at first use
        _registry[key] = cls

    @classmethod
    def spec(cls) -> ModelSpec[Self]:
        """What typedredis derived from the class: key layout and field specs (built once)."""
        spec: ModelSpec[Self] | None = cls.__dict__.get("__typedredis_spec__")
        if spec is None:
            if cls is Model:
                raise SchemaError("typedredis.Model itself is abstract: subclass it")
            if not cls.__pydantic_complete__:
                cls.model_rebuild(raise_errors=True)
            spec = ModelSpec(cls, cls.__typedredis_key__)
            cls.__typedredis_spec__ = spec
        return spec

    # Every method below builds an operation of the pure core (typedredis.operations,
    # typedredis.querying) and runs it: the sync method on the model's sync client, its
    # ``a``-twin on its asyncio client. They decide nothing else.

    # -- instance API -----------------------------------------------------------------------

    def save(self, *, fields: Iterable[str] | None = None) -> Self:
        """Insert or replace this object (atomically with its index entries); returns self.

        An object without a pk gets a new one. With a pk, whatever is stored under it is
        replaced: use `insert` where the pk may come from outside (a request body).

        **Partial writes.** An object loaded from Redis (or saved before) writes only the
        fields whose value changed since, with their index entries (moved from the values
        stored now), so that two processes changing different fields of one object do not
        undo each other's change. Should the object be gone meanwhile, it is stored whole.
        With ``fields``, only the fields named are written, whatever changed, and `NotFound`
        is raised (writing nothing) when the object is not stored. While an index of the
        model is not ready (a reindex is due), a save writes the whole object, and
        ``save(fields=...)`` raises `IndexNotReady`.
        """
        self._sync("save").run(operations.save(self.spec(), [self], fields=_names(fields)))
        return self

    async def asave(self, *, fields: Iterable[str] | None = None) -> Self:
        """`save`, on the model's asyncio client."""
        await self._async("asave").run(operations.save(self.spec(), [self], fields=_names(fields)))
        return self

    def insert(self) -> Self:
        """Store this object as a new one (atomically with its index entries); returns self.

        An object without a pk gets a new one. If an object is already stored under its pk,
        raises `AlreadyExists` and writes nothing (`save` would replace it).
        """
        self._sync("insert").run(operations.save(self.spec(), [self], insert=True))
        return self

    async def ainsert(self) -> Self:
        """`insert`, on the model's asyncio client."""
        await self._async("ainsert").run(operations.save(self.spec(), [self], insert=True))
        return self

    def delete(self) -> bool:
        """Delete this object and its index entries; returns whether it was stored.

        ``pk`` stays set on the instance, so saving it again recreates the object under the same pk.
        """
        return self._sync("delete").run(operations.delete_one(self.spec(), self.pk))

    async def adelete(self) -> bool:
        """`delete`, on the model's asyncio client."""
        return await self._async("adelete").run(operations.delete_one(self.spec(), self.pk))

    # -- class API --------------------------------------------------------------------------

    @classmethod
    def get(cls, pk: int) -> Self:
        """The object with primary key ``pk``; raises `NotFound` if there is none."""
        executor = cls._sync("get")
        return executor.run(querying.get_one(cls.spec(), pk, executor.generations))

    @classmethod
    async def aget(cls, pk: int) -> Self:
        """`get`, on the model's asyncio client."""
        executor = cls._async("aget")
        return await executor.run(querying.get_one(cls.spec(), pk, executor.generations))

    @classmethod
    def get_by(cls, field: Field[Self, T], value: T) -> Self:
        """The object whose ``field`` equals ``value`` (meant for `Unique` fields); `NotFound` if none.

        With a non-unique field, the match with the lowest pk is returned.
        """
        return cls._sync("get_by").run(querying.get_by(cls.spec(), field, value))

    @classmethod
    async def aget_by(cls, field: Field[Self, T], value: T) -> Self:
        """`get_by`, on the model's asyncio client."""
        return await cls._async("aget_by").run(querying.get_by(cls.spec(), field, value))

    @classmethod
    def get_many(cls, pks: Iterable[int]) -> list[Self | None]:
        """The objects with these primary keys, None where missing, in one round trip (per 1 000)."""
        return cls._sync("get_many").run(querying.get(cls.spec(), pks))

    @classmethod
    async def aget_many(cls, pks: Iterable[int]) -> list[Self | None]:
        """`get_many`, on the model's asyncio client."""
        return await cls._async("aget_many").run(querying.get(cls.spec(), pks))

    @classmethod
    def query(cls, *exprs: Expr[Self]) -> Query[Self]:
        """The objects matching all ``exprs`` (e.g. ``User.query(User.f.age == 3)``)."""
        return Query(cls).filter(*exprs)

    @classmethod
    def save_all(cls, objects: Iterable[Self]) -> None:
        """Insert or replace many objects (any iterable), pipelined; each object is saved atomically.

        Everything is validated and encoded before the first write. The list as a whole is not
        one transaction (each script call of up to 100 objects is); if a call fails, the error
        is raised and no ``pk`` is assigned to the new objects. An instance listed twice is saved once.
        """
        cls._sync("save_all").run(operations.save(cls.spec(), objects))

    @classmethod
    async def asave_all(cls, objects: Iterable[Self]) -> None:
        """`save_all`, on the model's asyncio client."""
        await cls._async("asave_all").run(operations.save(cls.spec(), objects))

    @classmethod
    def insert_all(cls, objects: Iterable[Self]) -> None:
        """Store many objects as new ones (any iterable), like `save_all`, but refuse stored pks.

        If any object's pk is already stored (or listed twice), raises `AlreadyExists` and
        writes nothing: a list of more than one script call (100 objects) is checked first,
        read-only, and each call checks again atomically (a concurrent writer can still take
        a pk between the two: then the earlier calls stay written, as with `save_all`).
        """
        cls._sync("insert_all").run(operations.save(cls.spec(), objects, insert=True))

    @classmethod
    async def ainsert_all(cls, objects: Iterable[Self]) -> None:
        """`insert_all`, on the model's asyncio client."""
        await cls._async("ainsert_all").run(operations.save(cls.spec(), objects, insert=True))

    @classmethod
    def delete_many(cls, pks: Iterable[int]) -> int:
        """Delete objects by primary key; returns how many existed."""
        return cls._sync("delete_many").run(operations.delete(cls.spec(), pks))

    @classmethod
    async def adelete_many(cls, pks: Iterable[int]) -> int:
        """`delete_many`, on the model's asyncio client."""
        return await cls._async("adelete_many").run(operations.delete(cls.spec(), pks))

    @classmethod
    def reset(cls, objects: Iterable[Self]) -> None:
        """Atomically replace every stored object of this model by ``objects`` (any iterable).

        Readers see either the whole old dataset or the whole new one. ``objects`` is streamed:
        a generator is consumed 3 200 objects at a time and never held whole. Objects without a
        pk get new ones as they are staged; primary keys are never reused. Objects that keep
        their pk must have distinct ones, and unique fields distinct values (else
        `UniqueViolation`). Any error before the switch (a bad object, a violation, a lost
        connection, the iterable's own error) leaves the old dataset in place and removes the
        staged one; once the new dataset is switched in, `reset` returns normally. Saves and
        deletes that other clients make while the new dataset is being staged go to the old
        dataset and are discarded with it. Raises `ResetAborted` if the staged dataset was
        reclaimed as abandoned.
        """
        cls._sync("reset").run(operations.reset(cls.spec()), source=objects)

    @classmethod
    async def areset(cls, objects: Iterable[Self] | AsyncIterable[Self]) -> None:
        """`reset`, on the model's asyncio client; ``objects`` may be an async iterable. A task
        cancelled while it stages retires the staged generation before the cancellation goes on
        (cancelled again meanwhile, it leaves it to the stale-staging reclaim)."""
        await cls._async("areset").run(operations.reset(cls.spec()), source=objects)

    @classmethod
    def reindex(
        cls, *, progress: Callable[[int, int], None] | None = None, migrate: bool = False
    ) -> ReindexReport:
        """Build, online, the indexes of this model that Redis does not hold ready for the
        current dataset (declared after objects were stored, a sorted field whose type changed,
        dropped by a release without them), and remove the keys of dropped indexes the model no
        longer declares. Readers and writers go on meanwhile; queries refuse the indexes being
        built (`IndexNotReady`) until they are ready. Work is done in small calls from a
        checkpoint kept in Redis: an interrupted reindex resumes where it stopped when run again.
        ``progress(done, total)`` is called after each batch of objects. Raises `ReindexAborted`
        when a process whose code does not maintain these indexes changed objects meanwhile,
        and `UniqueViolation` when two stored objects share the value of a new `Unique` field.

        With ``migrate=True``, every object is then rewritten in the form this code writes,
        where its stored form differs: values that a migration hook (a
        ``field_validator(mode="before")``) converts are stored converted, with their index
        entries; fields the model no longer declares are removed; fields added with a default
        are stored. Each object is replaced only while it holds what was read (a concurrent
        save wins). ``progress`` starts over for that pass.
        """
        return cls._sync("reindex").run(reindex(cls.spec(), progress, migrate))

    @classmethod
    async def areindex(
        cls, *, progress: Callable[[int, int], None] | None = None, migrate: bool = False
    ) -> ReindexReport:
        """`reindex`, on the model's asyncio client. A cancelled task leaves the job where its
        last call left it: the next reindex resumes it."""
        return await cls._async("areindex").run(reindex(cls.spec(), progress, migrate))

    @classmethod
    def _sync(cls, method: str) -> SyncExecutor:
        return sync_executor(cls, method)

    @classmethod
    def _async(cls, method: str) -> AsyncExecutor:
        return async_executor(cls, method)


def _names(fields: Iterable[str] | None) -> tuple[str, ...] | None:
    if fields is None:
        return None
    if isinstance(fields, str):  # save(fields="name") would name four one-letter fields
        return (fields,)
    return tuple(fields)


_RESERVED = frozenset(
    name for name in vars(Model) if not name.startswith("__") and name not in {"pk", "model_config"}
) | {"f", "objects"}
