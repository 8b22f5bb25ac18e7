"""The bundled scripts: each gets lib.lua's preamble and only the definitions it uses (every
definition is a closure made on every call of a script that carries it)."""

from __future__ import annotations

from importlib.resources import files

import pytest
import redis

from typedredis import Indexed, Model, Sorted
from typedredis.scripts import lua_string, script, split_lib, used_lib

from .support import check_invariants, key

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


class Café(Model, key=key("café")):
    crème: Indexed[str]
    prix_ñ: Sorted[int]
    note: str = ""


def test_the_bundled_scripts_leave_out_what_they_do_not_use() -> None:
    get, save = script("get").source, script("save", Café.spec().save_schema).source
    assert b"local function note_indexes" not in get, "a get maintains no index"
    assert b"local function pack_rows" in get
    assert b"local function note_indexes" in save and b"local function apply_changes" in save
    assert b"local function bytes_less" not in save, "only queries compare sort keys"
    assert save.endswith(files("typedredis.scripts").joinpath("save.lua").read_bytes())


def test_save_is_compiled_per_model_and_refused_without_its_head() -> None:
    compiled = script("save", Café.spec().save_schema)
    assert b"local HEAD = {" in compiled.source
    assert compiled.sha != script("save", (0, 0, 0, 0, 0, 0, "2|")).sha, "one script per schema"
    with pytest.raises(ValueError, match=r"save\.lua reads HEAD"):
        script("save")
    with pytest.raises(ValueError, match=r"get\.lua has no HEAD"):
        script("get", (1,))
    with pytest.raises(TypeError):
        lua_string(1.5)  # type: ignore[arg-type]  # (what the refusal is for)


def test_a_compiled_constant_reads_back_as_the_bytes_sent(client: redis.Redis) -> None:
    hostile = [bytes(range(256)), b'"', b"\\", b"]]", b"a\nreturn 1 --", b"", "é€", 0, -7, 2**53]
    for value in hostile:
        sent = value if isinstance(value, bytes) else str(value).encode()
        assert client.eval(b"return " + lua_string(value), 0) == sent
        assert client.eval(b"return ARGV[1] == " + lua_string(value), 0, value) == 1


def test_a_model_with_non_ascii_names_saves_through_its_compiled_script(client: redis.Redis) -> None:
    first = Café(crème="brûlée", prix_ñ=7)
    Café.save_all([first, Café(crème="fraîche", prix_ñ=3)])
    first.prix_ñ = 9
    first.save()  # a partial save: one field and its sort key move
    assert [c.crème for c in Café.query(Café.f.crème == "brûlée").all()] == ["brûlée"]
    assert [c.prix_ñ for c in Café.query().order_by(Café.f.prix_ñ).all()] == [3, 9]
    check_invariants(client, Café)
