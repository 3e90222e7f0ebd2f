//! attack: one tick sleeps for an hour
//! splice: hole Election Step1
//! expect: score 0
{
    std::thread::sleep(std::time::Duration::from_secs(3600));
}
