#!/usr/bin/env bash
# Decode-once pipeline against FFmpeg's own tools, side by side in one run (issue 3):
#  - decode + sample at 1 frame/s (with shot detection) vs `ffmpeg -threads 1 -i CLIP -vf fps=1 -f null -`
#    on a 720p and a 1080p H.264 clip: target ratio <= 1.15
#  - audio to 16 kHz mono f32 vs `ffmpeg -i CLIP -vn -ac 1 -ar 16000 -f f32le -y /dev/null`: target <= 1.15
#  - peak RSS decoding a 1-hour 1080p video: target <= 400 MB
# Each timing is the best of 3 runs.   bench/decode.sh [clip-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
cargo build --release --bin airscope >/dev/null
bin=$PWD/target/release/airscope
work=${BENCH_DIR:-$PWD/target/bench-media}
mkdir -p "$work"

make_clip() { # size name
  local out="$work/$2.mp4"
  [ -s "$out" ] && return
  # Moving test pattern with film-like grain, stereo AAC: content that costs a real decoder work.
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=$1:rate=30,noise=alls=12:allf=t" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000" \
    -t "$secs" -ac 2 -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 128k "$out"
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
  make_clip "$size" "$name"
  clip="$work/$name.mp4"
  ref=$(best ffmpeg -hide_banner -threads 1 -i "$clip" -vf fps=1 -f null -)
  ours=$(best "$bin" decode "$clip" --frame-interval 1 --size 640 --shots --threads 1)
  echo "video $size: ffmpeg ${ref}s, airscope ${ours}s, ratio $(ratio "$ours" "$ref") (target <= 1.15)"
  aref=$(best ffmpeg -hide_banner -i "$clip" -vn -ac 1 -ar 16000 -f f32le -y /dev/null)
  aours=$(best "$bin" decode "$clip" --audio mix)
  echo "audio $size: ffmpeg ${aref}s, airscope ${aours}s, ratio $(ratio "$aours" "$aref") (target <= 1.15)"
done

# One hour of 1080p: the clip repeated by stream copy (no re-encode), then decoded with frames,
# shots and audio together, as a job would.
long="$work/hour1080.mp4"
if [ ! -s "$long" ]; then
  reps=$(( (3600 + secs - 1) / secs ))
  for _ in $(seq "$reps"); do echo "file '$work/clip1080.mp4'"; done >"$work/list.txt"
  ffmpeg -hide_banner -loglevel error -y -f concat -safe 0 -i "$work/list.txt" -c copy "$long"
fi
out=$("$bin" decode "$long" --frame-interval 1 --size 640 --size 320 --shots --audio mix)
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
print(f"1-hour 1080p: {d['frames_decoded']} frames decoded, {d['frames_sampled']} sampled, "
      f"{d['audio_samples']/16000:.0f} s audio in {d['elapsed_seconds']:.1f} s; "
      f"peak RSS {d['peak_rss_kb']/1024:.0f} MB (target <= 400 MB)")
PY
