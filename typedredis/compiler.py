"""The query compiler: an expression tree becomes a *formula*, plain data that query.lua runs.

A formula is a small immutable tree of set expressions over a model's indexes. For
``(User.f.name == "ann") & (User.f.age != 3)``::

    Diff(Key("name", b"\\xa3ann"), (Key("age", b"\\x03"),))

Negations are pushed into differences, nested ``&``/``|`` are flattened (iteratively: an
``|`` chain of 10 000 terms is one node), values of one field under ``|`` become one `Members`
node, comparisons of one field under ``&`` merge into one `Range`, and constants are folded
(an empty ``in_`` is the empty formula, None, which makes a whole query free: it never reaches
Redis).

query.lua receives the formula in prefix form (`tokens`) and decides, from the cardinalities
it reads in the same call, how to run it (see docs/explanation/query-strategies.md): as set
operations into scratch keys, or by walking an index and testing each object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from .codec import decode
from .expr import And, Eq, Expr, In, Not, Or, Range
from .fields import CompoundSpec
from .plan import Arg
from .sortkeys import AFTER_PK


@dataclass(frozen=True, slots=True)
class AllObjects:
    """Every object of the model (the ``all`` sorted set)."""


ALL = AllObjects()


@dataclass(frozen=True, slots=True)
class Key:
    """The index set of one value of an equality-indexed field (``i:<field>:<member>``)."""

    field: str
    member: bytes

    @property
    def suffix(self) -> bytes:
        """The generation-relative name of the index set."""
        return b"i:" + self.field.encode() + b":" + self.member


@dataclass(frozen=True, slots=True)
class Members:
    """Objects whose equality-indexed ``field`` has one of ``members`` (disjoint index sets)."""

    field: str
    members: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Values:
    """Objects whose `Sorted` ``field`` has one of the sort keys ``keys`` (``in_`` on a field
    that has no equality index): tested by reading each candidate's stored sort key."""

    field: str
    keys: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class PkSet:
    """The objects with these primary keys (not written by users: typedredis narrows a query
    to the objects it found with it, to act on them atomically after re-checking the rest)."""

    pks: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RangeScan:
    """The objects whose sort key for ``field`` lies in ``ZRANGEBYLEX`` bounds ``low``..``high``."""

    field: str
    low: bytes
    high: bytes
    text: str = ""
    """How the range was written (for `explain`)."""


@dataclass(frozen=True, slots=True)
class CompoundScan:
    """The objects of one combination of equality values in a compound index, within the range
    ``low``..``high`` of its sorted ``field`` (None: an equality-only index, one set). Stands for
    ``fallback``, which query.lua uses instead while the index is not complete."""

    name: str
    members: bytes
    """The equality fields' index members, concatenated (msgpack: unambiguous)."""
    field: str | None
    low: bytes
    high: bytes
    fallback: Formula

    @property
    def suffix(self) -> bytes:
        """The generation-relative name of the index key."""
        return b"c:" + self.name.encode() + b":" + self.members


@dataclass(frozen=True, slots=True)
class Inter:
    """Objects in every part."""

    parts: tuple[Formula, ...]


@dataclass(frozen=True, slots=True)
class Union:
    """Objects in any part."""

    parts: tuple[Formula, ...]


@dataclass(frozen=True, slots=True)
class Diff:
    """Objects in ``base`` and in none of ``minus``."""

    base: Formula
    minus: tuple[Formula, ...]


Formula: TypeAlias = (
    AllObjects | Key | Members | Values | PkSet | RangeScan | CompoundScan | Inter | Union | Diff
)
"""A normalised query condition; None stands for the empty result."""


def _unique(parts: list[Formula]) -> tuple[Formula, ...]:
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


def _merge_ranges(parts: list[Formula]) -> list[Formula] | None:
    """Intersect the ranges of one field into one range; None if they cannot overlap."""
    merged: dict[str, RangeScan] = {}
    others: list[Formula] = []
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


def _conjoin(parts: list[Formula | None]) -> Formula | None:
    positive: list[Formula] = []
    negative: list[Formula] = []
    for part in parts:
        if part is None:
            return None
        if isinstance(part, AllObjects):
            continue
        if isinstance(part, Inter):
            positive.extend(part.parts)
        elif isinstance(part, Diff):
            if not isinstance(part.base, AllObjects):
                positive.append(part.base)
            negative.extend(part.minus)
        else:
            positive.append(part)
    merged = _merge_ranges(list(_unique(positive)))
    if merged is None:
        return None
    pos, neg = _unique(merged), _unique(negative)
    if set(pos) & set(neg):
        return None
    base: Formula = ALL if not pos else pos[0] if len(pos) == 1 else Inter(pos)
    return Diff(base, neg) if neg else base


def _disjoin(parts: list[Formula | None]) -> Formula | None:
    kept: list[Formula] = []
    values: dict[str, dict[bytes, None]] = {}
    sort_keys: dict[str, dict[bytes, None]] = {}
    single: dict[str, RangeScan] = {}  # a field's one value as written, to keep its text
    for part in parts:
        if isinstance(part, AllObjects):
            return ALL
        if part is None:
            continue
        for item in part.parts if isinstance(part, Union) else (part,):
            if isinstance(item, Key):
                values.setdefault(item.field, {})[item.member] = None
            elif isinstance(item, Members):
                values.setdefault(item.field, {}).update(dict.fromkeys(item.members))
            elif isinstance(item, Values):
                sort_keys.setdefault(item.field, {}).update(dict.fromkeys(item.keys))
            elif isinstance(item, RangeScan) and (key := _single_value(item)) is not None:
                sort_keys.setdefault(item.field, {})[key] = None
                single.setdefault(item.field, item)
            else:
                kept.append(item)
    for field, members in values.items():  # one node per field: its index sets are disjoint
        kept.append(Key(field, next(iter(members))) if len(members) == 1 else Members(field, tuple(members)))
    for field, keys in sort_keys.items():
        if len(keys) == 1:
            kept.append(single[field])
        else:
            kept.append(Values(field, tuple(keys)))
    unique = _unique(kept)
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else Union(unique)


def _single_value(scan: RangeScan) -> bytes | None:
    """The sort key of a range of exactly one value (``f == v`` on a `Sorted`-only field)."""
    if scan.low[:1] == b"[" and scan.high == scan.low + AFTER_PK:
        return scan.low[1:]
    return None


def _negate(formula: Formula | None) -> Formula | None:
    if formula is None:
        return ALL
    if isinstance(formula, AllObjects):
        return None
    if isinstance(formula, Diff) and isinstance(formula.base, AllObjects):
        return _disjoin(list(formula.minus))
    return Diff(ALL, (formula,))


def _chain(expr: Expr[Any], kind: type[And] | type[Or]) -> list[Expr[Any]]:
    """The operands of a chain of ``kind`` nodes (``a | b | c ...`` nests to the left), found
    without recursion so that 10 000 terms do not exhaust Python's stack."""
    out: list[Expr[Any]] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, kind):
            stack.extend(reversed(node.parts))
        else:
            out.append(node)
    return out


def normalise(expr: Expr[Any]) -> Formula | None:
    """Turn an expression tree into a flattened, constant-folded formula (None: empty)."""
    if isinstance(expr, Eq):
        return Key(expr.field, expr.member)
    if isinstance(expr, In):
        if not expr.members:
            return None
        if len(expr.members) == 1:
            return Key(expr.field, expr.members[0])
        return Members(expr.field, expr.members)
    if isinstance(expr, Range):
        return RangeScan(expr.field, expr.low, expr.high, expr.text)
    if isinstance(expr, Not):
        return _negate(normalise(expr.part))
    if isinstance(expr, And):
        return _conjoin([normalise(p) for p in _chain(expr, And)])
    if isinstance(expr, Or):
        return _disjoin([normalise(p) for p in _chain(expr, Or)])
    raise TypeError(f"not a query expression: {expr!r}")


def compile_formula(expr: Expr[Any] | None) -> Formula | None:
    """Compile an expression (None: every object) into a formula (None: provably empty)."""
    return ALL if expr is None else normalise(expr)


# -- compound indexes ------------------------------------------------------------------------


def use_compounds(
    formula: Formula | None, compounds: tuple[CompoundSpec, ...], order: str | None
) -> Formula | None:
    """Replace the part of ``formula`` that a compound index answers by a `CompoundScan`.

    A compound fits when the condition fixes each of its equality fields to one value (``==``)
    and, for a sorted compound, ranges over its sorted field, orders by it, or does neither (the
    whole sorted set: one combination's objects) — provided it covers two conditions or more,
    or gives the order (else the one index set it would stand for is as good). The fitting
    compound covering the most of the condition wins; on a tie, one whose sorted field is the
    order. The rest of an ``&`` stays as it is: the scan replaces only what it covers.
    """
    if formula is None or not compounds:
        return formula
    if isinstance(formula, Diff):
        base = use_compounds(formula.base, compounds, order)
        return formula if base is formula.base else Diff(base or formula.base, formula.minus)
    parts = formula.parts if isinstance(formula, Inter) else (formula,)
    keys = {p.field: p for p in parts if isinstance(p, Key)}
    ranges = {p.field: p for p in parts if isinstance(p, RangeScan)}
    best: tuple[tuple[int, int], CompoundScan, set[Formula]] | None = None
    for c in compounds:
        if not all(f in keys for f in c.eq):
            continue
        covered: set[Formula] = {keys[f] for f in c.eq}
        low, high = b"-", b"+"
        if c.sorted is not None and c.sorted in ranges:
            scan = ranges[c.sorted]
            covered.add(scan)
            low, high = scan.low, scan.high
        members = b"".join(keys[f].member for f in c.eq)
        cover = tuple(p for p in parts if p in covered)
        fallback = cover[0] if len(cover) == 1 else Inter(cover)
        ordered = c.sorted is not None and c.sorted == order
        if len(covered) < 2 and not ordered:
            continue  # it would stand for one index set: no better than the set itself
        node = CompoundScan(c.name, members, c.sorted, low, high, fallback)
        score = (len(covered), int(ordered))
        if best is None or score > best[0]:
            best = (score, node, covered)
    if best is None:
        return formula
    _, node, covered = best
    rest = tuple(p for p in parts if p not in covered)
    return Inter((node, *rest)) if rest else node


# -- the wire form for query.lua -------------------------------------------------------------


def tokens(formula: Formula) -> list[Arg]:
    """The formula in prefix form, as query.lua reads it::

        a                        every object
        k <suffix>               an index set
        n <field> <m> <members>  the union of m index sets of one field
        p <m> <pks>              the objects with these m primary keys
        v <field> <m> <keys>     the objects whose sorted field has one of m sort keys
        c <name> <index> <fallback>   a compound index (k <suffix>, or z <field> <suffix>
                                 <low> <high> for a range of its sorted field), and what it
                                 stands for (used while the index is not complete)
        r <field> <low> <high>   a range of a sorted index
        i|u <n> <n operands>     intersection, union
        d <n> <base> <n-1 operands>   difference
    """
    out: list[Arg] = []
    stack: list[Formula] = [formula]
    while stack:
        node = stack.pop()
        if isinstance(node, AllObjects):
            out.append(b"a")
        elif isinstance(node, Key):
            out += [b"k", node.suffix]
        elif isinstance(node, Members):
            out += [b"n", node.field, len(node.members), *node.members]
        elif isinstance(node, RangeScan):
            out += [b"r", node.field, node.low, node.high]
        elif isinstance(node, PkSet):
            out += [b"p", len(node.pks), *node.pks]
        elif isinstance(node, Values):
            out += [b"v", node.field, len(node.keys), *node.keys]
        elif isinstance(node, CompoundScan):
            out += [b"c", node.name]
            if node.field is None:
                out += [b"k", node.suffix]
            else:
                out += [b"z", node.field, node.suffix, node.low, node.high]
            stack.append(node.fallback)
        else:
            parts = (node.base, *node.minus) if isinstance(node, Diff) else node.parts
            out += [b"d" if isinstance(node, Diff) else b"i" if isinstance(node, Inter) else b"u", len(parts)]
            stack.extend(reversed(parts))
    return out


# -- pages and actions -----------------------------------------------------------------------

Action: TypeAlias = Literal["count", "exists", "pks", "fetch", "first", "delete", "update"]


@dataclass(frozen=True, slots=True)
class Page:
    """Which part of the result, in which order: ``order`` names a `Sorted` field (None: by pk)."""

    order: str | None = None
    descending: bool = False
    offset: int = 0
    limit: int | None = None

    @property
    def whole(self) -> bool:
        """True when the page is the whole result in pk order."""
        return self.order is None and self.offset == 0 and self.limit is None


WHOLE = Page()


def explain(formula: Formula | None) -> str:
    """A readable rendering of a formula: the sets and ranges a query combines."""
    if formula is None:
        return "(empty result: nothing is sent to Redis)"

    def show(node: Formula, depth: int) -> str:
        if depth > 20:
            return "..."
        if isinstance(node, AllObjects):
            return "all"
        if isinstance(node, Key):
            return f"{node.field} == {_show_member(node.member)}"
        if isinstance(node, Members):
            shown = ", ".join(_show_member(m) for m in node.members[:5])
            more = f", ... ({len(node.members)} values)" if len(node.members) > 5 else ""
            return f"{node.field} in [{shown}{more}]"
        if isinstance(node, RangeScan):
            return f"{node.field}{node.text}".strip() if node.text else f"{node.field} in range"
        if isinstance(node, Values):
            return f"{node.field} in [{len(node.keys)} values]"
        if isinstance(node, CompoundScan):
            return f"{show(node.fallback, depth + 1)} from the compound index {node.name}"
        if isinstance(node, PkSet):
            return f"pk in {list(node.pks[:5])}" + ("..." if len(node.pks) > 5 else "")
        if isinstance(node, Diff):
            base = show(node.base, depth + 1)
            minus = [show(p, depth + 1) for p in node.minus[:20]]
            return f"({base} minus {' or '.join(minus)})"
        word = " and " if isinstance(node, Inter) else " or "
        parts = [show(p, depth + 1) for p in node.parts[:20]]
        more = f"{word}... ({len(node.parts)} terms)" if len(node.parts) > 20 else ""
        return "(" + word.join(parts) + more + ")"

    return show(formula, 0)


def _show_member(member: bytes) -> str:
    try:
        text = repr(decode(member))
    except Exception:
        text = repr(member)
    return text if len(text) <= 40 else text[:37] + "..."
