"""The key layout of one model. Every key starts with the model's hash tag ``{<key>}``.

::

    {K}:meta                  hash: pk (last primary key), gen (current generation), lastgen
    {K}:staging               sorted set: generations being staged by `reset`, scored by heartbeat (ms)
    {K}:retired               hash: generation switched out by `reset` -> cleanup progress
    {K}:tmp:<n>               scratch sets of a running query script; deleted before it returns
    {K}:<g>:all               set: primary keys of generation g
    {K}:<g>:o:<pk>            hash: one object; field name -> msgpack value ("#<field>" holds the
                              index member when it differs from the stored value, "~<field>"
                              the sort key of a Sorted field)
    {K}:<g>:i:<field>:<m>     set: primary keys whose <field> has index member <m> (raw bytes)
    {K}:<g>:s:<field>         sorted set, all scores 0: "<sort key><8-byte pk>" per object, in
                              value order (ZRANGEBYLEX); see sortkeys.py
    {K}:<g>:ix                set: names of the index sets and sorted sets of generation g

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
        """The set of all primary keys of generation ``gen``."""
        return self.generation(gen) + b"all"

    def registry(self, gen: int) -> bytes:
        """The set naming every index set of generation ``gen``."""
        return self.generation(gen) + b"ix"

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
