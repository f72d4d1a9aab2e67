# Shared set-up of the benchmarks, sourced by them from the repository root: the system
# packages (scripts/setup.sh), the release binary ($bin), the models in target/bench-models,
# the real-media fixtures, a work folder ($work), the Python environment of the reference
# implementations ($venv), the runs per timing ($runs, RUNS or 5), and `bench_bin NAME`, which
# builds a `cargo bench` target and prints its binary.
scripts/setup.sh >/dev/null
cargo build --release --bin airscope -q
bin=$PWD/target/release/airscope
export AIRSCOPE_MODELS__DIR=$PWD/target/bench-models
$bin models fetch >/dev/null
scripts/fetch-fixtures.sh >/dev/null 2>&1
work=${BENCH_DIR:-$PWD/target/bench-media}
mkdir -p "$work"
runs=${RUNS:-5}
venv=$PWD/target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
bench_bin() {
  cargo bench --bench "$1" --no-run -q 2>/dev/null
  ls -t target/release/deps/"$1"-* | grep -v '\.d$' | head -1
}
