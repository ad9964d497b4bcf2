#!/usr/bin/env bash
# Sourced by the test command after scripts/pg.sh: makes sure a PgBouncer in transaction mode
# sits in front of the test PostgreSQL and exports CHAKRA_TEST_PGBOUNCER_URL. Installs
# PgBouncer from Debian's package when it is missing, starts a throwaway instance (any
# database name is forwarded to the server at CHAKRA_TEST_PG_URL), and stops it on exit.
# The tests that run through it never skip: without PgBouncer they fail.

chakra_stop_pgbouncer() {
  if [ -n "${CHAKRA_PGBOUNCER_DIR:-}" ]; then
    if [ -f "$CHAKRA_PGBOUNCER_DIR/pgbouncer.pid" ]; then
      kill "$(cat "$CHAKRA_PGBOUNCER_DIR/pgbouncer.pid")" 2>/dev/null || true
      sleep 0.2
    fi
    rm -rf "$CHAKRA_PGBOUNCER_DIR"
  fi
}

chakra_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

chakra_ensure_pgbouncer() {
  if [ -n "${CHAKRA_TEST_PGBOUNCER_URL:-}" ]; then
    echo "PgBouncer: using CHAKRA_TEST_PGBOUNCER_URL=$CHAKRA_TEST_PGBOUNCER_URL"
    return 0
  fi
  local bin
  bin=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)
  if [ -z "$bin" ]; then
    echo "PgBouncer: installing Debian's pgbouncer package"
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo -n)
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q pgbouncer >/tmp/chakra-apt.log 2>&1; then
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q >>/tmp/chakra-apt.log 2>&1 || true
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q pgbouncer >>/tmp/chakra-apt.log 2>&1 || {
        cat /tmp/chakra-apt.log >&2
        echo "FATAL: could not install PgBouncer (apt-get install pgbouncer)." >&2
        return 1
      }
    fi
    bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  fi
  # The server PgBouncer forwards to: CHAKRA_TEST_PG_URL's host and port.
  local hostport host port
  hostport=$(echo "${CHAKRA_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#')
  host=${hostport%%:*}
  port=${hostport##*:}
  [ "$port" = "$hostport" ] && port=5432
  local bport=6432
  while ! chakra_port_free "$bport"; do
    bport=$((bport + 1))
    if [ "$bport" -gt 6500 ]; then
      echo "FATAL: no free port for PgBouncer in 6432-6500." >&2
      return 1
    fi
  done
  local dir
  dir=$(mktemp -d /tmp/chakra-pgbouncer.XXXXXX)
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=$host port=$port user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  local run=()
  if [ "$(id -u)" = 0 ]; then
    # PgBouncer refuses to run as root.
    chown -R postgres "$dir" 2>/dev/null || true
    run=(runuser -u postgres --)
  fi
  if ! "${run[@]}" "$bin" -d "$dir/pgbouncer.ini"; then
    cat "$dir/pgbouncer.log" >&2 2>/dev/null || true
    echo "FATAL: PgBouncer did not start." >&2
    return 1
  fi
  CHAKRA_PGBOUNCER_DIR="$dir"
  trap 'chakra_stop_pgbouncer; chakra_stop_throwaway_pg' EXIT
  local i
  for i in $(seq 1 50); do
    if ! chakra_port_free "$bport"; then break; fi
    sleep 0.1
  done
  export CHAKRA_TEST_PGBOUNCER_URL="postgres://postgres@127.0.0.1:$bport/postgres"
  echo "PgBouncer $("$bin" --version | head -n 1 | awk '{print $2}'): transaction mode on 127.0.0.1:$bport, forwarding to $host:$port"
}
