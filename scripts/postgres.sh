#!/usr/bin/env bash
# Ensures a throwaway PostgreSQL server for the tests, listening on 127.0.0.1 only.
#   scripts/postgres.sh start   -> installs Debian's postgresql if missing, starts it, prints its URL
#   scripts/postgres.sh stop
# Data lives in ${TAPELINE_PG_DIR:-/tmp/tapeline-pg}; port ${TAPELINE_PG_PORT:-54329}.
set -euo pipefail
dir=${TAPELINE_PG_DIR:-/tmp/tapeline-pg}
port=${TAPELINE_PG_PORT:-54329}
url="postgresql://tapeline:tapeline@127.0.0.1:${port}/tapeline"

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
start)
  if ! bin=$(find_bin); then
    echo "installing PostgreSQL from Debian's packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
  fi
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$dir" && chown postgres:postgres "$dir"
  else
    mkdir -p "$dir"
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$dir" -U postgres -A trust --no-sync >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k /tmp -c fsync=off -c max_connections=200" start >/dev/null
  fi
  psql="psql -h 127.0.0.1 -p $port -U postgres -v ON_ERROR_STOP=1 -qtA"
  if [ -z "$($psql -c "select 1 from pg_roles where rolname='tapeline'")" ]; then
    $psql -c "create role tapeline login superuser password 'tapeline'" >/dev/null
  fi
  if [ -z "$($psql -c "select 1 from pg_database where datname='tapeline'")" ]; then
    $psql -c "create database tapeline owner tapeline" >/dev/null
  fi
  echo "$url"
  ;;
status)
  bin=$(find_bin) && [ -f "$dir/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1
  ;;
stop)
  if bin=$(find_bin) && [ -f "$dir/PG_VERSION" ]; then
    as_pg "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
  fi
  ;;
*)
  echo "usage: $0 start|status|stop" >&2; exit 2 ;;
esac
