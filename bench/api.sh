#!/usr/bin/env bash
# API throughput on the embedded defaults (SQLite), load from a separate process (wrk) on
# loopback. Targets (issue 2): GET /jobs/{Id} >= 10,000 req/s with p99 < 10 ms;
# POST /jobs >= 1,000 jobs/s.
#   bench/api.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}

command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
cargo build --release --bin airscope >/dev/null
bin=$PWD/target/release/airscope

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
export AIRSCOPE_DATA_DIR=$work AIRSCOPE_API__LISTEN=127.0.0.1:18780 AIRSCOPE_STORAGE__LISTEN=127.0.0.1:18781
# Measure the API and the store: no rate limit, no workers picking the jobs up.
export AIRSCOPE_API__RATE_LIMIT_PER_SECOND=0 AIRSCOPE_WORKER__CONCURRENCY=0 RUST_LOG=warn
keys=$($bin keys create --user bench)
ak=$(awk '/^access_key:/ {print $2}' <<<"$keys")
sk=$(awk '/^secret_key:/ {print $2}' <<<"$keys")
$bin serve >"$work/serve.log" 2>&1 &
server=$!
api=http://127.0.0.1:18780
for _ in $(seq 50); do curl -sf $api/healthz >/dev/null && break; sleep 0.1; done

body='{"Name":"bench","Services":{"pdf":""},"Source":{"Bucket":"media","ObjectKey":"a.pdf"},"Destination":{"Bucket":"results","Region":"us-east-1"}}'
id=$(curl -sf -X POST $api/jobs -H "x-amz-access-key: $ak" -H "x-amz-secret-key: $sk" -d "$body" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["Job"]["Id"])')

cat >"$work/get.lua" <<LUA
wrk.headers["x-amz-access-key"] = "$ak"
wrk.headers["x-amz-secret-key"] = "$sk"
LUA
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["content-type"] = "application/json"
wrk.headers["x-amz-access-key"] = "$ak"
wrk.headers["x-amz-secret-key"] = "$sk"
LUA

echo "== GET /jobs/{Id}: wrk -t2 -c$conns -d${secs}s --latency"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/get.lua" "$api/jobs/$id" | tee "$work/get.txt"
echo "== POST /jobs: wrk -t2 -c$conns -d${secs}s --latency"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/post.lua" "$api/jobs" | tee "$work/post.txt"

submitted=$(sqlite3 "$work/airscope.db" "SELECT COUNT(*) FROM jobs")
echo
echo "summary: GET $(awk '/Requests\/sec/ {print $2}' "$work/get.txt") req/s, p99 $(awk '$1=="99%" {print $2}' "$work/get.txt");" \
  "POST $(awk '/Requests\/sec/ {print $2}' "$work/post.txt") req/s ($submitted jobs stored);" \
  "non-2xx: GET $(grep -c 'Non-2xx' "$work/get.txt" || true), POST $(grep -c 'Non-2xx' "$work/post.txt" || true)"
