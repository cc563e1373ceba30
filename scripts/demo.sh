#!/usr/bin/env bash
# One command for a newcomer on a fresh Debian machine with Node 22 or 24: installs what is missing
# (apt packages, npm ci, build, demo model) and renders a lip-synced MP4 from the fixtures.
#   bash scripts/demo.sh            → out/demo.mp4
#   WAV2LIP_CHECKPOINT=/path/wav2lip_gan.pth bash scripts/demo.sh   (use official weights)
source "$(dirname "$0")/lib/ensure-deps.sh"
cd "$REPO_ROOT"
ensure_apt "${APT_RUNTIME[@]}" "${APT_MODEL[@]}"
ensure_node_modules
ensure_build
ensure_model

FACE="${FACE:-$REPO_ROOT/test/fixtures/faces/astronaut.png}"
[ -f "$FACE" ] || die "face image not found: $FACE (set FACE=/path/to/photo.png)"
mkdir -p out
TEXT="${TEXT:-Hello! I am a lip sync demo. This video was rendered on the CPU, with no GPU and no server.}"
say "speaking the demo sentence with espeak-ng"
espeak-ng -v en-us -s 150 -w out/demo-speech.wav "$TEXT"
say "rendering out/demo.mp4"
node bin/lipsync.js render --face "$FACE" --audio out/demo-speech.wav --out out/demo.mp4 "$@"
say "done: $REPO_ROOT/out/demo.mp4"
