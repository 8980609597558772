"""The in-memory bus (used by the services' unit tests) behaves like the NATS one."""

from __future__ import annotations

import pytest
from mevbot import messages as m
from mevbot import subjects
from mevbot.bus import InMemoryBus, Mode, durable_name, stream_for, subject_matches

HEAD = m.BlockHead(chain_id=1, block_number=1, block_hash="0x1", parent_hash="0x0", timestamp=0)


def test_subject_matching() -> None:
    assert subject_matches("mev.>", "mev.events.v3_swap")
    assert subject_matches("mev.events.*", "mev.events.v3_swap")
    assert not subject_matches("mev.events.*", "mev.events.v3_swap.x")
    assert not subject_matches("mev.>", "mev")
    assert subject_matches("mev.candidates", "mev.candidates")


def test_stream_binding_follows_the_subject_table() -> None:
    assert stream_for("mev.events.v2_sync") is subjects.STREAM_CHAIN
    assert stream_for(subjects.CANDIDATES) is subjects.STREAM_CANDIDATES
    assert stream_for(subjects.dlq_subject("x")) is subjects.STREAM_DLQ
    assert stream_for(subjects.REJECTIONS) is None  # core only
    for spec in subjects.SUBJECTS:
        concrete = spec.subject.replace("<type>", "v2_sync").replace("<service>", "ingest")
        assert (stream_for(concrete) is not None) == spec.durability.startswith("JetStream"), spec.subject


def test_durable_names_are_valid_and_distinct() -> None:
    shared = durable_name("validator", "mev.candidates", Mode.SHARED, "r1")
    assert shared == "validator_mev_candidates"
    replica = durable_name("detector", "mev.events.>", Mode.REPLICA, "host-1.a")
    assert replica == "detector_mev_events_all_host-1_a"


async def test_shared_mode_splits_and_replica_mode_copies() -> None:
    bus = InMemoryBus("validator")
    a: list[int] = []
    b: list[int] = []
    r1: list[int] = []
    r2: list[int] = []
    await bus.subscribe(subjects.BLOCK_HEAD, _collect(a), mode=Mode.SHARED, durable="v")
    await bus.subscribe(subjects.BLOCK_HEAD, _collect(b), mode=Mode.SHARED, durable="v")
    await bus.subscribe(subjects.BLOCK_HEAD, _collect(r1), mode=Mode.REPLICA, durable="d1")
    await bus.subscribe(subjects.BLOCK_HEAD, _collect(r2), mode=Mode.REPLICA, durable="d2")
    for i in range(4):
        await bus.publish(
            subjects.BLOCK_HEAD,
            m.BlockHead(chain_id=1, block_number=i, block_hash="0x", parent_hash="0x", timestamp=0),
        )
    assert sorted(a + b) == [0, 1, 2, 3] and len(a) == len(b) == 2
    assert r1 == r2 == [0, 1, 2, 3]


async def test_handler_failure_dead_letters_with_payload() -> None:
    bus = InMemoryBus("detector", chain_id=1)
    letters: list[m.DeadLetter] = []

    async def fail(_message: m.BlockHead) -> None:
        raise RuntimeError("kaput")

    await bus.subscribe(subjects.BLOCK_HEAD, fail)
    await bus.subscribe(subjects.dlq_subject("detector"), _collect_raw(letters))
    await bus.publish(subjects.BLOCK_HEAD, HEAD)
    assert len(bus.dead_letters) == 1 and letters == bus.dead_letters
    letter = letters[0]
    assert letter.error_code == "RuntimeError" and letter.subject == subjects.BLOCK_HEAD
    assert m.decode(letter.payload) == HEAD and letter.chain_id == 1


async def test_messages_are_really_encoded_and_decoded() -> None:
    bus = InMemoryBus()
    got: list[m.BlockHead] = []
    await bus.subscribe(subjects.BLOCK_HEAD, _collect_raw(got))
    await bus.publish(subjects.BLOCK_HEAD, HEAD)
    assert got == [HEAD] and got[0] is not HEAD
    assert bus.messages("mev.blocks.>") == [HEAD]


async def test_stop_intake_stops_delivery() -> None:
    bus = InMemoryBus()
    got: list[m.BlockHead] = []
    await bus.subscribe(subjects.BLOCK_HEAD, _collect_raw(got))
    await bus.stop_intake()
    await bus.publish(subjects.BLOCK_HEAD, HEAD)
    assert got == [] and bus.messages() == [HEAD]


def _collect(target: list[int]):  # type: ignore[no-untyped-def]
    async def handler(message: m.BlockHead) -> None:
        target.append(message.block_number)

    return handler


def _collect_raw(target: list):  # type: ignore[no-untyped-def,type-arg]
    async def handler(message) -> None:  # type: ignore[no-untyped-def]
        target.append(message)

    return handler


@pytest.fixture(autouse=True)
def _no_network() -> None:
    """The in-memory bus must never need a server."""
