"""Root test configuration.

Fixtures live in small plugin modules under ``tests/fixtures/``, one per concern, so that each
area (servers, chain, ...) owns its own file:

* ``tests.fixtures.servers``: real NATS (JetStream) and Redis, started when not running.
* ``tests.fixtures.chain``: anvil with the real protocol bytecode from npm.
"""

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.chain",
]
