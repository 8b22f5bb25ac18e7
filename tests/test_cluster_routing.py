"""Redis Cluster routing and the redirect policy, with canned replies and no server."""

from __future__ import annotations

from typing import Any

import pytest

from typedredis.cluster import CLUSTER_SLOTS, Router, SlotMap, key_slot, moved_to, routing_key
from typedredis.errors import OutcomeUnknown, ServerError, Unavailable
from typedredis.plan import ScriptCall, single
from typedredis.wire import ErrorReply, Pause, TransportFailure, Wire, drive

WRITE = ScriptCall("save", (b"{m}:meta",), ("", ""), writes=True, head=(0, 0, 0, 0, 0, 0, "2|"))
READ = ScriptCall("get", (b"{m}:meta",), ("1",), writes=False)


def test_key_slots_match_redis_cluster() -> None:
    assert key_slot(b"123456789") == 0x31C3  # the CRC16 check value Redis Cluster's spec gives
    assert key_slot("foo") == 12182
    assert key_slot(b"{user1000}.following") == key_slot(b"{user1000}.followers") == key_slot(b"user1000")
    assert key_slot(b"foo{}{bar}") == key_slot(b"foo{}{bar}")  # an empty tag: the whole key
    assert key_slot(b"foo{}{bar}") != key_slot(b"bar")
    assert key_slot(b"foo{{bar}}zap") == key_slot(b"{bar")  # the first { to the first } after it
    assert key_slot(b"{m}:meta") == key_slot(b"{m}:3:o:17")  # every key of a model: one slot


def test_routing_key_of_each_command_typedredis_sends() -> None:
    assert routing_key(("EVALSHA", "ab", 1, b"{m}:meta", "x")) == b"{m}:meta"
    assert routing_key(("EVAL", b"return 1", 0)) is None
    assert routing_key(("HGET", b"{m}:meta", "gen")) == b"{m}:meta"
    assert routing_key(("MEMORY", "USAGE", b"{m}:1:o:1")) == b"{m}:1:o:1"
    assert routing_key(("CONFIG", "GET", "maxmemory-policy")) is None


def test_slot_map_loads_cluster_slots_and_learns_moved() -> None:
    slots = SlotMap()
    assert not slots.loaded and slots.owner(0) is None
    slots.load(
        [[0, 8191, [b"10.0.0.1", 7000, b"id1"]], [8192, 16383, [b"", 7001, b"id2"], [b"x", 7004]]], "h"
    )
    assert slots.loaded
    assert slots.owner(0) == slots.owner(8191) == ("10.0.0.1", 7000)
    assert slots.owner(16383) == ("h", 7001)  # no host announced: the node that answered
    assert slots.learn("MOVED 5 10.0.0.9:7009") and slots.owner(5) == ("10.0.0.9", 7009)
    assert not slots.learn("ASK 6 10.0.0.9:7009") and slots.owner(6) == ("10.0.0.1", 7000)
    assert moved_to("ASK 6 [::1]:7009") == (6, ("[::1]", 7009))
    assert moved_to("ERR nonsense") is None


def run(wire: Wire[Any], replies: list[list[Any]]) -> tuple[list[Any], list[float], Any]:
    """Drive ``wire`` with one canned reply list per batch; the batches and pauses it yielded."""
    sent: list[Any] = []
    pauses: list[float] = []
    answers = iter(replies)
    try:
        step = next(wire)
        while True:
            if isinstance(step, Pause):
                pauses.append(step.seconds)
                step = wire.send(None)
                continue
            sent.append(step)
            answer = next(answers)
            step = wire.throw(answer) if isinstance(answer, Exception) else wire.send(answer)
    except StopIteration as stop:
        return sent, pauses, stop.value


def moved(slot: int = 1) -> ErrorReply:
    return ErrorReply("MOVED", f"MOVED {slot} 127.0.0.1:7001")


def test_moved_is_sent_again_at_once() -> None:
    sent, pauses, result = run(drive(single(WRITE)), [[moved()], [b"ok"]])
    assert result == b"ok" and len(sent) == 2 and pauses == []
    assert sent[0] == sent[1]  # the same EVALSHA, which the transport now routes to the new owner


@pytest.mark.parametrize("code", ["ASK", "TRYAGAIN", "CLUSTERDOWN"])
def test_a_migrating_or_failing_slot_is_waited_for(code: str) -> None:
    refusal = ErrorReply(code, f"{code} 1 127.0.0.1:7001" if code == "ASK" else f"{code} wait")
    sent, pauses, result = run(drive(single(WRITE)), [[refusal]] * 4 + [[b"ok"]])
    assert result == b"ok" and len(sent) == 5
    assert pauses == [0.005, 0.01, 0.02, 0.04]  # backing off
    assert all(batch[0][0] == "EVALSHA" for batch in sent)  # never ASKING: no partial import is read


def test_a_second_moved_waits() -> None:
    """Two nodes that each say the other owns the slot (mid-migration) are not hammered."""
    _, pauses, _ = run(drive(single(READ)), [[moved()], [moved()], [moved()], [b"ok"]])
    assert pauses == [0.01, 0.02]


def test_the_deadline_ends_the_wait_with_unavailable() -> None:
    refusal = ErrorReply("TRYAGAIN", "TRYAGAIN typedredis: the slot of {m}: is migrating")
    with pytest.raises(Unavailable, match=r"could not run save for 1\.0 s.*nothing was written"):
        run(drive(single(WRITE), deadline=1.0), [[refusal]] * 100)


def test_the_deadline_says_which_writes_of_the_batch_ran() -> None:
    """Pipelined calls of one batch can meet the slot before and after it starts migrating."""

    def two() -> Any:
        return (yield (WRITE, WRITE))

    refusal = ErrorReply("TRYAGAIN", "TRYAGAIN typedredis: the slot of {m}: is migrating")
    with pytest.raises(Unavailable, match=r"they wrote nothing, but 1 other write\(s\) sent with them ran"):
        run(drive(two(), deadline=0.5), [[b"ok", refusal]] + [[refusal]] * 100)


def test_noscript_then_moved_sends_eval_to_the_new_owner() -> None:
    noscript = ErrorReply("NOSCRIPT", "NOSCRIPT No matching script.")
    sent, pauses, result = run(drive(single(WRITE)), [[noscript], [moved()], [b"ok"]])
    assert result == b"ok" and [batch[0][0] for batch in sent] == ["EVALSHA", "EVAL", "EVAL"]
    assert pauses == [0.01]


def test_only_the_refused_calls_of_a_batch_are_sent_again() -> None:
    def two() -> Any:
        return (yield (READ, WRITE))

    sent, _, result = run(drive(two()), [[b"read", moved()], [b"written"]])
    assert result == [b"read", b"written"] and len(sent[1]) == 1 and sent[1][0][0] == "EVALSHA"


def test_other_errors_are_not_sent_again() -> None:
    with pytest.raises(ServerError) as caught:
        run(drive(single(WRITE)), [[ErrorReply("CROSSSLOT", "CROSSSLOT Keys in request")]])
    assert caught.value.code == "CROSSSLOT"


def test_an_interruption_while_waiting_reports_what_ran() -> None:
    def two() -> Any:
        return (yield (WRITE, READ))

    wire = drive(two())
    next(wire)
    assert isinstance(wire.send([b"written", ErrorReply("TRYAGAIN", "TRYAGAIN x")]), Pause)
    with pytest.raises(OutcomeUnknown):  # the write of the batch ran; the read did not
        wire.throw(TransportFailure("interrupted by KeyboardInterrupt", sent=True))

    wire = drive(single(READ))
    next(wire)
    assert isinstance(wire.send([ErrorReply("TRYAGAIN", "TRYAGAIN x")]), Pause)
    with pytest.raises(Unavailable, match="nothing was written"):
        wire.throw(TransportFailure("interrupted by KeyboardInterrupt", sent=True))


def test_a_failing_cluster_node_is_waited_for_when_nothing_can_have_run() -> None:
    """A node that fails before a call was sent (or while it ran reads only) may be failing
    over: the call is sent again once the transport has reloaded the slot map."""
    refused = TransportFailure("Connection refused", sent=False, settling=True)
    sent, pauses, result = run(drive(single(WRITE)), [refused, refused, [b"ok"]])
    assert result == b"ok" and len(sent) == 3 and pauses == [0.005, 0.01]

    lost = TransportFailure("Connection reset", sent=True, settling=True)
    sent, pauses, result = run(drive(single(READ)), [lost, [b"ok"]])
    assert result == b"ok" and pauses == [0.005]


def test_a_write_sent_to_a_failing_node_is_never_sent_again() -> None:
    lost = TransportFailure("Connection reset", sent=True, settling=True)
    with pytest.raises(OutcomeUnknown, match="did not re-send"):
        run(drive(single(WRITE)), [lost, [b"ok"]])


def test_a_plain_server_that_fails_is_not_waited_for() -> None:
    with pytest.raises(Unavailable, match="nothing was sent"):
        run(drive(single(WRITE)), [TransportFailure("Connection refused", sent=False), [b"ok"]])


# -- the cluster transports' router, step by step ------------------------------------------------

SLOTS_REPLY = [[0, 8191, [b"10.0.0.1", 7000, b"a"]], [8192, 16383, [b"10.0.0.2", 7001, b"b"]]]
A, B = ("10.0.0.1", 7000), ("10.0.0.2", 7001)


def steps(router: Router, commands: list[Any], answer: Any) -> tuple[list[Any], Any]:
    """Drive ``router.round_trip(commands)``: ``answer(address, part)`` gives each step's replies
    (or raises a `TransportFailure`). The steps taken, and the result."""
    taken: list[Any] = []
    walk = router.round_trip(commands)
    try:
        step = next(walk)
        while True:
            taken.append(step)
            try:
                replies = answer(*step)
            except TransportFailure as failure:
                step = walk.throw(failure)
            else:
                step = walk.send(replies)
    except StopIteration as stop:
        return taken, stop.value


def owned_by(address: Any) -> bytes:
    """A key whose slot the SLOTS_REPLY gives to ``address``."""
    return next(k for k in (b"{%d}" % i for i in range(100)) if (key_slot(k) < 8192) == (address == A))


def test_the_router_loads_the_map_then_sends_each_command_to_its_node() -> None:
    router = Router([A])
    on_a, on_b = ("HGET", owned_by(A), "gen"), ("HGET", owned_by(B), "gen")

    def answer(address: Any, part: list[Any]) -> list[Any]:
        if part == [CLUSTER_SLOTS]:
            return [SLOTS_REPLY]
        return [address] * len(part)

    taken, replies = steps(router, [on_a, on_b, on_a], answer)
    assert taken == [(A, [CLUSTER_SLOTS]), (A, [on_a, on_a]), (B, [on_b])]  # one write per node
    assert replies == [A, B, A]  # in the order sent

    taken, _ = steps(router, [on_b], answer)
    assert taken == [(B, [on_b])]  # the map is kept


def test_the_router_learns_moved_and_reloads_after_a_failing_node() -> None:
    router = Router([A])
    on_a = ("HGET", owned_by(A), "gen")
    moved = ErrorReply("MOVED", f"MOVED {key_slot(owned_by(A))} 10.0.0.2:7001")
    _, replies = steps(router, [on_a], lambda a, part: [SLOTS_REPLY] if part == [CLUSTER_SLOTS] else [moved])
    assert replies == [moved]
    taken, _ = steps(router, [on_a], lambda a, part: [b"ok"])
    assert taken == [(B, [on_a])]  # sent where MOVED said

    def down(address: Any, part: list[Any]) -> list[Any]:
        raise TransportFailure("Connection refused", sent=False)

    with pytest.raises(TransportFailure) as caught:
        steps(router, [on_a], down)
    assert caught.value.settling and not caught.value.sent
    assert not router.slots.loaded  # asked again before the next call

    def b_is_down(address: Any, part: list[Any]) -> list[Any]:
        if address == B:
            raise TransportFailure("Connection refused", sent=False)
        return [SLOTS_REPLY] if part == [CLUSTER_SLOTS] else [b"ok"]

    taken, replies = steps(router, [on_a], b_is_down)
    assert taken == [(A, [CLUSTER_SLOTS]), (A, [on_a])] and replies == [b"ok"]


def test_a_node_failing_after_another_ran_its_part_is_a_sent_failure() -> None:
    router = Router([A])
    on_a, on_b = ("HGET", owned_by(A), "gen"), ("HGET", owned_by(B), "gen")

    def answer(address: Any, part: list[Any]) -> list[Any]:
        if part == [CLUSTER_SLOTS]:
            return [SLOTS_REPLY]
        if address == B:
            raise TransportFailure("Connection refused", sent=False)
        return [b"ok"]

    with pytest.raises(TransportFailure) as caught:
        steps(router, [on_a, on_b], answer)
    assert caught.value.sent  # A ran its part: the round trip is not "nothing sent"
