#!/usr/bin/env bash
# Builds the installer and the packages:
#   scripts/packages.sh setup   bin/hvm-setup for this machine, carrying the
#                               provider and agent built for it
#   scripts/packages.sh         into dist/: the installers hvm-setup_linux_amd64
#                               and hvm-setup_windows_amd64.exe, the .deb (nfpm,
#                               pinned in tools/nfpm) and the .msi (wixl)
# VERSION defaults to `git describe`; the packages take a numeric form of it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
LDFLAGS="-s -w -X hvmigrate/shared/version.release=$VERSION"
payload=setup/internal/payload/files

# The payload directory holds built binaries only while hvm-setup builds, so
# that `go build ./...` elsewhere never embeds stale ones.
clean_payload() { find "$payload" -mindepth 1 ! -name README.md -delete; }
trap clean_payload EXIT

gobuild() { # GOOS OUT PKG [go build flags...]
	local goos=$1 out=$2 pkg=$3
	shift 3
	GOOS="$goos" GOARCH=amd64 go build -trimpath -ldflags "$LDFLAGS" "$@" -o "$out" "$pkg"
}

ext() { [ "$1" = windows ] && echo .exe || true; }

# build_bins GOOS DIR: the provider and the agent for GOOS into DIR.
build_bins() {
	local e
	e="$(ext "$1")"
	mkdir -p "$2"
	gobuild "$1" "$2/hvm-provider$e" ./provider/cmd/hvm-provider
	gobuild "$1" "$2/hvm-agent$e" ./agent/cmd/hvm-agent
}

# build_setup GOOS DIR OUT: hvm-setup for GOOS carrying the binaries in DIR.
build_setup() {
	local e
	e="$(ext "$1")"
	clean_payload
	cp "$2/hvm-provider$e" "$2/hvm-agent$e" "$payload/"
	gobuild "$1" "$3" ./setup/cmd/hvm-setup
	clean_payload
}

# pkg_version: X.Y.Z from a vX.Y.Z tag, else 0.0.0.
pkg_version() {
	if [[ "$VERSION" =~ ^v?([0-9]+\.[0-9]+\.[0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo 0.0.0; fi
}

build_deb() {
	local bins=dist/stage/linux stage=dist/stage/deb v
	rm -rf "$bins" "$stage"
	build_bins linux "$bins"
	build_setup linux "$bins" dist/hvm-setup_linux_amd64
	dist/hvm-setup_linux_amd64 install --root "$stage" >/dev/null
	gobuild linux "$bins/hvm-setup" ./setup/cmd/hvm-setup -tags nopayload
	v="$(pkg_version)"
	[[ "$VERSION" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+$ ]] || v="$v~git.${VERSION//-/.}"
	rm -f dist/hvmigrate_*_amd64.deb
	DEB_VERSION="$v" go tool -modfile=tools/nfpm/go.mod nfpm package --config packaging/nfpm.yaml --packager deb --target dist/ >/dev/null
	ls dist/hvmigrate_*_amd64.deb
}

build_msi() {
	local stage=dist/stage/msi out
	rm -rf "$stage"
	build_bins windows "$stage"
	build_setup windows "$stage" dist/hvm-setup_windows_amd64.exe
	gobuild windows "$stage/hvm-setup.exe" ./setup/cmd/hvm-setup -tags nopayload
	out="dist/hvmigrate-$(pkg_version)-x64.msi"
	rm -f dist/hvmigrate-*-x64.msi
	# wixl finds sources relative to its working directory only.
	(cd "$stage" && wixl -a x64 -D Version="$(pkg_version)" -D BinDir=. -o ../../../"$out" ../../../packaging/msi/hvmigrate.wxs)
	ls "$out"
}

case "${1:-all}" in
setup)
	mkdir -p bin dist/stage
	build_bins "$(go env GOOS)" dist/stage/host
	build_setup "$(go env GOOS)" dist/stage/host "bin/hvm-setup$(ext "$(go env GOOS)")"
	;;
all)
	mkdir -p dist/stage
	build_deb
	build_msi
	;;
*)
	echo "usage: $0 [setup]" >&2
	exit 2
	;;
esac
