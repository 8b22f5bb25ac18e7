"""The typedredis mypy plugin: checks query expressions such as ``User.f.name == "ann"``.

Enable it with ``plugins = ["typedredis.mypy"]`` (before or after ``pydantic.mypy``). It makes
``User.f.name`` a ``Field[User, str]`` (the field's own value type) instead of the loose
``SortedField[User, Any]``, and a ``SortedField[User, T]`` for a `Sorted` field; it reports
unknown and unindexed fields, range operations (``<``, ``between``, ``startswith``, ordering) on
fields without a range index, and checks the value compared with a field on either side of ``==``
/ ``!=`` / ``<`` / ``<=`` / ``>`` / ``>=``, inside ``in_()`` and ``between()``, and given to
``Model.get_by`` (or its asyncio twin ``aget_by``); ``Query.order_by`` takes only `Sorted` fields
of the query's model (or of a base model); a chained comparison with a field (``1 < field < 9``,
which raises at runtime) is reported. A model's compound indexes (``__indexes__ = (Compound("a",
"b"), ...)``) are checked as typedredis checks them at class definition: field names that are
string literals must be fields of the model (or of a base), every field but the last needs an
equality index (the last one may be `Sorted` instead), names are identifiers and distinct. Every
error about a field, a value, an expression or a compound index carries one of the plugin's own
codes (``typedredis-field``, ``typedredis-index``, ``typedredis-value``, ``typedredis-query``) so
it can be silenced selectively; a key of another model in ``order_by`` is an ``arg-type`` error,
like an expression of another model in ``query()``.

How it works:

1. mypy drops ``Annotated`` metadata, so a class hook reads each model field's annotation as
   written in the class body (``Indexed[str]``, ``Annotated[str, UNIQUE, RANGE]``) and stores the
   index kinds of every field in the class's ``TypeInfo.metadata``. That metadata is cached with
   the module and is part of its interface, so editing only a marker re-checks dependent modules.
   The same hook checks the class's ``__indexes__`` against the fields recorded so far (its own
   and its bases'), and stores its compound indexes too: a subclass inherits them, so a field
   it re-declares without the index they need is reported at that field.
2. An attribute hook on ``Fields.__getattr__`` turns ``Model.f.<name>`` into a precise `Field`
   or `SortedField`. A field without a range index also gets instance-only attributes
   ``between``, ``startswith``, ``asc``, ``desc`` and the order operators (mypy's
   ``extra_attrs``), so that calling them reaches a method hook that explains the missing index
   instead of "has no attribute".
3. Method hooks on `Field` methods check the compared values. mypy would otherwise retry a
   failed ``field == 3`` as the reflected ``int.__eq__(field)`` (which accepts any object) and
   quietly infer ``bool``, so a hook on every other ``__eq__`` / ``__ne__`` makes that reflected
   call fail whenever a `Field` is its argument. ``<`` and friends take the same route: a
   `Field` without a range index has no ``__lt__``, so mypy only tries ``str.__gt__(field)``;
   the hooks on every other ``__lt__`` / ``__le__`` / ``__gt__`` / ``__ge__`` accept a `Field`
   argument (so mypy's own "Unsupported operand types" does not appear) and then fail with the
   plugin's message. ``Query.order_by`` and ``Model.get_by`` / ``aget_by`` accept any argument
   for mypy, and their method hooks check it.

The plugin API of mypy is internal: the supported mypy versions are listed in the docs
(docs/how-to/type-checking.md) and tested in tests/typing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import mypy.plugin  # first: mypy's modules import each other circularly and need this order
from mypy import errorcodes as codes
from mypy.checker import TypeChecker
from mypy.errorcodes import ErrorCode
from mypy.expandtype import expand_type_by_instance
from mypy.maptype import map_instance_to_supertype
from mypy.messages import format_type
from mypy.nodes import (
    ARG_NAMED,
    ARG_POS,
    ARG_STAR,
    ARG_STAR2,
    AssignmentStmt,
    CallExpr,
    ComparisonExpr,
    Context,
    Expression,
    ListExpr,
    MemberExpr,
    NameExpr,
    PlaceholderNode,
    StrExpr,
    TempNode,
    TupleExpr,
    TypeInfo,
    Var,
)
from mypy.plugin import (
    AttributeContext,
    CheckerPluginInterface,
    ClassDefContext,
    MethodContext,
    MethodSigContext,
    ReportConfigContext,
)
from mypy.semanal import SemanticAnalyzer
from mypy.subtypes import is_same_type, is_subtype
from mypy.types import (
    AnyType,
    CallableType,
    ExtraAttrs,
    FunctionLike,
    Instance,
    NoneType,
    ProperType,
    Type,
    TypeOfAny,
    TypeVarType,
    UnboundType,
    UnionType,
    get_proper_type,
)

PLUGIN_VERSION: Final = "5"
"""Bump whenever the plugin's output or its stored metadata changes: mypy then drops old caches."""

FIELD_ERROR: Final = ErrorCode("typedredis-field", "A model has no field of this name", "typedredis")
INDEX_ERROR: Final = ErrorCode(
    "typedredis-index", "Queried model field lacks the index the operation needs", "typedredis"
)
VALUE_ERROR: Final = ErrorCode(
    "typedredis-value", "Value compared with a model field has the wrong type", "typedredis"
)
QUERY_ERROR: Final = ErrorCode(
    "typedredis-query", "Query expression that cannot be built at runtime", "typedredis"
)

METADATA_KEY: Final = "typedredis"
BASE_MODEL: Final = "pydantic.main.BaseModel"
MODEL: Final = "typedredis.model.Model"
FIELDS: Final = "typedredis.expr.Fields"
FIELD: Final = "typedredis.expr.Field"
SORTED_FIELD: Final = "typedredis.expr.SortedField"
ORDERING: Final = "typedredis.expr.Ordering"
QUERY: Final = "typedredis.query.Query"
ORDER_KEY: Final = "typedredis.query.OrderKey"

EQ: Final = "eq"
RANGE: Final = "range"
UNIQUE: Final = "unique"

MARKER_ALIASES: Final[Mapping[str, str]] = {
    "typedredis.fields.Indexed": EQ,
    "typedredis.fields.Sorted": RANGE,
    "typedredis.fields.Unique": UNIQUE,
}
"""Index aliases (``Indexed[T]`` is ``Annotated[T, EQ]``) and the index kind each one declares."""
MARKER_CONSTANTS: Final[Mapping[str, str]] = {
    "typedredis.fields.EQ": EQ,
    "typedredis.fields.RANGE": RANGE,
    "typedredis.fields.UNIQUE": UNIQUE,
}
"""Marker constants usable inside ``Annotated[T, ...]`` and their index kinds."""
FIELD_CLASSES: Final[Mapping[str, str]] = {RANGE: SORTED_FIELD}
"""Index kind -> the `Field` subclass that ``Model.f.<name>`` has (default: `Field` itself)."""

ANNOTATED: Final = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
CLASS_VAR: Final = frozenset({"typing.ClassVar", "typing_extensions.ClassVar"})
NOT_FIELDS: Final = frozenset({"pk"})
"""Model attributes that are not queryable fields: ``pk`` is the key (use ``Model.get(pk)``)."""
EQUALITY: Final = ("__eq__", "__ne__")
ORDER_OPERATORS: Final = {"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}
RANGE_METHODS: Final = ("between", "startswith", "asc", "desc")
"""The methods only a `SortedField` has (besides the order operators)."""
GET_BY: Final = ("get_by", "aget_by")
"""`Model.get_by` and its asyncio twin: the field fixes the value's type."""
INDEXES: Final = "__indexes__"
"""The class attribute that declares a model's compound indexes."""
COMPOUND: Final = "typedredis.fields.Compound"
INDEX_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""What the name of a compound index must match (as typedredis.fields checks at runtime)."""


class _Skip:
    """The annotation is not a field (a ClassVar)."""


class _Defer:
    """A name in the annotation is not resolved yet: analyse the class again."""


_SKIP: Final = _Skip()
_DEFER: Final = _Defer()


@dataclass(frozen=True)
class _Compound:
    """A ``Compound(...)`` call in ``__indexes__``, as far as its string literals tell."""

    call: CallExpr
    fields: tuple[str | None, ...] | None
    """The field names in order (None: not a string literal); None: unknown (``*names``)."""
    name: str | None
    """The index's name (given, or derived from the fields); None: not known."""
    named: bool
    """Whether the name was given (``name="..."``)."""


class TypedRedisPlugin(mypy.plugin.Plugin):
    """Types ``Model.f.<field>`` precisely and checks the values of query expressions."""

    def report_config_data(self, ctx: ReportConfigContext) -> dict[str, str]:
        """Part of every module's cache key: a new plugin version invalidates old caches."""
        return {"typedredis-plugin": PLUGIN_VERSION}

    # -- semantic analysis: remember each field's index kinds -------------------------------

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
        """Let any value reach the checked methods: their method hooks check it (with our codes)."""
        owner, _, method = fullname.rpartition(".")
        if method in ORDER_OPERATORS:
            return _relax_signature if self._is_field_class(owner) else _accept_field_argument
        if method in (*EQUALITY, "in_", "between") and self._is_field_class(owner):
            return _relax_signature
        if method == "order_by" and self._has_base(owner, QUERY):
            return _relax_signature
        if method in GET_BY and self._has_base(owner, MODEL):
            return _relax_get_by_value
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        """Check values compared with fields; make reflected comparisons with a field fail."""
        owner, _, method = fullname.rpartition(".")
        if method in EQUALITY or method in ORDER_OPERATORS:
            if self._is_field_class(owner):
                return _check_compared_value
            return _refuse_reflected
        if method == "in_" and self._is_field_class(owner):
            return _check_in_values
        if method in RANGE_METHODS and self._is_field_class(owner):
            return lambda ctx: _check_range_method(ctx, method)
        if method == "order_by" and self._has_base(owner, QUERY):
            keys = [info for info in map(self._type_info, (ORDER_KEY, ORDERING)) if info is not None]
            return lambda ctx: _check_order_key(ctx, keys)
        if method in GET_BY and self._has_base(owner, MODEL):
            return lambda ctx: _check_get_by(ctx, method)
        return None

    def _type_info(self, fullname: str) -> TypeInfo | None:
        sym = self.lookup_fully_qualified(fullname)
        return sym.node if sym is not None and isinstance(sym.node, TypeInfo) else None

    def _has_base(self, fullname: str, base: str) -> bool:
        info = self._type_info(fullname) if fullname else None
        return info is not None and info.has_base(base)

    def _is_field_class(self, fullname: str) -> bool:
        return self._has_base(fullname, FIELD)

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
        field_kinds = kinds[name]
        if not field_kinds:
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
        classes = [FIELD_CLASSES[kind] for kind in sorted(field_kinds) if kind in FIELD_CLASSES]
        field_info = self._type_info(classes[0] if classes else FIELD)
        if field_info is None:
            return ctx.default_attr_type
        field = Instance(field_info, [model, _value_type(bound, name)])
        if not field_info.has_base(SORTED_FIELD):
            # Calls of these reach `_check_range_method` (and `_check_compared_value`), which
            # explain the missing index. mypy never looks here for operator methods, except
            # as its last resort when neither operand has one (``field < None``).
            anything = _any_callable(ctx.api)
            names = (*RANGE_METHODS, *ORDER_OPERATORS)
            field.extra_attrs = ExtraAttrs(dict.fromkeys(names, anything), set(), None)
        return field


# -- semantic analysis helpers ----------------------------------------------------------------


def _record_fields(ctx: ClassDefContext) -> None:
    """Store ``{"fields": {name: [kinds]}, "nested": [...]}`` in the class's metadata, and check
    the class's compound indexes (``__indexes__``) as typedredis.fields does at runtime.

    An unindexed field has no kinds (``[]``): it is kept, so a subclass can un-index a field.
    A class that assigns ``__indexes__`` also stores ``"indexes"``: its ``Compound(...)``
    entries whose fields are all string literals, as ``[[field, ...], name]`` (so that a
    subclass, which inherits them, can be checked against the fields it re-declares).
    """
    info = ctx.cls.info
    if not info.has_base(BASE_MODEL):
        return
    fields: dict[str, list[str]] = {}
    nested: list[str] = []
    declared: dict[str, AssignmentStmt] = {}
    indexes: AssignmentStmt | None = None
    for stmt in ctx.cls.defs.body:
        if not isinstance(stmt, AssignmentStmt):
            continue
        if len(stmt.lvalues) != 1 or not isinstance(stmt.lvalues[0], NameExpr):
            continue
        name = stmt.lvalues[0].name
        if name == INDEXES:
            if not (isinstance(stmt.rvalue, TempNode) and stmt.rvalue.no_rhs):
                indexes = stmt  # the last assignment counts, as at runtime
            continue
        if stmt.unanalyzed_type is None or name.startswith("_") or name == "model_config":
            continue
        kinds = _index_kinds(stmt.unanalyzed_type, ctx)
        if isinstance(kinds, _Defer):
            if not ctx.api.final_iteration:
                ctx.api.defer()
                return
            kinds = frozenset()
        if isinstance(kinds, _Skip):
            continue
        fields[name] = sorted(kinds)
        declared[name] = stmt
        if not kinds and _has_nested_marker(stmt.unanalyzed_type, ctx):
            nested.append(name)
    compounds: list[_Compound] | None = None
    shape: list[tuple[str, Context]] = []
    if indexes is not None:
        read = _read_indexes(indexes.rvalue, ctx)
        if isinstance(read, _Defer):
            if not ctx.api.final_iteration:
                ctx.api.defer()
                return
        else:
            compounds, shape = read
    data: dict[str, Any] = {"fields": fields, "nested": nested}
    if indexes is not None:
        data["indexes"] = [
            [list(c.fields), c.name] for c in compounds or () if c.fields is not None and None not in c.fields
        ]
    info.metadata[METADATA_KEY] = data
    if any(_lacks_fields(base) for base in info.mro[1:]):
        # Defensive: mypy analyses a base class before its subclasses, so its fields are known.
        if not ctx.api.final_iteration:
            ctx.api.defer()
            return
        kinds_by_name = None
    else:
        kinds_by_name = _merged_fields(info)
    for message, context in shape:
        ctx.api.fail(message, context, code=INDEX_ERROR)
    if kinds_by_name is None:
        return
    if compounds is not None:
        _check_compounds(ctx, compounds, *kinds_by_name)
    elif indexes is None:
        _check_inherited_compounds(ctx, kinds_by_name[0], declared)


def _lacks_fields(base: TypeInfo) -> bool:
    """Whether ``base`` is a model whose fields the plugin has not recorded (yet)."""
    return base.fullname != BASE_MODEL and base.has_base(BASE_MODEL) and METADATA_KEY not in base.metadata


def _read_indexes(
    rvalue: Expression, ctx: ClassDefContext
) -> tuple[list[_Compound], list[tuple[str, Context]]] | _Defer:
    """The ``Compound(...)`` calls of ``__indexes__ = ...``, and what is wrong with its shape.

    Only a tuple or list display is read; any other value (a name, ``Base.__indexes__ + ...``)
    is left to the runtime, as are entries that are neither a ``Compound(...)`` call nor a
    literal (a name, another call).
    """
    where = f'"{ctx.cls.info.name}.{INDEXES}"'
    problems: list[tuple[str, Context]] = []
    if isinstance(rvalue, (TupleExpr, ListExpr)):
        entries = rvalue.items
    else:
        compound = _compound_call(rvalue, ctx)
        if isinstance(compound, _Defer):
            return compound
        if compound is None:
            return [], []
        message = f'{where} must be a tuple or list of Compound(...) entries; add a comma: "(Compound(...),)"'
        return [compound], [(message, rvalue)]
    compounds: list[_Compound] = []
    for entry in entries:
        compound = _compound_call(entry, ctx)
        if isinstance(compound, _Defer):
            return compound
        if compound is not None:
            compounds.append(compound)
        elif isinstance(entry, StrExpr):
            problems.append((f"{where} must hold Compound(...) entries, not a string", entry))
        elif isinstance(entry, (TupleExpr, ListExpr)):
            kind = "tuple" if isinstance(entry, TupleExpr) else "list"
            message = f"{where} must hold Compound(...) entries, not a {kind}"
            if entry.items and all(isinstance(item, StrExpr) for item in entry.items):
                names = ", ".join(f'"{item.value}"' for item in entry.items if isinstance(item, StrExpr))
                message += f"; write Compound({names})"
            problems.append((message, entry))
    return compounds, problems


def _compound_call(expr: Expression, ctx: ClassDefContext) -> _Compound | _Defer | None:
    """``expr`` read as a call of `typedredis.Compound` (None: it is not one)."""
    if not isinstance(expr, CallExpr):
        return None
    callee = _dotted_name(expr.callee)
    fullname = _lookup(callee, ctx) if callee is not None else None
    if isinstance(fullname, _Defer):
        return fullname
    if fullname != COMPOUND:
        return None
    fields: list[str | None] = []
    name: str | None = None
    named = False
    for arg, kind, arg_name in zip(expr.args, expr.arg_kinds, expr.arg_names, strict=False):
        if kind in (ARG_STAR, ARG_STAR2):
            return _Compound(expr, None, None, named=False)
        if kind == ARG_POS:
            fields.append(arg.value if isinstance(arg, StrExpr) else None)
        elif kind == ARG_NAMED and arg_name == "name":
            if isinstance(arg, NameExpr) and arg.name == "None":
                continue  # the default: the fields' names
            named = True
            name = arg.value if isinstance(arg, StrExpr) else None
            if name is None:
                return _Compound(expr, tuple(fields), None, named=True)
    if not named and None not in fields:
        name = "_".join(f for f in fields if f is not None)
    return _Compound(expr, tuple(fields), name, named)


def _dotted_name(expr: Expression) -> str | None:
    """``a.b.c`` for a name or a chain of attributes of a name (None for anything else)."""
    if isinstance(expr, NameExpr):
        return expr.name
    if isinstance(expr, MemberExpr):
        owner = _dotted_name(expr.expr)
        return f"{owner}.{expr.name}" if owner is not None else None
    return None


def _field_problem(kinds: Mapping[str, frozenset[str]], name: str, last: bool) -> str | None:
    """What keeps field ``name`` from its place in a compound index (None: nothing).

    Every field but the last needs an equality index (`Indexed`, `Unique`); the last one is
    the index's sorted field if it is `Sorted`, else one more equality field.
    """
    if name not in kinds or name in NOT_FIELDS:
        return "unknown"
    field_kinds = kinds[name]
    if EQ in field_kinds or UNIQUE in field_kinds or (last and RANGE in field_kinds):
        return None
    return "range-only" if RANGE in field_kinds else "unindexed"


def _marker_fix(name: str, last: bool) -> str:
    """The annotations that let field ``name`` take its place in a compound index."""
    if last:
        return f'"{name}: Indexed[...]" or "{name}: Sorted[...]"'
    return f'"{name}: Indexed[...]"'


def _check_compounds(
    ctx: ClassDefContext,
    compounds: Sequence[_Compound],
    kinds: Mapping[str, frozenset[str]],
    nested: set[str],
) -> None:
    """Report what typedredis.fields would refuse in the class's own ``Compound(...)`` entries."""
    model = ctx.cls.info.name
    api = ctx.api
    names: set[str] = set()
    for compound in compounds:
        call = compound.call
        if compound.named and compound.name is not None and not INDEX_NAME.fullmatch(compound.name):
            api.fail(
                f'Compound index "{compound.name}" of "{model}": its name must be an identifier '
                '(letters, digits and "_", not a digit first)',
                call,
                code=INDEX_ERROR,
            )
        elif compound.name is not None and compound.name in names:
            api.fail(
                f'Two compound indexes of "{model}" are named "{compound.name}"; '
                'give one of them another with name="..."',
                call,
                code=INDEX_ERROR,
            )
        if compound.name is not None:
            names.add(compound.name)
        if compound.fields is None:
            continue
        literal = [f for f in compound.fields if f is not None]
        repeated = [f for f in dict.fromkeys(literal) if literal.count(f) > 1]
        if len(compound.fields) < 2:
            api.fail(
                f'A compound index of "{model}" needs two or more fields; '
                'a single field needs only its own "Indexed[...]" or "Sorted[...]"',
                call,
                code=INDEX_ERROR,
            )
        for twice in repeated:
            api.fail(
                f'"{model}.{twice}" appears twice in a compound index; '
                "a compound index needs distinct fields",
                call,
                code=INDEX_ERROR,
            )
        for unknown in dict.fromkeys(literal):
            if _field_problem(kinds, unknown, last=False) == "unknown":
                options = [k for k in kinds if k not in NOT_FIELDS]
                # (mypy's own best_matches() misses transpositions: "nmae" is 0.75 like "name")
                matches = difflib.get_close_matches(unknown, options, n=1, cutoff=0.75)
                maybe = f'; maybe "{matches[0]}"?' if matches else ""
                api.fail(f'"{model}" has no field "{unknown}"{maybe}', call, code=FIELD_ERROR)
        if len(compound.fields) < 2 or repeated:
            continue
        last = len(compound.fields) - 1
        for position, field in enumerate(compound.fields):
            if field is None:
                continue
            problem = _field_problem(kinds, field, position == last)
            if problem == "range-only":
                api.fail(
                    f'"{model}.{field}" has no equality index, so it can only be the last field of a '
                    f'compound index; move it last, or annotate it as "{field}: Sorted[Indexed[...]]"',
                    call,
                    code=INDEX_ERROR,
                )
            elif problem == "unindexed":
                fix = _marker_fix(field, position == last)
                api.fail(
                    f'"{model}.{field}" is not indexed; annotate it as {fix} to use it in a compound index',
                    call,
                    code=INDEX_ERROR,
                )
                if field in nested and isinstance(api, SemanticAnalyzer):
                    api.note(
                        f'Only an outermost marker indexes a field: write "{field}: Indexed[X | None]"',
                        call,
                        code=INDEX_ERROR,
                    )


def _check_inherited_compounds(
    ctx: ClassDefContext, kinds: Mapping[str, frozenset[str]], declared: Mapping[str, AssignmentStmt]
) -> None:
    """A class without ``__indexes__`` of its own inherits its base's: it must keep the index
    kinds those compound indexes need on the fields it re-declares (reported at the field).

    An entry that is wrong in the base already is reported there only.
    """
    owner: TypeInfo | None = None
    for base in ctx.cls.info.mro[1:]:
        data = base.metadata.get(METADATA_KEY)
        if data is not None and "indexes" in data:
            owner = base
            break
        if data is None and INDEXES in base.names:
            return  # declared by a class that is not a model (a mixin): not checked
    if owner is None or not declared:
        return
    model = ctx.cls.info.name
    owner_kinds = _merged_fields(owner)[0]
    for field_names, name in owner.metadata[METADATA_KEY]["indexes"]:
        last = len(field_names) - 1
        if last < 1 or len(set(field_names)) <= last:
            continue
        if any(_field_problem(owner_kinds, f, i == last) for i, f in enumerate(field_names)):
            continue
        quoted = ", ".join(f'"{f}"' for f in field_names)
        label = f'"{name}"' if name is not None else f"Compound({quoted})"
        index = f'the compound index {label} inherited from "{owner.name}"'
        for position, field in enumerate(field_names):
            stmt = declared.get(field)
            problem = _field_problem(kinds, field, position == last) if stmt is not None else None
            if stmt is None or problem is None:
                continue
            if problem == "range-only":
                message = (
                    f'"{model}.{field}" has no equality index, but {index} needs one for it; '
                    f'annotate it as "{field}: Sorted[Indexed[...]]", or redeclare {INDEXES}'
                )
            else:
                message = (
                    f'"{model}.{field}" is not indexed, but {index} uses it; '
                    f"annotate it as {_marker_fix(field, position == last)}, or redeclare {INDEXES}"
                )
            ctx.api.fail(message, stmt, code=INDEX_ERROR)


def _head(typ: Type, ctx: ClassDefContext) -> str | _Defer | None:
    """The full name an unanalysed type's head refers to (``Indexed`` -> its alias's name)."""
    if not isinstance(typ, UnboundType):
        return None
    return _lookup(typ.name, ctx)


def _lookup(name: str, ctx: ClassDefContext) -> str | _Defer | None:
    """The full name that ``name`` (maybe dotted) refers to in the class body, if any."""
    sym = ctx.api.lookup_qualified(name, ctx.cls, suppress_errors=True)
    if sym is None and _may_come_later(ctx):
        return _DEFER
    if sym is None or sym.node is None:
        return None
    if isinstance(sym.node, PlaceholderNode):
        return _DEFER
    return sym.node.fullname


def _may_come_later(ctx: ClassDefContext) -> bool:
    """Whether a name not found yet may still be defined: the module is not fully analysed.

    mypy defers such a lookup itself (and reports an undefined name only once the module's
    namespace is complete); so must the plugin, or it records a field as unindexed, and reports
    errors about it, on a pass that mypy later redoes.
    """
    api = ctx.api
    return isinstance(api, SemanticAnalyzer) and api.is_incomplete_namespace(api.cur_mod_id)


def _index_kinds(typ: Type, ctx: ClassDefContext) -> frozenset[str] | _Skip | _Defer:
    """The index kinds an annotation declares, following pydantic's rule for nested Annotated.

    pydantic flattens ``Annotated[Annotated[T, a], b]`` to metadata ``[a, b]`` and typedredis
    uses every marker found there, so the kinds of all nesting levels add up
    (``Annotated[Sorted[str], UNIQUE]`` is sorted and unique). Markers inside a union
    (``Indexed[str] | None``) do not reach the field's metadata: that field is not indexed.
    """
    head = _head(typ, ctx)
    if isinstance(head, _Defer):
        return head
    if head is None or not isinstance(typ, UnboundType):
        return frozenset()
    if head in CLASS_VAR:
        return _SKIP
    kinds: set[str] = set()
    if head in MARKER_ALIASES:
        kinds.add(MARKER_ALIASES[head])
    elif head in ANNOTATED and typ.args:
        for meta in typ.args[1:]:
            marker = _head(meta, ctx)
            if isinstance(marker, _Defer):
                return marker
            if marker is not None and marker in MARKER_CONSTANTS:
                kinds.add(MARKER_CONSTANTS[marker])
    else:
        return frozenset()
    if typ.args:
        inner = _index_kinds(typ.args[0], ctx)
        if isinstance(inner, _Defer):
            return inner
        if isinstance(inner, frozenset):
            kinds.update(inner)
    return frozenset(kinds)


def _has_nested_marker(typ: Type, ctx: ClassDefContext) -> bool:
    """Whether a union member of the annotation carries an index marker (a common mistake)."""
    if isinstance(typ, UnionType):
        return any(_declares_index(item, ctx) for item in typ.items)
    if isinstance(typ, UnboundType) and _head(typ, ctx) == "typing.Optional" and typ.args:
        return _declares_index(typ.args[0], ctx)
    return False


def _declares_index(typ: Type, ctx: ClassDefContext) -> bool:
    kinds = _index_kinds(typ, ctx)
    return isinstance(kinds, frozenset) and bool(kinds)


# -- type checking helpers --------------------------------------------------------------------


def _model_instance(model: Type) -> Instance | None:
    """The model class behind ``Fields[M]``: an instance, or the bound of a TypeVar or Self."""
    proper = get_proper_type(model)
    if isinstance(proper, TypeVarType):
        proper = get_proper_type(proper.upper_bound)
    return proper if isinstance(proper, Instance) else None


def _merged_fields(info: TypeInfo) -> tuple[dict[str, frozenset[str]], set[str]]:
    """Index kinds of a model's fields, base classes first so a subclass overrides them."""
    kinds: dict[str, frozenset[str]] = {}
    nested: set[str] = set()
    for base in reversed(info.mro):
        data = base.metadata.get(METADATA_KEY)
        if not data:
            continue
        for name, field_kinds in data["fields"].items():
            kinds[name] = frozenset(field_kinds or ())
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


def _any_callable(api: CheckerPluginInterface) -> CallableType:
    """``def (*args: Any, **kwargs: Any) -> Any``."""
    anything = AnyType(TypeOfAny.special_form)
    return CallableType(
        [anything, anything],
        [ARG_STAR, ARG_STAR2],
        [None, None],
        anything,
        api.named_generic_type("builtins.function", []),
    )


def _supertype_args(typ: Type, fullname: str) -> list[Type] | None:
    """The type arguments of ``typ`` seen as an instance of class ``fullname`` (None: it is not)."""
    proper = get_proper_type(typ)
    if not isinstance(proper, Instance):
        return None
    for base in proper.type.mro:
        if base.fullname == fullname:
            return list(map_instance_to_supertype(proper, base).args)
    return None


def _alternatives(typ: Type) -> list[ProperType]:
    """The types a value of ``typ`` may have: a union's items, a TypeVar's bound (recursively)."""
    proper = get_proper_type(typ)
    if isinstance(proper, TypeVarType):
        return _alternatives(proper.upper_bound)
    if isinstance(proper, UnionType):
        return [alternative for item in proper.items for alternative in _alternatives(item)]
    return [proper]


def _holds_field(typ: Type) -> bool:
    """Whether ``typ`` is a `Field`, or a union with a `Field` among its items."""
    proper = get_proper_type(typ)
    items = proper.items if isinstance(proper, UnionType) else [proper]
    return any(_field_parts(item) is not None for item in items)


def _field_parts(typ: Type) -> tuple[Type, Type] | None:
    """``(model, value type)`` of a `Field` instance, or None if ``typ`` is not a Field."""
    args = _supertype_args(typ, FIELD)
    return (args[0], args[1]) if args is not None and len(args) == 2 else None


def _is_sorted(typ: Type) -> bool:
    """Whether ``typ`` is a `SortedField`."""
    proper = get_proper_type(typ)
    return isinstance(proper, Instance) and proper.type.has_base(SORTED_FIELD)


def _relax_signature(ctx: MethodSigContext) -> FunctionLike:
    """Accept any arguments, inferred without context; the method hook checks them (our codes)."""
    sig = ctx.default_signature
    anything = ctx.api.named_generic_type("builtins.object", [])
    return sig.copy_modified(arg_types=[anything for _ in sig.arg_types])


def _relax_get_by_value(ctx: MethodSigContext) -> FunctionLike:
    """``Model.get_by(field, value)`` (or ``aget_by``): the field fixes the value type; the method
    hook checks it."""
    sig = ctx.default_signature
    if len(sig.arg_types) != 2:
        return sig
    anything = ctx.api.named_generic_type("builtins.object", [])
    return sig.copy_modified(arg_types=[sig.arg_types[0], anything])


def _known_type(api: CheckerPluginInterface, expr: Expression) -> Type | None:
    """The type mypy already inferred for ``expr`` (without inferring it again), if any."""
    if isinstance(expr, TempNode):
        return expr.type
    if isinstance(api, TypeChecker):
        return api.lookup_type_or_none(expr)
    return None


def _accept_field_argument(ctx: MethodSigContext) -> FunctionLike:
    """``value.__lt__(field)``: take the `Field` argument, so that only `_refuse_reflected` reports.

    mypy checks the operand before it looks up the operator, so its type is already known;
    any other argument keeps the method's own signature.
    """
    sig = ctx.default_signature
    if len(sig.arg_types) != 1 or len(ctx.args) != 1 or len(ctx.args[0]) != 1:
        return sig
    known = _known_type(ctx.api, ctx.args[0][0])
    if known is None or _field_parts(known) is None:
        return sig
    return sig.copy_modified(arg_types=[ctx.api.named_generic_type("builtins.object", [])])


def _field_name(api: CheckerPluginInterface, expr: Expression | None) -> str | None:
    """``name`` when ``expr`` is ``<...>.f.name`` (not a field held in some other attribute)."""
    if not isinstance(expr, MemberExpr):
        return None
    namespace = get_proper_type(_known_type(api, expr.expr))
    if isinstance(namespace, Instance) and namespace.type.has_base(FIELDS):
        return expr.name
    return None


def _describe_field(expr: Expression | None, model: Type, ctx: MethodContext) -> str:
    """``field "User.name"`` when the field's expression is ``<...>.f.name``; else a type."""
    model_text = format_type(model, ctx.api.options).strip('"')
    name = _field_name(ctx.api, expr)
    if name is not None:
        return f'field "{model_text}.{name}"'
    return f'a field of "{model_text}"'


def _fits(ctx: MethodContext, value: Expression, actual: Type, expected: Type) -> bool:
    """Whether ``value`` fits ``expected``; re-infers it in that context (literals, [])."""
    if is_subtype(actual, expected):
        return True
    with ctx.api.msg.filter_errors() as errors:
        again = ctx.api.get_expression_type(value, type_context=expected)
    return not errors.has_new_errors() and is_subtype(again, expected)


def _value_mismatch(
    ctx: MethodContext, field: str, actual: Type, expected: Type, what: str = "cannot compare it with"
) -> None:
    options = ctx.api.options
    ctx.api.fail(
        f"{field[0].upper()}{field[1:]} holds {format_type(expected, options)} values; "
        f"{what} {format_type(actual, options)}",
        ctx.context,
        code=VALUE_ERROR,
    )


def _no_range_index(
    api: CheckerPluginInterface, context: Context, expr: Expression | None, field_type: Type, use: str
) -> None:
    """Report that a field has no range index, and how to give it one."""
    parts = _field_parts(field_type)
    bound = _model_instance(parts[0]) if parts is not None else None
    name = _field_name(api, expr)
    if name is not None and bound is not None:
        kinds = _merged_fields(bound.type)[0].get(name, frozenset())
        marker = "Annotated[..., UNIQUE, RANGE]" if UNIQUE in kinds else "Sorted[...]"
        message = f'"{bound.type.name}.{name}" has no range index; annotate it as "{name}: {marker}" to {use}'
    else:
        message = (
            f"{format_type(field_type, api.options)} has no range index; "
            f'only a field declared "Sorted[...]" can {use.replace(" on it", "")}'
        )
    api.fail(message, context, code=INDEX_ERROR)


def _field_operand(ctx: MethodContext, field_is_arg: bool) -> Expression | None:
    """The field's operand in ``a == b``, where the field is the method's argument or its object.

    mypy passes the right operand as written and the left one as a stand-in node, so the call
    is the forward one (``a.__eq__(b)``) exactly when the argument is the right operand.
    """
    node = ctx.context
    if not isinstance(node, ComparisonExpr) or len(node.operands) != 2 or not ctx.args or not ctx.args[0]:
        return None
    fields = [op for op in node.operands if _holds_field(_known_type(ctx.api, op) or NoneType())]
    if len(fields) == 1:
        return fields[0]  # e.g. ``field < n`` with ``n: int | None``: mypy passes stand-ins for both
    forward = ctx.args[0][0] is node.operands[1]
    return node.operands[1] if forward == field_is_arg else node.operands[0]


def _operator_use(ctx: MethodContext) -> str:
    node = ctx.context
    operator = node.operators[0] if isinstance(node, ComparisonExpr) and node.operators else "<"
    return f'use "{operator}" on it'


def _chained(ctx: MethodContext) -> bool:
    """Report ``a < field < b``: Python evaluates ``(a < field) and (field < b)``, and the
    truth value of an expression raises `QueryError`. (mypy drops repeated identical errors.)
    """
    node = ctx.context
    if not isinstance(node, ComparisonExpr) or len(node.operands) < 3:
        return False
    ctx.api.fail(
        'A chained comparison with a field is not a query; use between(), or "&" between two comparisons',
        node,
        code=QUERY_ERROR,
    )
    return True


def _check_compared_value(ctx: MethodContext) -> Type:
    """``field == value``, ``field < value``: the value must fit the field's type (either order).

    ``<`` on a field without a range index gets here only as mypy's last resort, when the other
    operand has no reflected method either (``field < None``), through the field's extra attributes.
    """
    parts = _field_parts(ctx.type)
    actuals = [
        (t, e)
        for types, exprs in zip(ctx.arg_types, ctx.args, strict=False)
        for t, e in zip(types, exprs, strict=False)
    ]
    if parts is None or len(actuals) != 1:
        return ctx.default_return_type
    model, expected = parts
    actual, value = actuals[0]
    if _chained(ctx):
        return AnyType(TypeOfAny.from_error)
    operand = _field_operand(ctx, field_is_arg=False)
    node = ctx.context
    ordering = isinstance(node, ComparisonExpr) and node.operators[0] in ORDER_OPERATORS.values()
    if ordering and not _is_sorted(ctx.type):
        _no_range_index(ctx.api, ctx.context, operand, ctx.type, _operator_use(ctx))
        return AnyType(TypeOfAny.from_error)
    if not _fits(ctx, value, actual, expected):
        _value_mismatch(ctx, _describe_field(operand, model, ctx), actual, expected)
    return ctx.default_return_type


def _refuse_reflected(ctx: MethodContext) -> Type:
    """``value.__eq__(field)``, ``value.__lt__(field)``: fail, so that the `Field` method decides.

    mypy tries ``value == field`` as ``value.__eq__(field)`` and then ``field.__eq__(value)``
    (or the reverse order); it keeps the first variant that passes and otherwise reports the
    first variant's errors. Failing here leaves the `Field` method to decide; the message below
    is shown only when that check fails too (or when there is no such method: ``<`` on a field
    without a range index), so it states the mismatch. A union with a field among its items
    (``3 == f`` with ``f: Field[A, int] | Field[B, int]``) fails too: mypy then compares the
    value with each item on its own, and each comparison comes back here.
    """
    if len(ctx.arg_types) != 1 or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    argument = get_proper_type(ctx.arg_types[0][0])
    items = argument.items if isinstance(argument, UnionType) else [argument]
    fields = [(item, parts) for item in items if (parts := _field_parts(item)) is not None]
    if not fields:
        return ctx.default_return_type
    field_type, (model, expected) = fields[0]
    if _chained(ctx):
        return AnyType(TypeOfAny.from_error)
    operand = _field_operand(ctx, field_is_arg=True)
    node = ctx.context
    ordering = isinstance(node, ComparisonExpr) and node.operators[0] in ORDER_OPERATORS.values()
    if ordering and not _is_sorted(field_type):
        _no_range_index(ctx.api, ctx.context, operand, field_type, _operator_use(ctx))
    else:
        _value_mismatch(ctx, _describe_field(operand, model, ctx), ctx.type, expected)
    # Not this method's ``bool``: when this is the only variant (``<`` on a field without a
    # range index), mypy keeps its result, which must not reach query() as a second error.
    return AnyType(TypeOfAny.from_error)


def _callee_object(ctx: MethodContext) -> Expression | None:
    """``x`` in the call ``x.method(...)`` that the hook checks."""
    callee = ctx.context.callee if isinstance(ctx.context, CallExpr) else None
    return callee.expr if isinstance(callee, MemberExpr) else None


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
        field = _describe_field(_callee_object(ctx), model, ctx)
        _value_mismatch(ctx, field, actual, expected, "in_() got")
    return ctx.default_return_type


def _is_plain_str(typ: Type) -> bool:
    """``str`` or ``str | None``: the value types whose range index supports a prefix search."""
    proper = get_proper_type(typ)
    if isinstance(proper, (AnyType, TypeVarType)):
        return True
    items = [get_proper_type(t) for t in proper.items] if isinstance(proper, UnionType) else [proper]
    values = [t for t in items if not isinstance(t, NoneType)]
    return bool(values) and all(
        isinstance(t, Instance) and t.type.fullname == "builtins.str" and t.last_known_value is None
        for t in values
    )


def _check_range_method(ctx: MethodContext, method: str) -> Type:
    """``between``, ``startswith``, ``asc``, ``desc``: a range index, and values of the field's type."""
    parts = _field_parts(ctx.type)
    if parts is None:
        return ctx.default_return_type
    model, expected = parts
    field_expr = _callee_object(ctx)
    if not _is_sorted(ctx.type):
        use = "order by it" if method in ("asc", "desc") else f"use {method}() on it"
        _no_range_index(ctx.api, ctx.context, field_expr, ctx.type, use)
        return AnyType(TypeOfAny.from_error)
    if method == "between":
        for types, exprs in zip(ctx.arg_types, ctx.args, strict=False):
            if len(types) == 1 and len(exprs) == 1 and not _fits(ctx, exprs[0], types[0], expected):
                field = _describe_field(field_expr, model, ctx)
                _value_mismatch(ctx, field, types[0], expected, "between() got")
    elif method == "startswith" and not _is_plain_str(expected):
        options = ctx.api.options
        field = _describe_field(field_expr, model, ctx)
        ctx.api.fail(
            f"{field[0].upper()}{field[1:]} holds {format_type(expected, options)} values; "
            'startswith() needs a "Sorted[str]" field',
            ctx.context,
            code=VALUE_ERROR,
        )
    return ctx.default_return_type


def _check_order_key(ctx: MethodContext, keys: list[TypeInfo]) -> Type:
    """``query.order_by(key)``: a `Sorted` field of the query's model or a base, or its ordering.

    A union (``SortedField[Event, Any] | Ordering[Event]``) or a TypeVar's bound is checked item
    by item: every item must be such a key. An item that is not a `Field` must fit the declared
    ``OrderKey[M] | Ordering[M]`` (``keys``: those two classes).
    """
    query_args = _supertype_args(ctx.type, QUERY)
    if not query_args or len(ctx.arg_types) != 1 or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    model = query_args[0]
    key = ctx.arg_types[0][0]
    declared = UnionType([Instance(info, [model]) for info in keys])
    unsorted: ProperType | None = None
    for item in _alternatives(key):
        parts = _field_parts(item)
        if parts is None:
            fits = is_subtype(item, declared)
        else:
            fits = is_subtype(model, parts[0])
            if fits and unsorted is None and not _is_sorted(item):
                unsorted = item
        if not fits:
            options = ctx.api.options
            ctx.api.fail(
                f'Argument 1 to "order_by" of "Query" has incompatible type {format_type(key, options)}; '
                f"expected a Sorted field of {format_type(model, options)} (or of a base model) "
                "or its asc()/desc()",
                ctx.context,
                code=codes.ARG_TYPE,
            )
            return ctx.default_return_type
    if unsorted is not None:
        _no_range_index(ctx.api, ctx.context, ctx.args[0][0], unsorted, "order by it")
    return ctx.default_return_type


def _check_get_by(ctx: MethodContext, method: str) -> Type:
    """``Model.get_by(field, value)`` (``method``, or ``aget_by``): the value must fit the field's
    type (each item of a union)."""
    if len(ctx.arg_types) != 2 or any(len(types) != 1 for types in ctx.arg_types):
        return ctx.default_return_type
    fields = [parts for item in _alternatives(ctx.arg_types[0][0]) if (parts := _field_parts(item))]
    known = [expected for _, expected in fields if not isinstance(get_proper_type(expected), AnyType)]
    if any(not is_same_type(known[0], expected) for expected in known[1:]):
        return ctx.default_return_type  # mypy reports that it cannot infer the field's value type
    actual = ctx.arg_types[1][0]
    for model, expected in fields:
        if not _fits(ctx, ctx.args[1][0], actual, expected):
            field = _describe_field(ctx.args[0][0], model, ctx)
            _value_mismatch(ctx, field, actual, expected, f"{method}() got")
            break
    return ctx.default_return_type


def plugin(version: str) -> type[mypy.plugin.Plugin]:
    """mypy's entry point: ``plugins = ["typedredis.mypy"]``."""
    return TypedRedisPlugin
