#!/usr/bin/env bash
# Sourced by the test command: makes sure a PostgreSQL server is reachable and exports
# CHAKRA_TEST_PG_URL. Uses the server at 127.0.0.1:5432 when one answers; otherwise starts a
# throwaway cluster from the installed server binaries (stopped on exit); otherwise fails.

chakra_pg_ready() {
  local host=$1 port=$2
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$host" -p "$port" -U postgres
  else
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
  fi
}

chakra_stop_throwaway_pg() {
  if [ -n "${CHAKRA_PG_THROWAWAY:-}" ]; then
    # shellcheck disable=SC2086
    $CHAKRA_PG_RUNAS "$CHAKRA_PG_CTL" -D "$CHAKRA_PG_THROWAWAY/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$CHAKRA_PG_THROWAWAY"
  fi
}

chakra_ensure_pg() {
  if [ -n "${CHAKRA_TEST_PG_URL:-}" ]; then
    echo "PostgreSQL: using CHAKRA_TEST_PG_URL=$CHAKRA_TEST_PG_URL"
    return 0
  fi
  if chakra_pg_ready 127.0.0.1 5432; then
    export CHAKRA_TEST_PG_URL="postgres://postgres@127.0.0.1:5432/postgres"
    echo "PostgreSQL: using the server at 127.0.0.1:5432"
    return 0
  fi
  local bindir=""
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    bindir=$(pg_config --bindir)
  else
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "FATAL: no PostgreSQL at 127.0.0.1:5432 and no server binaries (initdb) to start one." >&2
    echo "       Install PostgreSQL or set CHAKRA_TEST_PG_URL. PostgreSQL tests are never skipped." >&2
    return 1
  fi
  local dir port=54329
  dir=$(mktemp -d /tmp/chakra-pg.XXXXXX)
  local run=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$dir" 2>/dev/null || true
    run=(runuser -u postgres --)
  fi
  echo "PostgreSQL: starting a throwaway cluster in $dir on port $port"
  "${run[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust >/dev/null || return 1
  "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" \
    -l "$dir/log" -w start >/dev/null || { cat "$dir/log" >&2; return 1; }
  CHAKRA_PG_THROWAWAY="$dir"
  CHAKRA_PG_CTL="$bindir/pg_ctl"
  CHAKRA_PG_RUNAS="${run[*]}"
  trap 'chakra_stop_throwaway_pg' EXIT
  export CHAKRA_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}
