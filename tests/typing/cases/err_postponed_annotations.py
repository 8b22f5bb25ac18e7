"""String annotations, ``from __future__ import annotations`` and ``Optional[Indexed[...]]``."""

from __future__ import annotations

from typing import Optional, reveal_type

from typedredis import Indexed, Model


class Note(Model):
    title: "Indexed[str]"
    words: Indexed[int] = 0
    tag: Optional[Indexed[str]] = None


reveal_type(Note.f.title)  # N: Revealed type is "typedredis.expr.Field[err_postponed_annotations.Note, str]"
words = Note.f.words == "many"  # E: Field "Note.words" holds "int" values; cannot compare it with "str"  [typedredis-value]
# E: "Note.tag" is not indexed; annotate it as "tag: Indexed[...]" to query it  [typedredis-index]
# N: Only an outermost marker indexes a field: write "tag: Indexed[X | None]"
tag = Note.f.tag == "x"
