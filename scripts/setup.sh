#!/usr/bin/env bash
# Install what airscope needs to build, run and test on Debian 12, when it is missing:
# FFmpeg (libraries and tools), clang for the FFmpeg bindings, cmake and g++ for whisper.cpp, sqlite3,
# pip, the AWS CLI, DejaVu fonts (the OCR tests draw captions on video with them), dlib with
# OpenBLAS (its single-threaded build) and LAPACK (service face), and OpenCV's features2d and
# calib3d (service logo).
# Safe to run again: it installs only what is absent.
set -euo pipefail

packages=(
  ffmpeg pkg-config clang libclang-dev cmake g++
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libavfilter-dev libavdevice-dev
  sqlite3 python3-pip curl ca-certificates
  fonts-dejavu-core
  libdlib-dev liblapack-dev libopenblas-serial-dev
  libopencv-features2d-dev libopencv-calib3d-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PostgreSQL server binaries for the tests' throwaway servers (Postgres store backend).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "setup: installing postgresql"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

if ! command -v aws >/dev/null 2>&1; then
  echo "setup: installing the AWS CLI (pip)"
  python3 -m pip install --quiet --user awscli 2>/dev/null || python3 -m pip install --quiet --break-system-packages awscli
fi
if ! command -v cargo-nextest >/dev/null 2>&1 && ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest"
  cargo install --locked cargo-nextest
fi
