// Offline Solidity build: compiles contracts/src/*.sol and contracts/test/*.sol with the npm `solc`
// package (solcjs, bundled wasm, no download) and writes contracts/artifacts/<Name>.json.
//
//   node contracts/build.mjs           write artifacts
//   node contracts/build.mjs --check   recompile and exit 1 if any artifact differs (byte for byte)
//   --quiet                            print errors only (no warnings)
//
// Imports starting with "@" resolve from node_modules (MEVBOT_NODE_MODULES overrides its path).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const nodeModules = process.env.MEVBOT_NODE_MODULES || path.join(repoRoot, "node_modules");
const require = createRequire(path.join(nodeModules, "noop.js"));
const solc = require("solc");

// Production contracts (src/) and test helpers (test/) compile separately: the executor needs
// the IR pipeline (its hop loop is too deep for the legacy one), the helpers do not, and IR
// compilation is the slow part. Each artifact records the settings it was built with.
const OUTPUT = { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } };
const GROUPS = [
  {
    dir: "src",
    settings: {
      evmVersion: "cancun", // Arbitrum One runs Cancun (transient storage); no Prague/Osaka opcodes
      viaIR: true,
      optimizer: { enabled: true, runs: 1000000 },
      metadata: { bytecodeHash: "ipfs" },
      outputSelection: OUTPUT,
    },
  },
  {
    dir: "test",
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
      metadata: { bytecodeHash: "ipfs" },
      outputSelection: OUTPUT,
    },
  },
];

function collectSources(dir) {
  const sources = {};
  const abs = path.join(here, dir);
  if (!fs.existsSync(abs)) return sources;
  for (const file of fs.readdirSync(abs).sort()) {
    if (!file.endsWith(".sol")) continue;
    sources[`contracts/${dir}/${file}`] = { content: fs.readFileSync(path.join(abs, file), "utf8") };
  }
  return sources;
}

function findImports(importPath) {
  const candidates = importPath.startsWith("@")
    ? [path.join(nodeModules, importPath)]
    : [path.join(repoRoot, importPath), path.join(nodeModules, importPath)];
  for (const c of candidates) {
    if (fs.existsSync(c)) return { contents: fs.readFileSync(c, "utf8") };
  }
  return { error: `not found: ${importPath}` };
}

function compileGroup({ dir, settings }) {
  const sources = collectSources(dir);
  const input = { language: "Solidity", sources, settings };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const e of output.errors || []) {
    if (e.severity === "error" || !process.argv.includes("--quiet")) process.stderr.write(e.formattedMessage + "\n");
  }
  if (errors.length) process.exit(2);
  const artifacts = {};
  for (const sourceName of Object.keys(sources)) {
    for (const [name, c] of Object.entries(output.contracts[sourceName] || {})) {
      if (!c.evm.bytecode.object) continue; // interfaces / abstract
      artifacts[name] = {
        contractName: name,
        sourceName,
        abi: c.abi,
        bytecode: "0x" + c.evm.bytecode.object,
        deployedBytecode: "0x" + c.evm.deployedBytecode.object,
        compiler: { name: "solc", version: solc.version(), settings },
      };
    }
  }
  return artifacts;
}

function compile() {
  return Object.assign({}, ...GROUPS.map(compileGroup));
}

const check = process.argv.includes("--check");
const outDir = path.join(here, "artifacts");
const artifacts = compile();
let differ = 0;
fs.mkdirSync(outDir, { recursive: true });
for (const [name, art] of Object.entries(artifacts)) {
  const file = path.join(outDir, `${name}.json`);
  const text = JSON.stringify(art, null, 2) + "\n";
  if (check) {
    const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
    if (old !== text) {
      process.stderr.write(`artifact differs: ${name}\n`);
      differ++;
    }
  } else {
    fs.writeFileSync(file, text);
  }
}
if (check) {
  const expected = new Set(Object.keys(artifacts).map((n) => `${n}.json`));
  for (const f of fs.readdirSync(outDir)) {
    if (f.endsWith(".json") && !expected.has(f)) {
      process.stderr.write(`stale artifact: ${f}\n`);
      differ++;
    }
  }
  process.exit(differ ? 1 : 0);
}
process.stdout.write(`wrote ${Object.keys(artifacts).length} artifacts to ${outDir}\n`);
