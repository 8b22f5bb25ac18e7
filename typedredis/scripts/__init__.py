"""The bundled Lua scripts: each ``<name>.lua`` runs with ``lib.lua`` prepended."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Script:
    """A script's full source (``lib.lua`` + its own file) and that source's SHA1."""

    name: str
    source: bytes
    sha: str


@cache
def script(name: str) -> Script:
    """Load script ``name`` from the package (once) and compute its SHA1."""
    folder = files(__package__)
    source = folder.joinpath("lib.lua").read_bytes() + folder.joinpath(f"{name}.lua").read_bytes()
    return Script(name, source, hashlib.sha1(source).hexdigest())
