#!/usr/bin/env bash
# face (issue 7), side by side in one run, everything on one core (taskset -c 0, BLAS on one
# thread in both):
#  - 720p frames (a group of six, one person, a crowd of 40 faces tiled 8x5): dlib's HOG
#    detection and the embedding of every face found, as the `face` service runs them on
#    video (benches/face.rs); targets <= 80 ms per frame and <= 40 ms per face. The same
#    frames through the `face_recognition` package (1.3.0 on dlib 19.24.6, the same model
#    files, the same settings: no upsampling, 5-point aligner, no jitter): target at least as
#    fast.
#  - a 5-minute 720p video (20 shots of 15 s, each a slow zoom into a photograph of one of
#    four people or of the group of six), sampled at 1 frame/s: `airscope analyze --services
#    face` end to end (decode, detect, follow, embed, group), target <= 60 s; against
#    face_recognition finding and embedding the faces of every sampled frame.
# Frame timings are medians of RUNS (default 5) runs after a warm-up, in ROUNDS (default 3)
# rounds alternating the two sides; the table shows each side's best round and, in brackets,
# its worst: the machine is shared and slows down in bursts that can span a whole round.
#   bench/face.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
ours=$(bench_bin face)
"$venv/bin/pip" install -q dlib-bin==19.24.6 face_recognition_models==0.3.0 numpy==2.1.3 Pillow==11.0.0 Click==8.1.7
"$venv/bin/pip" install -q --no-deps face_recognition==1.3.0
# The reference must run the files airscope runs.
ref_models=$("$venv/bin/python" -c "import face_recognition_models, os; print(os.path.dirname(face_recognition_models.__file__) + '/models')")
for f in shape_predictor_5_face_landmarks.dat dlib_face_recognition_resnet_model_v1.dat; do
  cmp -s "$ref_models/$f" "$AIRSCOPE_MODELS__DIR/dlib/$f" || { echo "face_recognition's $f differs from airscope's" >&2; exit 1; }
done
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

work=$work/face
mkdir -p "$work"
fx=target/fixtures/image
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
fit="scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1"
ff -i $fx/face_group_six.jpg -vf "$fit" "$work/frame_group.png"
ff -i $fx/face_obama_1.jpg -vf "crop=iw:iw:0:0,$fit" "$work/frame_one.png"
ff -i $fx/face_obama_1.jpg -vf "crop=400:360:300:80,scale=160:144,loop=39:1:0,tile=8x5" -frames:v 1 "$work/frame_crowd.png"

if [ ! -s "$work/video.mp4" ]; then
  photos=(face_obama_1.jpg face_biden.jpg face_group_six.jpg face_obama_2.jpg face_obama_3.jpg)
  inputs=() filter=""
  for i in $(seq 0 19); do
    inputs+=(-i "$fx/${photos[$((i % 5))]}")
    filter+="[$i]crop=iw:min(ih\,iw):0:0,$fit,zoompan=z='1+0.15*on/375':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=375:s=1280x720:fps=25[v$i];"
  done
  for i in $(seq 0 19); do filter+="[v$i]"; done
  ff "${inputs[@]}" -filter_complex "${filter}concat=n=20:v=1:a=0[out]" -map "[out]" -c:v libx264 -pix_fmt yuv420p "$work/video.mp4"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
frames=("$work/frame_group.png" "$work/frame_one.png" "$work/frame_crowd.png")
for round in $(seq "${ROUNDS:-3}"); do
  RUNS=$runs taskset -c 0 "$ours" "$AIRSCOPE_MODELS__DIR" "${frames[@]}" >>"$out/ours.frame"
  taskset -c 0 "$venv/bin/python" bench/face_recognition_reference.py "$runs" "${frames[@]}" >>"$out/ref.frame"
done
/usr/bin/time -f '%e %M' -o "$out/analyze" taskset -c 0 $bin analyze --services face --out "$out" "$work/video.mp4" >/dev/null 2>&1
taskset -c 0 "$venv/bin/python" bench/face_recognition_video.py "$work/video.mp4" >"$out/ref.video"

python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
def table(name):
    rows = {}
    for line in open(f"{out}/{name}"):
        path, detect, faces, embed = line.split()
        rows.setdefault(os.path.basename(path), []).append((float(detect), int(faces), float(embed)))
    return rows
def best(rounds, i):
    values = [r[i] for r in rounds]
    return f"{min(values):6.1f} ({max(values):5.1f})"
ours, ref = table("ours.frame"), table("ref.frame")
print("720p frames, best round (worst)   detect ms                       embed ms per face")
print("                          faces   airscope      face_recognition  airscope      face_recognition")
for name, o in ours.items():
    r = ref[name]
    print(f"  {name:20s} {o[0][1]:3d}/{r[0][1]:3d}  {best(o, 0)}  {best(r, 0)}    {best(o, 2)}  {best(r, 2)}")
print("  targets: detect <= 80 ms per frame, embed <= 40 ms per face, at least as fast as face_recognition")
t, rss = open(f"{out}/analyze").read().split()
doc = json.load(open(glob.glob(f"{out}/*_metadata.json")[0]))["message_payload"]["faces"]
rt, rframes, rfaces = open(f"{out}/ref.video").read().split()
print(f"5-min 720p video at 1 frame/s: airscope analyze --services face {float(t):.1f} s on one core "
      f"(target <= 60 s), peak RSS {int(rss) / 1024:.0f} MB, {len(doc['people'])} people, "
      f"{len(doc['detections'])} followed faces; face_recognition on every sampled frame "
      f"{float(rt):.1f} s ({rframes} frames, {rfaces} faces embedded), {float(rt) / float(t):.2f}x")
PY
