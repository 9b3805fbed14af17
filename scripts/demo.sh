#!/usr/bin/env bash
# The hvmigrate demo, as far as the pipeline is built today: a simulated
# Hyper-V host with a running VM, Azurite over HTTPS as the storage account,
# the agent and the provider on their private socket. The VM is checkpointed
# with change tracking on, its frozen disks are copied into replica page
# blobs while the guest keeps writing, the replicas are checked against the
# source byte for byte (SHA-256), a log switch closes a cycle's logs, and the
# agent is killed and restarted under the provider's feet. Everything it
# starts is stopped and its files removed at the end or on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$PWD/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/hvmdemo.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted; stopping everything"; exit 130' INT TERM

started=$(date +%s)
step() { printf '\n\033[1m==> [%3ss] %s\033[0m\n' "$(( $(date +%s) - started ))" "$*"; }
wait_for() { # file pattern [count]
  local n=0
  until [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "${3:-1}" ]; do
    n=$((n + 1)); [ $n -lt 600 ] || { echo "demo: timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1; }
    sleep 0.05
  done
}
indent() { sed "s/^/    $1 | /"; }

export HVM_SIMHOST_SOCKET="$work/simhost/run/simhost.sock"
sim() { "$bin/hvm-simhost" "$@"; }

step "starting Azurite over HTTPS with a throwaway CA (the storage account)"
"$bin/hvm-azurite" serve --dir "$work/azurite" --container replicas >"$work/azurite.log" 2>&1 & pids+=($!)
wait_for "$work/azurite.log" "azurite serving"
endpoint=$(cat "$work/azurite/endpoint")
echo "    endpoint $endpoint"

step "starting hvm-simhost, the Hyper-V stand-in, and a VM with two dynamic VHDX disks"
"$bin/hvm-simhost" serve --dir "$work/simhost/vms" --listen "$HVM_SIMHOST_SOCKET" >"$work/simhost.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -S "$HVM_SIMHOST_SOCKET" ] && break; sleep 0.05; done
sim vm create web01 --disk 2G --disk 1G --nic lan=External | indent simhost
sim vm start web01 | indent simhost
echo "    writing 256 MiB of guest data"
sim workload web01 --rate 400 --sizes 64k:60,1m:40 --total 256M --seed 1 >/dev/null

step "starting hvm-agent and hvm-provider on a private socket"
sock="$work/agent/run/agent.sock"
agent_args=(serve --listen "$sock" --state-dir "$work/agent/state" --storage-endpoint "$endpoint" --storage-ca "$work/azurite/ca.pem")
"$bin/hvm-agent" "${agent_args[@]}" >"$work/agent.log" 2>&1 & agent=$!; pids+=($agent)
wait_for "$work/agent.log" "agent serving"
"$bin/hvm-provider" run --agent "$sock" --agent-max-backoff 500ms >"$work/provider.log" 2>&1 & provider=$!; pids+=($provider)
wait_for "$work/provider.log" "connected to agent"
grep "connected to agent" "$work/provider.log" | indent provider
ls -ld "$(dirname "$sock")" "$sock" | indent agent

step "checkpoint with change tracking on: the disks freeze, new writes go to AVHDX children and .hrl logs"
sim checkpoint create web01 --start-tracking | indent simhost
mapfile -t frozen < <(sim checkpoint frozen web01)
echo "    guest keeps writing during the copy (20 MB/s, 30% overwrites)"
"$bin/hvm-simhost" workload web01 --rate 20 --sizes 4k:50,64k:50 --overwrite 0.3 --duration 10m --seed 2 >/dev/null 2>&1 & workload=$!; pids+=($workload)

step "initial copy of each frozen disk into its replica page blob (only allocated, non-zero data is sent)"
for line in "${frozen[@]}"; do
  idx=${line%%$'\t'*}; path=${line#*$'\t'}
  url=$("$bin/hvm-azurite" sas --dir "$work/azurite" --container replicas --blob "web01/disk$idx.vhd")
  "$bin/hvm-agent" copy --threads 4 --storage-ca "$work/azurite/ca.pem" --state "$work/copy.db" "$path" "$url" | indent "disk $idx"
done

step "checking each replica against its frozen source, byte for byte"
for line in "${frozen[@]}"; do
  idx=${line%%$'\t'*}; path=${line#*$'\t'}
  size=$("$bin/hvm-agent" disk info "$path" | sed -n 's/.*"virtual_size": *\([0-9]*\).*/\1/p' | head -n 1)
  src=$("$bin/hvm-agent" disk cat "$path" | sha256sum | cut -d' ' -f1)
  dst=$("$bin/hvm-azurite" sha256 --dir "$work/azurite" --container replicas --blob "web01/disk$idx.vhd" --size "$size")
  printf '    disk %s  source %s\n            replica %s  %s\n' "$idx" "$src" "$dst" "$([ "$src" = "$dst" ] && echo identical || echo DIFFERENT)"
  [ "$src" = "$dst" ]
done

step "a delta cycle: close the logs of both disks at one instant"
sim switch web01 >"$work/switch.txt"
indent simhost <"$work/switch.txt"
kill -INT "$workload" 2>/dev/null || true; wait "$workload" 2>/dev/null || true
echo "    the closed logs, verified and coalesced by the agent (what a cycle would upload):"
for l in $(sed -n 's/.*closed \(.*\.hrl\)$/\1/p' "$work/switch.txt"); do
  "$bin/hvm-agent" hrl verify "$l" | indent hrl
  "$bin/hvm-agent" hrl extents "$l" | grep -E '"(bytes_logged|bytes_surviving|bytes_saved)"' | tr -d ' ,"' | paste -sd' ' | indent coalesced
done

step "killing the agent with SIGKILL; the provider reconnects to the new one by itself"
kill -KILL "$agent"; wait "$agent" 2>/dev/null || true
"$bin/hvm-agent" "${agent_args[@]}" >"$work/agent2.log" 2>&1 & agent=$!; pids+=($agent)
wait_for "$work/provider.log" "connected to restarted agent"
grep -E "lost the agent|restarted agent" "$work/provider.log" | indent provider

step "stopping everything"
kill -TERM "$provider" "$agent"
wait "$provider" "$agent" 2>/dev/null || true
step "demo finished in $(( $(date +%s) - started ))s"
