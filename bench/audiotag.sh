#!/usr/bin/env bash
# audiotag (issue 6), side by side in one run, everything pinned to core 0:
#  - airscope: `airscope analyze --services audiotag` on an hour of AAC audio, decode included.
#    Target: <= 72 s (50x real time), and peak RSS that does not grow with the length.
#  - reference: bare YAMNet inference on the same audio's patches with ONNX Runtime's own
#    Python API (same library version and model, one thread), only `session.run` timed
#    (bench/yamnet_reference.py). Target: airscope <= 1.2x of it. Also shown: the reference
#    with ONNX Runtime's default graph optimisation, which fuses the int8 kernels.
#  - memory: peak RSS on three times the length (the same audio looped), which must stay flat.
#   bench/audiotag.sh [minutes=60]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
cargo build --release --bin airscope -q
bin=$PWD/target/release/airscope
export AIRSCOPE_MODELS__DIR=$PWD/target/bench-models
$bin models fetch >/dev/null
work=${BENCH_DIR:-$PWD/target/bench-media}
mkdir -p "$work"
venv=$PWD/target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q onnxruntime==1.22.1 onnx==1.17.0 numpy==2.1.3

# Real recordings when the test fixtures are present (scripts/fetch-fixtures.sh),
# looped; otherwise pink noise with a tone. Stereo AAC at 44.1 kHz, as most media is.
audio=$work/audiotag-${minutes}m.m4a
if [ ! -s "$audio" ]; then
  fixtures=target/fixtures/audio
  if ls $fixtures/*.ogg >/dev/null 2>&1; then
    list=$work/audiotag-list.txt
    : >"$list"
    mkdir -p "$work/parts"
    for f in $fixtures/*; do  # one format for all, so the concat demuxer can join them
      part=$work/parts/$(basename "${f%.*}").wav
      ffmpeg -hide_banner -loglevel error -y -i "$f" -vn -ac 2 -ar 44100 -c:a pcm_s16le "$part"
      echo "file '$part'" >>"$list"
    done
    ffmpeg -hide_banner -loglevel error -y -f concat -safe 0 -i "$list" -c copy "$work/loop.wav"
    src=(-stream_loop -1 -i "$work/loop.wav")
  else
    src=(-f lavfi -i "anoisesrc=c=pink:a=0.1,volume=1" -f lavfi -i "sine=f=440" -filter_complex amix=inputs=2)
  fi
  ffmpeg -hide_banner -loglevel error -y "${src[@]}" -t $((minutes * 60)) -ac 2 -ar 44100 -c:a aac -b:a 128k "$audio"
fi
echo "audio: $minutes min of AAC; $(nproc) cores; all runs on core 0"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -f '%e %M' -o "$out/time" taskset -c 0 $bin analyze --services audiotag --out "$out" "$audio" >/dev/null 2>&1
read -r ours rss <"$out/time"
long=$work/audiotag-$((minutes * 3))m.m4a
[ -s "$long" ] || ffmpeg -hide_banner -loglevel error -y -stream_loop 2 -i "$audio" -c copy "$long"
/usr/bin/time -f '%e %M' -o "$out/time3" taskset -c 0 $bin analyze --services audiotag --out "$out/3" "$long" >/dev/null 2>&1
read -r ours3 rss3 <"$out/time3"
entries=$(python3 -c "import json,glob; print(len(json.load(open(glob.glob('$out/*.json')[0]))['message_payload']['audio_classifications']))")
read -r patches bare < <(taskset -c 0 "$venv/bin/python" bench/yamnet_reference.py "$AIRSCOPE_MODELS__DIR/yamnet" "$audio")
read -r _ fused < <(taskset -c 0 "$venv/bin/python" bench/yamnet_reference.py "$AIRSCOPE_MODELS__DIR/yamnet" "$audio" --default-graph)
python3 - <<PY
ours, bare, fused, minutes = $ours, $bare, $fused, $minutes
print(f"airscope analyze:  {ours:6.1f} s  ({minutes * 60 / ours:.0f}x real time; per hour {ours * 60 / minutes:.1f} s, target <= 72), peak RSS $((rss / 1024)) MB, $entries segments")
print(f"bare inference:    {bare:6.1f} s  ($patches patches, {bare / $patches * 1000:.2f} ms each; same graph settings)")
print(f"  ORT default graph: {fused:4.1f} s  ({fused / $patches * 1000:.2f} ms each; fused int8 kernels)")
print(f"airscope / bare:   {ours / bare:.2f}x (target <= 1.2x)")
print(f"3x the length:     {$ours3:6.1f} s, peak RSS $((rss3 / 1024)) MB (vs $((rss / 1024)) MB)")
PY
