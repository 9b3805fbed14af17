#!/usr/bin/env bash
# The hvmigrate demo: a whole migration on one machine, with real processes.
#
#   storage   Azurite over HTTPS with a throwaway CA (the storage account)
#   hub       hvm-hub (registration, SAS, applier, recovery points), driven
#             with hvmctl
#   host      hvm-simhost with two running VMs whose disks hold an ext4
#             filesystem with files, plus hvm-agent and hvm-provider installed
#             by hvm-setup into a private root and registered with a key
#
# It enables replication of both VMs, watches the initial copy, lets a guest
# workload run through several delta cycles, test-migrates one VM from its
# latest recovery point, then migrates it and prints the migrated disks'
# SHA-256 beside the source's. Everything it starts is stopped and its files
# removed at the end or on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$PWD/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/hvmdemo.XXXXXX")
pids=()
cleanup() {
  local code=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$code" -ne 0 ] && [ "$code" -ne 130 ]; then
    echo "demo: failed; the last lines of each log:" >&2
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- ${f##*/}" >&2; tail -n 15 "$f" >&2; }; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted; stopping everything"; exit 130' INT TERM

started=$(date +%s)
step() { printf '\n\033[1m==> [%3ss] %s\033[0m\n' "$(( $(date +%s) - started ))" "$*"; }
indent() { sed "s/^/    $1 | /"; }
wait_for() { # file pattern [count]
  local n=0
  until [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "${3:-1}" ]; do
    n=$((n + 1)); [ $n -lt 600 ] || { echo "demo: timed out waiting for '$2' in $1" >&2; exit 1; }
    sleep 0.05
  done
}
until_true() { # seconds description command...
  local limit=$1 what=$2; shift 2
  local end=$(( $(date +%s) + limit ))
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || { echo "demo: timed out after ${limit}s waiting for $what" >&2; hvmctl status >&2 || true; exit 1; }
    sleep 0.5
  done
}
free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 20000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
json_field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\}.*/\1/p" | head -n 1; }

export PATH="$PATH:/usr/sbin:/sbin"
export HVM_SIMHOST_SOCKET="$work/simhost/run/simhost.sock"
export HVMCTL_CONFIG="$work/hub/hvmctl.json"
sim() { "$bin/hvm-simhost" "$@"; }
hvmctl() { "$bin/hvmctl" "$@"; }

step "starting Azurite over HTTPS with a throwaway CA (the storage account)"
"$bin/hvm-azurite" serve --dir "$work/azurite" >"$work/azurite.log" 2>&1 & pids+=($!)
wait_for "$work/azurite.log" "azurite serving"
endpoint=$(cat "$work/azurite/endpoint")
echo "    endpoint $endpoint"

step "hvm-hub init: state database, CAs, admin credential; storage account set; hub started"
hub_port=$(free_port); admin_port=$(free_port)
"$bin/hvm-hub" init --dir "$work/hub" --listen "127.0.0.1:$hub_port" --admin-listen "127.0.0.1:$admin_port" \
  --public-address "127.0.0.1:$hub_port" --heartbeat-interval 2s --dead-peer-timeout 10s 2>&1 | indent hub
"$bin/hvm-hub" storage set --dir "$work/hub" --endpoint "$endpoint" --account "$(cat "$work/azurite/account")" \
  --key-file "$work/azurite/account.key" --ca-file "$work/azurite/ca.pem" 2>&1 | indent hub
"$bin/hvm-hub" serve --dir "$work/hub" >"$work/hub.log" 2>&1 & pids+=($!)
wait_for "$work/hub.log" "hub serving"

step "hvmctl: a project and a one-time registration key for the host"
hvmctl project create demo | indent hvmctl
hvmctl key create --project demo --valid 1h --out "$work/host.key" | indent hvmctl
project=$(hvmctl project list -o json | json_field id)

step "making guest disk images: partition table (sfdisk), ext4 with files (mkfs.ext4 -d), converted to dynamic VHDX"
make_image() { # name size content-MiB
  local name=$1 size=$2 mib=$3 root="$work/images/$1.root" raw="$work/images/$1.raw"
  mkdir -p "$root/etc" "$root/var/lib/app" "$root/usr/share"
  cp -r /usr/share/common-licenses "$root/usr/share/" 2>/dev/null || true
  printf '%s\n' "$name" >"$root/etc/hostname"
  head -c "$((mib << 20))" /dev/urandom >"$root/var/lib/app/data.bin"
  for i in $(seq 1 200); do printf 'record %d of %s\n' "$i" "$name" >"$root/var/lib/app/rec$i.txt"; done
  truncate -s "$size" "$raw"
  printf 'label: gpt\nstart=2048, type=linux\n' | sfdisk -q "$raw"
  local part_bytes=$(( $(stat -c %s "$raw") - (2048 + 34) * 512 ))
  mkfs.ext4 -q -F -E offset=$((2048 * 512)) -d "$root" "$raw" "$((part_bytes / 1024))k"
  qemu-img convert -f raw -O vhdx -o subformat=dynamic "$raw" "$work/images/$name.vhdx"
  rm -rf "$raw" "$root"
  printf '    %-14s %s virtual, %s MiB of files\n' "$name.vhdx" "$size" "$mib"
}
make_image app01-os 4G 120
make_image app01-data 2G 80
make_image db01-os 3G 100

step "starting hvm-simhost (the Hyper-V stand-in) with two running VMs, disks filled from the images"
"$bin/hvm-simhost" serve --dir "$work/simhost/vms" --listen "$HVM_SIMHOST_SOCKET" --no-switch-checksums >"$work/simhost.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -S "$HVM_SIMHOST_SOCKET" ] && break; sleep 0.05; done
sim vm create app01 --disk 4G --disk 2G --cpus 4 --memory 8G --nic lan=External >/dev/null
sim vm create db01 --disk 3G --cpus 2 --memory 4G --nic lan=External >/dev/null
sim vm start app01 >/dev/null; sim vm start db01 >/dev/null
sim import app01 "$work/images/app01-os.vhdx" --disk 0 | indent simhost
sim import app01 "$work/images/app01-data.vhdx" --disk 1 | indent simhost
sim import db01 "$work/images/db01-os.vhdx" --disk 0 | indent simhost
sim vm list | indent simhost

step "hvm-setup: installing the agent and the provider into a private root and registering the host with the key"
root="$work/host"
"$bin/hvm-setup" install --root "$root" --key "$work/host.key" --simhost "$HVM_SIMHOST_SOCKET" \
  --storage-endpoint "$endpoint" --storage-ca "$work/azurite/ca.pem" 2>&1 | indent hvm-setup
find "$root" -type f -printf '%m %P\n' | sort -k2 | indent "$(basename "$root")"

step "starting the installed services as systemd would (their paths moved under the demo's root)"
service_args() { # service: the arguments its unit passes, from its environment file
  local var; var=$(echo "$1" | tr a-z- A-Z_)_ARGS
  sed -n "s/^${var}=\"\(.*\)\"$/\1/p" "$root/etc/hvmigrate/$1.env" |
    sed -E "s#(^| )/(run|var|etc)/#\1$root/\2/#g"
}
mkdir -p "$root/run/hvmigrate" && chmod 0700 "$root/run/hvmigrate"
read -r -a agent_args <<<"$(service_args hvm-agent)"
"$root/opt/hvmigrate/bin/hvm-agent" serve "${agent_args[@]}" >"$work/agent.log" 2>&1 & pids+=($!)
wait_for "$work/agent.log" "agent serving"
read -r -a provider_args <<<"$(service_args hvm-provider)"
echo "    (the demo asks the provider for inventory every second and caps every cycle interval at 6 s)"
"$root/opt/hvmigrate/bin/hvm-provider" run "${provider_args[@]}" --inventory-every 1s --interval-cap 6s >"$work/provider.log" 2>&1 & pids+=($!)
until_true 30 "the host's VMs at the hub" bash -c '[ "$("$0" vm list -o json | grep -c "\"power_state\"")" -ge 2 ]' "$bin/hvmctl"
hvmctl host list | indent hvmctl
hvmctl vm list | indent hvmctl

step "hvmctl replicate enable for both VMs (the demo's provider shortens every cycle interval to 6 s)"
hvmctl replicate enable app01 --interval 30s --keep-latest 5 --keep-window 0 | indent hvmctl
hvmctl replicate enable db01 --interval 30s --keep-latest 5 --keep-window 0 | indent hvmctl

step "hvmctl status --watch through the initial copy (only allocated, non-zero data is sent)"
applied() { hvmctl status "$1" -o json | json_field applied_cycle; }
both_copied() { [ "$(applied app01)" -ge 1 ] 2>/dev/null && [ "$(applied db01)" -ge 1 ] 2>/dev/null; }
"$bin/hvmctl" status --watch & watch=$!; pids+=($watch)
until_true 120 "the initial copies" both_copied
sleep 1; kill -INT "$watch" 2>/dev/null || true; wait "$watch" 2>/dev/null || true
echo

step "a guest workload runs on both VMs while delta cycles replicate"
sim workload app01 --rate 2 --sizes 4k:50,64k:50 --overwrite 0.3 --duration 10m --seed 7 >/dev/null 2>&1 & pids+=($!)
sim workload db01 --rate 1 --sizes 8k --overwrite 0.5 --duration 10m --seed 8 >/dev/null 2>&1 & pids+=($!)
base=$(applied app01)
until_true 90 "three delta cycles of app01" bash -c '[ "$("$0" status app01 -o json | sed -n "s/.*\"applied_cycle\": *\([0-9]*\).*/\1/p" | head -n1)" -ge "$1" ]' "$bin/hvmctl" "$((base + 3))"
hvmctl status | indent hvmctl
hvmctl recovery-points list app01 | indent hvmctl

step "test migration of app01 from its latest recovery point (replication keeps running), then cleanup"
hvmctl test-migrate app01 | indent hvmctl
hvmctl test-migrate cleanup app01 | indent hvmctl

step "migrating app01: shut down, final cycle, apply, verify against the source's chunk hashes, copy"
hvmctl migrate app01 | indent hvmctl

step "the migrated disks beside the source disks (SHA-256 of the whole virtual disk)"
mig=$(hvmctl migrate app01 -o json)
ok=1; n=0
while read -r disk_id size sum; do
  blob=$(printf '%s\n' "$mig" | grep -o "\"migrated/[^\"]*/disk-${disk_id//-/}\.vhd\"" | tr -d '"' || true)
  [ -n "$blob" ] || { echo "demo: no migrated blob for disk $disk_id" >&2; exit 1; }
  dst=$("$bin/hvm-azurite" sha256 --dir "$work/azurite" --container "rep-$project" --blob "$blob" --size "$size" </dev/null)
  verdict=identical; [ "$dst" = "$sum" ] || { verdict=DIFFERENT; ok=0; }
  printf '    disk %d  source   %s\n            migrated %s  %s\n' "$n" "$sum" "$dst" "$verdict"
  n=$((n + 1))
done < <({ sim checksum app01 -o json | tr -d '\n'; echo; } | tr '{' '\n' |
  sed -n 's/.*"disk_id": *"\([^"]*\)".*"size": *\([0-9]*\).*"sha256": *"\([0-9a-f]*\)".*/\1 \2 \3/p')
[ "$n" -eq 2 ] || { echo "demo: compared $n disks of app01, want 2" >&2; exit 1; }
[ "$ok" = 1 ]
hvmctl status | indent hvmctl

step "stopping everything"
for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
step "demo finished in $(( $(date +%s) - started ))s"
