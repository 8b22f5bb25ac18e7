"""What the plugin cannot see, and how to silence one error."""

from typedredis import Indexed, Model

Label = Indexed[str]  # your own alias: indexed at runtime, opaque to the plugin


class Tag(Model):
    label: Label
    slug: Indexed[str]
    note: str = ""


# error: "Tag.label" is not indexed; annotate it as "label: Indexed[...]" to query it  [typedredis-index]
Tag.query(Tag.f.label == "x")

# `== None` on a field that is not optional is a plain bool to mypy >= 1.17: query() rejects it
# error[mypy>=1.17]: Argument 1 to "query" of "Model" has incompatible type "bool";
#                    expected "Expr[Tag]"  [arg-type]
# error[mypy<1.17]: Field "Tag.slug" holds "str" values; cannot compare it with "None"  [typedredis-value]
Tag.query(Tag.f.slug == None)  # noqa: E711

# Every error has a code of its own, so it can be silenced one at a time:
Tag.query(Tag.f.note == "x")  # type: ignore[typedredis-index]
