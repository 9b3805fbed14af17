#!/usr/bin/env bash
# Installs what building and testing hvmigrate needs on a Debian machine that
# has Go: Debian packages (qemu-img and qemu-io for disk-format tests,
# mkfs.ext4 for demo disks, Node.js for the storage emulator), the pinned npm
# tools (Azurite, buf), and the Go modules. Fast when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need_go="1.26"
if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "install-deps: Go $need_go or newer is required (https://go.dev/dl/); none found" >&2
    exit 1
  fi
fi

# Debian packages, by the command each provides.
declare -A pkg_for=(
  [qemu-img]=qemu-utils
  [qemu-io]=qemu-utils
  [mkfs.ext4]=e2fsprogs
  [wixl]=wixl
  [msiinfo]=msitools
  [msiextract]=msitools
  [dpkg-deb]=dpkg
  [useradd]=passwd
  [sfdisk]=fdisk
  [node]=nodejs
  [npm]=npm
)
missing=()
for cmd in "${!pkg_for[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_for[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "install-deps: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Pinned npm tools; reinstall only when the lockfile changed.
stamp=tools/npm/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ tools/npm/package-lock.json -nt "$stamp" ]; then
  echo "install-deps: installing pinned npm tools (azurite, buf)"
  npm ci --prefix tools/npm --no-audit --no-fund --loglevel=error
fi

go mod download
