#!/usr/bin/env bash
# Set up callfloor and run the demo floor: the service on embedded defaults (SQLite, in-process
# MQTT broker, local recordings) with simulated seats and a simulated carrier. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/callfloor demo "$@"
