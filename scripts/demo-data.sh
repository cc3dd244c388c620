#!/usr/bin/env bash
# Loads realistic synthetic data when the database has none (called by `make run`).
set -euo pipefail
cd "$(dirname "$0")/.."
if .venv/bin/vigia --help 2>/dev/null | grep -q "demo-data"; then
  .venv/bin/vigia demo-data --if-empty
fi
