"""The key layout of one model. Every key starts with the model's hash tag ``{<key>}``.

::

    {K}:meta                  hash: pk (last primary key), gen (current generation), lastgen,
                              n (the write stamp: lib.lua, stamp_written)
    {K}:staging               sorted set: generations being staged by `reset`, scored by heartbeat (ms)
    {K}:retired               hash: generation switched out by `reset` -> cleanup phase (o, then i)
    {K}:probe                 never exists: every script reads it first, to refuse to start while
                              the model's Redis Cluster slot migrates (lib.lua)
    {K}:tmp:<name>            scratch keys of one query call: cleared before use, deleted before
                              it returns (error or not)
    {K}:<g>:all               sorted set: primary keys of generation g, each scored by itself
    {K}:<g>:o:<pk>            hash: one object; field name -> msgpack value ("#<field>" holds the
                              index member when it differs from the stored value, "~<field>"
                              the sort key of a Sorted field)
    {K}:<g>:i:<field>:<m>     set: primary keys whose <field> has index member <m> (raw bytes)
    {K}:<g>:s:<field>         sorted set, all scores 0: "<sort key><8-byte pk>" per object, in
                              value order (ZRANGEBYLEX); see sortkeys.py
    {K}:<g>:c:<name>:<ms>     compound index <name>: per combination of equality members <ms>
                              (concatenated), a sorted set like s:<field> of its sorted field,
                              or a set of pks when it has none
    {K}:<g>:schema            hash: compound index name -> ready | building (whether it holds
                              every object of generation g)
    {K}:<g>:ix                sorted set, all scores 0: names of the index keys of generation g

Readers and writers find the current generation in ``{K}:meta`` inside the same Lua script,
so a `reset` (which stages generation g+1 and then flips ``gen``) is invisible until it is
complete. The Lua scripts build the per-generation names themselves from the same pattern.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeySpace:
    """The names of a model's keys, derived from its key name (``{key}`` is the hash tag)."""

    name: str

    @property
    def base(self) -> bytes:
        """The prefix shared by every key of the model: ``{name}:``."""
        return b"{" + self.name.encode() + b"}:"

    @property
    def meta(self) -> bytes:
        """The metadata hash; scripts receive it as KEYS[1] and derive every other name from it."""
        return self.base + b"meta"

    @property
    def staging(self) -> bytes:
        """Generations being staged by `reset`."""
        return self.base + b"staging"

    @property
    def retired(self) -> bytes:
        """Generations waiting to be deleted."""
        return self.base + b"retired"

    def generation(self, gen: int) -> bytes:
        """The prefix of every key of generation ``gen``."""
        return self.base + str(gen).encode() + b":"

    def all(self, gen: int) -> bytes:
        """The sorted set of all primary keys of generation ``gen`` (scored by pk)."""
        return self.generation(gen) + b"all"

    def registry(self, gen: int) -> bytes:
        """The sorted set naming every index key of generation ``gen``."""
        return self.generation(gen) + b"ix"

    def schema(self, gen: int) -> bytes:
        """The hash telling which compound indexes of generation ``gen`` are complete."""
        return self.generation(gen) + b"schema"

    def compound(self, gen: int, name: str, members: bytes) -> bytes:
        """A compound index's key for one combination of equality members (concatenated)."""
        return self.generation(gen) + b"c:" + name.encode() + b":" + members

    def object(self, gen: int, pk: int) -> bytes:
        """The hash holding object ``pk``."""
        return self.generation(gen) + b"o:" + str(pk).encode()

    def index(self, gen: int, field: str, member: bytes) -> bytes:
        """The index set of ``field`` for the index member ``member``."""
        return self.generation(gen) + index_suffix(field, member)

    def sorted_index(self, gen: int, field: str) -> bytes:
        """The sorted set (range index) of ``field``."""
        return self.generation(gen) + sorted_suffix(field)


def sorted_suffix(field: str) -> bytes:
    """The generation-relative name of a field's sorted index."""
    return b"s:" + field.encode()


def index_suffix(field: str, member: bytes) -> bytes:
    """The generation-relative name of an index set, as query plans carry it."""
    return b"i:" + field.encode() + b":" + member
