#!/usr/bin/env bash
# nld (issue 9), side by side in one run: a 2-minute 720p video with sound (12 shots of 10 s,
# each a real photograph slowly zoomed with a real recording under it: a speaker, a sign,
# black silence, a stranger, a product on a table), with a face and a logo gallery.
#  - reference: `airscope analyze` with the services descriptions are made from
#    (s2t,ocr,audiotag,face,logo), wall time;
#  - the same with nld added: wall time, and the time composing the descriptions took inside
#    it (the analyser's own log line). Target: composition <= 1 % of the job's time.
#   bench/nld.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh

work=$work/nld
mkdir -p "$work"
fx=target/fixtures
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
if [ ! -s "$work/video.mp4" ]; then
  pictures=(image/face_obama_3.jpg image/ocr_scene_no_parking.jpg "" image/face_biden.jpg logo/box_in_scene.png)
  sounds=(audio/s2t_en_austen_0870.wav audio/music_jazz.ogg "" audio/helicopter.wav audio/applause.wav)
  inputs=() filter=""
  for i in $(seq 0 11); do
    k=$((i % 5))
    if [ -z "${pictures[$k]}" ]; then
      inputs+=(-f lavfi -i "color=c=black:s=1280x720:r=25" -f lavfi -i "anullsrc=r=16000:cl=mono")
    else
      inputs+=(-loop 1 -i "$fx/${pictures[$k]}" -i "$fx/${sounds[$k]}")
    fi
    crop=""
    if [ $k = 0 ] || [ $k = 3 ]; then crop="crop=iw:min(ih\,iw):0:0,"; fi
    filter+="[$((2 * i)):v]${crop}scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,"
    filter+="zoompan=z='1+0.002*on':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=1280x720:fps=25,trim=duration=10[v$i];"
    filter+="[$((2 * i + 1)):a]aresample=16000,aformat=channel_layouts=mono,apad,atrim=duration=10[a$i];"
  done
  for i in $(seq 0 11); do filter+="[v$i][a$i]"; done
  ff "${inputs[@]}" -filter_complex "${filter}concat=n=12:v=1:a=1[v][a]" -map "[v]" -map "[a]" \
    -c:v libx264 -pix_fmt yuv420p -c:a aac "$work/video.mp4"
fi
mkdir -p "$work/faces/Barack Obama" "$work/logos/Bastoncini"
cp $fx/image/face_obama_1.jpg "$work/faces/Barack Obama/"
cp $fx/logo/box.png "$work/logos/Bastoncini/"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {
  local name=$1 services=$2
  mkdir -p "$out/$name"
  RUST_LOG=airscope::analysers::nld=debug AIRSCOPE_LOG_FORMAT=json /usr/bin/time -f '%e %M' -o "$out/$name.time" \
    $bin analyze --services "$services" --faces "$work/faces" --logos "$work/logos" \
    --out "$out/$name" "$work/video.mp4" >/dev/null 2>"$out/$name.log"
}
run reference s2t,ocr,audiotag,face,logo
run nld s2t,ocr,audiotag,face,logo,nld

python3 - "$out" <<'PY'
import glob, json, sys
out = sys.argv[1]
def wall(name):
    t, rss = open(f"{out}/{name}.time").read().split()
    return float(t), int(rss) / 1024
ref, ref_rss = wall("reference")
job, job_rss = wall("nld")
ms = None
for line in open(f"{out}/nld.log"):
    try:
        event = json.loads(line)
    except ValueError:
        continue  # the progress bar
    if event.get("fields", {}).get("message") == "descriptions composed":
        ms = float(event["fields"]["ms"])
doc = json.load(open(glob.glob(f"{out}/nld/*_metadata.json")[0]))["message_payload"]
descriptions = doc["descriptions"]
print(f"2-min 720p video, 12 shots, faces and logos galleries, 2 cores")
print(f"  reference: analyze s2t,ocr,audiotag,face,logo      {ref:7.1f} s  peak RSS {ref_rss:5.0f} MB")
print(f"  with nld:  analyze s2t,ocr,audiotag,face,logo,nld  {job:7.1f} s  peak RSS {job_rss:5.0f} MB")
print(f"  composing {len(descriptions)} descriptions: {ms:.2f} ms = {ms / 10 / job:.4f} % of the job "
      f"(target <= 1 %); difference of the two wall times {job - ref:+.1f} s (machine noise included)")
for d in descriptions[:5]:
    print(f"    {d['start']:6.2f}-{d['end']:6.2f}  {d['text']}")
PY
