#!/usr/bin/env bash
# Decode-once pipeline against FFmpeg's own tools, side by side in one run (issue 3):
#  - decode + sample at 1 frame/s (with shot detection) vs `ffmpeg -threads 1 -i CLIP -vf fps=1 -f null -`
#    on a 720p and a 1080p H.264 clip: target ratio <= 1.15
#  - audio to 16 kHz mono f32 vs `ffmpeg -i CLIP -vn -ac 1 -ar 16000 -f f32le -y /dev/null`, on the
#    clips and on a one-hour file (where start-up costs no longer hide the throughput): target <= 1.15
#  - peak RSS decoding a 1-hour 1080p video (frames, shots and audio together): target <= 400 MB
# Each timing is the best of 3 runs.   bench/decode.sh [clip-seconds] [--no-hour]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
cargo build --release --bin airscope >/dev/null
bin=$PWD/target/release/airscope
work=${BENCH_DIR:-$PWD/target/bench-media}
mkdir -p "$work"

make_clip() { # size name grain seconds
  local out="$work/$2.mp4"
  [ -s "$out" ] && return
  # Moving test pattern with film-like grain, stereo AAC: broadcast-like bit rates.
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=$1:rate=30,noise=alls=$3:allf=t" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000" \
    -t "$4" -ac 2 -c:v libx264 -preset veryfast -crf 26 -pix_fmt yuv420p -c:a aac -b:a 128k "$out"
}

best() { # command...: best wall time of 3 runs, in seconds
  local best=""
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    best=$(python3 -c "t=$t1-$t0; b='$best'; print(t if not b else min(t, float(b)))")
  done
  printf '%.3f' "$best"
}

ratio() { python3 -c "print(f'{$1/$2:.3f}')"; }

echo "clip length: ${secs}s; machine: $(nproc) cores"
for spec in 1280x720:clip720 1920x1080:clip1080; do
  size=${spec%%:*}; name=${spec##*:}
  make_clip "$size" "$name" 4 "$secs"
  clip="$work/$name.mp4"
  ref=$(best ffmpeg -hide_banner -threads 1 -i "$clip" -vf fps=1 -f null -)
  ours=$(best "$bin" decode "$clip" --frame-interval 1 --size 640 --shots --threads 1)
  echo "video $size: ffmpeg ${ref}s, airscope ${ours}s, ratio $(ratio "$ours" "$ref") (target <= 1.15)"
  aref=$(best ffmpeg -hide_banner -i "$clip" -vn -ac 1 -ar 16000 -f f32le -y /dev/null)
  aours=$(best "$bin" decode "$clip" --audio mix)
  echo "audio $size: ffmpeg ${aref}s, airscope ${aours}s, ratio $(ratio "$aours" "$aref") (target <= 1.15)"
done

[ "${2:-}" = "--no-hour" ] && exit 0

# One hour of 1080p: a clean minute repeated by stream copy (no re-encode), decoded with frames,
# shots and audio together as a job would (2 decoder threads to keep the run short).
make_clip 1920x1080 minute1080 0 60
long="$work/hour1080.mp4"
if [ ! -s "$long" ]; then
  for _ in $(seq 60); do echo "file '$work/minute1080.mp4'"; done >"$work/list.txt"
  ffmpeg -hide_banner -loglevel error -y -f concat -safe 0 -i "$work/list.txt" -c copy "$long"
fi
aref=$(best ffmpeg -hide_banner -i "$long" -vn -ac 1 -ar 16000 -f f32le -y /dev/null)
aours=$(best "$bin" decode "$long" --audio mix)
echo "audio 1 hour: ffmpeg ${aref}s, airscope ${aours}s, ratio $(ratio "$aours" "$aref") (target <= 1.15)"
"$bin" decode "$long" --frame-interval 1 --size 640 --size 320 --shots --audio mix --threads 2 >"$work/hour.json"
python3 - "$work/hour.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"1-hour 1080p: {d['frames_decoded']} frames decoded, {d['frames_sampled']} sampled, "
      f"{d['audio_samples']/16000:.0f} s audio in {d['elapsed_seconds']:.1f} s; "
      f"peak RSS {d['peak_rss_kb']/1024:.0f} MB (target <= 400 MB)")
PY
