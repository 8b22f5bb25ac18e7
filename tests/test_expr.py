"""Expressions without Redis: immutable trees, validation before I/O, clear errors."""

from __future__ import annotations

import dataclasses
import enum

import pytest
from pydantic import Field, ValidationError

from typedredis import Indexed, InvalidValue, Model, QueryError, Sorted
from typedredis.expr import And, Eq, In, Not

from .support import key


class Base(Model, key=key("ebase")):
    name: Indexed[str]
    code: Indexed[str] = Field(default="x", max_length=3)


class Child(Base, key=key("echild")):
    extra: Indexed[int] = 0


class Unindexed(Base, key=key("eunindexed")):
    name: str  # type: ignore[assignment]  # re-declared without the index


def test_builders_make_trees() -> None:
    expr = (Child.f.name == "a") & ~(Child.f.extra.in_([1, 2]))
    assert isinstance(expr, And) and isinstance(expr.parts[1], Not)
    assert isinstance(expr.parts[0], Eq) and expr.parts[0].value == "a"
    assert isinstance(expr.parts[1].part, In) and expr.parts[1].part.values == (1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        expr.parts = ()  # type: ignore[misc]


def test_reflected_comparison_builds_the_same_expression() -> None:
    expr = "a" == Base.f.name  # noqa: SIM300
    assert isinstance(expr, Eq) and expr.field == "name"


def test_values_are_validated_with_field_constraints() -> None:
    with pytest.raises(ValidationError):
        Base.f.code == "toolong"  # noqa: B015
    with pytest.raises(ValidationError):
        Child.f.extra == "x"  # noqa: B015
    assert (Child.f.extra == "3").value == "3"  # lax mode coerces; the member is the int's
    assert (Child.f.extra == "3").member == (Child.f.extra == 3).member


def test_in_refuses_a_bare_string() -> None:
    with pytest.raises(QueryError, match="collection"):
        Base.f.name.in_("abc")


def test_base_expressions_filter_subclasses_but_not_the_reverse() -> None:
    Child.query(Base.f.name == "a")  # a predicate on the base applies to the subclass
    combined = (Base.f.name == "a") & (Child.f.extra == 1)
    assert combined.model is Child
    with pytest.raises(QueryError, match="cannot filter"):
        Base.query(Child.f.extra == 1)  # type: ignore[arg-type]


def test_subclass_can_unindex_a_field() -> None:
    with pytest.raises(QueryError, match=r"Unindexed\.name is not indexed"):
        Unindexed.f.name == "a"  # noqa: B015
    assert Unindexed.spec().indexed_names == ("code",)


def test_fields_namespace_lists_fields_and_rejects_unknown_ones() -> None:
    assert dir(Child.f) == ["code", "extra", "name"]  # dir() sorts
    assert repr(Base.f.name) == "Base.f.name"
    with pytest.raises(AttributeError, match="Base has no field 'extra'"):
        Base.f.extra  # noqa: B018


def test_repr_shows_the_query() -> None:
    assert (
        repr((Base.f.name == "a") | ~(Base.f.code == "b")) == "(Base.f.name == 'a' | ~(Base.f.code == 'b'))"
    )


class Status(enum.Enum):
    PAID = "paid"
    OPEN = "open"


class Order(Model, key=key("eorder")):
    status: Indexed[Status]
    total: Sorted[int] = 0
    tags: Indexed[list[int]] = Field(default_factory=list)


def test_an_invalid_query_value_names_the_model_and_field() -> None:
    with pytest.raises(InvalidValue) as info:
        Order.f.status == "lost"  # noqa: B015
    error = info.value
    assert str(error).startswith("Order.status: ")
    assert str(error).endswith("(got 'lost')")
    assert (error.model, error.field) == ("Order", "status")
    assert isinstance(error, QueryError) and isinstance(error, ValidationError)  # either maps to 422
    assert error.errors()[0]["type"] == "enum" and error.errors()[0]["input"] == "lost"
    assert error.title == "Order.status"
    for make in (
        lambda: Order.objects.filter(status="lost"),
        lambda: Order.f.status.in_(["paid", "lost"]),
        lambda: Order.f.total < "many",
        lambda: Order.objects.filter(total__gte="many"),
        lambda: Order.f.total.between(1, "x"),
    ):
        with pytest.raises(InvalidValue, match=r"^Order\.(status|total): "):
            make()


def test_invalid_values_inside_containers_say_where() -> None:
    with pytest.raises(InvalidValue, match=r"^Order\.tags\[1\]: "):
        Order.f.tags == [1, "x"]  # noqa: B015


def test_a_huge_invalid_value_is_quoted_short() -> None:
    with pytest.raises(InvalidValue) as info:
        Order.f.status == "x" * 100_000  # noqa: B015
    assert len(str(info.value)) < 300
