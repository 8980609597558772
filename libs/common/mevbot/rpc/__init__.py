"""Async JSON-RPC clients shared by the services.

* :class:`HttpRpc` (``client``): provider pool over HTTP(S) with weights, timeouts, per-provider
  rate limits, retries with backoff, failover on error / HTTP 429 / silence, JSON-RPC batches.
* :class:`WsConnection` (``ws``): one websocket with requests, ``eth_subscribe`` notifications,
  keep-alive pings and stall detection.
* :class:`TokenBucket` (``ratelimit``).

Every call is counted in ``mev_rpc_calls_total{provider,method,outcome}``.
"""

from mevbot.rpc.client import HttpRpc, ProviderUnavailable
from mevbot.rpc.ratelimit import TokenBucket
from mevbot.rpc.ws import Notification, WsConnection

__all__ = ["HttpRpc", "Notification", "ProviderUnavailable", "TokenBucket", "WsConnection"]
