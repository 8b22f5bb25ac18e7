"""The bundled Lua scripts: each ``<name>.lua`` runs with ``lib.lua`` prepended.

Of lib.lua's definitions, a script gets only those it uses. Redis runs a script's whole body
on every call, so each ``local function`` of lib.lua is a closure made (and collected) on
every call, whether the script calls it or not: about 0.2 µs each on a slow core, which made
a third of the prologue of a one-object save. lib.lua's preamble (its constants and the
cluster probe, up to its first ``local function``) is always kept; after it, each top-level
definition (a ``local function`` up to its closing ``end``, or a one-line ``local`` value,
with the comment above it) is kept when the script, or a definition kept, names it. The
definitions keep lib.lua's order, so each still sees the ones above it.

A script may also be compiled for one caller: ``script(name, head)`` puts ``local HEAD = {...}``
between lib.lua and the body, ``head``'s values as Lua string constants, exactly as they would
arrive in ARGV. save.lua reads the model's schema from there (`ModelSpec.save_schema`): a save
then sends only the objects, and the server parses and interns ~20 fewer arguments per call.
Each model's save script has its own SHA1 (loaded, like every script, by ``EVAL`` on the first
``NOSCRIPT``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

_NAMED = re.compile(rb"^local (?:function )?([A-Za-z_][A-Za-z0-9_]*)")
_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_PLAIN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=,|.:#~!-+ ")


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


def lua_string(value: bytes | str | int) -> bytes:
    """``value`` as a Lua string literal holding the bytes redis-py would send for it: a str
    in UTF-8, an int in decimal. Every byte outside a small plain set is a ``\\ddd`` escape, so
    no name a user chose can end the literal or the line."""
    if isinstance(value, bool) or not isinstance(value, (bytes, str, int)):
        raise TypeError(f"a compiled script constant must be bytes, str or int, not {value!r}")
    raw = value if isinstance(value, bytes) else str(value).encode()
    return b'"' + b"".join(bytes([c]) if c in _PLAIN else b"\\%03d" % c for c in raw) + b'"'


@cache
def script(name: str, head: tuple[bytes | str | int, ...] = ()) -> Script:
    """Load script ``name`` from the package (once per ``head``) and compute its SHA1; with a
    ``head``, compiled for one caller (see module)."""
    folder = files(__package__)
    body = folder.joinpath(f"{name}.lua").read_bytes()
    needs_head = b"HEAD" in _WORD.findall(body)
    if needs_head != bool(head):
        raise ValueError(f"{name}.lua {'reads' if needs_head else 'has no'} HEAD: head={head!r}")
    source = used_lib(folder.joinpath("lib.lua").read_bytes(), body)
    if head:
        source += b"local HEAD = {" + b", ".join(map(lua_string, head)) + b"}\n"
    source += body
    return Script(name, source, hashlib.sha1(source).hexdigest())
