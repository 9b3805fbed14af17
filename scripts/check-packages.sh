#!/usr/bin/env bash
# Builds the installers and packages (scripts/packages.sh) and checks them:
# the standalone hvm-setup installs into, reports on and leaves a scratch
# root; the .deb's contents, and its maintainer scripts in a throwaway root
# (dpkg --root, scripts run outside a chroot with DPKG_ROOT set); the .msi's
# tables, streams, files and services (msitools). Any mismatch fails.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-packages: FAIL: $*" >&2; exit 1; }
ok() { echo "check-packages: ok: $*"; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed (scripts/install-deps.sh installs it)"; }
for t in dpkg dpkg-deb wixl msiinfo msiextract useradd; do PATH="$PATH:/usr/sbin:/sbin" need "$t"; done
export PATH="$PATH:/usr/sbin:/sbin"
[ "$(id -u)" -eq 0 ] || fail "the .deb check installs into a throwaway root with dpkg --root and needs root"

scripts/packages.sh >/dev/null
deb=$(ls dist/hvmigrate_*_amd64.deb)
msi=$(ls dist/hvmigrate-*-x64.msi)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

sha() { sha256sum "$1" | cut -d' ' -f1; }
same() { [ "$(sha "$1")" = "$(sha "$2")" ] || fail "$1 differs from $2"; }
mode_owner() { stat -c '%a %u:%g' "$1"; }
expect() { # WHAT GOT WANT
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

check_setup() {
	local r="$scratch/setup" out
	out=$(dist/hvm-setup_linux_amd64 version)
	[[ "$out" == *"carries hvm-provider and hvm-agent"* ]] || fail "hvm-setup version: $out"
	dist/hvm-setup_linux_amd64 install --root "$r" --simhost /run/hvm-simhost/sim.sock >/dev/null
	same "$r/opt/hvmigrate/bin/hvm-provider" dist/stage/linux/hvm-provider
	same "$r/opt/hvmigrate/bin/hvm-agent" dist/stage/linux/hvm-agent
	"$r/opt/hvmigrate/bin/hvm-provider" version | grep -q '^hvm-provider ' || fail "installed hvm-provider does not run"
	"$r/opt/hvmigrate/bin/hvm-agent" version | grep -q '^hvm-agent ' || fail "installed hvm-agent does not run"
	out=$(dist/hvm-setup_linux_amd64 status --root "$r")
	[[ "$out" == *"hvm-agent: ok"* && "$out" == *"service hvm-provider: enabled"* ]] || fail "hvm-setup status: $out"
	dist/hvm-setup_linux_amd64 uninstall --root "$r" --purge >/dev/null
	[ -z "$(find "$r" -type f)" ] || fail "files left after uninstall --purge: $(find "$r" -type f)"
	ok "hvm-setup_linux_amd64 installs the binaries it was built with, reports and uninstalls"
}

check_deb_contents() {
	local listing
	listing=$(dpkg-deb -c "$deb" | awk '{print $1, $2, $6}')
	for want in \
		"-rwxr-xr-x root/root ./opt/hvmigrate/bin/hvm-provider" \
		"-rwxr-xr-x root/root ./opt/hvmigrate/bin/hvm-agent" \
		"-rwxr-xr-x root/root ./opt/hvmigrate/bin/hvm-setup" \
		"-rw-r--r-- root/root ./lib/systemd/system/hvm-agent.service" \
		"-rw-r--r-- root/root ./lib/systemd/system/hvm-provider.service" \
		"drwxr-x--- root/root ./etc/hvmigrate/" \
		"-rw-r----- root/root ./etc/hvmigrate/hvm-agent.env" \
		"-rw-r----- root/root ./etc/hvmigrate/hvm-provider.env"; do
		grep -qxF -- "$want" <<<"$listing" || fail "$deb lacks '$want'; it holds:
$listing"
	done
	expect "package name" "$(dpkg-deb -f "$deb" Package)" hvmigrate
	expect "conffiles" "$(dpkg-deb -I "$deb" conffiles | sort | tr '\n' ' ')" "/etc/hvmigrate/hvm-agent.env /etc/hvmigrate/hvm-provider.env "
	ok "$deb holds the binaries, units and configuration with the right modes"
}

# new_root DIR: an empty system with a dpkg database and a passwd file.
new_root() {
	mkdir -p "$1"/var/lib/dpkg/{info,updates,triggers} "$1/etc"
	touch "$1/var/lib/dpkg/status" "$1/var/lib/dpkg/available"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$1/etc/passwd"
	echo 'root:x:0:' >"$1/etc/group"
	echo 'root:*::0:99999:7:::' >"$1/etc/shadow"
	echo 'root:*::' >"$1/etc/gshadow"
	chmod 0640 "$1/etc/shadow" "$1/etc/gshadow"
}

rdpkg() { # ROOT dpkg-args...
	local r=$1
	shift
	dpkg --root="$r" --force-script-chrootless --force-depends --log=/dev/null "$@" >/dev/null 2>"$scratch/dpkg.err" ||
		fail "dpkg $*: $(cat "$scratch/dpkg.err")"
}

check_deb_install() {
	local r="$scratch/debroot" entry uid gid
	new_root "$r"
	rdpkg "$r" -i "$deb"
	entry=$(grep '^hvmigrate:' "$r/etc/passwd") || fail "postinst created no hvmigrate user"
	IFS=: read -r _ _ uid gid _ home shell <<<"$entry"
	[ "$uid" -lt 1000 ] || fail "hvmigrate is not a system user (uid $uid)"
	expect "hvmigrate home" "$home" /var/lib/hvmigrate
	expect "hvmigrate shell" "$shell" /usr/sbin/nologin
	for d in var/lib/hvmigrate var/lib/hvmigrate/agent var/lib/hvmigrate/provider var/lib/hvmigrate/provider/identity; do
		expect "/$d" "$(mode_owner "$r/$d")" "700 $uid:$gid"
	done
	expect /etc/hvmigrate "$(mode_owner "$r/etc/hvmigrate")" "750 0:$gid"
	expect /etc/hvmigrate/hvm-agent.env "$(mode_owner "$r/etc/hvmigrate/hvm-agent.env")" "640 0:$gid"
	for u in hvm-agent hvm-provider; do
		expect "$u enabled" "$(readlink "$r/etc/systemd/system/multi-user.target.wants/$u.service")" "/lib/systemd/system/$u.service"
		cmp -s "$r/lib/systemd/system/$u.service" "setup/internal/system/units/$u.service" || fail "$u.service differs from hvm-setup's"
	done
	grep -q '^HVM_AGENT_ARGS="--listen /run/hvmigrate/agent.sock --state-dir /var/lib/hvmigrate/agent"$' "$r/etc/hvmigrate/hvm-agent.env" ||
		fail "hvm-agent.env: $(cat "$r/etc/hvmigrate/hvm-agent.env")"
	same "$r/opt/hvmigrate/bin/hvm-agent" dist/stage/linux/hvm-agent
	"$r/opt/hvmigrate/bin/hvm-setup" version | grep -q 'carries no payload' || fail "packaged hvm-setup carries a payload"
	ok "$deb installs into a throwaway root: user, directories, modes, enabled units"

	echo identity >"$r/var/lib/hvmigrate/provider/identity/host-cert.pem"
	rdpkg "$r" --remove hvmigrate
	[ ! -e "$r/opt/hvmigrate/bin/hvm-provider" ] || fail "remove left the binaries"
	[ ! -e "$r/etc/systemd/system/multi-user.target.wants/hvm-agent.service" ] || fail "remove left the services enabled"
	[ -f "$r/var/lib/hvmigrate/provider/identity/host-cert.pem" ] || fail "remove deleted the identity"
	rdpkg "$r" -i "$deb"
	[ -f "$r/var/lib/hvmigrate/provider/identity/host-cert.pem" ] || fail "re-install lost the identity"
	expect "users after re-install" "$(grep -c '^hvmigrate:' "$r/etc/passwd")" 1
	rdpkg "$r" --purge hvmigrate
	[ ! -e "$r/var/lib/hvmigrate" ] && [ ! -e "$r/etc/hvmigrate" ] || fail "purge left configuration or state"
	ok "$deb removes keeping identity and state, re-installs, and purges"
}

check_msi() {
	local tables streams files services x="$scratch/msi"
	tables=$(msiinfo tables "$msi" | tr '\n' ' ')
	for t in File Component Directory Feature ServiceInstall ServiceControl Media; do
		[[ " $tables" == *" $t "* ]] || fail "$msi lacks table $t (has: $tables)"
	done
	streams=$(msiinfo streams "$msi")
	grep -qx 'hvmigrate.cab' <<<"$streams" || fail "$msi has no embedded cabinet (streams: $streams)"
	files=$(msiinfo export "$msi" File | awk -F'\t' 'NR > 3 {print $3, $4}' | sort)
	for f in hvm-agent.exe hvm-provider.exe hvm-setup.exe; do
		grep -qx "$f $(stat -c %s "dist/stage/msi/$f")" <<<"$files" || fail "$msi: $f missing or of the wrong size (files: $files)"
	done
	services=$(msiinfo export "$msi" ServiceInstall | awk -F'\t' 'NR > 3 {print $2, $4, $5, $9, $11}' | sort)
	expect "msi services" "$services" "hvm-agent 16 2 LocalSystem serve
hvm-provider 16 2 LocalSystem run"
	mkdir -p "$x"
	(cd "$x" && msiextract "$OLDPWD/$msi" >/dev/null)
	for f in hvm-agent.exe hvm-provider.exe hvm-setup.exe; do
		same "$(find "$x" -name "$f")" "dist/stage/msi/$f"
	done
	ok "$msi holds the Windows binaries and declares both services"
}

check_setup
check_deb_contents
check_deb_install
check_msi
echo "check-packages: all checks passed"
