"""Rejection reason codes: the ``Rejection.reason`` field and the label of
``mev_validator_rejections_total{reason}``. One code per rule; :data:`DESCRIPTIONS` documents them
(``docs/validator_profiles.md`` lists it)."""

MALFORMED = "malformed"
STALE_STATE = "stale_state"
TOKEN_DENIED = "token_denied"
TOKEN_NOT_ALLOWED = "token_not_allowed"
FEE_ON_TRANSFER = "fee_on_transfer"
IMPACT_UNKNOWN = "impact_unknown"
IMPACT_LIMIT = "impact_limit"
POSITION_LIMIT = "position_limit"
UNPRICEABLE = "unpriceable"
NO_FLASH_SOURCE = "no_flash_source"
BELOW_MIN_PROFIT = "below_min_profit"
POOL_RESERVED = "pool_reserved"
SIMULATION_REVERTED = "simulation_reverted"
SIMULATION_MISMATCH = "simulation_mismatch"
INTERNAL_ERROR = "internal_error"

DESCRIPTIONS: dict[str, str] = {
    MALFORMED: "hops do not chain, amounts or gross profit inconsistent, not 2-4 hops",
    STALE_STATE: "built on a block older than `VALIDATOR_MAX_STATE_AGE_BLOCKS`, or a pool changed since (state versions)",
    TOKEN_DENIED: "a token is on `VALIDATOR_TOKEN_DENYLIST`",
    TOKEN_NOT_ALLOWED: "`VALIDATOR_TOKEN_ALLOWLIST` is set and a token is not on it",
    FEE_ON_TRANSFER: "a simulated transfer (pool -> executor -> pool) delivered less than was sent, or reverted",
    IMPACT_UNKNOWN: "a hop carries no pool state to measure its impact on",
    IMPACT_LIMIT: "over the profile's impact, tick or category limits, and no smaller size or split earns",
    POSITION_LIMIT: "over the maximum position, and no smaller size earns",
    UNPRICEABLE: "no live price converts gas into the profit token",
    NO_FLASH_SOURCE: "no configured lender can lend the amount",
    BELOW_MIN_PROFIT: "net profit after the flash fee and gas (L2 + L1) under the minimum",
    POOL_RESERVED: "an approved plan (of this or another replica) trades one of its pools on the same state",
    SIMULATION_REVERTED: "the exact transaction reverts (decoded contract error in the detail)",
    SIMULATION_MISMATCH: "the simulated per-hop amounts or profit differ from the prediction (state moved)",
    INTERNAL_ERROR: "an RPC or other dependency failed while validating",
}

ALL = tuple(DESCRIPTIONS)
