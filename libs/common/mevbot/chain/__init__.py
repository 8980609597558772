"""Local chain toolkit: anvil process control, protocol artifacts, deployment of a test market,
CREATE2 pool-address derivation and the MevbotArbExecutor calldata codec.

Modules:
  paths        where node_modules / contract artifacts live
  anvil        start/stop an anvil child process (``AnvilProcess``)
  rpc          a small synchronous JSON-RPC client with batching (``RpcClient``)
  abi          ABI helpers: selectors, call encoding, revert decoding (``ContractAbi``)
  artifacts    the real npm protocol artifacts + our compiled ones (``load_artifact``)
  create2      pool address derivation (V2, V3, Algebra)
  deploy       deploy a whole test market (``deploy_market`` -> ``Deployment``)
  arb_calldata encoder/decoder for MevbotArbExecutor's packed calldata, errors and results
"""
