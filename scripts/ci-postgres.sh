#!/usr/bin/env bash
# Start Debian's PostgreSQL 15 cluster and create the test role and database (idempotent).
set -euo pipefail
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq postgresql-15 >/dev/null
fi
if ! pg_lsclusters 15 main >/dev/null 2>&1; then
  pg_createcluster 15 main >/dev/null
fi
pg_ctlcluster 15 main start 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='open12306'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE open12306 LOGIN PASSWORD 'open12306' CREATEDB\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='open12306_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O open12306 open12306_test"
echo "PostgreSQL 15 is up on 127.0.0.1:5432 (database open12306_test)."
