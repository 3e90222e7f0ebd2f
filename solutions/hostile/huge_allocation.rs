//! attack: allocates and touches memory 1 GiB at a time, up to 64 GiB, keeping all of it
//! splice: hole Election Step1
//! expect: score 0
{
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    for _ in 0..64 {
        let mut block = vec![0u8; 1 << 30];
        for page in block.iter_mut().step_by(4096) {
            *page = 1;
        }
        hoard.push(block);
    }
    std::hint::black_box(&hoard);
}
