"""A private anvil for the AMM differential tests (they create many pools and thousands of swaps;
keeping them off the shared session chain keeps other tests' state and nonces untouched)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mevbot.chain.anvil import AnvilConfig, AnvilProcess
from mevbot.chain.rpc import RpcClient

from tests.integration.amm.v3_lab import V3Lab


@pytest.fixture(scope="module")
def lab() -> Iterator[V3Lab]:
    node = AnvilProcess(AnvilConfig()).start()
    rpc = RpcClient(node.http_url, timeout_s=300)
    try:
        yield V3Lab(rpc)
    finally:
        rpc.close()
        node.stop()
