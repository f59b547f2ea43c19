#!/usr/bin/env bash
# Sets up the assistant on a Debian/Ubuntu machine: system packages, a virtual environment in .venv,
# a pinned CPU build of torch, then the app itself. Running it again is fast and changes nothing.
#   scripts/setup.sh          the app
#   scripts/setup.sh --test   the app plus what the tests need
set -euo pipefail
cd "$(dirname "$0")/.."

WANT_TEST=0
[[ "${1:-}" == "--test" ]] && WANT_TEST=1
VENV=${ASSISTANT_VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0

SYSTEM_PACKAGES=(ffmpeg libportaudio2 espeak-ng alsa-utils pulseaudio pulseaudio-utils libasound2-plugins
  xvfb libxcb-cursor0 libxkbcommon-x11-0
  # Qt's X11 platform plugin needs these; without them the window cannot open on X at all
  libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0
  libxcb-sync1 libxcb-xfixes0 libxcb-xkb1 libx11-xcb1 libxcb-shm0 libxcb-util1
  libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf
  python3-venv)
# Only the tests need these: the real assistive technology and desktop parts they drive (the
# screen reader's speech service, AT-SPI and its Python client, a window manager, a D-Bus session).
TEST_SYSTEM_PACKAGES=(speech-dispatcher at-spi2-core python3-pyatspi gir1.2-atspi-2.0 dbus dbus-x11
  openbox xdotool
  # the end-to-end test of the system-wide keys runs Debian's own screen reader, headless
  orca
  # the model-server key tests run a private Secret Service on their own session bus
  gnome-keyring
  # the sound-alert tests read back desktop notifications from a real daemon on a private bus
  dunst
  # the privacy test traces every connect of a whole window run at the system-call level
  strace)

say() { printf 'setup: %s\n' "$*" >&2; }

install_system_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian/Ubuntu system: install ffmpeg, PortAudio, espeak-ng and PulseAudio (or PipeWire) yourself; see README.md"
    return 0
  fi
  local missing=() wanted=("${SYSTEM_PACKAGES[@]}")
  [[ $WANT_TEST -eq 1 ]] && wanted+=("${TEST_SYSTEM_PACKAGES[@]}")
  for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local apt=(apt-get install -y --no-install-recommends "${missing[@]}")
  if [[ $(id -u) -eq 0 ]]; then
    say "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    say "installing ${missing[*]} (sudo)"
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null
  else
    say "these system packages are missing: ${missing[*]}"
    say "install them with:  sudo apt-get install ${missing[*]}"
    say "then run this script again"
    exit 1
  fi
}

python_packages() {
  [[ -x "$VENV/bin/python" ]] || { say "creating $VENV"; "$PYTHON" -m venv "$VENV"; }
  local pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
  # Re-install only when what we install has changed.
  local stamp="$VENV/.assistant-setup" hash have=""
  hash="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
  [[ -f "$stamp" ]] && have="$(cat "$stamp")"
  if [[ "$have" == "$hash test=1" || "$have" == "$hash test=$WANT_TEST" ]]; then
    return 0
  fi
  # torch first and pinned: left to itself pip would pull a multi-GB CUDA build. Users who want the
  # small CPU build from PyTorch's own index can set TORCH_INDEX_URL.
  if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    say "installing torch $TORCH_VERSION"
    "${pip[@]}" install "torch==$TORCH_VERSION" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
  fi
  local extras="whisper"
  [[ $WANT_TEST -eq 1 ]] && extras="whisper,test,multilingual"
  say "installing the assistant and its Python packages"
  "${pip[@]}" install -e ".[$extras]"
  # openai-whisper without its triton dependency (286 MB, used only on CUDA GPUs).
  "${pip[@]}" install --no-deps "openai-whisper==20250625"
  # rapidocr-onnxruntime asks for the full opencv-python, which bundles Qt 5 and breaks PySide6;
  # the headless build (a dependency above) has everything it uses.
  "${pip[@]}" install --no-deps "rapidocr-onnxruntime==1.4.4"
  if "$VENV/bin/python" -m pip show opencv-python >/dev/null 2>&1; then
    "${pip[@]}" uninstall -y opencv-python
    "${pip[@]}" install --force-reinstall --no-deps "opencv-python-headless>=4.8,<5"
  fi
  echo "$hash test=$WANT_TEST" >"$stamp"
}

install_system_packages
python_packages
say "ready: $VENV/bin/assistant"
