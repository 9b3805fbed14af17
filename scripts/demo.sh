#!/usr/bin/env bash
# The hvmigrate demo. Today it shows the local wire: an agent and a provider
# on a private socket, their handshake, a crash of the agent that the
# provider rides out, and a clean stop of both. Later stages extend it into
# the whole migration story.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=bin
work=$(mktemp -d "${TMPDIR:-/tmp}/hvmdemo.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted; stopping everything"; exit 130' INT TERM

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
wait_for() { # file pattern [count]
  local n=0
  until [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "${3:-1}" ]; do
    n=$((n + 1)); [ $n -lt 200 ] || { echo "demo: timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1; }
    sleep 0.05
  done
}

sock="$work/run/agent.sock"
step "versions"
"$bin/hvm-agent" version
"$bin/hvm-provider" version

step "starting hvm-agent on $sock (directory 0700, socket 0600)"
"$bin/hvm-agent" serve --listen "$sock" --state-dir "$work/state" >"$work/agent.log" 2>&1 & pids+=($!)
wait_for "$work/agent.log" "agent serving"
sed 's/^/  agent | /' "$work/agent.log"
ls -ld "$work/run" "$sock" | sed 's/^/  /'

step "starting hvm-provider; it dials the agent and handshakes"
"$bin/hvm-provider" run --agent "$sock" --agent-max-backoff 500ms >"$work/provider.log" 2>&1 & provider=$!; pids+=($provider)
wait_for "$work/provider.log" "connected to agent"
sed 's/^/  provider | /' "$work/provider.log"

step "killing the agent with SIGKILL and starting a new one; the provider reconnects by itself"
kill -KILL "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
"$bin/hvm-agent" serve --listen "$sock" --state-dir "$work/state" >"$work/agent2.log" 2>&1 & pids[0]=$!
wait_for "$work/provider.log" "connected to restarted agent"
grep -E "lost the agent|restarted agent" "$work/provider.log" | sed 's/^/  provider | /'

step "stopping both with SIGTERM"
kill -TERM "$provider" "${pids[0]}"
wait "$provider" "${pids[0]}"
pids=()
tail -n 1 "$work/provider.log" | sed 's/^/  provider | /'
tail -n 1 "$work/agent2.log" | sed 's/^/  agent | /'
[ ! -e "$sock" ] && echo "  socket removed"
step "demo finished"
