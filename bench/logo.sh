#!/usr/bin/env bash
# logo (issue 8), side by side in one run, everything on one core (taskset -c 0):
#  - the search of one 720p frame (grey, ORB features, LSH lookup, RANSAC on candidates) as
#    the `logo` service runs it (benches/logo.rs), with galleries of 50 and 500 logos
#    (bench/logo_gallery.py: the real logos of the tests and crops of other pictures); target
#    <= 100 ms per frame with 50 logos, and growing sub-linearly with the gallery.
#  - the reference: OpenCV's feature-matching tutorial (opencv-python 4.10, the same ORB
#    settings and references), each logo matched by brute force and fitted by RANSAC
#    (bench/logo_reference.py), which grows linearly with the gallery.
# Frames: the cookie box in its cluttered scene, a football photograph and a painting
# (the most keypoints), each fitted into 1280x720. Timings are medians of RUNS (default 5).
#   bench/logo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
ours=$(bench_bin logo)
"$venv/bin/pip" install -q opencv-python-headless==4.10.0.84 numpy==2.1.3 Pillow==11.0.0

work=$work/logo
mkdir -p "$work"
fx=target/fixtures
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
fit="scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1"
ff -i $fx/logo/box_in_scene.png -vf "$fit" "$work/frame_box.png"
ff -i $fx/logo/negative/messi5.jpg -vf "$fit" "$work/frame_football.png"
ff -i $fx/logo/negative/starry_night.jpg -vf "$fit" "$work/frame_painting.png"
frames=("$work/frame_box.png" "$work/frame_football.png" "$work/frame_painting.png")
# Crops come from every other picture, so the frames show no logo but the cookie box.
pictures=($fx/logo/box.png $fx/logo/linuxlogo.jpg $fx/logo/windowslogo.jpg $fx/logo/opencv-logo.png
  $(ls $fx/logo/negative/* | grep -v -e messi5 -e starry_night) $fx/image/face_*.jpg $fx/image/ocr_*.jpg $fx/logo/graf1.png)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for n in 50 500; do
  rm -rf "$work/gallery$n"
  "$venv/bin/python" bench/logo_gallery.py $n "$work/gallery$n" "${pictures[@]}"
  RUNS=$runs taskset -c 0 "$ours" "$work/gallery$n" "${frames[@]}" >"$out/ours.$n"
  taskset -c 0 "$venv/bin/python" bench/logo_reference.py "$runs" "$work/gallery$n" "${frames[@]}" >"$out/ref.$n"
done

python3 - "$out" <<'PY'
import os, sys
out = sys.argv[1]
def table(name):
    rows = {}
    for line in open(f"{out}/{name}"):
        parts = line.split()
        if parts[0] == "index":
            rows["index"] = float(parts[1])
        else:
            rows[os.path.basename(parts[0])] = (float(parts[1]), parts[2])
    return rows
print("720p frame search, ms (logos found)     50 logos                      500 logos")
print("                                  airscope    OpenCV tutorial   airscope    OpenCV tutorial")
o50, r50, o500, r500 = (table(n) for n in ("ours.50", "ref.50", "ours.500", "ref.500"))
for name in r50:
    cells = [f"{t[name][0]:7.1f} ({t[name][1]})" for t in (o50, r50, o500, r500)]
    print(f"  {name:28s}  " + "  ".join(f"{c:16s}" for c in cells))
print(f"  indexing the gallery: {o50['index']:.0f} ms (50), {o500['index']:.0f} ms (500)")
print("  targets: <= 100 ms per frame with 50 logos; 10x the logos well under 10x the time")
PY
