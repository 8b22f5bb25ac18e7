"""The typedredis mypy plugin: checks query expressions such as ``User.f.name == "ann"``.

Enable it with ``plugins = ["typedredis.mypy"]`` (before or after ``pydantic.mypy``). It makes
``User.f.name`` a ``Field[User, str]`` (the field's own value type) instead of ``Field[User, Any]``,
reports unknown and unindexed fields, and checks the value compared with a field on either side
of ``==`` / ``!=`` and inside ``in_()``. Every error carries one of the plugin's own codes
(``typedredis-field``, ``typedredis-index``, ``typedredis-value``) so it can be silenced selectively.

How it works:

1. mypy drops ``Annotated`` metadata, so a class hook reads each model field's annotation as
   written in the class body (``Indexed[str]``, ``Annotated[str, EQ]``) and stores the index kind
   of every field in the class's ``TypeInfo.metadata``. That metadata is cached with the module and
   is part of its interface, so editing only a marker re-checks dependent modules.
2. An attribute hook on ``Fields.__getattr__`` turns ``Model.f.<name>`` into a precise `Field`.
3. A method hook on `Field.__eq__` / ``__ne__`` checks the compared value; mypy would otherwise
   retry a failed ``field == 3`` as the reflected ``int.__eq__(field)`` (which accepts any object)
   and quietly infer ``bool``, so a hook on every other ``__eq__`` / ``__ne__`` makes that
   reflected call fail whenever a `Field` is its argument.

The plugin API of mypy is internal: the supported mypy versions are listed in the docs
(docs/how-to/type-checking.md) and tested in tests/typing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import mypy.plugin  # first: mypy's modules import each other circularly and need this order
from mypy.errorcodes import ErrorCode
from mypy.expandtype import expand_type_by_instance
from mypy.maptype import map_instance_to_supertype
from mypy.messages import format_type
from mypy.nodes import (
    AssignmentStmt,
    CallExpr,
    ComparisonExpr,
    Expression,
    MemberExpr,
    NameExpr,
    PlaceholderNode,
    TypeInfo,
    Var,
)
from mypy.plugin import (
    AttributeContext,
    ClassDefContext,
    MethodContext,
    MethodSigContext,
    ReportConfigContext,
)
from mypy.subtypes import is_subtype
from mypy.types import (
    AnyType,
    FunctionLike,
    Instance,
    Type,
    TypeOfAny,
    TypeVarType,
    UnboundType,
    UnionType,
    get_proper_type,
)

PLUGIN_VERSION: Final = "1"
"""Bump whenever the plugin's output or its stored metadata changes: mypy then drops old caches."""

FIELD_ERROR: Final = ErrorCode("typedredis-field", "A model has no field of this name", "typedredis")
INDEX_ERROR: Final = ErrorCode("typedredis-index", "Queried model field is not indexed", "typedredis")
VALUE_ERROR: Final = ErrorCode(
    "typedredis-value", "Value compared with a model field has the wrong type", "typedredis"
)

METADATA_KEY: Final = "typedredis"
BASE_MODEL: Final = "pydantic.main.BaseModel"
FIELDS: Final = "typedredis.expr.Fields"
FIELD: Final = "typedredis.expr.Field"

MARKER_ALIASES: Final[Mapping[str, str]] = {"typedredis.fields.Indexed": "eq"}
"""Index aliases (``Indexed[T]`` is ``Annotated[T, EQ]``) and the index kind each one declares."""
MARKER_CONSTANTS: Final[Mapping[str, str]] = {"typedredis.fields.EQ": "eq"}
"""Marker constants usable inside ``Annotated[T, ...]`` and their index kinds."""
FIELD_CLASSES: Final[Mapping[str, str]] = {}
"""Index kind -> the `Field` subclass that ``Model.f.<name>`` has (default: `Field` itself)."""

ANNOTATED: Final = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
CLASS_VAR: Final = frozenset({"typing.ClassVar", "typing_extensions.ClassVar"})
NOT_FIELDS: Final = frozenset({"pk"})
"""Model attributes that are not queryable fields: ``pk`` is the key (use ``Model.get(pk)``)."""
EQUALITY: Final = ("__eq__", "__ne__")


class _Skip:
    """The annotation is not a field (a ClassVar)."""


class _Defer:
    """A name in the annotation is not resolved yet: analyse the class again."""


_SKIP: Final = _Skip()
_DEFER: Final = _Defer()


class TypedRedisPlugin(mypy.plugin.Plugin):
    """Types ``Model.f.<field>`` precisely and checks the values of query expressions."""

    def report_config_data(self, ctx: ReportConfigContext) -> dict[str, str]:
        """Part of every module's cache key: a new plugin version invalidates old caches."""
        return {"typedredis-plugin": PLUGIN_VERSION}

    # -- semantic analysis: remember each field's index kind --------------------------------

    def get_customize_class_mro_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        """Claim pydantic model classes only (the hook runs before the class body is analysed)."""
        sym = self.lookup_fully_qualified(fullname)
        if sym is not None and isinstance(sym.node, TypeInfo) and not sym.node.has_base(BASE_MODEL):
            return None
        return _record_fields

    # -- type checking ----------------------------------------------------------------------

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        """``Model.f.<name>``: `Fields` has ``__getattr__``, so mypy asks about every name."""
        owner, _, name = fullname.rpartition(".")
        if owner != FIELDS:
            return None
        fields_info = self._type_info(FIELDS)
        if fields_info is None or name in fields_info.names:
            return None
        return lambda ctx: self._field_attribute(ctx, name)

    def get_method_signature_hook(self, fullname: str) -> Callable[[MethodSigContext], FunctionLike] | None:
        """Let any value reach `Field.__eq__` / ``in_``: the method hook checks it (with our code)."""
        owner, _, method = fullname.rpartition(".")
        if method in (*EQUALITY, "in_") and self._is_field_class(owner):
            return _relax_signature
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        """Check values compared with fields; make reflected comparisons with a field fail."""
        owner, _, method = fullname.rpartition(".")
        if method in EQUALITY:
            return _check_compared_value if self._is_field_class(owner) else _refuse_reflected
        if method == "in_" and self._is_field_class(owner):
            return _check_in_values
        return None

    def _type_info(self, fullname: str) -> TypeInfo | None:
        sym = self.lookup_fully_qualified(fullname)
        return sym.node if sym is not None and isinstance(sym.node, TypeInfo) else None

    def _is_field_class(self, fullname: str) -> bool:
        info = self._type_info(fullname)
        return info is not None and info.has_base(FIELD)

    def _field_attribute(self, ctx: AttributeContext, name: str) -> Type:
        fields_type = get_proper_type(ctx.type)
        if ctx.is_lvalue or not isinstance(fields_type, Instance) or not fields_type.args:
            return ctx.default_attr_type
        model = fields_type.args[0]
        bound = _model_instance(model)
        if bound is None:
            return ctx.default_attr_type
        info = bound.type
        kinds, nested = _merged_fields(info)
        if name not in kinds or name in NOT_FIELDS:
            ctx.api.fail(f'"{info.name}" has no field "{name}"', ctx.context, code=FIELD_ERROR)
            if name in NOT_FIELDS:
                ctx.api.msg.note(
                    f'"{name}" is the primary key: use {info.name}.get(pk) to fetch by it',
                    ctx.context,
                    code=FIELD_ERROR,
                )
            return AnyType(TypeOfAny.from_error)
        kind = kinds[name]
        if kind is None:
            ctx.api.fail(
                f'"{info.name}.{name}" is not indexed; annotate it as "{name}: Indexed[...]" to query it',
                ctx.context,
                code=INDEX_ERROR,
            )
            if name in nested:
                ctx.api.msg.note(
                    f'Only an outermost marker indexes a field: write "{name}: Indexed[X | None]"',
                    ctx.context,
                    code=INDEX_ERROR,
                )
        field_info = self._type_info(FIELD_CLASSES.get(kind or "", FIELD))
        if field_info is None:
            return ctx.default_attr_type
        return Instance(field_info, [model, _value_type(bound, name)])


# -- semantic analysis helpers ----------------------------------------------------------------


def _record_fields(ctx: ClassDefContext) -> None:
    """Store ``{"fields": {name: kind or None}, "nested": [...]}`` in the class's metadata."""
    info = ctx.cls.info
    if not info.has_base(BASE_MODEL):
        return
    kinds: dict[str, str | None] = {}
    nested: list[str] = []
    for stmt in ctx.cls.defs.body:
        if not isinstance(stmt, AssignmentStmt) or stmt.unanalyzed_type is None:
            continue
        if len(stmt.lvalues) != 1 or not isinstance(stmt.lvalues[0], NameExpr):
            continue
        name = stmt.lvalues[0].name
        if name.startswith("_") or name == "model_config":
            continue
        kind = _index_kind(stmt.unanalyzed_type, ctx)
        if isinstance(kind, _Defer):
            if not ctx.api.final_iteration:
                ctx.api.defer()
                return
            kind = None
        if isinstance(kind, _Skip):
            continue
        kinds[name] = kind
        if kind is None and _has_nested_marker(stmt.unanalyzed_type, ctx):
            nested.append(name)
    info.metadata[METADATA_KEY] = {"fields": kinds, "nested": nested}


def _head(typ: Type, ctx: ClassDefContext) -> str | _Defer | None:
    """The full name an unanalysed type's head refers to (``Indexed`` -> its alias's name)."""
    if not isinstance(typ, UnboundType):
        return None
    sym = ctx.api.lookup_qualified(typ.name, ctx.cls, suppress_errors=True)
    if sym is None or sym.node is None:
        return None
    if isinstance(sym.node, PlaceholderNode):
        return _DEFER
    return sym.node.fullname


def _index_kind(typ: Type, ctx: ClassDefContext) -> str | _Skip | _Defer | None:
    """The index kind an annotation declares, following pydantic's rule for nested Annotated.

    pydantic flattens ``Annotated[Annotated[T, a], b]`` to metadata ``[a, b]`` and typedredis
    uses the last marker, so an outer marker wins over an inner one. Markers inside a union
    (``Indexed[str] | None``) do not reach the field's metadata: that field is not indexed.
    """
    head = _head(typ, ctx)
    if isinstance(head, _Defer):
        return head
    if head is None or not isinstance(typ, UnboundType):
        return None
    if head in CLASS_VAR:
        return _SKIP
    if head in MARKER_ALIASES:
        return MARKER_ALIASES[head]
    if head in ANNOTATED and typ.args:
        kind: str | None = None
        for meta in typ.args[1:]:
            marker = _head(meta, ctx)
            if isinstance(marker, _Defer):
                return marker
            if marker is not None and marker in MARKER_CONSTANTS:
                kind = MARKER_CONSTANTS[marker]
        if kind is not None:
            return kind
        inner = _index_kind(typ.args[0], ctx)
        return None if isinstance(inner, _Skip) else inner
    return None


def _has_nested_marker(typ: Type, ctx: ClassDefContext) -> bool:
    """Whether a union member of the annotation carries an index marker (a common mistake)."""
    if isinstance(typ, UnionType):
        return any(isinstance(_index_kind(item, ctx), str) for item in typ.items)
    if isinstance(typ, UnboundType) and _head(typ, ctx) == "typing.Optional" and typ.args:
        return isinstance(_index_kind(typ.args[0], ctx), str)
    return False


# -- type checking helpers --------------------------------------------------------------------


def _model_instance(model: Type) -> Instance | None:
    """The model class behind ``Fields[M]``: an instance, or the bound of a TypeVar or Self."""
    proper = get_proper_type(model)
    if isinstance(proper, TypeVarType):
        proper = get_proper_type(proper.upper_bound)
    return proper if isinstance(proper, Instance) else None


def _merged_fields(info: TypeInfo) -> tuple[dict[str, str | None], set[str]]:
    """Index kinds of a model's fields, base classes first so a subclass overrides them."""
    kinds: dict[str, str | None] = {}
    nested: set[str] = set()
    for base in reversed(info.mro):
        data = base.metadata.get(METADATA_KEY)
        if not data:
            continue
        for name, kind in data["fields"].items():
            kinds[name] = kind
            nested.discard(name)
        nested.update(data.get("nested", ()))
    return kinds, nested


def _value_type(model: Instance, name: str) -> Type:
    """The declared type of field ``name`` as seen from ``model`` (generic bases expanded)."""
    sym = model.type.get(name)
    node = sym.node if sym is not None else None
    if not isinstance(node, Var) or node.type is None or node.info is None:
        return AnyType(TypeOfAny.special_form)
    owner = map_instance_to_supertype(model, node.info)
    return expand_type_by_instance(node.type, owner)


def _field_parts(typ: Type) -> tuple[Type, Type] | None:
    """``(model, value type)`` of a `Field` instance, or None if ``typ`` is not a Field."""
    proper = get_proper_type(typ)
    if not isinstance(proper, Instance):
        return None
    for base in proper.type.mro:
        if base.fullname == FIELD:
            field = map_instance_to_supertype(proper, base)
            return (field.args[0], field.args[1]) if len(field.args) == 2 else None
    return None


def _relax_signature(ctx: MethodSigContext) -> FunctionLike:
    """Accept any argument, inferred without context; the method hook checks it (with our code)."""
    sig = ctx.default_signature
    if len(sig.arg_types) != 1:
        return sig
    return sig.copy_modified(arg_types=[ctx.api.named_generic_type("builtins.object", [])])


def _describe_field(expr: Expression | None, model: Type, ctx: MethodContext) -> str:
    """``field "User.name"`` when the field's expression is ``<...>.f.name``; else a type."""
    model_text = format_type(model, ctx.api.options).strip('"')
    if isinstance(expr, MemberExpr):
        return f'field "{model_text}.{expr.name}"'
    return f'a field of "{model_text}"'


def _fits(ctx: MethodContext, value: Expression, actual: Type, expected: Type) -> bool:
    """Whether ``value`` fits ``expected``; re-infers it in that context (literals, [])."""
    if is_subtype(actual, expected):
        return True
    with ctx.api.msg.filter_errors() as errors:
        again = ctx.api.get_expression_type(value, type_context=expected)
    return not errors.has_new_errors() and is_subtype(again, expected)


def _value_mismatch(ctx: MethodContext, field: str, actual: Type, expected: Type) -> None:
    options = ctx.api.options
    ctx.api.fail(
        f"{field[0].upper()}{field[1:]} holds {format_type(expected, options)} values; "
        f"cannot compare it with {format_type(actual, options)}",
        ctx.context,
        code=VALUE_ERROR,
    )


def _field_operand(ctx: MethodContext, field_is_arg: bool) -> Expression | None:
    """The field's operand in ``a == b``, where the field is the method's argument or its object.

    mypy passes the right operand as written and the left one as a stand-in node, so the call
    is the forward one (``a.__eq__(b)``) exactly when the argument is the right operand.
    """
    node = ctx.context
    if not isinstance(node, ComparisonExpr) or len(node.operands) != 2 or not ctx.args or not ctx.args[0]:
        return None
    forward = ctx.args[0][0] is node.operands[1]
    return node.operands[1] if forward == field_is_arg else node.operands[0]


def _check_compared_value(ctx: MethodContext) -> Type:
    """``field == value``: the value must fit the field's type (either operand order)."""
    parts = _field_parts(ctx.type)
    if parts is None or len(ctx.arg_types) != 1 or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    model, expected = parts
    actual = ctx.arg_types[0][0]
    if not _fits(ctx, ctx.args[0][0], actual, expected):
        field = _describe_field(_field_operand(ctx, field_is_arg=False), model, ctx)
        _value_mismatch(ctx, field, actual, expected)
    return ctx.default_return_type


def _refuse_reflected(ctx: MethodContext) -> Type:
    """``value.__eq__(field)``: fail, so that mypy reports the forward `Field.__eq__` check.

    mypy tries ``value == field`` as ``value.__eq__(field)`` and then ``field.__eq__(value)``
    (or the reverse order); it keeps the first variant that passes and otherwise reports the
    first variant's errors. Failing here leaves `Field.__eq__` to decide; the message below
    is shown only when that check fails too, so it states the mismatch.
    """
    if len(ctx.arg_types) != 1 or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    parts = _field_parts(ctx.arg_types[0][0])
    if parts is None:
        return ctx.default_return_type
    model, expected = parts
    field = _describe_field(_field_operand(ctx, field_is_arg=True), model, ctx)
    _value_mismatch(ctx, field, ctx.type, expected)
    return ctx.default_return_type


def _check_in_values(ctx: MethodContext) -> Type:
    """``field.in_(values)``: ``values`` must be an iterable of the field's type."""
    parts = _field_parts(ctx.type)
    if parts is None or len(ctx.arg_types) != 1 or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    model, expected = parts
    iterable = ctx.api.named_generic_type("typing.Iterable", [expected])
    actual = ctx.arg_types[0][0]
    single = get_proper_type(actual)
    if isinstance(single, Instance) and single.type.fullname in ("builtins.str", "builtins.bytes"):
        ctx.api.fail(
            f"in_() takes a collection of values, not a single {format_type(actual, ctx.api.options)}",
            ctx.context,
            code=VALUE_ERROR,
        )
    elif not _fits(ctx, ctx.args[0][0], actual, iterable):
        callee = ctx.context.callee if isinstance(ctx.context, CallExpr) else None
        expr = callee.expr if isinstance(callee, MemberExpr) else None
        options = ctx.api.options
        field = _describe_field(expr, model, ctx)
        ctx.api.fail(
            f"{field[0].upper()}{field[1:]} holds {format_type(expected, options)} values; "
            f"in_() got {format_type(actual, options)}",
            ctx.context,
            code=VALUE_ERROR,
        )
    return ctx.default_return_type


def plugin(version: str) -> type[mypy.plugin.Plugin]:
    """mypy's entry point: ``plugins = ["typedredis.mypy"]``."""
    return TypedRedisPlugin
