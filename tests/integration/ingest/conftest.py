"""Ingest tests publish thousands of messages: they get a NATS server of their own (JetStream
reserves each stream's max bytes, and the shared server may be full of other suites' streams)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mevbot.runtime.localstack import NatsServer


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("ingest-nats")
    server = NatsServer(store_dir=store / "store", log_path=store / "nats.log").start()
    try:
        yield server.url
    finally:
        server.stop()
