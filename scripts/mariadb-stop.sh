#!/usr/bin/env bash
# Stop the server started by mariadb-start.sh and remove its folder.
set -uo pipefail
dir=${1:?usage: mariadb-stop.sh DIR}
if [ -f "$dir/mysqld.pid" ]; then
  pid=$(cat "$dir/mysqld.pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null
fi
rm -rf "$dir"
