#!/usr/bin/env bash
# The whole test suite from a fresh clone: a virtualenv with migtui and its test
# dependencies, a throwaway PostgreSQL 15 server and a throwaway MariaDB server, then ruff,
# mypy, import-linter and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'

# Throwaway PostgreSQL and MariaDB servers unless the caller gave them. One EXIT trap
# stops whichever were started here, also when a start, a check or a test fails.
MIGTUI_PG_DIR=""
MIGTUI_MARIADB_DIR=""
stop_servers() {
  if [ -n "$MIGTUI_PG_DIR" ]; then bash scripts/pg-stop.sh "$MIGTUI_PG_DIR"; fi
  if [ -n "$MIGTUI_MARIADB_DIR" ]; then bash scripts/mariadb-stop.sh "$MIGTUI_MARIADB_DIR"; fi
}
trap stop_servers EXIT
if [ -z "${MIGTUI_TEST_PG_URL:-}" ]; then
  eval "$(bash scripts/pg-start.sh)"
fi
if [ -z "${MIGTUI_TEST_MARIADB_URL:-}" ]; then
  eval "$(bash scripts/mariadb-start.sh)"
fi
export MIGTUI_TEST_PG_URL MIGTUI_TEST_MARIADB_URL

.venv/bin/ruff check src tests benchmarks projectkit sampleapp migrations
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/python -m pytest "$@"
