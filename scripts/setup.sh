#!/usr/bin/env bash
# Set up callfloor on a fresh Debian/Ubuntu machine: system packages, then a virtualenv in .venv
# with the project and its test dependencies. Safe to run again; used by scripts/demo.sh and .ci/run.
#   scripts/setup.sh            runtime packages only
#   scripts/setup.sh --test     plus the real peers the integration tests talk to
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

packages=(python3 python3-venv python3-dev libsndfile1 gcc)
if [ "${1:-}" = "--test" ]; then
    # SIPp, baresip, Mosquitto and Chromium are the third-party peers of the integration tests;
    # Asterisk's recorded prompts are the real speech the AMD's recorded clips are built from.
    packages+=(sip-tester baresip mosquitto chromium
               asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The Debian mosquitto package may start a system broker on 1883; our tests use their own ports.

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "--test" ]; then
    .venv/bin/python -m pip install -q -e '.[test]'
else
    .venv/bin/python -m pip install -q -e .
fi
