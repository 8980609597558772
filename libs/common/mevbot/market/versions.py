"""Deterministic pool state versions: the chain position of the last change.

A version is ``block_number << 40 | tx_index << 20 | log_index`` of the last event that changed the
pool (a snapshot at block B is the end of block B). Every replica of every service that follows the
same chain computes the same versions, so a candidate's ``state_versions`` can be compared with the
validator's own store directly, and a restarted detector gives the same unchanged opportunity the
same candidate id. Versions grow along the chain; a reorg rollback returns to the version the pool
had at the fork point.
"""

from __future__ import annotations

_TX_SHIFT = 20
_BLOCK_SHIFT = 40
_LOW_MASK = (1 << _TX_SHIFT) - 1
END_OF_BLOCK = (1 << _BLOCK_SHIFT) - 1


def position(block_number: int, tx_index: int, log_index: int) -> int:
    """Chain position of a log, as one orderable integer."""
    if not (0 <= tx_index <= _LOW_MASK and 0 <= log_index <= _LOW_MASK):
        raise ValueError(f"tx_index {tx_index} / log_index {log_index} out of range")
    return (block_number << _BLOCK_SHIFT) | (tx_index << _TX_SHIFT) | log_index


def end_of_block(block_number: int) -> int:
    """Version of a state read at the end of ``block_number`` (a snapshot)."""
    return (block_number << _BLOCK_SHIFT) | END_OF_BLOCK


def block_of(version: int) -> int:
    return version >> _BLOCK_SHIFT
