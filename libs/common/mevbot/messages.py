"""Every message that crosses NATS, defined once.

Wire format: JSON (msgspec). Amounts, ``sqrt_price_x96`` and liquidity exceed 64 bits; msgspec
encodes Python ints of any size as exact JSON numbers, and JSON keeps tapped subjects readable.

Conventions
-----------
* Every message carries ``type`` (the tag), ``schema_version`` and ``chain_id``.
* Addresses are lower-case ``0x`` hex strings (cheap to compare, deterministic to hash).
* Token amounts are raw integers in the token's smallest unit; names say so (``*_wei`` for the
  native unit, plain ``amount_*`` for token units).
* Fees are in pips (1e-6): 3000 == 0.30 %.
* ``*_ns`` fields are ``time.time_ns()`` stamps used for per-stage latency.

Schema evolution (msgspec rules): new fields always get defaults; a field never changes type;
unknown fields are ignored, so an older consumer reads a newer producer's message. A consumer
refuses messages older than :data:`MIN_SCHEMA_VERSION`.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar, Union

import msgspec

from mevbot.errors import SchemaVersionError, WireError

SCHEMA_VERSION = 1
MIN_SCHEMA_VERSION = 1


class Message(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of every wire message."""

    chain_id: int
    schema_version: int = SCHEMA_VERSION


# --- pools ------------------------------------------------------------------------------------


class PoolKind(str, enum.Enum):
    """What kind of contract a pool is; decides which math and which swap call apply."""

    UNISWAP_V2 = "uniswap_v2"  # Uniswap V2, SushiSwap V2 and constant-product forks
    CAMELOT_V2 = "camelot_v2"  # directional fees, optional stable (Solidly) curve
    UNISWAP_V3 = "uniswap_v3"  # Uniswap V3, SushiSwap V3, PancakeSwap V3
    ALGEBRA = "algebra"  # Algebra v1 (Camelot V3): globalState(), dynamic fee


class PoolInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Immutable identity of an accepted pool (what pool-version detection found)."""

    address: str
    kind: PoolKind
    dex: str  # registry name, e.g. "uniswap_v3", "sushiswap_v2", "camelot_v3"
    factory: str
    token0: str
    token1: str
    fee_pips: int = 0  # V2 fee or V3 fee tier; Algebra: the fee at detection time
    tick_spacing: int = 0  # V3/Algebra only
    token0_fee_pips: int | None = None  # Camelot V2 directional fees (token0 in)
    token1_fee_pips: int | None = None  # Camelot V2 directional fees (token1 in)
    stable: bool = False  # Camelot V2 stable pair
    decimals0: int | None = None
    decimals1: int | None = None


class EventMeta(msgspec.Struct, frozen=True, kw_only=True):
    """Where a log came from. ``removed`` marks a reversal (the log was dropped by a reorg)."""

    block_number: int
    block_hash: str
    tx_hash: str
    tx_index: int
    log_index: int
    removed: bool = False


class PoolEvent(Message, frozen=True, kw_only=True):
    """Base of decoded pool logs: published on ``mev.events.<type>``."""

    pool: str
    meta: EventMeta
    received_ns: int = 0  # when ingest received the log
    published_ns: int = 0  # when ingest published it


class V2Sync(PoolEvent, frozen=True, kw_only=True, tag="v2_sync"):
    reserve0: int
    reserve1: int


class V2Swap(PoolEvent, frozen=True, kw_only=True, tag="v2_swap"):
    sender: str
    to: str
    amount0_in: int
    amount1_in: int
    amount0_out: int
    amount1_out: int


class V3Swap(PoolEvent, frozen=True, kw_only=True, tag="v3_swap"):
    """Uniswap V3 and Algebra Swap (same ABI). Amounts are signed pool deltas."""

    sender: str
    recipient: str
    amount0: int
    amount1: int
    sqrt_price_x96: int
    liquidity: int
    tick: int


class V3Mint(PoolEvent, frozen=True, kw_only=True, tag="v3_mint"):
    owner: str
    tick_lower: int
    tick_upper: int
    liquidity_amount: int
    amount0: int
    amount1: int


class V3Burn(PoolEvent, frozen=True, kw_only=True, tag="v3_burn"):
    owner: str
    tick_lower: int
    tick_upper: int
    liquidity_amount: int
    amount0: int
    amount1: int


class AlgebraFee(PoolEvent, frozen=True, kw_only=True, tag="algebra_fee"):
    fee_pips: int  # the fee (Algebra v1), or the zero-for-one fee of a directional build
    fee_otz_pips: int | None = None  # one-for-zero fee: Camelot's Fee(uint16 feeZtO, uint16 feeOtZ)


AnyPoolEvent = Union[V2Sync, V2Swap, V3Swap, V3Mint, V3Burn, AlgebraFee]


class PoolSnapshot(Message, frozen=True, kw_only=True, tag="pool_snapshot"):
    """Exact state of one pool at ``block_number``, read by ingest; the detector starts from it.

    V2: ``reserve0``/``reserve1``. V3/Algebra: ``sqrt_price_x96``, ``tick``, ``liquidity``,
    ``fee_pips`` (current fee; dynamic for Algebra) and every initialized tick as
    ``[tick, liquidity_net]`` pairs, sorted by tick.
    """

    pool: PoolInfo
    block_number: int
    block_hash: str = ""
    reserve0: int | None = None
    reserve1: int | None = None
    sqrt_price_x96: int | None = None
    tick: int | None = None
    liquidity: int | None = None
    fee_pips: int | None = None
    ticks: list[tuple[int, int]] = []
    reason: str = "initial"  # initial | discovered | resync
    received_ns: int = 0


class BlockHead(Message, frozen=True, kw_only=True, tag="block_head"):
    """A block whose pool events have all been published (the block's end marker).

    ``event_count`` is how many pool events ingest published for this block, so a consumer can
    tell a complete block from a gap.
    """

    block_number: int
    block_hash: str
    parent_hash: str
    timestamp: int
    base_fee_wei: int = 0
    event_count: int = 0
    received_ns: int = 0


class PoolRejected(Message, frozen=True, kw_only=True, tag="pool_rejected"):
    """An emitter that is not an allowed pool (bait contracts end here)."""

    address: str
    reason: str
    block_number: int = 0


class ResyncRequest(Message, frozen=True, kw_only=True, tag="resync_request"):
    """A consumer (the detector) asks ingest for fresh snapshots of pools whose state it lost.

    Ingest answers each accepted pool with a ``PoolSnapshot`` (``reason="resync"``) at its last
    fully processed block, published on the chain stream at a block boundary; unknown or rejected
    pools are ignored.
    """

    pools: list[str]
    reason: str = ""  # why the state is lost (first stale reason), for logs
    requested_by: str = ""  # replica id of the requester
    block_number: int = 0  # newest block the requester has seen


# --- detection ---------------------------------------------------------------------------------


class Hop(msgspec.Struct, frozen=True, kw_only=True):
    """One swap of a cycle, with the pool state it was priced on (for price-impact checks)."""

    pool: str
    kind: PoolKind
    token_in: str
    token_out: str
    zero_for_one: bool
    amount_in: int
    amount_out: int
    fee_pips: int = 0
    # V3/Algebra: price before and after this hop, ticks crossed, in-range liquidity before
    sqrt_price_x96_before: int = 0
    sqrt_price_x96_after: int = 0
    ticks_crossed: int = 0
    liquidity: int = 0
    # V2-style: reserves of token_in and token_out before this hop
    reserve_in: int = 0
    reserve_out: int = 0


class PoolVersion(msgspec.Struct, frozen=True, array_like=True):
    """``[pool, version]``: the state version of a pool a candidate was computed on."""

    pool: str
    version: int


class Candidate(Message, frozen=True, kw_only=True, tag="candidate"):
    """A cycle with positive gross profit at its optimal integer size."""

    candidate_id: str  # hash of cycle_id and the pool state versions: same opportunity, same id
    cycle_id: str
    start_token: str
    hops: list[Hop]
    amount_in: int
    amount_out: int
    gross_profit: int  # in start-token units
    gross_profit_wei: int  # in wei of the native token (0 when unpriceable)
    block_number: int
    state_versions: list[PoolVersion] = []
    detector_id: str = ""
    event_received_ns: int = 0  # ingest's receive stamp of the event that triggered it
    detected_ns: int = 0


# --- validation --------------------------------------------------------------------------------


class FlashSourceKind(str, enum.Enum):
    BALANCER_V2 = "balancer_v2"
    AAVE_V3 = "aave_v3"
    UNISWAP_V3 = "uniswap_v3"


class FlashSource(msgspec.Struct, frozen=True, kw_only=True):
    kind: FlashSourceKind
    address: str  # vault, pool or V3 pool lending the token
    fee: int = 0  # flash-loan fee in loan-token units for this plan's amount


class PlanHop(msgspec.Struct, frozen=True, kw_only=True):
    pool: str
    kind: PoolKind
    token_in: str
    token_out: str
    zero_for_one: bool
    amount_in: int
    amount_out: int
    min_amount_out: int
    fee_pips: int = 0


class CostBreakdown(msgspec.Struct, frozen=True, kw_only=True):
    gross_profit: int  # start-token units
    flash_fee: int  # start-token units
    l2_gas_cost_wei: int
    l1_gas_cost_wei: int
    gas_cost_in_token: int  # (l2 + l1) converted into the start token through live prices
    net_profit: int  # start-token units
    net_profit_wei: int


class ExecutionPlan(Message, frozen=True, kw_only=True, tag="execution_plan"):
    """An approved trade: everything the executor needs to sign one transaction."""

    plan_id: str
    candidate_id: str
    cycle_id: str
    hops: list[PlanHop]
    loan_token: str
    loan_amount: int
    flash_source: FlashSource
    min_profit: int  # the contract's on-chain guard, loan-token units
    expected_profit: int  # net of flash fee, loan-token units (gas is paid in ETH by the sender)
    expected_net_profit_wei: int
    costs: CostBreakdown
    gas_limit: int
    max_fee_per_gas_wei: int
    max_priority_fee_per_gas_wei: int
    deadline_block: int
    block_number: int
    state_versions: list[PoolVersion] = []
    profile: str = "default"
    risk_category: str = ""
    split_index: int = 0
    split_count: int = 1
    simulated: bool = False
    event_received_ns: int = 0
    detected_ns: int = 0
    validated_ns: int = 0


class Rejection(Message, frozen=True, kw_only=True, tag="rejection"):
    candidate_id: str
    cycle_id: str
    reason: str  # reason code, also the metric label
    detail: str = ""
    block_number: int = 0


# --- execution ---------------------------------------------------------------------------------


class ExecutionStatus(str, enum.Enum):
    DRY_RUN = "dry_run"  # EXECUTION_ENABLED=false: signed, not sent
    SENT = "sent"
    INCLUDED = "included"  # mined and succeeded
    REVERTED = "reverted"  # mined and reverted
    DROPPED = "dropped"  # refused before sending (simulation revert, deadline, duplicate, paused)
    FAILED = "failed"  # could not be sent


class ExecutionResult(Message, frozen=True, kw_only=True, tag="execution_result"):
    plan_id: str
    candidate_id: str
    status: ExecutionStatus
    reason: str = ""
    detail: str = ""  # human-readable context of the reason (decoded revert, endpoint answers)
    sender: str = ""
    nonce: int | None = None
    tx_hash: str = ""
    raw_tx: str = ""  # hex of the signed transaction (dry run: what would have been sent)
    block_number: int | None = None
    gas_used: int | None = None
    effective_gas_price_wei: int | None = None
    profit_token: str = ""
    predicted_profit: int = 0
    realized_profit: int | None = None
    event_received_ns: int = 0
    signed_ns: int = 0
    sent_ns: int = 0


class ControlCommand(Message, frozen=True, kw_only=True, tag="control"):
    """Operator control, e.g. the executor kill switch: command ``pause`` or ``resume``."""

    command: str
    reason: str = ""
    issued_by: str = ""


# --- operations --------------------------------------------------------------------------------


class DetectorHeartbeat(Message, frozen=True, kw_only=True, tag="detector_heartbeat"):
    """Detector replicas announce themselves to split cycles deterministically."""

    replica_id: str
    started_ns: int
    sent_ns: int
    stopping: bool = False  # last heartbeat of a replica shutting down: peers rebalance at once


class DeadLetter(Message, frozen=True, kw_only=True, tag="dead_letter"):
    """A message a handler could not process, kept with its raw payload (nothing is lost)."""

    service: str
    subject: str
    error_code: str
    error: str
    payload: str  # the original bytes, decoded as UTF-8 with replacement
    received_ns: int = 0


AnyMessage = Union[
    V2Sync,
    V2Swap,
    V3Swap,
    V3Mint,
    V3Burn,
    AlgebraFee,
    PoolSnapshot,
    BlockHead,
    PoolRejected,
    ResyncRequest,
    Candidate,
    ExecutionPlan,
    Rejection,
    ExecutionResult,
    ControlCommand,
    DetectorHeartbeat,
    DeadLetter,
]

# --- codec -------------------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
_decoders: dict[Any, msgspec.json.Decoder] = {}

M = TypeVar("M")


def encode(message: Message) -> bytes:
    """Encode a message as JSON bytes."""
    return _encoder.encode(message)


def decoder_for(message_type: Any) -> msgspec.json.Decoder:
    """The cached decoder for a message type or a Union of message types."""
    decoder = _decoders.get(message_type)
    if decoder is None:
        decoder = _decoders[message_type] = msgspec.json.Decoder(message_type)
    return decoder


def decode(data: bytes | str, message_type: Any = AnyMessage) -> Any:
    """Decode JSON bytes into ``message_type`` (a Struct or a Union), checking the schema version.

    Raises :class:`WireError` for malformed data and :class:`SchemaVersionError` for a message
    older than the oldest version this build still reads.
    """
    try:
        message = decoder_for(message_type).decode(data)
    except msgspec.ValidationError as exc:
        raise WireError(f"invalid message for {_type_name(message_type)}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise WireError(f"malformed JSON: {exc}") from exc
    if message.schema_version < MIN_SCHEMA_VERSION:
        raise SchemaVersionError(
            f"schema_version {message.schema_version} is older than the oldest supported "
            f"({MIN_SCHEMA_VERSION})"
        )
    return message


def to_builtins(message: Message) -> Any:
    """A JSON-ready dict of the message (for pretty printing and reports)."""
    return msgspec.to_builtins(message)


def _type_name(message_type: Any) -> str:
    return getattr(message_type, "__name__", str(message_type))
