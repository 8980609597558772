"""The executor's own metrics (``mev_executor_*``); ``mev_executions_total{status}`` and
``mev_profit_wei`` are the shared ones in :mod:`mevbot.metrics`. No label ever carries a key."""

from prometheus_client import Counter, Gauge

REALIZED_PROFIT = Counter(
    "mev_executor_realized_profit", "Realized profit of included trades, in loan-token units", ["token"]
)
PREDICTED_PROFIT = Counter(
    "mev_executor_predicted_profit", "Predicted profit of included trades, in loan-token units", ["token"]
)
PROFIT_MISMATCH = Counter("mev_executor_profit_mismatch", "Included trades whose realized profit != predicted")
GAS_SPENT_WEI = Counter("mev_executor_gas_spent_wei", "Gas paid by sent transactions (gasUsed * effectiveGasPrice)")
DROPPED = Counter("mev_executor_dropped", "Plans refused before sending, by reason", ["reason"])
PAUSED = Gauge("mev_executor_paused", "1 while the kill switch holds sending")
KEYS_HELD = Gauge("mev_executor_keys_held", "Signing keys this replica holds a lease on")
NONCE_RESYNCS = Counter("mev_executor_nonce_resyncs", "Nonce re-syncs from the chain, by cause", ["cause"])
FILLERS = Counter("mev_executor_nonce_fillers", "Filler transactions sent to close a nonce gap")
