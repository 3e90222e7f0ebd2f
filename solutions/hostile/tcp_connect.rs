//! attack: connects to 127.0.0.1 on common ports (and any given in RAFTLAB_HOSTILE_PORT) and sends forged results
//! splice: hole Election Step1
//! expect: score 0
{
    use std::io::Write;
    let mut ports = vec![1u16, 22, 80, 443, 3000, 5432, 6379, 8000, 8080, 9000];
    if let Some(port) = std::env::var("RAFTLAB_HOSTILE_PORT").ok().and_then(|p| p.parse().ok()) {
        ports.push(port);
    }
    for port in ports {
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        if let Ok(mut stream) = std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_millis(200)) {
            let _ = stream.write_all(b"POST /grades mallory=100\n");
            println!("CONNECTED {port}");
        }
    }
}
