"""The bundled scripts: each gets lib.lua's preamble and only the definitions it uses (every
definition is a closure made on every call of a script that carries it)."""

from __future__ import annotations

from importlib.resources import files

import pytest

from typedredis.scripts import script, split_lib, used_lib

LIB = b"""-- lib.lua: a test's own
local META = KEYS[1]
local probe = 1

-- doubles
local function double(x)
  return 2 * x
end

local cache = {}
-- uses double
local function quadruple(x)
  return double(double(x))
end

local function unused()
  return cache
end
-- the end
"""


def test_lib_splits_into_its_preamble_and_definitions_and_back() -> None:
    preamble, definitions = split_lib(LIB)
    assert preamble.endswith(b"local probe = 1\n\n")
    assert [d.name for d in definitions] == [b"double", b"cache", b"quadruple", b"unused", b""]
    assert definitions[2].text.startswith(b"-- uses double\nlocal function quadruple(x)")
    assert preamble + b"".join(d.text for d in definitions) == LIB

    lib = files("typedredis.scripts").joinpath("lib.lua").read_bytes()
    preamble, definitions = split_lib(lib)
    assert preamble + b"".join(d.text for d in definitions) == lib, "nothing of lib.lua is lost"
    assert b"local function" not in preamble, "the preamble ends before the first definition"
    assert b"redis.pcall('EXISTS', BASE .. 'probe')" in preamble, "the cluster probe always runs"


def test_a_script_gets_the_definitions_it_names_directly_or_through_others() -> None:
    used = used_lib(LIB, b"return quadruple(2)\n")
    assert b"local function quadruple" in used
    assert b"local function double" in used, "quadruple calls it"
    assert b"local function unused" not in used
    assert b"local cache" not in used
    assert used.index(b"function double") < used.index(b"function quadruple"), "lib.lua's order"
    assert used_lib(LIB, b"return unused()\n").count(b"local cache = {}") == 1, "a value it names"
    assert used_lib(LIB, b"return 1\n") == split_lib(LIB)[0]


def test_a_stray_statement_in_lib_is_refused() -> None:
    with pytest.raises(ValueError, match="line 5"):
        split_lib(b"local A = 1\nlocal function f()\nend\n\nredis.call('DEL', 'x')\n")


def test_the_bundled_scripts_leave_out_what_they_do_not_use() -> None:
    get, save = script("get").source, script("save").source
    assert b"local function note_indexes" not in get, "a get maintains no index"
    assert b"local function pack_rows" in get
    assert b"local function note_indexes" in save and b"local function apply_changes" in save
    assert b"local function bytes_less" not in save, "only queries compare sort keys"
    assert save.endswith(files("typedredis.scripts").joinpath("save.lua").read_bytes())
