//! attack: a const evaluation that panics with the text of the reference and the seeds, so the compiler's error message carries them
//! splice: append
//! expect: build fails, score 0
const _: () = panic!("{}", include_str!("../../solutions/raft.rs"));
const _: () = panic!("{}", include_str!("../../solutions/hidden/seeds.txt"));
const _: () = panic!("{}", include_str!("/work/main/solutions/hidden/seeds.txt"));
