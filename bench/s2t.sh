#!/usr/bin/env bash
# s2t (issue 4), side by side in one run, on the machine's cores (2 here):
#  - airscope: `airscope analyze --services s2t` on a minute of real read English (LibriVox:
#    Shakespeare's first sonnet and a Sense and Sensibility sentence, from the test fixtures),
#    end to end: process start, model load, decode, voice detection, language detection,
#    transcription, JSON. Target: real-time factor <= 0.15 (a minute in <= 9 s).
#  - reference: whisper-rs's minimal use on the same model, the same PCM (decoded beforehand)
#    and threads: load, then one `full` over the whole minute (benches/whisper_reference.rs).
#    Target: airscope <= 1.1x of it.
#  - memory: peak RSS of airscope on the minute and on the same minute read ten times with
#    pauses (11 min of audio, 10 min of speech); it must not grow with the length.
# Each timing is the median of RUNS (default 3), alternating the two.
#   bench/s2t.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
runs=${RUNS:-3}
reference=$(bench_bin whisper_reference)
fx=target/fixtures/audio
minute=$work/s2t-minute.wav
ffmpeg -hide_banner -loglevel error -y -i $fx/s2t_en_sonnet1.wav -i $fx/s2t_en_austen_0870.wav \
  -filter_complex "[0:a][1:a]concat=n=2:v=0:a=1" -ar 16000 -ac 1 -c:a pcm_s16le "$minute"
pcm=$work/s2t-minute.f32
ffmpeg -hide_banner -loglevel error -y -i "$minute" -f f32le -ar 16000 -ac 1 "$pcm"
hour=$work/s2t-ten.flac
if [ ! -s "$hour" ]; then # the minute, then 5 s of quiet, ten times over
  ffmpeg -hide_banner -loglevel error -y -i "$minute" -af apad=pad_dur=5 "$work/s2t-padded.wav"
  ffmpeg -hide_banner -loglevel error -y -stream_loop 9 -i "$work/s2t-padded.wav" -c:a flac "$hour"
fi
secs=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$minute")
hour_secs=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$hour")
threads=$(nproc)
echo "audio: ${secs} s of read English (16 kHz WAV); $threads cores; reference on $threads threads"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq "$runs"); do
  /usr/bin/time -f '%e %M' -o "$out/ours.$i" $bin analyze --services s2t --out "$out" "$minute" >/dev/null 2>&1
  $reference "$AIRSCOPE_MODELS__DIR/whisper/ggml-base-q8_0.bin" "$pcm" "$threads" >"$out/ref.$i" 2>/dev/null
done
/usr/bin/time -f '%e %M' -o "$out/hour" $bin analyze --services s2t --out "$out/h" "$hour" >/dev/null 2>&1
words=$(python3 -c "import json,glob; print(len(json.load(open(glob.glob('$out/*_metadata.json')[0]))['message_payload']['speech_to_text']['text'].split()))")
python3 - "$out" "$runs" "$secs" "$words" "$hour_secs" <<'PY'
import statistics, sys
out, runs, secs, words = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
hour_secs = float(sys.argv[5])
ours = [tuple(map(float, open(f"{out}/ours.{i}").read().split())) for i in range(1, runs + 1)]
ref = [tuple(map(float, open(f"{out}/ref.{i}").read().split())) for i in range(1, runs + 1)]
t = statistics.median(o[0] for o in ours)
rss = max(o[1] for o in ours) / 1024
load = statistics.median(r[0] for r in ref)
run = statistics.median(r[1] for r in ref)
hour_t, hour_rss = map(float, open(f"{out}/hour").read().split())
print(f"airscope analyze:   {t:6.2f} s  RTF {t / secs:.3f} (target <= 0.15), peak RSS {rss:.0f} MB, {words} words")
print(f"whisper-rs minimal: {load + run:6.2f} s  (load {load:.2f} + transcribe {run:.2f}), RTF {(load + run) / secs:.3f}, {int(ref[0][2])} words (the reading has 130)")
print(f"ratio:              {t / (load + run):6.2f}x (target <= 1.1)")
print(f"{hour_secs / 60:.0f} min (10 readings with pauses): {hour_t:.1f} s, RTF {hour_t / hour_secs:.3f}, peak RSS {hour_rss / 1024:.0f} MB")
print("runs (airscope, reference):", [(o[0], round(r[0] + r[1], 2)) for o, r in zip(ours, ref)])
PY
