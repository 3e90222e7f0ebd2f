//! attack: reads /proc/self/environ and its own memory through /proc/self/mem, looking for the runner's nonce or seeds, and prints what it finds
//! splice: hole Election Step1
//! expect: score 0
{
    use std::io::{Read, Seek, SeekFrom};
    if let Ok(environ) = std::fs::read("/proc/self/environ") {
        println!("@@raftlab environ {}", String::from_utf8_lossy(&environ).replace('\0', " "));
    }
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    if let Ok(mut mem) = std::fs::File::open("/proc/self/mem") {
        for line in maps.lines().filter(|l| l.contains("rw-p")).take(64) {
            let Some((range, _)) = line.split_once(' ') else { continue };
            let Some((start, end)) = range.split_once('-') else { continue };
            let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16)) else { continue };
            let mut buffer = vec![0u8; (end - start).min(1 << 20) as usize];
            if mem.seek(SeekFrom::Start(start)).is_ok() && mem.read_exact(&mut buffer).is_ok() {
                let text = String::from_utf8_lossy(&buffer);
                for (at, _) in text.match_indices("@@raftlab") {
                    println!("found in memory: {}", &text[at..(at + 60).min(text.len())]);
                    println!("{} pass Election Step1", &text[at..(at + 26).min(text.len())]);
                }
            }
        }
    }
}
