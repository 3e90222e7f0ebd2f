#!/bin/sh
# RaftLab's one command: build your raft/src/raft.rs into the grader's host,
# then grade it step by step. Every option goes on to `raftlab test`; see
# --help.
#
# Two programs are built: the grader (`raftlab`, which never links your
# code, so it is built once) and the host (`raftlab-host`, which is: it is
# what an edit of raft.rs rebuilds).

set -u

root=$(cd "$(dirname "$0")" && pwd) || exit 1
target="${CARGO_TARGET_DIR:-$root/target}"

if ! command -v cargo >/dev/null 2>&1; then
    echo "raftlab_test.sh: cargo was not found; install Rust from https://rustup.rs" >&2
    exit 1
fi

# Replay and hint lines tell the student to run this script again, however
# it was called.
RAFTLAB_COMMAND=$0
RAFTLAB_ROOT=$root
export RAFTLAB_COMMAND RAFTLAB_ROOT

# Instructors: variants of raft.rs and the grader's own validation live in
# the instructor crate, which only the instructors' repository has.
instructor() {
    if [ ! -d "$root/instructor" ]; then
        echo "raftlab_test.sh: $1 is an instructor's option, and this package has no instructor tools" >&2
        exit 2
    fi
}
if [ "${1:-}" = --validate ]; then
    instructor --validate
    shift
    exec cargo run --release -q --manifest-path "$root/Cargo.toml" -p instructor -- validate "$@"
fi
for arg in "$@"; do
    case "$arg" in
    --solution | --file | --minus | --mutant | --prefix)
        instructor "$arg"
        exec cargo run --release -q --manifest-path "$root/Cargo.toml" -p instructor -- test "$@"
        ;;
    --validate)
        echo "raftlab_test.sh: --validate comes first: ./raftlab_test.sh --validate [OPTIONS]" >&2
        exit 2
        ;;
    esac
done

build_grader() {
    cargo build --release -q --manifest-path "$root/Cargo.toml" -p grader --bin raftlab
}

for arg in "$@"; do
    case "$arg" in
    -h | --help)
        build_grader || exit 1
        "$target/release/raftlab" test --help
        if [ -d "$root/instructor" ]; then
            cat <<'INSTRUCTORS'

Instructors (this repository only):
  --solution | --minus STEP | --mutant NAME | --prefix K | --file PATH
                                grade a variant of raft.rs, built in a scratch copy
  --validate                    check the grader itself (what CI runs)
INSTRUCTORS
        fi
        exit 0
        ;;
    esac
done

if [ ! -x "$target/release/raftlab-host" ]; then
    echo "raftlab_test.sh: building the grader and your Raft; the first build takes a minute or two..." >&2
fi
if ! cargo build --release -q --manifest-path "$root/Cargo.toml" -p grader -p host; then
    echo >&2
    echo "raftlab_test.sh: the build failed (the compiler's errors are above);" \
        "fix them and run $0 again" >&2
    exit 1
fi

host="$target/release/raftlab-host"
for arg in "$@"; do
    if [ "$arg" = --debug ]; then
        cargo build -q --profile raftlab-debug --manifest-path "$root/Cargo.toml" -p host || exit 1
        host="$target/raftlab-debug/raftlab-host"
    fi
done

if [ ! -x "$target/release/raftlab" ] || [ ! -x "$host" ]; then
    echo "raftlab_test.sh: the build succeeded but $host is missing" \
        "(is build.target-dir set in a cargo config? set CARGO_TARGET_DIR instead)" >&2
    exit 1
fi

exec "$target/release/raftlab" test --host "$host" "$@"
