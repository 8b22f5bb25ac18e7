"""The bundled Lua scripts: each ``<name>.lua`` runs with ``lib.lua`` prepended.

Of lib.lua's definitions, a script gets only those it uses. Redis runs a script's whole body
on every call, so each ``local function`` of lib.lua is a closure made (and collected) on
every call, whether the script calls it or not: about 0.2 µs each on a slow core, which made
a third of the prologue of a one-object save. lib.lua's preamble (its constants and the
cluster probe, up to its first ``local function``) is always kept; after it, each top-level
definition (a ``local function`` up to its closing ``end``, or a one-line ``local`` value,
with the comment above it) is kept when the script, or a definition kept, names it. The
definitions keep lib.lua's order, so each still sees the ones above it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

_NAMED = re.compile(rb"^local (?:function )?([A-Za-z_][A-Za-z0-9_]*)")
_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Script:
    """A script's full source (the parts of ``lib.lua`` it uses + its own file) and its SHA1."""

    name: str
    source: bytes
    sha: str


@dataclass(frozen=True, slots=True)
class Definition:
    """One top-level definition of lib.lua: its name and its text (the comment above included)."""

    name: bytes
    text: bytes


def split_lib(lib: bytes) -> tuple[bytes, list[Definition]]:
    """lib.lua as its preamble and its top-level definitions, in order.

    A ``local function`` runs to the first line that is exactly ``end``; a ``local`` value is
    one line. Blank and comment lines belong to the definition below them. Any other top-level
    line after the preamble is an error (it would run, or not, depending on the script)."""
    lines = lib.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(b"local function "))
    while start > 0 and lines[start - 1].startswith(b"--"):
        start -= 1
    preamble = b"".join(lines[:start])
    definitions: list[Definition] = []
    pending: list[bytes] = []
    i = start
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith(b"--"):
            pending.append(line)
            i += 1
            continue
        named = _NAMED.match(line)
        if named is None:
            raise ValueError(f"lib.lua line {i + 1}: not a top-level local definition: {line!r}")
        end = i
        if line.startswith(b"local function "):
            end = next(j for j in range(i, len(lines)) if lines[j].rstrip() == b"end")
        definitions.append(Definition(named.group(1), b"".join(pending + lines[i : end + 1])))
        pending = []
        i = end + 1
    if pending:
        definitions.append(Definition(b"", b"".join(pending)))  # (a closing comment: no script's)
    return preamble, definitions


def used_lib(lib: bytes, body: bytes) -> bytes:
    """lib.lua as a script with this ``body`` runs it: its preamble and the definitions the
    body names, directly or through the definitions it uses."""
    preamble, definitions = split_lib(lib)
    wanted = set(_WORD.findall(body))
    kept = [False] * len(definitions)
    changed = True
    while changed:  # (a definition names only those above it: one pass from the end suffices,
        changed = False  # but a fixed point does not depend on that)
        for i in reversed(range(len(definitions))):
            definition = definitions[i]
            if not kept[i] and definition.name in wanted:
                kept[i] = changed = True
                wanted.update(_WORD.findall(definition.text))
    return preamble + b"".join(d.text for d, keep in zip(definitions, kept, strict=True) if keep)


@cache
def script(name: str) -> Script:
    """Load script ``name`` from the package (once) and compute its SHA1."""
    folder = files(__package__)
    body = folder.joinpath(f"{name}.lua").read_bytes()
    source = used_lib(folder.joinpath("lib.lua").read_bytes(), body) + body
    return Script(name, source, hashlib.sha1(source).hexdigest())
