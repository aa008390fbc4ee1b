#!/usr/bin/env bash
# Make the services the test suite needs available on 127.0.0.1:
# PostgreSQL (5432) with a `servicedesk` role and database, Redis (6379), and
# Debian's chromium for the browser tests (and libfaketime's `faketime` when
# TEST_FAKETIME asks for a moved clock). Installs missing Debian packages.
# Idempotent: a second run finds everything up and does nothing.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
# Only for a run with the clock moved (make test TEST_FAKETIME=+365d).
if [ -n "${TEST_FAKETIME:-}" ]; then
  command -v faketime >/dev/null 2>&1 || missing+=(faketime)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-services: installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# --- PostgreSQL: Debian's cluster, started with pg_ctlcluster (root may not run postgres).
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^${pg_version} main$"; then
  as_root pg_createcluster "$pg_version" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^${pg_version} *main .*online"; then
  as_root pg_ctlcluster "$pg_version" main start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p 5432

psql_postgres() { as_root runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_postgres -c "SELECT 1 FROM pg_roles WHERE rolname='servicedesk'")" != "1" ]; then
  psql_postgres -c "CREATE ROLE servicedesk LOGIN CREATEDB PASSWORD 'servicedesk'"
fi
# Test data is disposable: don't wait for the disk on every commit.
psql_postgres -c "ALTER ROLE servicedesk SET synchronous_commit = off"
if [ "$(psql_postgres -c "SELECT 1 FROM pg_database WHERE datname='servicedesk'")" != "1" ]; then
  psql_postgres -c "CREATE DATABASE servicedesk OWNER servicedesk"
fi

# --- Redis: a throwaway instance on loopback, no persistence.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 1 20); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.25
  done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
echo "test-services: PostgreSQL $pg_version and Redis up on 127.0.0.1; chromium at $(command -v chromium)"
