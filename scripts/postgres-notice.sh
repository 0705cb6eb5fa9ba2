#!/usr/bin/env bash
# Says, before the tests run, whether the PostgreSQL suite will run.
# With CI=true a missing PostgreSQL is an error, not a skip.
set -u
if [ -n "${USERSVC_TEST_POSTGRES_URL:-}" ]; then
  echo "make test: PostgreSQL suite runs against \$USERSVC_TEST_POSTGRES_URL"
  exit 0
fi
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "make test: PostgreSQL answers on 127.0.0.1:5432; the PostgreSQL suite runs"
  exit 0
fi
if [ "${CI:-}" = "true" ]; then
  echo "make test: PostgreSQL is not reachable (127.0.0.1:5432, USERSVC_TEST_POSTGRES_URL unset) and CI=true: failing" >&2
  exit 1
fi
echo "make test: *** PostgreSQL is not reachable on 127.0.0.1:5432 and USERSVC_TEST_POSTGRES_URL is unset:"
echo "make test: *** the PostgreSQL suite is SKIPPED; only SQLite is tested."
