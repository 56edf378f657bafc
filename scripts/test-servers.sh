#!/usr/bin/env bash
# Installs the PostgreSQL and Redis servers the test suite starts for itself
# (Debian's packages), when they are missing and this user can install them.
# The suite starts throwaway instances on free ports; nothing is left running.
# With DRIFTLOOP_TEST_POSTGRES_URL and DRIFTLOOP_TEST_REDIS_URL set, it uses
# those servers instead and this script has nothing to do.
set -euo pipefail

missing=()
if [ -z "${DRIFTLOOP_TEST_POSTGRES_URL:-}" ] && ! command -v initdb >/dev/null \
    && ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
  missing+=(postgresql)
fi
if [ -z "${DRIFTLOOP_TEST_REDIS_URL:-}" ] && ! command -v redis-server >/dev/null; then
  missing+=(redis-server)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing the test servers: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "warning: ${missing[*]} not installed; the PostgreSQL/Redis tests will fail." >&2
  echo "  Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}), or set" >&2
  echo "  DRIFTLOOP_TEST_POSTGRES_URL / DRIFTLOOP_TEST_REDIS_URL to servers of your own." >&2
fi
