# Sourced (not run) by the scripts that build the Python extension: the extension links the
# system's shared libsqlite3 (the copy CPython's sqlite3 module links, see docs/sqlite.md),
# so building it needs the library's link-time file (libsqlite3.so, Debian's libsqlite3-dev).
# chakra_ensure_sqlite_dev installs it with apt-get when it is missing.

chakra_sqlite_dev_present() {
  local found
  found=$(cc -print-file-name=libsqlite3.so 2>/dev/null || true)
  [ -n "$found" ] && [ "$found" != "libsqlite3.so" ] && [ -e "$found" ]
}

chakra_ensure_sqlite_dev() {
  if chakra_sqlite_dev_present; then
    return 0
  fi
  echo "SQLite: installing Debian's libsqlite3-dev (the extension links the system's libsqlite3)"
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo -n)
  if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q libsqlite3-dev >/tmp/chakra-apt.log 2>&1; then
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q >>/tmp/chakra-apt.log 2>&1 || true
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q libsqlite3-dev >>/tmp/chakra-apt.log 2>&1 || {
      cat /tmp/chakra-apt.log >&2
      echo "FATAL: could not install libsqlite3-dev (apt-get install libsqlite3-dev); the Python extension links the system's libsqlite3." >&2
      return 1
    }
  fi
}
