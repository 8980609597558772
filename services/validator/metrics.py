"""The validator's own metrics (``mev_validator_`` prefix); shared ones live in ``mevbot.metrics``."""

from mevbot.metrics import LATENCY_BUCKETS_S
from prometheus_client import Counter, Histogram

REJECTIONS = Counter("mev_validator_rejections", "Candidates rejected, by reason code", ["reason"])
PLANS = Counter("mev_validator_plans", "Execution plans approved, by profile and risk category", ["profile", "risk"])
SPLITS = Counter("mev_validator_splits", "Candidates resized, by kind (downsized, split)", ["kind"])
SIMULATIONS = Counter("mev_validator_simulations", "Simulations of plan transactions, by outcome", ["outcome"])
VALIDATION_LATENCY = Histogram(
    "mev_validator_latency_seconds", "Time to validate one candidate (with RPC simulation)", ["outcome"],
    buckets=LATENCY_BUCKETS_S,
)
NET_PROFIT_WEI = Counter("mev_validator_expected_net_profit_wei", "Expected net profit of approved plans, in wei")
CLAIM_ERRORS = Counter("mev_validator_claim_errors", "Pool claims that could not reach Redis (plan sent anyway)")
