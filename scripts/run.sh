#!/usr/bin/env bash
# Set up a fresh clone and run the main job:
#   ./scripts/run.sh
# Creates .venv, installs the Python and npm dependencies, then runs `mevbot devnet` (the whole
# pipeline on a local anvil chain with real protocol contracts) when that command exists,
# otherwise `mevbot up` (the four services against NATS/Redis, started if not running).
# Ctrl-C stops everything cleanly.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

# (captured first: `grep -q` closing the pipe early would fail the pipeline under pipefail)
commands="$(.venv/bin/mevbot --help 2>/dev/null || true)"
if grep -qE '(^|[^a-z-])devnet[[:space:]]' <<<"$commands"; then
  exec .venv/bin/mevbot devnet "$@"
fi
exec .venv/bin/mevbot up "$@"
