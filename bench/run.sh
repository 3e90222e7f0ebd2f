#!/usr/bin/env bash
# Runs the throughput benchmark on the reference variant: RaftLab's library
# with solutions/raft.rs in place, against raft-rs 0.7. Arguments are passed
# on, e.g. `bench/run.sh --reps 7 --batch 10`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run -q -p instructor -- exec --solution -- \
    cargo run -q --release --manifest-path bench/Cargo.toml -- "$@"
