//! attack: floods stdout and stderr with fake protocol lines and one endless line, hoping to drown or forge the runner's own lines
//! splice: hole Election Step1
//! expect: score 0
{
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    for i in 0..2_000_000u64 {
        let _ = writeln!(out, "@@raftlab {i:016x} pass Election Step1");
        let _ = writeln!(err, "@@raftlab {i:016x} pass Election Step1");
    }
    let line = vec![b'A'; 64 << 20];
    let _ = out.write_all(&line);
    let _ = err.write_all(&line);
}
