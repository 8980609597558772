"""Rejection reason codes: the ``Rejection.reason`` field and the label of
``mev_validator_rejections_total{reason}``. One code per rule."""

MALFORMED = "malformed"  # hops do not chain, amounts inconsistent, wrong chain id
STALE_STATE = "stale_state"  # built on state older than VALIDATOR_MAX_STATE_AGE_BLOCKS
TOKEN_DENIED = "token_denied"  # on VALIDATOR_TOKEN_DENYLIST
TOKEN_NOT_ALLOWED = "token_not_allowed"  # VALIDATOR_TOKEN_ALLOWLIST set and token not on it
FEE_ON_TRANSFER = "fee_on_transfer"  # simulated transfer delivered less than sent
IMPACT_UNKNOWN = "impact_unknown"  # a hop carries no pool state to measure impact on
IMPACT_LIMIT = "impact_limit"  # over the profile's impact/tick/category limits and no size fits
POSITION_LIMIT = "position_limit"  # over the maximum position and no smaller size pays
UNPRICEABLE = "unpriceable"  # no live price converts gas into the profit token
NO_FLASH_SOURCE = "no_flash_source"  # nobody can lend the amount
BELOW_MIN_PROFIT = "below_min_profit"  # net profit after flash fee and gas under the threshold
SIMULATION_REVERTED = "simulation_reverted"  # the exact transaction reverts
SIMULATION_MISMATCH = "simulation_mismatch"  # simulated amounts differ from the prediction (state moved)
INTERNAL_ERROR = "internal_error"  # a bug or an unreachable dependency (message dead-lettered)

ALL = (
    MALFORMED, STALE_STATE, TOKEN_DENIED, TOKEN_NOT_ALLOWED, FEE_ON_TRANSFER, IMPACT_UNKNOWN, IMPACT_LIMIT,
    POSITION_LIMIT, UNPRICEABLE, NO_FLASH_SOURCE, BELOW_MIN_PROFIT, SIMULATION_REVERTED, SIMULATION_MISMATCH,
    INTERNAL_ERROR,
)
