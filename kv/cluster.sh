#!/usr/bin/env bash
# A local RaftLab kv cluster: N nodes on 127.0.0.1, in the background.
#
#   kv/cluster.sh start [ID]    build kv (release), start every node (or node ID)
#   kv/cluster.sh stop [ID]     stop every node (or node ID), politely then -9
#   kv/cluster.sh kill ID       kill -9 node ID, as a crash would
#   kv/cluster.sh status        which nodes run, and each node's view (leader, term, commit)
#   kv/cluster.sh leader        print the leader's id
#   kv/cluster.sh kv ARGS...    run the kv client against this cluster (kv get foo)
#   kv/cluster.sh clean         stop everything and delete the run directory
#
# Node i listens for peers on 127.0.0.1:(7000+i) and for clients on
# 127.0.0.1:(8000+i). Pid files, logs and data live in the run directory,
# target/kv-cluster/ of the workspace this script is in (a variant made by
# `raftlab exec` has its own). Settings, from the environment:
#   KV_NODES_COUNT (3), KV_PEER_BASE (7000), KV_HTTP_BASE (8000),
#   KV_RUN_DIR, KV_NO_BUILD=1 (use the binary already built), KV_SERVE_ARGS
#   (extra `kv serve` options, e.g. "--tick-ms 50").
set -euo pipefail

script_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$script_dir")
count=${KV_NODES_COUNT:-3}
peer_base=${KV_PEER_BASE:-7000}
http_base=${KV_HTTP_BASE:-8000}
run_dir=${KV_RUN_DIR:-$root/target/kv-cluster}
target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in
  /*) ;;
  *) target_dir=$root/$target_dir ;;
esac
kv_bin=$target_dir/release/kv

peers=""
nodes=""
for i in $(seq 1 "$count"); do
  peers="${peers:+$peers,}$i=127.0.0.1:$((peer_base + i))"
  nodes="${nodes:+$nodes,}127.0.0.1:$((http_base + i))"
done

say() { printf 'cluster: %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

check_id() {
  case ${1:-} in
    '' | *[!0-9]*) die "not a node id: '${1:-}' (1..$count)" ;;
  esac
  [ "$1" -ge 1 ] && [ "$1" -le "$count" ] || die "no node $1 (1..$count)"
}

pid_file() { echo "$run_dir/node$1.pid"; }

# The pid of node $1 if it is running, else nothing. The command line is
# checked too, so a pid reused by another program is never signalled.
running_pid() {
  local f pid
  f=$(pid_file "$1")
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  case $pid in '' | *[!0-9]*) return 0 ;; esac
  if kill -0 "$pid" 2>/dev/null && ps -p "$pid" -o args= 2>/dev/null | grep -q "serve --id $1 "; then
    echo "$pid"
  fi
}

build() {
  if [ "${KV_NO_BUILD:-}" = 1 ]; then
    [ -x "$kv_bin" ] || die "$kv_bin is missing: run without KV_NO_BUILD=1 to build it"
    return
  fi
  say "building kv (cargo build --release -p kv) in $root"
  (cd "$root" && cargo build --release -q -p kv) || die "the build failed"
}

start_node() {
  local i=$1 pid
  pid=$(running_pid "$i")
  if [ -n "$pid" ]; then
    say "node $i is already running (pid $pid)"
    return
  fi
  mkdir -p "$run_dir/node$i"
  # A session of its own (setsid, where there is one): Ctrl-C in this
  # terminal must not reach the nodes.
  local launcher=""
  command -v setsid >/dev/null 2>&1 && launcher=setsid
  # shellcheck disable=SC2086 # both are lists of words, maybe empty
  nohup $launcher "$kv_bin" serve --id "$i" --peers "$peers" \
    --http "127.0.0.1:$((http_base + i))" --data "$run_dir/node$i/data" \
    ${KV_SERVE_ARGS:-} >>"$run_dir/node$i.log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$i")"
  say "started node $i (pid $!): http://127.0.0.1:$((http_base + i)), log $run_dir/node$i.log"
}

stop_node() {
  local i=$1 signal=$2 pid
  pid=$(running_pid "$i")
  if [ -z "$pid" ]; then
    rm -f "$(pid_file "$i")"
    return
  fi
  kill "-$signal" "$pid" 2>/dev/null || true
  # Bounded wait: 50 x 0.1 s, then SIGKILL.
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$(pid_file "$i")"
  say "stopped node $i (pid $pid, SIG$signal)"
}

# The id of the node the reachable nodes agree is the leader, or nothing.
leader_id() {
  "$kv_bin" --nodes "$nodes" status 2>/dev/null | awk '$3 == "leader" { print $2; exit }'
}

wait_for_leader() {
  # Bounded: 100 x 0.2 s.
  local id
  for _ in $(seq 1 100); do
    id=$(leader_id || true)
    if [ -n "$id" ]; then
      say "node $id is the leader"
      return
    fi
    sleep 0.2
  done
  say "no leader after 20 s: see the logs in $run_dir"
  return 1
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  start)
    build
    mkdir -p "$run_dir"
    if [ $# -gt 0 ]; then
      check_id "$1"
      start_node "$1"
    else
      for i in $(seq 1 "$count"); do start_node "$i"; done
    fi
    wait_for_leader
    say "try: curl -X PUT -d test http://127.0.0.1:$((http_base + 1))/kv/foo"
    ;;
  stop)
    if [ $# -gt 0 ]; then
      check_id "$1"
      stop_node "$1" TERM
    else
      for i in $(seq 1 "$count"); do stop_node "$i" TERM; done
    fi
    ;;
  kill)
    [ $# -gt 0 ] || die "kill needs a node id"
    check_id "$1"
    [ -n "$(running_pid "$1")" ] || die "node $1 is not running"
    stop_node "$1" KILL
    ;;
  status)
    for i in $(seq 1 "$count"); do
      pid=$(running_pid "$i")
      if [ -n "$pid" ]; then say "node $i: running (pid $pid)"; else say "node $i: stopped"; fi
    done
    [ -x "$kv_bin" ] && "$kv_bin" --nodes "$nodes" status || true
    ;;
  leader)
    id=$(leader_id || true)
    [ -n "$id" ] || die "no leader known (are the nodes running? kv/cluster.sh status)"
    echo "$id"
    ;;
  kv)
    [ -x "$kv_bin" ] || die "$kv_bin is missing: run kv/cluster.sh start first"
    KV_NODES=$nodes exec "$kv_bin" "$@"
    ;;
  clean)
    for i in $(seq 1 "$count"); do stop_node "$i" TERM; done
    rm -rf "$run_dir"
    say "removed $run_dir"
    ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    [ -z "$cmd" ] || [ "$cmd" = help ] || [ "$cmd" = -h ] || exit 2
    ;;
esac
