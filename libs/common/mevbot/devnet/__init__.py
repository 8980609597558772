"""``mevbot devnet``: the whole system capturing arbitrage on a local chain, offline.

Modules, one concept each:
  spec        the market: default pools + real Arbitrum tick maps (``data/real_v3_pools.json``)
  chain       anvil: deploy under automine, dump state, restart with ``--block-time``
  configfile  the chain config file + env + keystore the services read (nothing else)
  stack       NATS/Redis (reused or started) and the four services (``mevbot.supervisor``)
  oracle      exact pool states from the chain; the best cycle a dislocation opened
  trader      swaps from the market's accounts (PoolActor for V3, Router02 for V2)
  market      noise traders + dislocation injector, in rounds
  chainwatch  the bot's transactions read back from the chain (captures, realized profit)
  tap         ``mev.>`` counters and per-stage latencies
  scrape      the services' /metrics (memory, cache hit rate)
  view        the rich live view
  report      JSON report + readable summary
  run         orchestration of one run (``run_devnet``)
"""
