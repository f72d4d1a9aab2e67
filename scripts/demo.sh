#!/usr/bin/env bash
# The main job on the embedded defaults: install what is missing, build, fetch the models,
# start `airscope serve`, upload a sample PDF and a real recording (a phone call, from a pinned
# package) with the AWS CLI, submit jobs over HTTP (`pdf` on the PDF, `audiotag` and `s2t` on
# the call), wait for them, and print the metadata files and the captions they wrote.
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
scripts/fetch-fixtures.sh target/fixtures

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
$s3 s3 cp target/fixtures/audio/speech_en_conversation.wav s3://demo-media/audio/call.wav >/dev/null
echo "uploaded s3://demo-media/docs/report.pdf and s3://demo-media/audio/call.wav"

auth=(-H "x-amz-access-key: $access" -H "x-amz-secret-key: $secret")
run_job() { # KEY SERVICE: submit, wait, print the metadata file
  local job id status=""
  job=$(curl -sf -X POST "$api/jobs" "${auth[@]}" -H 'content-type: application/json' \
    -d "{\"Name\": \"demo $2\", \"Services\": {\"$2\": \"\"},
         \"Source\": {\"Bucket\": \"demo-media\", \"ObjectKey\": \"$1\"},
         \"Destination\": {\"Bucket\": \"demo-results\", \"Region\": \"us-east-1\"}}")
  id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Job"]["Id"])' <<<"$job")
  echo "submitted job $id ($2 on $1)"
  for _ in $(seq 300); do
    status=$(curl -sf "$api/jobs/$id/status" "${auth[@]}" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["Status"])')
    case $status in completed|failed|cancelled) break ;; esac
    sleep 0.2
  done
  echo "job $id: $status"
  [ "$status" = completed ] || { curl -s "$api/jobs/$id" "${auth[@]}"; echo; exit 1; }
  path=$(curl -sf "$api/jobs/$id/metadata" "${auth[@]}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["DestinationPath"])')
  $s3 s3 cp "$path" -
  echo
  echo "result: $path"
}
run_job docs/report.pdf pdf
run_job audio/call.wav audiotag
run_job audio/call.wav s2t
echo "captions: ${path%_metadata.json}.vtt"
$s3 s3 cp "${path%_metadata.json}.vtt" -
echo "user demo: access_key=$access secret_key=$secret (data in $AIRSCOPE_DATA_DIR)"
