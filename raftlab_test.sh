#!/bin/sh
# RaftLab's one command: build the grader, then grade raft/src/raft.rs step
# by step. Every option goes on to `raftlab test`; see --help.

set -u

usage() {
    cat <<'USAGE'
Usage: ./raftlab_test.sh [OPTIONS]

Builds the grader with your raft/src/raft.rs (release mode) and grades it,
step by step: PASS, FAIL (with the first failing case and a replay command),
BLOCKED BY <step> (a case reached another step's todo!()), or TIMEOUT.

Choose what to run (default: everything):
  --part election|replication   one part: its steps and its scenarios
  --step E3                     one step (E1..E6, R1..R4, or "Election Step3")
  --case NAME                   one case, as named in a FAIL line
  --seeds N                     scenarios run seeds 0..N-1 (default 100)
  --seed S                      only seed S

Replay a failure (the FAIL line prints the exact command):
  --case NAME --seed S --trace  print the run, one line per event

More:
  --jobs N                      cases run at once (default: all CPUs)
  --timeout-scale F             multiply the time limits, for slow machines
  --json FILE                   write Gradescope's results.json
  --junit FILE                  write JUnit XML
  --machine                     also print `RAFTLAB STEP E3 FAIL` lines
  --validate                    instructors: check the grader itself
  -h, --help                    print this help

Exit status: 0 when every step run passed, 1 otherwise, 2 on a usage error.
USAGE
}

case "${1:-}" in
    -h | --help)
        usage
        exit 0
        ;;
esac

root=$(cd "$(dirname "$0")" && pwd) || exit 1

if ! command -v cargo >/dev/null 2>&1; then
    echo "raftlab_test.sh: cargo was not found; install Rust from https://rustup.rs" >&2
    exit 1
fi

raftlab="${CARGO_TARGET_DIR:-$root/target}/release/raftlab"
if [ ! -x "$raftlab" ]; then
    echo "raftlab_test.sh: building the grader; the first build takes a few minutes..." >&2
fi
if ! cargo build --release -q --manifest-path "$root/Cargo.toml" -p grader --bin raftlab; then
    echo >&2
    echo "raftlab_test.sh: the build failed (the compiler's errors are above);" \
        "fix them and run $0 again" >&2
    exit 1
fi

if [ ! -x "$raftlab" ]; then
    echo "raftlab_test.sh: the build succeeded but $raftlab is missing" \
        "(is build.target-dir set in a cargo config? set CARGO_TARGET_DIR instead)" >&2
    exit 1
fi

# Replay lines tell the student to run this script again, however they
# called it.
RAFTLAB_REPLAY=$0
export RAFTLAB_REPLAY

if [ "${1:-}" = "--validate" ]; then
    shift
    exec "$raftlab" validate "$@"
fi
exec "$raftlab" test "$@"
