#!/usr/bin/env bash
# The main job on the embedded defaults: install what is missing, build, fetch the models,
# start `airscope serve`, upload a sample PDF with the AWS CLI, submit a job over HTTP,
# wait for it, and print the metadata file it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH"
cargo build --release --bin airscope
bin=target/release/airscope

export AIRSCOPE_DATA_DIR="${AIRSCOPE_DATA_DIR:-$PWD/airscope-demo}"
export AIRSCOPE_API__LISTEN="${AIRSCOPE_API__LISTEN:-127.0.0.1:8780}"
export AIRSCOPE_STORAGE__LISTEN="${AIRSCOPE_STORAGE__LISTEN:-127.0.0.1:8781}"
$bin models fetch

keys=$($bin keys create --user demo)
access=$(awk '/^access_key:/ {print $2}' <<<"$keys")
secret=$(awk '/^secret_key:/ {print $2}' <<<"$keys")

log="$AIRSCOPE_DATA_DIR/serve.log"
$bin serve >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
api="http://$AIRSCOPE_API__LISTEN"
for _ in $(seq 50); do curl -sf "$api/readyz" >/dev/null && break; sleep 0.2; done

export AWS_ACCESS_KEY_ID=$access AWS_SECRET_ACCESS_KEY=$secret AWS_DEFAULT_REGION=us-east-1
s3="aws --endpoint-url http://$AIRSCOPE_STORAGE__LISTEN"
$s3 s3 mb s3://demo-media >/dev/null 2>&1 || true
$s3 s3 mb s3://demo-results >/dev/null 2>&1 || true
$s3 s3 cp tests/fixtures/report.pdf s3://demo-media/docs/report.pdf >/dev/null
echo "uploaded s3://demo-media/docs/report.pdf"

job=$(curl -sf -X POST "$api/jobs" \
  -H "x-amz-access-key: $access" -H "x-amz-secret-key: $secret" \
  -H 'content-type: application/json' \
  -d '{"Name": "demo", "Services": {"pdf": ""},
       "Source": {"Bucket": "demo-media", "ObjectKey": "docs/report.pdf"},
       "Destination": {"Bucket": "demo-results", "Region": "us-east-1"}}')
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Job"]["Id"])' <<<"$job")
echo "submitted job $id"

status=""
for _ in $(seq 300); do
  status=$(curl -sf "$api/jobs/$id/status" -H "x-amz-access-key: $access" -H "x-amz-secret-key: $secret" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Status"])')
  case $status in completed|failed|cancelled) break ;; esac
  sleep 0.2
done
echo "job $id: $status"
[ "$status" = completed ] || { curl -s "$api/jobs/$id" -H "x-amz-access-key: $access" -H "x-amz-secret-key: $secret"; echo; exit 1; }

path=$(curl -sf "$api/jobs/$id/metadata" -H "x-amz-access-key: $access" -H "x-amz-secret-key: $secret" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["DestinationPath"])')
$s3 s3 cp "$path" - 
echo
echo "result: $path"
echo "user demo: access_key=$access secret_key=$secret (data in $AIRSCOPE_DATA_DIR)"
