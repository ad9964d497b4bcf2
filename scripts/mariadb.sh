#!/usr/bin/env bash
# Sourced by the test command: makes sure a MySQL-protocol server (MariaDB) is reachable and
# exports CHAKRA_TEST_MYSQL_URL. Uses the server at 127.0.0.1:3306 when one answers (root,
# no password); otherwise installs Debian's mariadb-server if it is missing and starts a
# throwaway server on a free port (stopped on exit); otherwise fails. Tests never skip.

chakra_mariadb_ready() {
  local port=$1
  if command -v mariadb-admin >/dev/null 2>&1; then
    mariadb-admin --protocol=tcp -h 127.0.0.1 -P "$port" -u root --connect-timeout=2 ping >/dev/null 2>&1
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

chakra_stop_throwaway_mariadb() {
  if [ -n "${CHAKRA_MARIADB_THROWAWAY:-}" ]; then
    if [ -f "$CHAKRA_MARIADB_THROWAWAY/pid" ]; then
      kill "$(cat "$CHAKRA_MARIADB_THROWAWAY/pid")" 2>/dev/null || true
      sleep 1
    fi
    rm -rf "$CHAKRA_MARIADB_THROWAWAY"
  fi
}

chakra_ensure_mariadb() {
  if [ -n "${CHAKRA_TEST_MYSQL_URL:-}" ]; then
    echo "MySQL/MariaDB: using CHAKRA_TEST_MYSQL_URL=$CHAKRA_TEST_MYSQL_URL"
    return 0
  fi
  if chakra_mariadb_ready 3306; then
    export CHAKRA_TEST_MYSQL_URL="mysql://root@127.0.0.1:3306/mysql"
    echo "MySQL/MariaDB: using the server at 127.0.0.1:3306"
    return 0
  fi
  if ! command -v mariadbd >/dev/null 2>&1 || ! command -v mariadb-install-db >/dev/null 2>&1; then
    echo "MySQL/MariaDB: installing Debian's mariadb-server"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server mariadb-client >/dev/null; }; then
      echo "FATAL: no MariaDB at 127.0.0.1:3306 and mariadb-server could not be installed." >&2
      echo "       Install it or set CHAKRA_TEST_MYSQL_URL. MySQL tests are never skipped." >&2
      return 1
    fi
  fi
  local dir port=33069
  dir=$(mktemp -d /tmp/chakra-mariadb.XXXXXX)
  local user=()
  if [ "$(id -u)" = 0 ]; then
    chown mysql "$dir" 2>/dev/null || true
    user=(--user=mysql)
  fi
  echo "MySQL/MariaDB: starting a throwaway server in $dir on port $port"
  mariadb-install-db "${user[@]}" --datadir="$dir/data" --auth-root-authentication-method=normal \
    --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; return 1; }
  mariadbd "${user[@]}" --datadir="$dir/data" --port="$port" --bind-address=127.0.0.1 \
    --socket="$dir/sock" --pid-file="$dir/pid" --max-connections=500 \
    >"$dir/log" 2>&1 &
  CHAKRA_MARIADB_THROWAWAY="$dir"
  local i
  for i in $(seq 1 60); do
    if chakra_mariadb_ready "$port"; then
      break
    fi
    sleep 0.5
  done
  if ! chakra_mariadb_ready "$port"; then
    cat "$dir/log" >&2
    return 1
  fi
  # root over TCP without a password, as on the machine's own server.
  mariadb --protocol=socket -S "$dir/sock" -u root -e \
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;" \
    >/dev/null 2>&1 || true
  export CHAKRA_TEST_MYSQL_URL="mysql://root@127.0.0.1:$port/mysql"
}
