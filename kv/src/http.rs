//! A minimal HTTP/1.1 server side and client side on `std::net`: enough
//! for curl, the `kv` command and the benchmark, and strict about the
//! rest.
//!
//! Supported: request line, headers, bodies with `Content-Length`,
//! `Expect: 100-continue` (curl sends it for bodies over 1 KiB), keep-alive.
//! Refused with a clear status: chunked bodies (501), oversized heads (431)
//! and bodies (413), anything that does not parse (400), other HTTP
//! versions (505).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The most bytes of request line plus headers.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// The most headers in one request.
const MAX_HEADERS: usize = 64;

/// One parsed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path part of the target, still percent-encoded.
    pub path: String,
    /// The query string after `?`, without it; empty if none.
    pub query: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A plain-text response; `text` should end with a newline so that
    /// curl's output ends the line.
    pub fn text(status: u16, text: impl Into<String>) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: text.into().into_bytes(),
        }
    }

    /// An error: `error: <message>` on one line.
    pub fn error(status: u16, message: impl AsRef<str>) -> Response {
        Response::text(status, format!("error: {}\n", message.as_ref()))
    }

    pub fn json(status: u16, body: String) -> Response {
        Response {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.into_bytes(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// The reason phrase of the statuses the server uses.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Writes `resp`; `keep_alive` false adds `Connection: close`.
pub fn write_response(w: &mut impl Write, resp: &Response, keep_alive: bool) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len()
    );
    for (name, value) in &resp.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&resp.body);
    w.write_all(&out)?;
    w.flush()
}

/// Why no request came out of the connection.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed the connection between requests: not an error.
    Closed,
    /// The connection failed or timed out.
    Io(io::Error),
    /// The request is malformed: send this response, then close.
    Reject(Response),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads one line ending in `\n` (the `\r\n` or `\n` removed), counting
/// its bytes against `budget`. `Ok(None)` at a clean end of stream before
/// any byte.
fn read_line(r: &mut impl BufRead, budget: &mut usize) -> Result<Option<String>, ReadError> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            if line.is_empty() {
                return Ok(None);
            }
            return Err(ReadError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in the middle of a request head",
            )));
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        if chunk.len() > *budget {
            return Err(ReadError::Reject(Response::error(
                431,
                format!("the request head is larger than {MAX_HEAD_BYTES} bytes"),
            )));
        }
        *budget -= chunk.len();
        line.extend_from_slice(chunk);
        let n = chunk.len();
        r.consume(n);
        if done {
            break;
        }
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| ReadError::Reject(Response::error(400, "the request head is not UTF-8")))
}

fn bad(message: impl AsRef<str>) -> ReadError {
    ReadError::Reject(Response::error(400, message))
}

/// Reads one request from `r`. `w` is the same connection, written to only
/// for `100 Continue`. Bodies over `max_body` bytes are refused with 413
/// before they are read.
pub fn read_request(
    r: &mut impl BufRead,
    w: &mut impl Write,
    max_body: usize,
) -> Result<Request, ReadError> {
    let mut budget = MAX_HEAD_BYTES;
    // Clients may send empty lines between requests (RFC 9112 §2.2).
    let request_line = loop {
        match read_line(r, &mut budget)? {
            None => return Err(ReadError::Closed),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(format!(
            "malformed request line {request_line:?}: want METHOD TARGET HTTP/1.1"
        )));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad(format!("malformed method {method:?}")));
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        v if v.starts_with("HTTP/") => {
            return Err(ReadError::Reject(Response::error(
                505,
                format!("{v} is not supported; use HTTP/1.1"),
            )));
        }
        v => return Err(bad(format!("malformed HTTP version {v:?}"))),
    };
    if !target.starts_with('/') {
        return Err(bad(format!(
            "the target {target:?} must be a path starting with /"
        )));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target, ""),
    };

    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(r, &mut budget)? else {
            return Err(ReadError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in the middle of the headers",
            )));
        };
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(ReadError::Reject(Response::error(
                431,
                format!("more than {MAX_HEADERS} headers"),
            )));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(format!("malformed header line {line:?}")));
        };
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(bad(format!("malformed header name {name:?}")));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };

    if header("transfer-encoding").is_some() {
        return Err(ReadError::Reject(Response::error(
            501,
            "Transfer-Encoding (chunked bodies) is not supported; send Content-Length",
        )));
    }
    let lengths: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k == "content-length")
        .map(|(_, v)| v.as_str())
        .collect();
    let body_len = match lengths.as_slice() {
        [] => 0,
        [one] => one
            .parse::<usize>()
            .map_err(|_| bad(format!("malformed Content-Length {one:?}")))?,
        _ => return Err(bad("more than one Content-Length")),
    };
    if body_len > max_body {
        return Err(ReadError::Reject(Response::error(
            413,
            format!("the body has {body_len} bytes; the limit is {max_body}"),
        )));
    }
    let connection = header("connection").map(str::to_ascii_lowercase);
    let keep_alive = match connection.as_deref() {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => !http10,
    };
    if body_len > 0 && header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        w.flush()?;
    }
    let mut body = vec![0u8; body_len];
    r.read_exact(&mut body)?;
    Ok(Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body,
        keep_alive,
    })
}

/// Decodes `%XX` escapes in a path segment. `+` stays `+` (that rule is
/// for forms, not paths).
pub fn percent_decode(s: &str) -> Result<Vec<u8>, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => out.push(b),
                None => return Err(format!("bad percent escape at byte {i} of {s:?}")),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Encodes bytes for a path segment: unreserved characters stay, the rest
/// become `%XX`.
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A response as the client reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ClientResponse {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a client request got no response.
#[derive(Debug)]
pub enum ClientError {
    /// The connection could not be made: the request was never sent.
    Connect(io::Error),
    /// The request may have been sent: its outcome is unknown.
    Io(io::Error),
    /// The server's response did not parse.
    Protocol(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Connect(e) => write!(f, "cannot connect: {e}"),
            ClientError::Io(e) => write!(f, "connection failed: {e}"),
            ClientError::Protocol(e) => write!(f, "bad response: {e}"),
        }
    }
}

/// The most bytes of response body the client accepts.
const MAX_RESPONSE_BODY: usize = 64 << 20;

/// An HTTP client for one server, keeping its connection open between
/// requests.
pub struct HttpClient {
    addr: String,
    timeout: Duration,
    conn: Option<BufReader<TcpStream>>,
}

impl HttpClient {
    /// A client for `addr` (`host:port`); every connect, read and write
    /// gives up after `timeout`.
    pub fn new(addr: &str, timeout: Duration) -> HttpClient {
        HttpClient {
            addr: addr.to_string(),
            timeout,
            conn: None,
        }
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    fn connect(&self) -> Result<BufReader<TcpStream>, ClientError> {
        let addrs: Vec<SocketAddr> = self
            .addr
            .to_socket_addrs()
            .map_err(ClientError::Connect)?
            .collect();
        let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, self.timeout) {
                Ok(s) => {
                    s.set_read_timeout(Some(self.timeout))
                        .map_err(ClientError::Connect)?;
                    s.set_write_timeout(Some(self.timeout))
                        .map_err(ClientError::Connect)?;
                    let _ = s.set_nodelay(true);
                    return Ok(BufReader::new(s));
                }
                Err(e) => last = e,
            }
        }
        Err(ClientError::Connect(last))
    }

    /// Sends one request and reads its response. On any error the
    /// connection is dropped; the next request opens a new one.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<ClientResponse, ClientError> {
        let mut conn = match self.conn.take().filter(still_open) {
            Some(c) => c,
            None => self.connect()?,
        };
        let mut out = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        conn.get_mut().write_all(&out).map_err(ClientError::Io)?;
        let (resp, keep) = read_response(&mut conn)?;
        if keep {
            self.conn = Some(conn);
        }
        Ok(resp)
    }
}

/// Whether a kept-alive connection can carry another request: the server
/// has not closed it (a restart, a crash) and sent nothing unasked. Sending
/// on a closed one would turn a request nobody received into one of
/// unknown outcome.
fn still_open(conn: &BufReader<TcpStream>) -> bool {
    if !conn.buffer().is_empty() {
        return false;
    }
    let s = conn.get_ref();
    if s.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    let open = matches!(s.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    open && s.set_nonblocking(false).is_ok()
}

/// Reads a response; also says whether the connection may be reused.
fn read_response(r: &mut BufReader<TcpStream>) -> Result<(ClientResponse, bool), ClientError> {
    let to_client = |e: ReadError| match e {
        ReadError::Closed => ClientError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection without a response",
        )),
        ReadError::Io(e) => ClientError::Io(e),
        ReadError::Reject(r) => ClientError::Protocol(String::from_utf8_lossy(&r.body).into()),
    };
    let mut budget = MAX_HEAD_BYTES;
    let (status, headers) = loop {
        let line = read_line(r, &mut budget)
            .map_err(to_client)?
            .ok_or_else(|| to_client(ReadError::Closed))?;
        let mut parts = line.splitn(3, ' ');
        let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
            return Err(ClientError::Protocol(format!("bad status line {line:?}")));
        };
        if !version.starts_with("HTTP/1.") {
            return Err(ClientError::Protocol(format!("bad status line {line:?}")));
        }
        let status: u16 = code
            .parse()
            .map_err(|_| ClientError::Protocol(format!("bad status code in {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = read_line(r, &mut budget)
                .map_err(to_client)?
                .ok_or_else(|| to_client(ReadError::Closed))?;
            if line.is_empty() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        // An interim 1xx response is followed by the real one.
        if (100..200).contains(&status) {
            continue;
        }
        break (status, headers);
    };
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let keep = !header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
    let body = match header("content-length") {
        Some(len) => {
            let len: usize = len
                .parse()
                .map_err(|_| ClientError::Protocol(format!("bad Content-Length {len:?}")))?;
            if len > MAX_RESPONSE_BODY {
                return Err(ClientError::Protocol(format!("a body of {len} bytes")));
            }
            let mut body = vec![0u8; len];
            r.read_exact(&mut body).map_err(ClientError::Io)?;
            body
        }
        None => {
            let mut body = Vec::new();
            r.take(MAX_RESPONSE_BODY as u64)
                .read_to_end(&mut body)
                .map_err(ClientError::Io)?;
            return Ok((
                ClientResponse {
                    status,
                    headers,
                    body,
                },
                false,
            ));
        }
    };
    Ok((
        ClientResponse {
            status,
            headers,
            body,
        },
        keep,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Request, ReadError> {
        let mut r = io::Cursor::new(raw.as_bytes().to_vec());
        let mut w = Vec::new();
        read_request(&mut r, &mut w, 100)
    }

    fn rejected_with(raw: &str) -> u16 {
        match parse(raw) {
            Err(ReadError::Reject(resp)) => resp.status,
            other => panic!("{raw:?}: got {other:?}, want a rejection"),
        }
    }

    #[test]
    fn parses_a_put_with_a_body() {
        let req = parse("PUT /kv/a%20b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\ntest")
            .unwrap();
        assert_eq!(req.method, "PUT");
        assert_eq!(req.path, "/kv/a%20b");
        assert_eq!(req.query, "x=1");
        assert_eq!(req.body, b"test");
        assert!(req.keep_alive);
        assert_eq!(req.header("host"), Some("h"));
    }

    #[test]
    fn connection_close_and_http10() {
        assert!(
            !parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
                .unwrap()
                .keep_alive
        );
        assert!(!parse("GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
    }

    #[test]
    fn bad_requests_get_clear_statuses() {
        let cases: [(&str, u16); 9] = [
            ("garbage\r\n\r\n", 400),
            ("GET /a HTTP/1.1 extra\r\n\r\n", 400),
            ("get /a HTTP/1.1\r\n\r\n", 400),
            ("GET a HTTP/1.1\r\n\r\n", 400),
            ("GET /a HTTP/2.0\r\n\r\n", 505),
            ("GET /a HTTP/1.1\r\nno colon\r\n\r\n", 400),
            ("PUT /a HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
            ("PUT /a HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413),
            ("PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        ];
        for (i, (raw, want)) in cases.iter().enumerate() {
            let got = rejected_with(raw);
            assert_eq!(got, *want, "case #{i} {raw:?}: status {got}, want {want}");
        }
        let huge = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(rejected_with(&huge), 431);
    }

    #[test]
    fn clean_close_and_truncation() {
        assert!(matches!(parse(""), Err(ReadError::Closed)));
        assert!(matches!(
            parse("GET / HTTP/1.1\r\nHo"),
            Err(ReadError::Io(_))
        ));
        assert!(matches!(
            parse("PUT / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc"),
            Err(ReadError::Io(_))
        ));
    }

    #[test]
    fn expect_continue_is_answered() {
        let raw = "PUT /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi";
        let mut r = io::Cursor::new(raw.as_bytes().to_vec());
        let mut w = Vec::new();
        let req = read_request(&mut r, &mut w, 100).unwrap();
        assert_eq!(req.body, b"hi");
        assert_eq!(w, b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    #[test]
    fn percent_coding_round_trips() {
        let raw = b"a b/c%\xff";
        let enc = percent_encode(raw);
        assert_eq!(enc, "a%20b%2Fc%25%FF");
        assert_eq!(percent_decode(&enc).unwrap(), raw);
        assert!(percent_decode("%4").is_err());
        assert!(percent_decode("%zz").is_err());
    }
}
