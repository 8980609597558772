#!/usr/bin/env bash
# Run the default test suite on this machine (fresh clone or not):
#   ./scripts/test.sh [pytest args...]
# Sets up what is missing (venv, deps, npm packages, redis-server), starts NATS/Redis when they are
# not running (and stops what it started), runs pytest with the default markers (-m 'not slow').
# "No tests collected" is a failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

.venv/bin/python -m mevbot.runtime.localstack up var/test-stack
trap '.venv/bin/python -m mevbot.runtime.localstack down var/test-stack' EXIT

set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "test.sh: no tests were collected: failing" >&2
  exit 1
fi
exit "$rc"
