#!/usr/bin/env bash
# Sourced by the test command after scripts/pg.sh: makes a real streaming standby
# (`pg_basebackup -R`) of a PostgreSQL primary on another loopback port, starts it, and exports
#   CHAKRA_TEST_PG_REPLICA_URL          the standby (read-only, in recovery)
#   CHAKRA_TEST_PG_REPLICA_PRIMARY_URL  the primary it streams from
# The primary is the test cluster (CHAKRA_TEST_PG_URL) when it accepts replication
# connections from 127.0.0.1; otherwise (the machine's cluster, whose pg_hba.conf this script
# does not edit) a throwaway primary of its own. Everything it started is stopped on exit
# (chakra_stop_replica). The replica tests never skip: without a standby they fail.

chakra_replica_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_basebackup" ]; then
    pg_config --bindir
  else
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
  fi
}

chakra_stop_replica() {
  if [ -n "${CHAKRA_REPLICA_DIR:-}" ]; then
    local d
    for d in standby primary; do
      if [ -d "$CHAKRA_REPLICA_DIR/$d" ]; then
        # shellcheck disable=SC2086
        $CHAKRA_REPLICA_RUNAS "$CHAKRA_REPLICA_BIN/pg_ctl" -D "$CHAKRA_REPLICA_DIR/$d" -m fast -w stop >/dev/null 2>&1 || true
      fi
    done
    rm -rf "$CHAKRA_REPLICA_DIR"
    CHAKRA_REPLICA_DIR=""
  fi
}

# A free loopback port from $1 upwards.
chakra_replica_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
    p=$((p + 1))
  done
  echo "$p"
}

chakra_ensure_replica() {
  if [ -n "${CHAKRA_TEST_PG_REPLICA_URL:-}" ]; then
    export CHAKRA_TEST_PG_REPLICA_PRIMARY_URL="${CHAKRA_TEST_PG_REPLICA_PRIMARY_URL:-$CHAKRA_TEST_PG_URL}"
    echo "PostgreSQL replica: using CHAKRA_TEST_PG_REPLICA_URL=$CHAKRA_TEST_PG_REPLICA_URL"
    return 0
  fi
  local bin
  bin=$(chakra_replica_bindir)
  if [ -z "$bin" ] || [ ! -x "$bin/pg_basebackup" ] || [ ! -x "$bin/initdb" ]; then
    echo "FATAL: no PostgreSQL server binaries (initdb, pg_basebackup) to make a replica with." >&2
    return 1
  fi
  local run=()
  [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
  local dir
  dir=$(mktemp -d /tmp/chakra-replica.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  CHAKRA_REPLICA_DIR="$dir"
  CHAKRA_REPLICA_BIN="$bin"
  CHAKRA_REPLICA_RUNAS="${run[*]}"

  # The primary: the test cluster when it lets 127.0.0.1 replicate.
  local hostport phost pport
  hostport=$(echo "$CHAKRA_TEST_PG_URL" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#')
  phost=${hostport%%:*}
  pport=${hostport##*:}
  [ "$pport" = "$hostport" ] && pport=5432
  if ! "${run[@]}" "$bin/psql" "host=$phost port=$pport user=postgres replication=true dbname=postgres" \
      -Atc "IDENTIFY_SYSTEM" >/dev/null 2>&1; then
    pport=$(chakra_replica_port 5434)
    phost=127.0.0.1
    echo "PostgreSQL replica: $hostport refuses replication connections; a throwaway primary on $phost:$pport"
    "${run[@]}" "$bin/initdb" -D "$dir/primary" -U postgres -A trust >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; return 1; }
    # wal_keep_size: the tests make standbys of their own with pg_basebackup while others write
    # a lot; without kept WAL a new standby can find the segment it needs already recycled
    # ("requested WAL segment … has already been removed") and never catch up.
    "${run[@]}" "$bin/pg_ctl" -D "$dir/primary" \
      -o "-p $pport -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c wal_level=replica -c max_wal_senders=10 -c wal_keep_size=2GB" \
      -l "$dir/primary.log" -w start >/dev/null || { cat "$dir/primary.log" >&2; return 1; }
  fi
  export CHAKRA_TEST_PG_REPLICA_PRIMARY_URL="postgres://postgres@$phost:$pport/postgres"

  local sport
  sport=$(chakra_replica_port 5433)
  [ "$sport" = "$pport" ] && sport=$(chakra_replica_port $((pport + 1)))
  "${run[@]}" "$bin/pg_basebackup" -h "$phost" -p "$pport" -U postgres -D "$dir/standby" -R -X stream -c fast \
    >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; return 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$dir/standby" \
    -o "-p $sport -k $dir -c listen_addresses=127.0.0.1 -c max_connections=500 -c hot_standby=on -c hot_standby_feedback=on" \
    -l "$dir/standby.log" -w start >/dev/null || { cat "$dir/standby.log" >&2; return 1; }
  local i ok=""
  for i in $(seq 1 100); do
    if [ "$("${run[@]}" "$bin/psql" -h 127.0.0.1 -p "$sport" -U postgres -d postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = "t" ]; then
      ok=1
      break
    fi
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    cat "$dir/standby.log" >&2
    echo "FATAL: the standby on 127.0.0.1:$sport did not come up in recovery." >&2
    return 1
  fi
  export CHAKRA_TEST_PG_REPLICA_URL="postgres://postgres@127.0.0.1:$sport/postgres"
  echo "PostgreSQL replica: a streaming standby of $phost:$pport on 127.0.0.1:$sport"
}
