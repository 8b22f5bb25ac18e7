"""The query compiler: an expression tree becomes a *set program*, plain data the query script runs.

A program is a list of set operations (``inter``, ``union``, ``diff``) whose operands are index
sets (named by their generation-relative suffix), the set of all objects, or the results of
earlier operations (registers); a `RangeScan` collects the objects of a range of a sorted index
into a register. For ``(User.f.name == "ann") & (User.f.age != 3)``::

    Program(ops=(SetOp("diff", (Key(b"i:name:\\xa3ann"), Key(b"i:age:\\x03"))),), result=Register(1))

that is ``tmp:1 = SDIFFSTORE <gen>:i:name:"ann" <gen>:i:age:3``, and the result is ``tmp:1``.

Negations are pushed into differences, nested ``&``/``|`` are flattened, and constants are
folded (an empty ``in_`` is the empty set, which makes a whole query free: it never reaches Redis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from .codec import decode
from .expr import And, Eq, Expr, In, Not, Or, Range
from .keys import index_suffix
from .plan import Arg, ScriptCall


@dataclass(frozen=True, slots=True)
class Key:
    """An index set, by generation-relative suffix (``i:<field>:<member>``)."""

    suffix: bytes


@dataclass(frozen=True, slots=True)
class AllObjects:
    """The set of every object of the model."""


@dataclass(frozen=True, slots=True)
class Register:
    """The result of operation number ``n`` (1-based) of the program."""

    n: int


Operand: TypeAlias = Key | AllObjects | Register
ALL = AllObjects()


@dataclass(frozen=True, slots=True)
class SetOp:
    """``inter``/``union`` of the operands, or ``diff``: the first operand minus the others."""

    op: Literal["inter", "union", "diff"]
    operands: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class RangeScan:
    """The objects whose sort key for ``field`` lies in ``ZRANGEBYLEX`` bounds ``low``..``high``.

    With ``within``, only those among that set: the script then either scans the range and
    intersects, or, when the set is smaller than the range, sorts just the set's sort keys in a
    scratch sorted set and takes the range of that (a probe), whichever touches fewer entries.
    """

    field: str
    low: bytes
    high: bytes
    text: str = ""
    """How the range was written (for `explain`)."""
    within: Operand | None = None


@dataclass(frozen=True, slots=True)
class Program:
    """Operations run in order; ``result`` names the final set (None: provably empty)."""

    ops: tuple[SetOp | RangeScan, ...]
    result: Operand | None


# -- formulas: the normalised tree --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Inter:
    parts: tuple[_Formula, ...]


@dataclass(frozen=True, slots=True)
class _Union:
    parts: tuple[_Formula, ...]


@dataclass(frozen=True, slots=True)
class _Diff:
    base: _Formula
    minus: tuple[_Formula, ...]


@dataclass(frozen=True, slots=True)
class _Empty:
    pass


_EMPTY = _Empty()
_Formula: TypeAlias = Key | RangeScan | AllObjects | _Empty | _Inter | _Union | _Diff


def _unique(parts: list[_Formula]) -> tuple[_Formula, ...]:
    return tuple(dict.fromkeys(parts))


def _lower(a: bytes, b: bytes) -> bytes:
    """The tighter of two ZRANGEBYLEX lower bounds (``-``, ``[x`` or ``(x``)."""
    if a == b"-" or b == b"-":
        return b if a == b"-" else a
    if a[1:] != b[1:]:
        return a if a[1:] > b[1:] else b
    return a if a[:1] == b"(" else b


def _upper(a: bytes, b: bytes) -> bytes:
    """The tighter of two ZRANGEBYLEX upper bounds (``+``, ``[x`` or ``(x``)."""
    if a == b"+" or b == b"+":
        return b if a == b"+" else a
    if a[1:] != b[1:]:
        return a if a[1:] < b[1:] else b
    return a if a[:1] == b"(" else b


def _disjoint(scan: RangeScan) -> bool:
    """Whether a range's bounds exclude everything (its low bound lies above its high bound)."""
    if scan.low == b"-" or scan.high == b"+":
        return False
    low, high = scan.low[1:], scan.high[1:]
    return low > high or (low == high and b"(" in (scan.low[:1], scan.high[:1]))


def _merge_ranges(parts: list[_Formula]) -> list[_Formula] | None:
    """Intersect the ranges of one field into one range; None if they cannot overlap."""
    merged: dict[str, RangeScan] = {}
    others: list[_Formula] = []
    for part in parts:
        if not isinstance(part, RangeScan):
            others.append(part)
            continue
        seen = merged.get(part.field)
        if seen is None:
            merged[part.field] = part
        else:
            low, high = _lower(seen.low, part.low), _upper(seen.high, part.high)
            merged[part.field] = RangeScan(part.field, low, high, f"{seen.text} and{part.text}")
    if any(_disjoint(scan) for scan in merged.values()):
        return None
    return others + list(merged.values())


def _conjoin(parts: list[_Formula]) -> _Formula:
    positive: list[_Formula] = []
    negative: list[_Formula] = []
    for part in parts:
        if isinstance(part, _Empty):
            return _EMPTY
        if isinstance(part, AllObjects):
            continue
        if isinstance(part, _Inter):
            positive.extend(part.parts)
        elif isinstance(part, _Diff):
            if not isinstance(part.base, AllObjects):
                positive.append(part.base)
            negative.extend(part.minus)
        else:
            positive.append(part)
    merged = _merge_ranges(list(_unique(positive)))
    if merged is None:
        return _EMPTY
    pos, neg = _unique(merged), _unique(negative)
    if set(pos) & set(neg):
        return _EMPTY
    base: _Formula = ALL if not pos else pos[0] if len(pos) == 1 else _Inter(pos)
    return _Diff(base, neg) if neg else base


def _disjoin(parts: list[_Formula]) -> _Formula:
    kept: list[_Formula] = []
    for part in parts:
        if isinstance(part, AllObjects):
            return ALL
        if isinstance(part, _Empty):
            continue
        kept.extend(part.parts if isinstance(part, _Union) else (part,))
    unique = _unique(kept)
    if not unique:
        return _EMPTY
    return unique[0] if len(unique) == 1 else _Union(unique)


def _negate(formula: _Formula) -> _Formula:
    if isinstance(formula, _Empty):
        return ALL
    if isinstance(formula, AllObjects):
        return _EMPTY
    if isinstance(formula, _Diff) and isinstance(formula.base, AllObjects):
        return _disjoin(list(formula.minus))
    return _Diff(ALL, (formula,))


def normalise(expr: Expr[Any]) -> _Formula:
    """Turn an expression tree into a flattened, constant-folded set formula."""
    if isinstance(expr, Eq):
        return Key(index_suffix(expr.field, expr.member))
    if isinstance(expr, In):
        return _disjoin([Key(index_suffix(expr.field, m)) for m in expr.members])
    if isinstance(expr, Range):
        return RangeScan(expr.field, expr.low, expr.high, expr.text)
    if isinstance(expr, Not):
        return _negate(normalise(expr.part))
    if isinstance(expr, And):
        return _conjoin([normalise(p) for p in expr.parts])
    if isinstance(expr, Or):
        return _disjoin([normalise(p) for p in expr.parts])
    raise TypeError(f"not a query expression: {expr!r}")


def compile_program(expr: Expr[Any] | None) -> Program:
    """Compile an expression (None: every object) into a `Program`."""
    formula = ALL if expr is None else normalise(expr)
    if isinstance(formula, _Empty):
        return Program((), None)
    ops: list[SetOp | RangeScan] = []

    def emit(f: _Formula) -> Operand:
        op: SetOp | RangeScan
        if isinstance(f, (Key, AllObjects)):
            return f
        if isinstance(f, RangeScan):
            op = f
        elif isinstance(f, _Inter) and any(isinstance(p, RangeScan) for p in f.parts):
            # ranges run last, each restricted to what the other conditions left
            sets = [p for p in f.parts if not isinstance(p, RangeScan)]
            scans = [p for p in f.parts if isinstance(p, RangeScan)]
            within = emit(sets[0] if len(sets) == 1 else _Inter(tuple(sets))) if sets else None
            for scan in scans:
                ops.append(RangeScan(scan.field, scan.low, scan.high, scan.text, within))
                within = Register(len(ops))
            assert within is not None
            return within
        elif isinstance(f, _Inter):
            op = SetOp("inter", tuple(emit(p) for p in f.parts))
        elif isinstance(f, _Union):
            op = SetOp("union", tuple(emit(p) for p in f.parts))
        elif isinstance(f, _Diff):
            op = SetOp("diff", (emit(f.base), *(emit(p) for p in f.minus)))
        else:  # pragma: no cover - _Empty is folded away above
            raise AssertionError(f)
        ops.append(op)
        return Register(len(ops))

    result = emit(formula)
    return Program(tuple(ops), result)


# -- encoding for query.lua ----------------------------------------------------------------

Action: TypeAlias = Literal["count", "exists", "pks", "fetch", "first", "delete", "update"]
_OPCODES = {"inter": b"I", "union": b"U", "diff": b"D"}


@dataclass(frozen=True, slots=True)
class Page:
    """Which part of the result, in which order: ``order`` names a `Sorted` field (None: by pk)."""

    order: str | None = None
    descending: bool = False
    offset: int = 0
    limit: int | None = None

    @property
    def whole(self) -> bool:
        """True when the page is the whole result in pk order (the client may sort it itself)."""
        return self.order is None and self.offset == 0 and self.limit is None


WHOLE = Page()


def _operand(ref: Operand) -> bytes:
    if isinstance(ref, Key):
        return b"k" + ref.suffix
    if isinstance(ref, Register):
        return b"r" + str(ref.n).encode()
    return b"a"


def query_call(
    meta_key: bytes,
    program: Program,
    action: Action,
    fields: tuple[str, ...],
    header: bytes = b"",
    page: Page = WHOLE,
    extra: tuple[Arg, ...] = (),
) -> ScriptCall:
    """The call of ``query.lua`` that runs ``program`` and then ``action`` on its result.

    ``fields`` are the hash fields to fetch (``fetch``/``first``, each object returned as one
    row starting with ``header``), or for ``delete`` and ``update`` the equality-indexed fields
    followed by the sorted ones (whose index entries they maintain). ``extra`` carries the
    arguments of ``update`` (see query.lua).
    """
    assert program.result is not None, "an empty program needs no call"
    args: list[Arg] = [action, header, len(fields), *fields, len(program.ops)]
    for op in program.ops:
        if isinstance(op, RangeScan):
            within = b"" if op.within is None else _operand(op.within)
            args += [b"R", op.field, op.low, op.high, within]
        else:
            args += [_OPCODES[op.op], len(op.operands), *map(_operand, op.operands)]
    args.append(_operand(program.result))
    args += [
        page.order or b"",
        b"1" if page.descending else b"",
        page.offset,
        -1 if page.limit is None else page.limit,
    ]
    args += extra
    return ScriptCall("query", (meta_key,), tuple(args), writes=action in ("delete", "update"))


def explain(program: Program) -> str:
    """A readable listing of the Redis set operations a program performs."""
    names = {"inter": "SINTERSTORE", "union": "SUNIONSTORE", "diff": "SDIFFSTORE"}
    if program.result is None:
        return "(empty result: nothing is sent to Redis)"

    def show(ref: Operand) -> str:
        if isinstance(ref, Key):
            field, _, member = ref.suffix[2:].partition(b":")
            return f"<gen>:i:{field.decode()}:{decode(member)!r}"
        if isinstance(ref, Register):
            return f"tmp:{ref.n}"
        return "<gen>:all"

    lines = [
        (
            f"tmp:{i} = ZRANGEBYLEX <gen>:s:{op.field} ({op.field}{op.text}) into a set"
            + ("" if op.within is None else f", within {show(op.within)} (probing it when smaller)")
        )
        if isinstance(op, RangeScan)
        else f"tmp:{i} = {names[op.op]} {' '.join(map(show, op.operands))}"
        for i, op in enumerate(program.ops, 1)
    ]
    lines.append(f"result: {show(program.result)}")
    return "\n".join(lines)
