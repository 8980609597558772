"""Local chain toolkit: anvil process control, protocol artifacts, deployment of a test market,
CREATE2 pool-address derivation and the MevbotArbExecutor calldata codec. See docs/chain.md.

Modules:
  paths        where node_modules / contract artifacts live (``MEVBOT_NODE_MODULES``)
  anvil        start/stop an anvil child process (``AnvilProcess``, ``AnvilConfig``)
  rpc          a small synchronous JSON-RPC client with batching (``RpcClient``, ``RevertError``)
  abi          ABI helpers: selectors, call encoding, revert decoding (``ContractAbi``)
  artifacts    the real npm protocol artifacts + our compiled ones (``load_artifact``)
  create2      pool address derivation (V2, V3, PancakeSwap V3, Algebra) and CREATE addresses
  market       what to deploy (``MarketSpec``, ``default_market``)
  txbatch      nonce-ordered batched sending from an unlocked dev account (``TxBatch``)
  deploy       deploy a whole test market (``deploy_market`` -> ``Deployment``); deploy_aave
  deployment   the JSON-serializable record of a deployed market (``Deployment``)
  precompiles  Arbitrum precompile stand-ins for anvil (ArbSys, ArbGasInfo, NodeInterface)
  arb_calldata encoder/decoder for MevbotArbExecutor's packed calldata, errors and results
  devtools     dev-chain helpers: send/call, balances, dislocating trades, exact hop quotes
"""
