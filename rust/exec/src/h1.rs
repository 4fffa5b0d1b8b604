//! Order connections written by the task that decides the order: HTTP/1.1 on kept-alive
//! TCP connections the engine owns, with no client library's connection task in between.
//!
//! Through reqwest/hyper a request is handed to the connection's own task, which writes it
//! when the runtime next polls that task; here the deciding task encodes the request head
//! into the connection's reused buffer and writes it with `try_write` before it yields, so
//! the order leaves in the same poll that built it, and the answer is read by the same
//! task. Connections are dialled ahead (on any runtime: a dialled socket is handed over as a
//! std socket and registered on the runtime that first uses it), checked before each use
//! (one that the venue closed, or that sent bytes nobody asked for, is dropped unused), and
//! replaced once idle longer than the configured limit, before the venue's own idle timeout
//! can close one under an order.
//!
//! Plain `http://` only (the simulator, a local proxy); `https://` venues keep the reqwest
//! order pool, whose TLS runs on the same thread.
//!
//! What an error means for an order is exact: [`SendError::NotSent`] when no byte of the
//! request reached the socket (the dial failed, or the kernel took nothing), else
//! [`SendError::Unknown`] / [`SendError::Timeout`]: the venue may have it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::venue_api::HttpRequest;

thread_local! {
    static LAST_WRITE_NS: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// When the last request written on this thread left (`arb_core::time::now_ns`; 0
/// before any): a caller that polls a placement sees it change during the poll that
/// wrote the order, which dates the write exactly.
pub fn last_write_ns() -> i64 {
    LAST_WRITE_NS.get()
}

/// Why a request has no answer.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// Nothing of the request was written: the venue certainly does not have it.
    NotSent(String),
    /// Written, at least partly, and no complete answer came back.
    Unknown(String),
    /// Written, and no complete answer within the request timeout.
    Timeout,
}

/// A complete answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One kept-alive connection with its reused buffers.
struct Conn {
    io: TcpStream,
    /// The request being written; keeps its capacity between requests.
    wbuf: Vec<u8>,
    rbuf: Vec<u8>,
    last_used: Instant,
}

/// The order connections of one venue's REST origin.
pub struct H1Pool {
    /// `host:port` to dial.
    addr: String,
    /// The `Host` header (the URL's authority).
    host: String,
    idle: Mutex<Vec<Conn>>,
    /// Dialled elsewhere and not yet used: registered on the runtime that takes them.
    fresh: Mutex<Vec<(std::net::TcpStream, Instant)>>,
    connects: Arc<AtomicU64>,
    connect_timeout: Duration,
    timeout: Duration,
    max_idle: Duration,
}

impl H1Pool {
    /// The pool for `url` when it is a plain `http://` URL, else `None`.
    pub fn for_url(
        url: &url::Url,
        connects: Arc<AtomicU64>,
        connect_timeout: Duration,
        timeout: Duration,
        max_idle: Duration,
    ) -> Option<H1Pool> {
        if url.scheme() != "http" {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        Some(H1Pool {
            addr: format!("{host}:{port}"),
            host: host_header,
            idle: Mutex::new(Vec::new()),
            fresh: Mutex::new(Vec::new()),
            connects,
            connect_timeout,
            timeout,
            max_idle,
        })
    }

    /// Idle connections ready for a request (fresh ones included).
    pub fn ready(&self) -> usize {
        self.idle.lock().len() + self.fresh.lock().len()
    }

    /// Dials until `n` unused connections wait in the pool, on the calling runtime (off
    /// the hot thread: the sockets are registered by whichever runtime uses them first).
    /// Returns how many are ready.
    pub async fn prefill(&self, n: usize) -> usize {
        self.fresh
            .lock()
            .retain(|(_, at)| at.elapsed() < self.max_idle);
        let missing = n.saturating_sub(self.ready());
        let dials = (0..missing).map(|_| self.dial());
        for c in futures_util::future::join_all(dials)
            .await
            .into_iter()
            .flatten()
        {
            if let Ok(s) = c.into_std() {
                self.fresh.lock().push((s, Instant::now()));
            }
        }
        self.ready()
    }

    async fn dial(&self) -> Result<TcpStream, SendError> {
        self.connects.fetch_add(1, Ordering::Relaxed);
        let c = tokio::time::timeout(self.connect_timeout, TcpStream::connect(&self.addr))
            .await
            .map_err(|_| SendError::NotSent(format!("connect {}: timed out", self.addr)))?
            .map_err(|e| SendError::NotSent(format!("connect {}: {e}", self.addr)))?;
        // An order must not wait for the ACK of the previous write.
        c.set_nodelay(true)
            .map_err(|e| SendError::NotSent(format!("connect {}: {e}", self.addr)))?;
        Ok(c)
    }

    /// An idle connection that is still open and clean, else a fresh one, else none.
    fn checkout(&self) -> Option<Conn> {
        loop {
            let c = self.idle.lock().pop()?;
            if c.last_used.elapsed() < self.max_idle && usable(&c.io) {
                return Some(c);
            }
        }
    }

    fn take_fresh(&self) -> Option<Conn> {
        loop {
            let (s, at) = self.fresh.lock().pop()?;
            if at.elapsed() >= self.max_idle {
                continue;
            }
            let Ok(io) = TcpStream::from_std(s) else {
                continue;
            };
            if usable(&io) {
                return Some(Conn {
                    io,
                    wbuf: Vec::with_capacity(1024),
                    rbuf: Vec::with_capacity(4096),
                    last_used: Instant::now(),
                });
            }
        }
    }

    /// Sends one request and reads its answer on the calling task.
    pub async fn send(&self, req: &HttpRequest) -> Result<Answer, SendError> {
        let mut conn = match self.checkout().or_else(|| self.take_fresh()) {
            Some(c) => c,
            None => {
                let io = self.dial().await?;
                Conn {
                    io,
                    wbuf: Vec::with_capacity(1024),
                    rbuf: Vec::with_capacity(4096),
                    last_used: Instant::now(),
                }
            }
        };
        encode(&mut conn.wbuf, &self.host, req).map_err(SendError::NotSent)?;
        let deadline = Instant::now() + self.timeout;
        let written = write_all(&conn.io, &conn.wbuf, deadline).await;
        match written {
            Ok(()) => LAST_WRITE_NS.set(arb_core::time::now_ns()),
            Err((0, e)) => {
                return Err(SendError::NotSent(
                    e.unwrap_or_else(|| "write timed out before any byte".into()),
                ))
            }
            Err((_, e)) => return Err(e.map_or(SendError::Timeout, SendError::Unknown)),
        }
        conn.rbuf.clear();
        let read = tokio::time::timeout_at(deadline, read_answer(&mut conn)).await;
        let (answer, keep) = match read {
            Err(_) => return Err(SendError::Timeout),
            Ok(Err(e)) => return Err(SendError::Unknown(e)),
            Ok(Ok(x)) => x,
        };
        if keep {
            conn.last_used = Instant::now();
            self.idle.lock().push(conn);
        }
        Ok(answer)
    }
}

/// Open, and nothing unread: an idle connection the venue closed reads EOF, and one with
/// unsolicited bytes is out of step; both are dropped before a request is written.
///
/// A peek on the socket itself (`MSG_PEEK | MSG_DONTWAIT`), not the runtime's cached
/// readiness: a close that arrived since the runtime last polled its driver is seen too,
/// and nothing is consumed.
fn usable(io: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut b = [0u8; 1];
    // SAFETY: `b` is a valid 1-byte buffer for the duration of the call, and the fd is
    // owned by `io`, which outlives it.
    let n = unsafe {
        libc::recv(
            io.as_raw_fd(),
            b.as_mut_ptr().cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock
}

/// The request as bytes: the head (request line, `Host`, the venue's headers,
/// `Content-Length`) and the body, into `out` (cleared, capacity kept).
fn encode(out: &mut Vec<u8>, host: &str, req: &HttpRequest) -> Result<(), String> {
    let clean = |s: &str| s.bytes().all(|b| (0x21..0x7f).contains(&b));
    if !clean(&req.target) {
        return Err(format!(
            "request target {:?} is not plain ASCII",
            req.target
        ));
    }
    out.clear();
    out.extend_from_slice(req.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(req.target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (k, v) in &req.headers {
        if v.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(format!("header {k} holds a line break"));
        }
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let body = req.body.as_deref().unwrap_or("");
    if !body.is_empty() || !matches!(req.method.as_str(), "GET" | "HEAD") {
        out.extend_from_slice(b"Content-Length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    Ok(())
}

/// Writes `buf` whole; on failure, how many bytes the kernel took and why (`None`: the
/// deadline passed).
async fn write_all(
    io: &TcpStream,
    buf: &[u8],
    deadline: Instant,
) -> Result<(), (usize, Option<String>)> {
    let mut done = 0;
    while done < buf.len() {
        match io.try_write(&buf[done..]) {
            Ok(0) => return Err((done, Some("connection closed while writing".into()))),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                match tokio::time::timeout_at(deadline, io.writable()).await {
                    Err(_) => return Err((done, None)),
                    Ok(Err(e)) => return Err((done, Some(format!("write: {e}")))),
                    Ok(Ok(())) => {}
                }
            }
            Err(e) => return Err((done, Some(format!("write: {e}")))),
        }
    }
    Ok(())
}

/// Reads one answer; also whether the connection may carry the next request.
async fn read_answer(conn: &mut Conn) -> Result<(Answer, bool), String> {
    loop {
        if let Some(done) = parse(&conn.rbuf)? {
            return Ok(done);
        }
        let n = conn
            .io
            .read_buf(&mut conn.rbuf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return match parse_at_eof(&conn.rbuf)? {
                Some(a) => Ok((a, false)),
                None => Err("connection closed before the answer was complete".into()),
            };
        }
    }
}

/// How the body of an answer is delimited.
enum Framing {
    Length(usize),
    Chunked,
    /// Until the connection closes (no length, no chunking).
    Close,
}

struct Head {
    status: u16,
    headers: HeaderMap,
    len: usize,
    framing: Framing,
    keep_alive: bool,
}

fn head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut hs = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut hs);
    let len = match r.parse(buf).map_err(|e| format!("answer head: {e}"))? {
        httparse::Status::Partial => return Ok(None),
        httparse::Status::Complete(n) => n,
    };
    let status = r.code.unwrap_or(0);
    let mut headers = HeaderMap::with_capacity(r.headers.len());
    let mut framing = Framing::Close;
    let mut keep_alive = r.version == Some(1);
    for h in r.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) else {
            return Err(format!("answer header {:?} is malformed", h.name));
        };
        if name == reqwest::header::CONTENT_LENGTH && !matches!(framing, Framing::Chunked) {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| format!("answer Content-Length {:?}", value))?;
            framing = Framing::Length(n);
        } else if name == reqwest::header::TRANSFER_ENCODING {
            if h.value.eq_ignore_ascii_case(b"chunked") {
                framing = Framing::Chunked;
            } else {
                return Err(format!(
                    "answer Transfer-Encoding {value:?} is not supported"
                ));
            }
        } else if name == reqwest::header::CONNECTION {
            if h.value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            } else if h.value.eq_ignore_ascii_case(b"keep-alive") {
                keep_alive = true;
            }
        }
        headers.append(name, value);
    }
    // A 1xx answer is followed by the real one; the venues send none to these requests.
    if (100..200).contains(&status) {
        return Err(format!("answer status {status} is not supported"));
    }
    if matches!(framing, Framing::Close) {
        keep_alive = false;
    }
    Ok(Some(Head {
        status,
        headers,
        len,
        framing,
        keep_alive,
    }))
}

/// A complete answer in `buf` (and whether the connection stays usable), or `None` if
/// more bytes are needed.
fn parse(buf: &[u8]) -> Result<Option<(Answer, bool)>, String> {
    let Some(h) = head(buf)? else {
        return Ok(None);
    };
    let rest = &buf[h.len..];
    let (body, used) = match h.framing {
        Framing::Length(n) => {
            if rest.len() < n {
                return Ok(None);
            }
            (Bytes::copy_from_slice(&rest[..n]), n)
        }
        Framing::Chunked => match dechunk(rest)? {
            None => return Ok(None),
            Some((b, used)) => (Bytes::from(b), used),
        },
        Framing::Close => return Ok(None),
    };
    // Bytes beyond the answer were never asked for: the connection is out of step.
    let keep = h.keep_alive && used == rest.len();
    Ok(Some((
        Answer {
            status: h.status,
            headers: h.headers,
            body,
        },
        keep,
    )))
}

/// At EOF: an answer delimited by the close is complete; any other is cut short.
fn parse_at_eof(buf: &[u8]) -> Result<Option<Answer>, String> {
    match head(buf)? {
        Some(h) if matches!(h.framing, Framing::Close) => Ok(Some(Answer {
            status: h.status,
            headers: h.headers,
            body: Bytes::copy_from_slice(&buf[h.len..]),
        })),
        Some(_) => Ok(parse(buf)?.map(|(a, _)| a)),
        None => Ok(None),
    }
}

/// A chunked body: the decoded bytes and how many input bytes it took, or `None` if it
/// is not complete yet.
fn dechunk(mut buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let total = buf.len();
    let mut out = Vec::new();
    loop {
        let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[..eol]).map_err(|_| "chunk size line".to_string())?;
        let size_txt = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size_txt, 16).map_err(|_| format!("chunk size {size_txt:?}"))?;
        buf = &buf[eol + 2..];
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            loop {
                let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                buf = &buf[eol + 2..];
                if eol == 0 {
                    return Ok(Some((out, total - buf.len())));
                }
            }
        }
        if buf.len() < size + 2 {
            return Ok(None);
        }
        if &buf[size..size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        out.extend_from_slice(&buf[..size]);
        buf = &buf[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Method;
    use tokio::io::AsyncWriteExt;

    fn req(method: Method, target: &str, body: Option<&str>) -> HttpRequest {
        HttpRequest {
            method,
            target: target.into(),
            headers: vec![("X-MEXC-APIKEY", "k".into())],
            body: body.map(str::to_string),
        }
    }

    #[test]
    fn encodes_head_and_body() {
        let mut out = Vec::new();
        encode(
            &mut out,
            "127.0.0.1:9",
            &req(Method::POST, "/api/v3/order?symbol=BTCUSDT", Some("{}")),
        )
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "POST /api/v3/order?symbol=BTCUSDT HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\
             X-MEXC-APIKEY: k\r\nContent-Length: 2\r\n\r\n{}"
        );
        // A body-less POST still says its length (some servers wait for it otherwise).
        encode(&mut out, "h", &req(Method::POST, "/a", None)).unwrap();
        assert!(std::str::from_utf8(&out)
            .unwrap()
            .ends_with("Content-Length: 0\r\n\r\n"));
        encode(&mut out, "h", &req(Method::GET, "/a", None)).unwrap();
        assert!(!std::str::from_utf8(&out)
            .unwrap()
            .contains("Content-Length"));
    }

    #[test]
    fn refuses_what_would_break_the_framing() {
        let mut out = Vec::new();
        assert!(encode(&mut out, "h", &req(Method::GET, "/a b", None)).is_err());
        let mut r = req(Method::GET, "/a", None);
        r.headers.push(("X", "a\r\nInjected: 1".into()));
        assert!(encode(&mut out, "h", &r)
            .unwrap_err()
            .contains("line break"));
    }

    #[test]
    fn parses_length_chunked_and_partial_answers() {
        let a = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        for cut in 0..a.len() {
            assert!(parse(&a[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        let (ans, keep) = parse(a).unwrap().unwrap();
        assert_eq!(
            (ans.status, &ans.body[..], keep),
            (200, &b"hello"[..], true)
        );

        let c = b"HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\nRetry-After: 2\r\n\r\n4;x=1\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
        for cut in 0..c.len() {
            assert!(parse(&c[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        let (ans, keep) = parse(c).unwrap().unwrap();
        assert_eq!(ans.status, 429);
        assert_eq!(&ans.body[..], b"Wikipedia");
        assert_eq!(ans.headers.get("retry-after").unwrap(), "2");
        assert!(keep);

        let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\n{}";
        assert!(!parse(close).unwrap().unwrap().1);
        // Delimited by the close: complete only at EOF.
        let eof = b"HTTP/1.0 200 OK\r\n\r\n{\"a\":1}";
        assert!(parse(eof).unwrap().is_none());
        assert_eq!(&parse_at_eof(eof).unwrap().unwrap().body[..], b"{\"a\":1}");
        // Cut short: no answer, even at EOF.
        assert!(parse_at_eof(&a[..a.len() - 1]).unwrap().is_none());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\n\r\n5\r\n").is_ok());
        assert!(dechunk(b"zz\r\n").is_err());
    }

    /// A one-connection-at-a-time HTTP/1.1 server for the pool's own tests: answers each
    /// request with its target, closes after `close_after` answers on a connection.
    async fn server(close_after: usize) -> (String, Arc<AtomicU64>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let accepted = Arc::new(AtomicU64::new(0));
        let acc = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                acc.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    for _ in 0..close_after {
                        let target = loop {
                            let mut hs = [httparse::EMPTY_HEADER; 16];
                            let mut r = httparse::Request::new(&mut hs);
                            if let Ok(httparse::Status::Complete(n)) = r.parse(&buf) {
                                let t = r.path.unwrap().to_string();
                                buf.drain(..n);
                                break t;
                            }
                            if s.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                                return;
                            }
                        };
                        let body = format!("{{\"target\":\"{target}\"}}");
                        let a = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        s.write_all(a.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        (url, accepted)
    }

    fn pool(url: &str) -> H1Pool {
        H1Pool::for_url(
            &url::Url::parse(url).unwrap(),
            Arc::new(AtomicU64::new(0)),
            Duration::from_secs(2),
            Duration::from_secs(2),
            Duration::from_secs(30),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn reuses_a_connection_and_replaces_one_the_server_closed() {
        let (url, accepted) = server(2).await;
        let p = pool(&url);
        for i in 0..4 {
            let a = p
                .send(&req(Method::GET, &format!("/n{i}"), None))
                .await
                .unwrap();
            assert_eq!(a.status, 200);
            assert_eq!(&a.body[..], format!("{{\"target\":\"/n{i}\"}}").as_bytes());
            // Let the server's close reach us before the next checkout.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Two answers per connection: four requests, two connections, none failed.
        assert_eq!(accepted.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn prefilled_connections_are_used_first() {
        let (url, accepted) = server(100).await;
        let p = pool(&url);
        assert_eq!(p.prefill(2).await, 2);
        p.send(&req(Method::GET, "/a", None)).await.unwrap();
        p.send(&req(Method::GET, "/b", None)).await.unwrap();
        // Served on a prefilled connection (then reused): nothing else was dialled.
        assert_eq!(p.connects.load(Ordering::Relaxed), 2);
        assert_eq!(p.ready(), 2);
        assert_eq!(p.prefill(2).await, 2);
        assert_eq!(p.connects.load(Ordering::Relaxed), 2);
        drop(accepted);
    }

    #[tokio::test]
    async fn a_refused_dial_is_not_sent_and_a_lost_answer_is_unknown() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let e = pool(&url)
            .send(&req(Method::POST, "/o", Some("{}")))
            .await
            .unwrap_err();
        assert!(matches!(e, SendError::NotSent(_)), "{e:?}");

        // A server that reads the request and hangs up without answering.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut b = [0u8; 256];
            let _ = s.read(&mut b).await;
        });
        let e = pool(&url)
            .send(&req(Method::POST, "/o", Some("{}")))
            .await
            .unwrap_err();
        assert!(matches!(e, SendError::Unknown(_)), "{e:?}");
    }

    #[test]
    fn https_keeps_the_library_pool() {
        let u = url::Url::parse("https://api.mexc.com").unwrap();
        let n = Arc::new(AtomicU64::new(0));
        let d = Duration::from_secs(1);
        assert!(H1Pool::for_url(&u, n, d, d, d).is_none());
    }
}
