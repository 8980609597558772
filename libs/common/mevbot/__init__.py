"""mevbot: DEX arbitrage on Arbitrum One, as event-driven services over NATS.

Importing the package installs the finder of the compiled hot modules (:mod:`mevbot.native`):
they are used only when built from the sources as they are.
"""

from mevbot import native as _native

_native.install()
