#!/usr/bin/env bash
# Start a throwaway MariaDB server on a free loopback port in a temp folder.
# Prints shell assignments (MIGTUI_MARIADB_DIR, MIGTUI_TEST_MARIADB_URL) for `eval`.
# Installs Debian's mariadb-server when it is missing. As root the server runs with
# --user=root (allowed by its docs for a private data folder like this one).
set -euo pipefail
if ! command -v mariadb-install-db >/dev/null || ! [ -x /usr/sbin/mariadbd ]; then
  echo "MariaDB server not found; installing mariadb-server" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server \
    >/dev/null) >&2
fi
dir=$(mktemp -d /tmp/migtui-mariadb.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user=$(id -un)
mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
  --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1
/usr/sbin/mariadbd --no-defaults --datadir="$dir/data" --user="$user" \
  --bind-address=127.0.0.1 --port="$port" --socket="$dir/mysqld.sock" \
  --pid-file="$dir/mysqld.pid" --skip-name-resolve --innodb-flush-log-at-trx-commit=0 \
  --innodb-buffer-pool-size=64M --character-set-server=utf8mb4 \
  --collation-server=utf8mb4_unicode_ci --log-error="$dir/server.log" \
  </dev/null >"$dir/stdout.log" 2>&1 &
for _ in $(seq 1 120); do
  if mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
    break
  fi
  sleep 0.5
done
mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping >/dev/null
# A password-less root over TCP for the tests (loopback only, a throwaway server).
mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e \
  "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
   GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
echo "MIGTUI_MARIADB_DIR=$dir"
echo "MIGTUI_TEST_MARIADB_URL=mysql+pymysql://root@127.0.0.1:$port/mysql"
