"""Where the publisher stands on the chain: completed blocks, the open block, dedupe and reorgs.

Pure (no I/O). The engine asks the ledger where a log or a head belongs before it publishes:

* A block is **complete** once its every log was published and its ``BlockHead`` end marker sent.
  ``last`` is the last complete block (number, hash): the checkpoint a restart resumes from.
* The **open** block is ``last.number + 1``: its logs are published as they arrive, each
  ``(block hash, log index)`` once; a log of a later block waits (the engine buffers it) so that
  events always leave in chain order.
* A head or log whose block number is already complete but whose hash differs, or whose parent is
  not our last block, is a **fork**: :meth:`rollback_to` pops the orphaned blocks (newest first)
  and returns their events as reversals (``EventMeta.removed=True``, reverse log order), so the
  detector can undo them before the new canonical blocks are published.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass, field

import msgspec
from mevbot import messages as m
from mevbot.errors import StateError


class Place(str, enum.Enum):
    DONE = "done"  # block already complete with this hash: duplicate
    OPEN = "open"  # the next block to complete
    FUTURE = "future"  # beyond the open block: wait
    FORK = "fork"  # a block we completed (or opened) with another hash: reorg


@dataclass
class BlockRecord:
    number: int
    hash: str
    parent_hash: str = ""
    events: list[m.PoolEvent] = field(default_factory=list)


class Ledger:
    def __init__(self, last_number: int, last_hash: str, *, window: int = 256) -> None:
        self.window = window
        self.completed: OrderedDict[int, BlockRecord] = OrderedDict()
        self.completed[last_number] = BlockRecord(last_number, last_hash.lower())
        self.last_number = last_number  # cached: read for every log
        self.open: BlockRecord | None = None
        self.open_seen: set[int] = set()  # log indexes of the open block handled (published or not an event)
        self.max_open_log_index = -1

    # --- reading -------------------------------------------------------------------------------

    @property
    def last(self) -> BlockRecord:
        return next(reversed(self.completed.values()))

    @property
    def next_number(self) -> int:
        return self.last_number + 1

    def hash_of(self, number: int) -> str | None:
        record = self.completed.get(number)
        return record.hash if record else None

    def place(self, number: int, block_hash: str) -> Place:
        last = self.last_number
        if number <= last:
            known = self.hash_of(number)
            if known is None or known == block_hash:
                return Place.DONE  # older than the window: nothing we can do but ignore
            return Place.FORK
        if number == last + 1:
            if self.open is not None and self.open.hash != block_hash:
                return Place.FORK
            return Place.OPEN
        return Place.FUTURE

    def is_published(self, block_hash: str, log_index: int) -> bool:
        """True when this log of the open block was already published."""
        return self.open is not None and self.open.hash == block_hash and log_index in self.open_seen

    # --- the open block -------------------------------------------------------------------------

    def open_block(self, number: int, block_hash: str) -> BlockRecord:
        if number != self.next_number:
            raise StateError(f"cannot open block {number}: next is {self.next_number}")
        if self.open is None:
            self.open = BlockRecord(number, block_hash)
            self.open_seen = set()
            self.max_open_log_index = -1
        elif self.open.hash != block_hash:
            raise StateError(f"block {number} already open with hash {self.open.hash}, got {block_hash}")
        return self.open

    def record(self, event: m.PoolEvent) -> bool:
        """Note a published event of the open block; False when it is a duplicate (do not publish)."""
        meta = event.meta
        return self.add(meta.block_number, meta.block_hash, meta.log_index, event)

    def add(self, number: int, block_hash: str, log_index: int, event: m.PoolEvent) -> bool:
        """:meth:`record` with the event's position given (the engine parsed it already): the hot
        path, one call per event. False when it is a duplicate (do not publish)."""
        record = self.open
        if record is None or record.hash != block_hash or record.number != number:
            record = self.open_block(number, block_hash)
        seen = self.open_seen
        if log_index in seen:
            return False
        seen.add(log_index)
        record.events.append(event)
        self.max_open_log_index = max(self.max_open_log_index, log_index)
        return True

    def mark_seen(self, number: int, block_hash: str, log_index: int) -> bool:
        """Note a log of the open block that produced no event (rejected emitter, dead letter).

        False when it was handled before.
        """
        self.open_block(number, block_hash)
        if log_index in self.open_seen:
            return False
        self.open_seen.add(log_index)
        self.max_open_log_index = max(self.max_open_log_index, log_index)
        return True

    def complete(self, number: int, block_hash: str, parent_hash: str) -> BlockRecord:
        """Close the open block (or an empty one) as the new last block."""
        if number != self.next_number:
            raise StateError(f"cannot complete block {number}: next is {self.next_number}")
        if parent_hash != self.last.hash:
            raise StateError(f"block {number} parent {parent_hash} is not our block {self.last.number} {self.last.hash}")
        if self.open is not None and self.open.hash != block_hash:
            raise StateError(f"block {number} open with hash {self.open.hash}, completing {block_hash}")
        record = self.open or BlockRecord(number, block_hash)
        record.parent_hash = parent_hash
        self.completed[number] = record
        self.last_number = number
        self.open = None
        self.open_seen = set()
        self.max_open_log_index = -1
        while len(self.completed) > self.window:
            self.completed.popitem(last=False)
        return record

    # --- reorgs ---------------------------------------------------------------------------------

    def drop_open(self) -> list[m.PoolEvent]:
        """Abandon the open block (its hash lost a reorg); returns reversals of what it published."""
        events = self.open.events if self.open else []
        self.open = None
        self.open_seen = set()
        self.max_open_log_index = -1
        return [reversal(e) for e in reversed(events)]

    def rollback_to(self, ancestor_number: int) -> list[m.PoolEvent]:
        """Pop every completed block above ``ancestor_number`` (and the open block).

        Returns the reversals, newest block first, each block's logs in reverse order. Raises
        :class:`StateError` when the ancestor is older than the window (a reorg deeper than we
        remember: the detector must resync).
        """
        if ancestor_number not in self.completed:
            raise StateError(f"reorg ancestor {ancestor_number} is outside the {self.window}-block window")
        out = self.drop_open()
        while self.last.number > ancestor_number:
            _, record = self.completed.popitem(last=True)
            out.extend(reversal(e) for e in reversed(record.events))
        self.last_number = self.last.number
        return out

    def find_ancestor(self, canonical: dict[int, str]) -> int | None:
        """Highest completed block whose hash equals the canonical one (``number -> hash``)."""
        for number in sorted(canonical, reverse=True):
            if self.completed.get(number) is not None and self.completed[number].hash == canonical[number]:
                return number
        return None


def reversal(event: m.PoolEvent) -> m.PoolEvent:
    return msgspec.structs.replace(event, meta=msgspec.structs.replace(event.meta, removed=True))
