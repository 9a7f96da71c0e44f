#!/usr/bin/env bash
# The whole test suite from a fresh clone: a virtualenv with migtui and its test
# dependencies, a throwaway PostgreSQL 15 server, then ruff, mypy, import-linter and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'

# A throwaway PostgreSQL server unless the caller gave one.
if [ -z "${MIGTUI_TEST_PG_URL:-}" ]; then
  eval "$(bash scripts/pg-start.sh)"
  trap 'bash scripts/pg-stop.sh "$MIGTUI_PG_DIR"' EXIT
fi
export MIGTUI_TEST_PG_URL

.venv/bin/ruff check src tests benchmarks projectkit sampleapp migrations
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/python -m pytest "$@"
