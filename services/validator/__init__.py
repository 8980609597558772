"""Validator service: candidates in, execution plans or rejections out (issue 6).

Pure core (no I/O; unit-tested directly):
  profiles      price-impact profiles, risk categories, the README table
  impact        execution-vs-mid impact per hop and path, integer ppm
  costs         flash fees as each lender rounds them, gas into the profit token, net profit
  flash         the cheapest lender that can lend (a V3 lender may not be a hop)
  split         downsizing and splitting across parallel pools within the limits
  core          the decision: screen -> draft -> finalize/settle against a simulation
  reservations  pools approved plans are about to trade (no racing plan is approved)
  reasons       rejection codes (metric labels)
Adapters and wiring:
  chain         JSON-RPC: head, lenders, fee-on-transfer probe, eth_simulateV1 of the exact tx
  rpc           the async JSON-RPC client of the hot path (aiohttp, batches)
  market_view   read-only view of mevbot.market (pools, parallel pools, live prices, versions)
  pipeline      one candidate through it all (a coroutine: async in the service, sync in tests)
  config        VALIDATOR_* / GAS_* / EXECUTOR_* settings;  app / __main__: the service
"""
