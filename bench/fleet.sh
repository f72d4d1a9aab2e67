#!/usr/bin/env bash
# Fleet benchmarks on a throwaway Postgres (issue 10).
#  1. Claim throughput with no-op work (claim, then record completed), 4 workers: target
#     >= 2,000 jobs/s. Side by side in one run: the same on SQLite, and pgbench running the
#     bare SQL floor (a `FOR UPDATE SKIP LOCKED` claim and a finish on a one-column table, no
#     fairness or fencing) on the same server with 4 clients, committing as airscope's worker
#     writes do (synchronous_commit=off; see docs/operations.md). Each round of either starts
#     after a VACUUM of its table.
#  2. Real small jobs (`pdf` on a 40-page, 90 KB text PDF from bench/make_pdf.py) through the
#     whole service (API, embedded storage and Postgres share the same machine):
#     1 worker process pinned to core 0 versus 2 worker processes pinned to cores 0 and 1.
#     Target: >= 1.7x. Throughput is jobs / (last completion - first start), read from the
#     store, so process start-up is not counted. ROUNDS (default 5) rounds alternate the two
#     setups, so that a slow or fast spell of the machine falls on both; the speed-up is
#     given as the median of the rounds' ratios, and as the best round against the best.
#     Reference, in the same rounds: the pdf analysis alone in a loop (benches/pdf_loop.rs, no
#     service around it), one copy on core 0 against two at once on cores 0 and 1: what two
#     cores of this machine give for this work when nothing else shares them.
#   bench/fleet.sh [claim-jobs] [pdf-jobs] [slots-per-worker]
set -euo pipefail
cd "$(dirname "$0")/.."
claim_jobs=${1:-20000}
pdf_jobs=${2:-300}
slots=${3:-1}
rounds=${ROUNDS:-5}
parts=${PARTS:-12}  # PARTS=2 runs only the end-to-end part

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d)
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  as_owner "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$work"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_owner "$pgbin/initdb" -D "$work/pg" -U airscope --auth=trust -E UTF8 --no-sync >/dev/null
as_owner "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
pg="postgres://airscope@127.0.0.1:$port"
psql() { "$pgbin/psql" -qtAX "$@"; }
psql "$pg/postgres" -c "CREATE DATABASE claims" -c "CREATE DATABASE floor" -c "CREATE DATABASE fleet"
echo "postgres $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port; $(nproc) cores"

if [[ $parts == *1* ]]; then
echo "== 1. claim throughput, no-op work, 4 workers, $claim_jobs jobs"
cargo bench --bench claims -q -- --jobs "$claim_jobs" --workers 4 "$pg/claims" "sqlite://$work/claims.db" 2>/dev/null
psql "$pg/floor" -c "CREATE TABLE q (id bigserial PRIMARY KEY, status text NOT NULL)" \
  -c "CREATE INDEX q_queued ON q (id) WHERE status = 'queued'"
cat >"$work/claim.sql" <<'SQL'
UPDATE q SET status = 'claimed' WHERE id = (SELECT id FROM q WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id AS jid \gset
UPDATE q SET status = 'done' WHERE id = :jid;
SQL
floors=()
for _ in 1 2 3; do  # best of three, as for airscope
  psql "$pg/floor" -c "VACUUM q" -c "INSERT INTO q (status) SELECT 'queued' FROM generate_series(1, $claim_jobs)"
  floors+=("$(PGOPTIONS='-c synchronous_commit=off' "$pgbin/pgbench" -n -c 4 -j 2 -t $((claim_jobs / 4)) -M prepared \
    -f "$work/claim.sql" "$pg/floor" 2>&1 | awk '/^tps/ {printf "%.0f", $3; exit}')")
done
floor=$(printf '%s\n' "${floors[@]}" | sort -n | tail -1)
echo "reference  pgbench, 4 clients, bare SKIP LOCKED claim + finish: best $floor jobs/s (rounds: ${floors[*]})"
fi
[[ $parts == *2* ]] || exit 0

echo "== 2. pdf jobs end to end: 1 vs 2 worker processes pinned to one core each ($slots job slot(s) each)"
cargo build --release --bin airscope -q
bin=$PWD/target/release/airscope
analysis=$(cargo bench --bench pdf_loop --no-run -q --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("executable") and m["target"]["name"] == "pdf_loop": print(m["executable"])')
export AIRSCOPE_MODELS__DIR=$PWD/target/bench-models
$bin models fetch >/dev/null
export AIRSCOPE_DATA_DIR=$work/data AIRSCOPE_STORE__URL=$pg/fleet RUST_LOG=warn \
  AIRSCOPE_API__LISTEN=127.0.0.1:18790 AIRSCOPE_STORAGE__LISTEN=127.0.0.1:18791 \
  AIRSCOPE_API__RATE_LIMIT_PER_SECOND=0
keys=$($bin keys create --user bench)
export AWS_ACCESS_KEY_ID=$(awk '/^access_key:/ {print $2}' <<<"$keys")
export AWS_SECRET_ACCESS_KEY=$(awk '/^secret_key:/ {print $2}' <<<"$keys")
$bin serve --no-workers >"$work/serve.log" 2>&1 &
serve=$!
pids+=($serve)
api=http://127.0.0.1:18790
for _ in $(seq 100); do curl -sf $api/healthz >/dev/null && break; sleep 0.1; done
s3=(aws --endpoint-url http://127.0.0.1:18791 --region us-east-1 s3)
"${s3[@]}" mb s3://media >/dev/null
"${s3[@]}" mb s3://results >/dev/null
python3 bench/make_pdf.py 40 >"$work/doc.pdf"
"${s3[@]}" cp "$work/doc.pdf" s3://media/doc.pdf >/dev/null

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # CPU ticks a process has used
all_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
round() { # round NAME WORKERS: queue pdf_jobs jobs, run WORKERS pinned processes, print jobs/s
  local batch=$1 n=$2
  local body="{\"Name\":\"$batch\",\"Batch\":\"$batch\",\"Services\":{\"pdf\":\"\"},\"Source\":{\"Bucket\":\"media\",\"ObjectKey\":\"doc.pdf\"},\"Destination\":{\"Bucket\":\"results\",\"Region\":\"us-east-1\"}}"
  for _ in $(seq "$pdf_jobs"); do
    curl -sf -o /dev/null -X POST $api/jobs -H "Authorization: $AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -d "$body"
  done
  local wp=() all0 serve0 worker_ticks=0
  all0=$(all_ticks)
  serve0=$(ticks "$serve")
  for core in $(seq 0 $((n - 1))); do
    AIRSCOPE_WORKER__CONCURRENCY=$slots AIRSCOPE_STORAGE__ENDPOINT=http://127.0.0.1:18791 \
      taskset -c "$core" $bin worker >"$work/worker-$batch-$core.log" 2>&1 &
    wp+=($!)
    pids+=($!)
  done
  while [ "$(psql "$pg/fleet" -c "SELECT COUNT(*) FROM jobs WHERE batch = '$batch' AND status IN ('submitted', 'preflight', 'in_progress')")" != 0 ]; do
    sleep 1
  done
  for p in "${wp[@]}"; do worker_ticks=$((worker_ticks + $(ticks "$p"))); done
  # CPU per job, in ms: worker processes, the API node (API and embedded storage), and
  # everything else (Postgres, the kernel's network work, this script's polling).
  local hz serve_ticks rest_ticks
  hz=$(getconf CLK_TCK)
  serve_ticks=$(($(ticks "$serve") - serve0))
  rest_ticks=$(($(all_ticks) - all0 - worker_ticks - serve_ticks))
  cpu="$((worker_ticks * 1000 / hz / pdf_jobs)) / $((serve_ticks * 1000 / hz / pdf_jobs)) / $((rest_ticks * 1000 / hz / pdf_jobs))"
  kill "${wp[@]}"
  wait "${wp[@]}" 2>/dev/null || true
  psql "$pg/fleet" -c "SELECT COUNT(*) FILTER (WHERE status = 'completed'), COUNT(*) FILTER (WHERE status <> 'completed'),
    ROUND(COUNT(*) * 1000.0 / (MAX(completed) - MIN(started)), 1), COALESCE(MIN(error), ''), '$cpu' FROM jobs WHERE batch = '$batch'"
}
loop_round() { # documents/s of the analysis alone: on core 0, then one copy on each core
  local one two
  one=$(taskset -c 0 "$analysis" "$AIRSCOPE_MODELS__DIR" "$work/doc.pdf" 5)
  two=$( (taskset -c 0 "$analysis" "$AIRSCOPE_MODELS__DIR" "$work/doc.pdf" 5 &
    taskset -c 1 "$analysis" "$AIRSCOPE_MODELS__DIR" "$work/doc.pdf" 5; wait) | awk '{s += $1} END {printf "%.1f", s}')
  echo "$one $two"
}
echo "CPU ms per job: worker processes / API node (API, storage) / the rest (Postgres, kernel)"
best1=0 best2=0 pairs=() ceilings=()
for r in $(seq "$rounds"); do  # alternating, so a slow spell of the machine hits both sides
  read -r a1 a2 <<<"$(loop_round)"
  ceilings+=("$(python3 -c "print(f'{$a2 / $a1:.2f}')")")
  echo "round $r: reference, the analysis alone: $a1 documents/s on core 0, $a2 on cores 0 and 1 (${ceilings[-1]}x)"
  IFS='|' read -r c1 f1 r1 e1 u1 <<<"$(round "one$r" 1)"
  IFS='|' read -r c2 f2 r2 e2 u2 <<<"$(round "two$r" 2)"
  echo "round $r: 1 worker process  (core 0):      $r1 jobs/s ($c1 completed, $f1 not${e1:+: $e1}); CPU $u1"
  echo "round $r: 2 worker processes (cores 0, 1): $r2 jobs/s ($c2 completed, $f2 not${e2:+: $e2}); CPU $u2"
  pairs+=("$(python3 -c "print(f'{$r2 / $r1:.2f}')")")
  best1=$(python3 -c "print(max($best1, $r1))")
  best2=$(python3 -c "print(max($best2, $r2))")
done
python3 -c "import statistics; print(f'speed-up (target >= 1.7x): median of the rounds {statistics.median([$(IFS=,; echo "${pairs[*]}")]):.2f}x; best round against best round {$best2 / $best1:.2f}x; per round: ${pairs[*]}')"
python3 -c "import statistics; print(f'reference, the analysis alone on 2 cores against 1: median {statistics.median([$(IFS=,; echo "${ceilings[*]}")]):.2f}x; per round: ${ceilings[*]}')"
