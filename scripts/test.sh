#!/usr/bin/env bash
# Sets up everything the tests need (system packages included) and runs lint, types and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
VENV=${ASSISTANT_VENV:-.venv}
"$VENV/bin/ruff" check assistant ui tests bench
"$VENV/bin/mypy" assistant
"$VENV/bin/python" -m pytest "$@"
