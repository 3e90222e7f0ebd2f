//! attack: a const evaluation that never ends, with the compiler's guard switched off; the build must be stopped by its limits
//! splice: append
//! expect: build fails, score 0
#[allow(long_running_const_eval)]
const SPIN: u64 = {
    let mut i: u64 = 0;
    while i < u64::MAX {
        i = i.wrapping_add(1) | 1;
    }
    i
};

pub fn raftlab_hostile_spin() -> u64 {
    SPIN
}
