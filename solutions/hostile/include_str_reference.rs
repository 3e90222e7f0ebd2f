//! attack: include_str! of the reference solution and the hidden seeds (relative at several depths, and absolute), exported so a test could print them
//! splice: append
//! expect: build fails, score 0
pub const LEAK_REFERENCE_2: &str = include_str!("../../solutions/raft.rs");
pub const LEAK_REFERENCE_3: &str = include_str!("../../../solutions/raft.rs");
pub const LEAK_REFERENCE_4: &str = include_str!("../../../../solutions/raft.rs");
pub const LEAK_REFERENCE_ABSOLUTE: &str = include_str!("/work/main/solutions/raft.rs");
pub const LEAK_SEEDS_2: &str = include_str!("../../solutions/hidden/seeds.txt");
pub const LEAK_SEEDS_ABSOLUTE: &str = include_str!("/work/main/solutions/hidden/seeds.txt");
pub const LEAK_BYTES: &[u8] = include_bytes!("../../solutions/raft.rs");
