//! A tiny HTTP/1.1 client over a TcpStream, for the route tests (which need
//! to send a foreign `Host`, something a full client decides itself) and for
//! WebDriver's JSON over HTTP (chromedriver). One request per connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout};
use std::time::Duration;

/// The address a `kfpl ui` started with a piped stdout listens on, read
/// from its first line (`serving … on http://127.0.0.1:PORT/`), and that
/// stdout, which the caller keeps open (the server writes a line a request).
pub(crate) fn listening(child: &mut Child) -> (String, BufReader<ChildStdout>) {
    let mut stdout = BufReader::new(child.stdout.take().expect("a piped stdout"));
    let mut first = String::new();
    stdout
        .read_line(&mut first)
        .expect("kfpl ui prints its address");
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    (addr, stdout)
}

/// An answer: status, headers (names lower-cased) and body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request to `addr` (`127.0.0.1:1234`); `Host` is `addr` unless
/// `headers` names one.
pub(crate) fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("a read timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" || method == "DELETE" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("request sent");
    stream.write_all(body.as_bytes()).expect("body sent");
    parse(&read_response(&mut stream))
}

/// Reads one response: up to the end of its body by `Content-Length` or
/// the last chunk (a server may keep the connection open), else to EOF.
fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if complete_length(&raw).is_some_and(|total| raw.len() >= total) {
            return raw;
        }
        match stream.read(&mut buffer) {
            Ok(0) => return raw,
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
            Err(e) => panic!("response read: {e}"),
        }
    }
}

/// How long the whole response is, once its headers say so.
fn complete_length(raw: &[u8]) -> Option<usize> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body_start = split + 4;
    if let Some(line) = head.lines().find(|l| l.starts_with("content-length:")) {
        let length: usize = line["content-length:".len()..].trim().parse().ok()?;
        return Some(body_start + length);
    }
    if head.contains("transfer-encoding: chunked") {
        let end = raw[body_start..]
            .windows(5)
            .position(|w| w == b"0\r\n\r\n")?;
        return Some(body_start + end + 5);
    }
    None
}

/// `GET path` with no extra headers.
pub(crate) fn get(addr: &str, path: &str) -> Response {
    request(addr, "GET", path, &[], "")
}

fn parse(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = unchunk(&body);
    }
    Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}
