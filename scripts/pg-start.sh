#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on a free loopback port in a temp folder.
# Prints shell assignments (MIGTUI_PG_DIR, MIGTUI_TEST_PG_URL) for `eval`.
# PostgreSQL refuses to run as root, so as root the server runs as `postgres`.
set -euo pipefail
bin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bin=$d; done
if [ -z "$bin" ]; then
  echo "PostgreSQL server binaries not found; installing them" >&2
  (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) >&2
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bin=$d; done
fi
dir=$(mktemp -d /tmp/migtui-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
# Settings go into the config so that a plain `pg_ctl start` (a test restarts it) keeps them.
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
CONF
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
echo "MIGTUI_PG_DIR=$dir"
echo "MIGTUI_TEST_PG_URL=postgresql://postgres@127.0.0.1:$port/postgres"
