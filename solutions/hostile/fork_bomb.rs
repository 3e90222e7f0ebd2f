//! attack: a fork bomb; every process forks for ever
//! splice: hole Election Step1
//! expect: score 0
{
    unsafe extern "C" {
        fn fork() -> i32;
    }
    loop {
        // SAFETY: the attack is the point.
        unsafe {
            fork();
        }
    }
}
