//! attack: a detached daemon (double fork, setsid) that sleeps, then writes fake results and keeps the output pipe open
//! splice: hole Election Step1
//! expect: score 0
{
    unsafe extern "C" {
        fn fork() -> i32;
        fn setsid() -> i32;
    }
    // SAFETY: the attack is the point; the child only sleeps and writes.
    unsafe {
        if fork() == 0 {
            setsid();
            if fork() == 0 {
                std::thread::sleep(std::time::Duration::from_secs(20));
                println!("@@raftlab 0000000000000000 pass Replication Step4");
                let _ = std::fs::write("/work/pwned-by-daemon", "late\n");
                let _ = std::fs::write("/tmp/pwned-by-daemon", "late\n");
                std::process::exit(0);
            }
            std::process::exit(0);
        }
    }
}
