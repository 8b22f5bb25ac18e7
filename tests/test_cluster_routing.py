"""Redis Cluster routing and the redirect policy, with canned replies and no server."""

from __future__ import annotations

from typing import Any

import pytest

from typedredis.cluster import SlotMap, key_slot, moved_to, routing_key
from typedredis.errors import OutcomeUnknown, ServerError, Unavailable
from typedredis.plan import ScriptCall, single
from typedredis.wire import ErrorReply, Pause, TransportFailure, Wire, drive

WRITE = ScriptCall("save", (b"{m}:meta",), ("",), writes=True)
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
