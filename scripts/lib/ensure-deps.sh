# Sourced by scripts/demo.sh and scripts/test.sh: installs what a fresh Debian machine lacks, once.
# Usage: ensure_apt PKG...; ensure_node_modules; ensure_build; ensure_model
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ensure_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages: ${missing[*]} (this script expects Debian/Ubuntu with apt-get)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "missing packages: ${missing[*]}; run as root or install sudo"
    sudo="sudo"
  fi
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq || die "apt-get update failed; install by hand: apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed; install by hand: apt-get install ${missing[*]}"
}

ensure_node() {
  command -v node >/dev/null || die "Node.js 22 or 24 is required (https://nodejs.org or Debian's nodejs)"
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 22 or 24 is required, found $(node -v)"
  [ "$major" -ge 22 ] || say "Node.js $(node -v) is past its end of life (April 2026); it still runs, but use 22 or 24"
}

# Node 24 (the current LTS) for a second pass of the tests when the machine's node is older: the npm
# registry's node-linux-<arch> package ships the official binary. Kept between runs; sets NODE24.
NODE24_DIR="${LIPSYNC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lipsync-gateway}/node-24"
ensure_node24() {
  if [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 24 ]; then NODE24="$(command -v node)"; return 0; fi
  NODE24="$NODE24_DIR/package/bin/node"
  if [ -x "$NODE24" ] && [ "$("$NODE24" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = 24 ]; then return 0; fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no node-linux package for $(uname -m); install Node 24 and run the tests with it" ;;
  esac
  say "fetching Node 24 (npm package node-linux-$arch@24) into $NODE24_DIR"
  mkdir -p "$(dirname "$NODE24_DIR")"
  # unpacked next to the cache and moved into place whole, so an interrupted fetch leaves no half binary
  local tmp tgz; tmp=$(mktemp -d "$NODE24_DIR.XXXXXX")
  tgz=$(cd "$tmp" && npm pack "node-linux-$arch@24" --silent --no-fund --no-audit) && tar -xzf "$tmp/$tgz" -C "$tmp" \
    || { rm -rf "$tmp"; die "could not fetch node-linux-$arch@24 from the npm registry"; }
  rm -f "$tmp/$tgz"
  rm -rf "$NODE24_DIR" && mv "$tmp" "$NODE24_DIR"
  "$NODE24" --version >/dev/null || die "the fetched Node 24 does not run: $NODE24"
}

ensure_node_modules() {
  ensure_node
  local stamp="$REPO_ROOT/node_modules/.lipsync-lock-sha"
  local want; want=$(sha256sum "$REPO_ROOT/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "npm ci (install scripts stay off: every dependency ships its binaries)"
    (cd "$REPO_ROOT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || die "npm ci failed"
    echo "$want" > "$stamp"
  fi
}

ensure_build() {
  say "building the gateway (tsc)"
  (cd "$REPO_ROOT" && npx tsc -p tsconfig.build.json) || die "TypeScript build failed"
}

ensure_model() {
  (cd "$REPO_ROOT" && bash scripts/setup-model.sh)
}

APT_RUNTIME=(ffmpeg espeak-ng)
APT_MODEL=(python3 python3-torch python3-onnx python3-numpy)
APT_TEST=(python3-scipy python3-pytest chromium prometheus redis-server)
