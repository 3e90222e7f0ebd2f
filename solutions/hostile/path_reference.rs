//! attack: #[path] modules pointing at the reference solution and the hidden seeds from several depths and absolute paths
//! splice: append
//! expect: build fails, score 0
#[path = "../solutions/raft.rs"]
mod leak_depth_1;
#[path = "../../solutions/raft.rs"]
mod leak_depth_2;
#[path = "../../../solutions/raft.rs"]
mod leak_depth_3;
#[path = "../../../../solutions/raft.rs"]
mod leak_depth_4;
#[path = "../../../../../solutions/raft.rs"]
mod leak_depth_5;
#[path = "/work/main/solutions/raft.rs"]
mod leak_absolute;
#[path = "../../solutions/hidden/seeds.txt"]
mod leak_seeds;
