#!/usr/bin/env bash
# What a student waits for, measured: the first build, and from saving an
# edit of raft/src/raft.rs to the full report.
#
#   bench/edit_loop.sh [EDITS]        (default 7 edits; prints the median)
#
# It makes a student package in a scratch folder, puts the reference's
# raft.rs in it (a finished student: grading does all its work), builds it
# once from cold (the crates are downloaded already, as after a first
# `cargo fetch`), then edits one line of code EDITS times, each time timing
# `./raftlab_test.sh` from the edit to its last line. The grading time is
# the one the report prints. Your own tree is not touched.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
edits=${1:-7}
work=$(mktemp -d /tmp/raftlab-edit-loop.XXXXXX)
trap 'rm -rf "$work"' EXIT

cd "$root"
cargo run -q --release -p instructor -- package "$work/ws" --no-check >/dev/null
# The reference without its markers, as the instructor tool writes it.
cargo run -q --release -p instructor -- exec --solution -- true 2>/dev/null
cp target/raftlab/variants/reference/raft/src/raft.rs "$work/ws/raft/src/raft.rs"

cd "$work/ws"
export CARGO_TARGET_DIR="$work/target"
now() { date +%s.%N; }

start=$(now)
./raftlab_test.sh >"$work/first.txt" 2>&1 || true
first=$(awk "BEGIN { print $(now) - $start }")
grep -q "^Score 100/100" "$work/first.txt" || {
    echo "edit_loop: the reference did not score 100/100:" >&2
    tail -20 "$work/first.txt" >&2
    exit 1
}

line='info!("{} became candidate at term {}", self.id, self.term);'
grep -qF "$line" raft/src/raft.rs || { echo "edit_loop: the line to edit is gone from raft.rs" >&2; exit 1; }
times=()
grades=()
for i in $(seq 1 "$edits"); do
    # A real code change: the text of a log line, so the library is rebuilt.
    sed -i "s/became candidate at term {}\(#[0-9]*\)\?\"/became candidate at term {}#$i\"/" raft/src/raft.rs
    start=$(now)
    ./raftlab_test.sh >"$work/run.txt" 2>&1 || true
    t=$(awk "BEGIN { print $(now) - $start }")
    g=$(sed -n 's/^Score [0-9]*\/[0-9]* · \([0-9.]*\) s$/\1/p' "$work/run.txt")
    grep -q "^Score 100/100" "$work/run.txt" || { echo "edit_loop: edit $i did not score 100/100" >&2; tail -5 "$work/run.txt" >&2; exit 1; }
    printf 'edit %d: %.1f s from the edit to the report (grading %s s)\n' "$i" "$t" "$g"
    times+=("$t")
    grades+=("$g")
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf 'first build and report, from cold: %.1f s\n' "$first"
printf 'edit to report, median of %d edits: %.1f s\n' "$edits" "$(median "${times[@]}")"
printf 'grading alone, median: %.2f s\n' "$(median "${grades[@]}")"
echo "(machine load at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
