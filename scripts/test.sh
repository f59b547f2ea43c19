#!/usr/bin/env bash
# Sets up everything the tests need (system packages included) and runs lint, types and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
VENV=${ASSISTANT_VENV:-.venv}
"$VENV/bin/ruff" check assistant ui tests bench scripts
# strict on assistant/ (pyproject.toml), the default checks on the shell, the benchmarks and the scripts
"$VENV/bin/mypy" assistant ui bench scripts
"$VENV/bin/python" -m pytest "$@"
