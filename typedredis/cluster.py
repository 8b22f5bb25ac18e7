"""Redis Cluster routing, pure: which slot a command's key is in, and which node owns a slot.

No I/O and no redis import (the cluster transports in typedredis.transports move the bytes).
Every key of a model shares the model's hash tag ``{K}``, so every call of an operation on one
model goes to one slot, and a script's KEYS[1] (``{K}:meta``) names it.

`SlotMap` is what a cluster transport knows of the cluster: the owner of each of the 16 384
slots, loaded from a node's ``CLUSTER SLOTS`` reply, and corrected slot by slot by the
``MOVED`` replies the transport reads. `Router` runs a round trip over it as steps (a node,
its commands), which the sync and asyncio cluster transports only drive. When to re-send a
redirected call is decided in typedredis.wire, for every transport alike.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from typing import Any, Final, TypeAlias

from .wire import Command, ErrorReply, TransportFailure

SLOTS = 16384

Address: TypeAlias = tuple[str, int]
"""A node: (host, port)."""
CLUSTER_SLOTS: Final[Command] = ("CLUSTER", "SLOTS")


def _crc16_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return table


_TABLE = _crc16_table()


def crc16(data: bytes) -> int:
    """CRC16-CCITT (XModem), the checksum Redis Cluster hashes keys with."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[(crc >> 8) ^ byte]
    return crc


def key_slot(key: bytes | str) -> int:
    """The cluster slot of ``key``: of its hash tag (the part between the first ``{`` and the
    next ``}``) when that is not empty, else of the whole key."""
    raw = key.encode() if isinstance(key, str) else key
    start = raw.find(b"{")
    if start >= 0:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            raw = raw[start + 1 : end]
    return crc16(raw) % SLOTS


def routing_key(command: Sequence[Any]) -> bytes | str | None:
    """The key that decides where ``command`` goes: a script's KEYS[1], the key of one of the
    plain commands typedredis sends, or None (``CONFIG GET``: any node answers)."""
    name = str(command[0]).upper() if not isinstance(command[0], bytes) else command[0].decode().upper()
    if name in ("EVALSHA", "EVAL"):
        at = 3 if int(command[2]) > 0 else None
    elif name == "MEMORY":  # MEMORY USAGE <key>
        at = 2
    elif name in ("CONFIG", "PING", "CLUSTER", "INFO"):
        at = None
    else:  # HGET, ZCARD, HGETALL, ZRANGE ...: the key comes first
        at = 1
    if at is None:
        return None
    key: bytes | str = command[at]
    return key


def moved_to(text: str) -> tuple[int, Address] | None:
    """The slot and the node of a ``MOVED <slot> <host>:<port>`` (or ``ASK``) error text."""
    parts = text.split()
    if len(parts) < 3 or parts[0] not in ("MOVED", "ASK"):
        return None
    host, _, port = parts[2].rpartition(":")
    try:
        return int(parts[1]), (host, int(port))
    except ValueError:
        return None


class SlotMap:
    """The owner of every slot, as last learned; None for a slot nobody was seen to own."""

    def __init__(self) -> None:
        self._owners: list[Address | None] = [None] * SLOTS
        self.loaded = False
        """Whether a whole ``CLUSTER SLOTS`` reply was ever loaded."""

    def load(self, reply: Iterable[Sequence[Any]], default_host: str) -> None:
        """Take a ``CLUSTER SLOTS`` reply: ``[start, end, [host, port, id...], replicas...]`` per
        range. A node that announces no host (an empty string) is on ``default_host``, the one
        that answered."""
        owners: list[Address | None] = [None] * SLOTS
        for entry in reply:
            start, end, primary = int(entry[0]), int(entry[1]), entry[2]
            host = primary[0].decode() if isinstance(primary[0], bytes) else str(primary[0])
            address = (host or default_host, int(primary[1]))
            for slot in range(start, end + 1):
                owners[slot] = address
        self._owners = owners
        self.loaded = True

    def owner(self, slot: int) -> Address | None:
        """The node that owns ``slot``, as last learned."""
        return self._owners[slot]

    def learn(self, text: str) -> bool:
        """Take a ``MOVED`` error text: its slot is now owned by its node. True if it was one."""
        if not text.startswith("MOVED "):
            return False
        moved = moved_to(text)
        if moved is None:
            return False
        slot, address = moved
        self._owners[slot] = address
        return True

    def nodes(self) -> set[Address]:
        """Every node that owns a slot."""
        return {address for address in self._owners if address is not None}


Step: TypeAlias = tuple[Address, list[Command]]
"""One node's share of a cluster round trip: where to send, and what."""


class Router:
    """The cluster transports' one logic, written once: the slot map, and each round trip as
    a generator of `Step` (a node, its commands) that receives each node's replies (or has a
    `TransportFailure` thrown in) and returns every reply in order. The sync and asyncio
    transports only drive it (typedredis.transports)."""

    def __init__(self, seeds: list[Address]) -> None:
        self.slots = SlotMap()
        self.seeds = seeds

    def round_trip(self, commands: list[Command]) -> Generator[Step, list[Any], list[Any]]:
        """Each command to the node that owns its slot (the slot map loaded first if needed);
        a failing node marks the map for reloading and is a `TransportFailure` that may settle."""
        if not self.slots.loaded:
            yield from self._refresh()
        replies: list[Any] = [None] * len(commands)
        sent = False
        for address, positions in self._route(commands).items():
            try:
                answers = yield address, [commands[i] for i in positions]
            except TransportFailure as failure:
                self.slots.loaded = False  # the node may be failing over: ask again next time
                raise TransportFailure(str(failure), sent=sent or failure.sent, settling=True) from (
                    failure.__cause__
                )
            sent = True
            for i, reply in zip(positions, answers, strict=True):
                replies[i] = reply
        for reply in replies:  # MOVED: the slot's new owner
            if isinstance(reply, ErrorReply) and reply.code == "MOVED":
                self.slots.learn(reply.text)
        return replies

    def _refresh(self) -> Generator[Step, list[Any], None]:
        """Load the slot map from the first node that answers ``CLUSTER SLOTS``: a known owner,
        else one of the client's startup nodes."""
        known = self.slots.nodes()
        failure: TransportFailure | None = None
        for address in sorted(known) + [seed for seed in self.seeds if seed not in known]:
            try:
                (reply,) = yield address, [CLUSTER_SLOTS]
            except TransportFailure as exc:
                failure = exc
                continue
            if not isinstance(reply, ErrorReply):
                self.slots.load(reply, address[0])
                return
        raise TransportFailure(
            f"no node of the cluster answered CLUSTER SLOTS ({failure})", sent=False, settling=True
        )

    def _route(self, commands: list[Command]) -> dict[Address, list[int]]:
        """The commands' positions, grouped by the node that owns their slot (any node for a
        command without a key, or a slot nobody was seen to own: it answers MOVED)."""
        nodes = self.slots.nodes()
        anywhere = min(nodes) if nodes else self.seeds[0]
        groups: dict[Address, list[int]] = {}
        for i, command in enumerate(commands):
            key = routing_key(command)
            address = self.slots.owner(key_slot(key)) if key is not None else None
            groups.setdefault(address or anywhere, []).append(i)
        return groups
