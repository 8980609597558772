// Compiles TransferProbe.sol offline with the npm `solc` (solcjs) into TransferProbe.json.
//   node services/validator/probe/build.mjs [--check]
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");
const require = createRequire(path.join(process.env.MEVBOT_NODE_MODULES || path.join(repoRoot, "node_modules"), "noop.js"));
const solc = require("solc");
const input = {
  language: "Solidity",
  sources: { "TransferProbe.sol": { content: fs.readFileSync(path.join(here, "TransferProbe.sol"), "utf8") } },
  settings: {
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { TransferProbe: ["abi", "evm.deployedBytecode.object"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
for (const e of out.errors || []) process.stderr.write(e.formattedMessage + "\n");
if ((out.errors || []).some((e) => e.severity === "error")) process.exit(2);
const c = out.contracts["TransferProbe.sol"].TransferProbe;
const artifact = JSON.stringify({ abi: c.abi, deployedBytecode: "0x" + c.evm.deployedBytecode.object, solc: solc.version() }, null, 1) + "\n";
const target = path.join(here, "TransferProbe.json");
if (process.argv.includes("--check")) {
  process.exit(fs.existsSync(target) && fs.readFileSync(target, "utf8") === artifact ? 0 : 1);
}
fs.writeFileSync(target, artifact);
