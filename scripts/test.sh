#!/usr/bin/env bash
# Runs the whole suite: lint, a local PostgreSQL on 127.0.0.1, then pytest.
# pytest's exit code 5 ("no tests collected") is reported as a failure: a suite that ran
# nothing has proved nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

$bin/ruff check . || exit 1

pg_was_running=0
scripts/postgres.sh status && pg_was_running=1  # someone else's server: leave it running
if pg_url=$(scripts/postgres.sh start); then
  export TAPELINE_TEST_PG_URL="$pg_url"
else
  echo "PostgreSQL could not be started; its tests will be skipped" >&2
fi
export RAY_AUTH_MODE=${RAY_AUTH_MODE:-disabled}

$bin/python -m pytest "$@"
rc=$?
[ "$pg_was_running" = 1 ] || scripts/postgres.sh stop || true
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$rc"
