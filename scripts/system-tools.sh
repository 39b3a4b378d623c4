#!/usr/bin/env bash
# The machine tools the product and its tests drive for real (not Python packages, so not in a venv):
#   ffmpeg/ffprobe        video processing (make dev and the video suites)
#   chromium/chromedriver the ops console's browser test (make test only)
# Usage: scripts/system-tools.sh dev|test. Missing tools are installed from Debian/Ubuntu packages when
# this runs as root or with passwordless sudo; otherwise the exact command is printed.
set -euo pipefail
missing=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
if [[ "${1:-test}" == test ]]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
fi
((${#missing[@]})) || exit 0
if [[ $(id -u) == 0 ]]; then
  sudo=()
elif sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "Missing: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
  [[ "${1:-test}" == dev ]] && { echo "(make dev runs without them; video uploads fail until then)" >&2; exit 0; }
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "Missing: ${missing[*]} (no apt-get here: install them with your package manager)" >&2
  exit 1
fi
echo "Installing ${missing[*]} (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
