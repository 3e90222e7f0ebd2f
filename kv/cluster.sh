#!/usr/bin/env bash
# A local RaftLab kv cluster: N nodes on 127.0.0.1, in the background.
#
#   kv/cluster.sh start [ID]    build kv (release), start every node (or node ID)
#   kv/cluster.sh stop [ID]     stop every node (or node ID), politely then -9
#   kv/cluster.sh kill ID       kill -9 node ID, as a crash would
#   kv/cluster.sh status        which nodes run, the members, each node's view
#   kv/cluster.sh leader        print the leader's id
#   kv/cluster.sh kv ARGS...    run the kv client against this cluster (kv get foo)
#   kv/cluster.sh add           add a new member: learner, start it, catch up, promote
#   kv/cluster.sh remove ID     remove member ID from the cluster; the node stops
#   kv/cluster.sh wipe ID       kill -9 node ID and delete its data (a lost disk)
#   kv/cluster.sh clean         stop everything and delete the run directory
#
# Node i listens for peers on 127.0.0.1:(7000+i) and for clients on
# 127.0.0.1:(8000+i). Pid files, logs and data live in the run directory,
# target/kv-cluster/ of the workspace this script is in. Settings, from the
# environment:
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

# The first members: every one of them is started with this list.
first_peers=""
for i in $(seq 1 "$count"); do
  first_peers="${first_peers:+$first_peers,}$i=127.0.0.1:$((peer_base + i))"
done

say() { printf 'cluster: %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

check_id() {
  case ${1:-} in
    '' | *[!0-9]*) die "not a node id: '${1:-}'" ;;
  esac
  [ "$1" -ge 1 ] && [ "$1" -le 99 ] || die "no node $1 (1..99)"
}

http_addr() { echo "127.0.0.1:$((http_base + $1))"; }
peer_addr() { echo "127.0.0.1:$((peer_base + $1))"; }
pid_file() { echo "$run_dir/node$1.pid"; }
log_file() { echo "$run_dir/node$1.log"; }

# Every node this run directory knows and has not removed: the first
# members, and those added with `add`.
known_ids() {
  local ids="" i d
  for i in $(seq 1 "$count"); do ids="$ids $i"; done
  if [ -d "$run_dir" ]; then
    for d in "$run_dir"/node*/; do
      [ -d "$d" ] || continue
      i=${d%/}; i=${i##*/node}
      case $i in '' | *[!0-9]*) continue ;; esac
      case " $ids " in *" $i "*) ;; *) ids="$ids $i" ;; esac
    done
  fi
  for i in $ids; do
    [ -f "$run_dir/node$i/removed" ] || echo "$i"
  done | sort -n
}

client_nodes() {
  local list="" i
  for i in $(known_ids); do list="${list:+$list,}$(http_addr "$i")"; done
  echo "$list"
}

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

kvc() { KV_NODES=$(client_nodes) "$kv_bin" "$@"; }

# What a node that died said: the first panic (with its message line) or,
# failing that, the last lines of its log since offset $2.
death_note() {
  local log=$1 from=$2 text
  text=$(tail -c +"$((from + 1))" "$log" 2>/dev/null || true)
  if printf '%s\n' "$text" | grep -q "panicked at"; then
    printf '%s\n' "$text" | grep -m1 -A1 "panicked at" | sed 's/^/    /'
  else
    printf '%s\n' "$text" | tail -n 3 | sed 's/^/    /'
  fi
}

# Starts node $1 and waits until it serves /status (or dies). Prints one
# line either way; fails if it died.
start_node() {
  local i=$1 pid log from answer args=()
  pid=$(running_pid "$i")
  if [ -n "$pid" ]; then
    say "node $i is already running (pid $pid)"
    return
  fi
  answer=$("$kv_bin" --nodes "$(http_addr "$i")" endpoint status 2>/dev/null | tail -n 1 || true)
  case $answer in
    *"down ("* | "") ;;
    *)
      say "something already answers on http://$(http_addr "$i"): another cluster (another workspace?); stop it first"
      return 1
      ;;
  esac
  mkdir -p "$run_dir/node$i"
  if [ -f "$run_dir/node$i/join-peers" ]; then
    args=(--join --peers "$(cat "$run_dir/node$i/join-peers")")
  else
    args=(--peers "$first_peers")
  fi
  log=$(log_file "$i")
  touch "$log"
  from=$(wc -c <"$log")
  echo "$from" >"$run_dir/node$i/log-offset"
  # A session of its own (setsid, where there is one): Ctrl-C in this
  # terminal must not reach the nodes.
  local launcher=""
  command -v setsid >/dev/null 2>&1 && launcher=setsid
  # shellcheck disable=SC2086 # both are lists of words, maybe empty
  nohup $launcher "$kv_bin" serve --id "$i" "${args[@]}" \
    --http "$(http_addr "$i")" --data "$run_dir/node$i/data" \
    ${KV_SERVE_ARGS:-} >>"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$(pid_file "$i")"
  # Bounded: 100 x 0.1 s for the node to answer, or to die.
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$(pid_file "$i")"
      say "node $i died at start; from $log:"
      death_note "$log" "$from"
      return 1
    fi
    answer=$("$kv_bin" --nodes "$(http_addr "$i")" endpoint status 2>/dev/null | tail -n 1 || true)
    case $answer in
      *"down ("* | "") ;;
      *"is starting"*)
        say "started node $i (pid $pid): http://$(http_addr "$i"), log $log; it asks its peers whether it may join"
        waiting="$waiting $i"
        return 0
        ;;
      *)
        say "started node $i (pid $pid): http://$(http_addr "$i"), log $log"
        return 0
        ;;
    esac
    sleep 0.1
  done
  say "node $i (pid $pid) runs but does not answer on http://$(http_addr "$i") after 10 s; see $log"
  return 1
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
  kvc endpoint status 2>/dev/null | awk '$3 == "leader" { print $2; exit }'
}

# Waits for a leader; stops at once, showing why, when a node died.
wait_for_leader() {
  local id i died
  # Bounded: 100 x 0.2 s.
  for _ in $(seq 1 100); do
    id=$(leader_id || true)
    if [ -n "$id" ]; then
      say "node $id is the leader"
      return
    fi
    died=0
    for i in $(known_ids); do
      if [ -z "$(running_pid "$i")" ] && [ -f "$(pid_file "$i")" ]; then
        rm -f "$(pid_file "$i")"
        say "node $i died; from $(log_file "$i"):"
        death_note "$(log_file "$i")" "$(cat "$run_dir/node$i/log-offset" 2>/dev/null || echo 0)"
        died=1
      fi
    done
    if [ "$died" = 1 ]; then
      say "no leader: a node died (stop the others with kv/cluster.sh stop)"
      return 1
    fi
    sleep 0.2
  done
  say "no leader after 20 s: see the logs in $run_dir"
  return 1
}

# The nodes started that were still asking their peers whether they may
# join: once the cluster has a leader, each must serve or say why not.
waiting=""
settle_waiting() {
  local i pid answer ok=0
  for i in $waiting; do
    # Bounded: 100 x 0.1 s.
    for _ in $(seq 1 100); do
      pid=$(running_pid "$i")
      if [ -z "$pid" ]; then
        rm -f "$(pid_file "$i")"
        say "node $i stopped; from $(log_file "$i"):"
        tail -n 1 "$(log_file "$i")" | fold -s -w 100 | sed 's/^/    /'
        ok=1
        break
      fi
      answer=$("$kv_bin" --nodes "$(http_addr "$i")" endpoint status 2>/dev/null | tail -n 1 || true)
      case $answer in
        *"is starting"* | *"down ("* | "") sleep 0.1 ;;
        *) break ;;
      esac
    done
  done
  return $ok
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  start)
    build
    mkdir -p "$run_dir"
    failed=0
    if [ $# -gt 0 ]; then
      check_id "$1"
      start_node "$1" || failed=1
    else
      for i in $(known_ids); do start_node "$i" || failed=1; done
    fi
    wait_for_leader || exit 1
    settle_waiting || failed=1
    [ "$failed" = 0 ] || exit 1
    say "try: curl -X PUT -d test http://$(http_addr "$(known_ids | head -n 1)")/kv/foo"
    ;;
  stop)
    if [ $# -gt 0 ]; then
      check_id "$1"
      stop_node "$1" TERM
    else
      for i in $(known_ids); do stop_node "$i" TERM; done
    fi
    ;;
  kill)
    [ $# -gt 0 ] || die "kill needs a node id"
    check_id "$1"
    [ -n "$(running_pid "$1")" ] || die "node $1 is not running"
    stop_node "$1" KILL
    ;;
  wipe)
    [ $# -gt 0 ] || die "wipe needs a node id"
    check_id "$1"
    stop_node "$1" KILL
    rm -rf "$run_dir/node$1/data"
    say "deleted node $1's data directory, as a lost disk would"
    ;;
  status)
    for i in $(known_ids); do
      pid=$(running_pid "$i")
      if [ -n "$pid" ]; then say "node $i: running (pid $pid)"; else say "node $i: stopped"; fi
    done
    [ -x "$kv_bin" ] && kvc status || true
    ;;
  leader)
    id=$(leader_id || true)
    [ -n "$id" ] || die "no leader known (are the nodes running? kv/cluster.sh status)"
    echo "$id"
    ;;
  kv)
    [ -x "$kv_bin" ] || die "$kv_bin is missing: run kv/cluster.sh start first"
    KV_NODES=$(client_nodes) exec "$kv_bin" "$@"
    ;;
  add)
    [ -x "$kv_bin" ] || die "$kv_bin is missing: run kv/cluster.sh start first"
    next=$(kvc member list 2>/dev/null | sed -n 's/.*next id \([0-9]*\).*/\1/p')
    [ -n "$next" ] || die "no member answered: is the cluster running? (kv/cluster.sh status)"
    while [ -d "$run_dir/node$next" ]; do next=$((next + 1)); done
    say "adding node $next as a learner: kv member add $(peer_addr "$next") --http $(http_addr "$next") --id $next"
    out=$(kvc member add "$(peer_addr "$next")" --http "$(http_addr "$next")" --id "$next") ||
      die "the cluster refused: $out"
    peers=$(printf '%s\n' "$out" | sed -n 's/.* --peers \([^ ]*\) .*/\1/p')
    mkdir -p "$run_dir/node$next"
    echo "$peers" >"$run_dir/node$next/join-peers"
    start_node "$next" || exit 1
    settle_waiting || exit 1
    say "node $next catches up; promoting it once it has (kv member promote $next)"
    kvc member promote "$next" --wait 120 || exit 1
    say "node $next is a voter"
    ;;
  remove)
    [ $# -gt 0 ] || die "remove needs a node id"
    check_id "$1"
    kvc member remove "$1" || exit 1
    mkdir -p "$run_dir/node$1"
    touch "$run_dir/node$1/removed"
    stop_node "$1" TERM
    ;;
  clean)
    for i in $(known_ids); do stop_node "$i" TERM; done
    rm -rf "$run_dir"
    say "removed $run_dir"
    ;;
  *)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    [ -z "$cmd" ] || [ "$cmd" = help ] || [ "$cmd" = -h ] || exit 2
    ;;
esac
