//! Order connections written by the task that decides the order: HTTP/1.1 on kept-alive
//! connections the engine owns (plain TCP, or TLS over it on the live venues), with no
//! client library's connection task in between.
//!
//! Through reqwest/hyper a request is handed to the connection's own task, which writes it
//! when the runtime next polls that task; here the deciding task encodes the request head
//! into the connection's reused buffer ([`wire`]) and writes it before it yields (plain
//! TCP: `try_write`, straight into the kernel), so the order leaves in the same poll that
//! built it, and the answer is read by the same task. Connections are dialled (and TLS
//! handshaken) ahead, on any runtime: a connection is handed over detached from its
//! runtime and registered by the one that uses it ([`sock`]). Each is checked before use
//! (one that the venue closed, or that sent bytes nobody asked for, is dropped unused), and
//! replaced once idle longer than the configured limit, before the venue's own idle
//! timeout can close one under an order.
//!
//! What an error means for an order is exact: [`SendError::NotSent`] when no byte of the
//! request reached the connection (the dial or handshake failed, or the kernel took
//! nothing), else [`SendError::Unknown`] / [`SendError::Timeout`]: the venue may have it.

mod sock;
mod wire;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use reqwest::header::HeaderMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::venue_api::HttpRequest;
use sock::{Io, Sock};

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
    io: Io,
    /// The request being written; keeps its capacity between requests.
    wbuf: Vec<u8>,
    rbuf: Vec<u8>,
    last_used: Instant,
}

impl Conn {
    fn new(io: Io) -> Conn {
        Conn {
            io,
            wbuf: Vec::with_capacity(1024),
            rbuf: Vec::with_capacity(4096),
            last_used: Instant::now(),
        }
    }
}

/// TLS for an `https` origin: the client configuration and the name to verify.
struct Tls {
    connector: tokio_rustls::TlsConnector,
    name: rustls::pki_types::ServerName<'static>,
}

/// The order connections of one venue's REST origin.
pub struct H1Pool {
    /// `host:port` to dial.
    addr: String,
    /// The `Host` header (the URL's authority).
    host: String,
    tls: Option<Tls>,
    idle: Mutex<Vec<Conn>>,
    /// Dialled elsewhere and not yet used, detached from the runtime that dialled them.
    fresh: Mutex<Vec<Conn>>,
    connects: Arc<AtomicU64>,
    connect_timeout: Duration,
    timeout: Duration,
    max_idle: Duration,
}

/// The TLS client configuration of the venues: rustls (ring) with the Mozilla roots, as
/// reqwest's `rustls-tls` and tungstenite's `rustls-tls-webpki-roots` use.
fn default_tls() -> Arc<rustls::ClientConfig> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(cfg)
}

impl H1Pool {
    /// The pool for an `http` or `https` URL (`tls`: the client configuration for
    /// `https`, `None` for the venues' default); `None` for another scheme.
    pub fn for_url(
        url: &url::Url,
        connects: Arc<AtomicU64>,
        connect_timeout: Duration,
        timeout: Duration,
        max_idle: Duration,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Option<H1Pool> {
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        let tls = match url.scheme() {
            "http" => None,
            "https" => Some(Tls {
                connector: tokio_rustls::TlsConnector::from(tls.unwrap_or_else(default_tls)),
                name: rustls::pki_types::ServerName::try_from(host.to_string()).ok()?,
            }),
            _ => return None,
        };
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        Some(H1Pool {
            addr: format!("{host}:{port}"),
            host: host_header,
            tls,
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

    /// Dials (and handshakes) until `n` unused connections wait in the pool, on the
    /// calling runtime (off the hot thread: a connection is registered by whichever
    /// runtime uses it first). Returns how many are ready.
    pub async fn prefill(&self, n: usize) -> usize {
        self.fresh
            .lock()
            .retain(|c| c.last_used.elapsed() < self.max_idle);
        let missing = n.saturating_sub(self.ready());
        let dials = (0..missing).map(|_| self.dial());
        for c in futures_util::future::join_all(dials)
            .await
            .into_iter()
            .flatten()
        {
            let mut c = Conn::new(c);
            if c.io.detach().is_ok() {
                self.fresh.lock().push(c);
            }
        }
        self.ready()
    }

    async fn dial(&self) -> Result<Io, SendError> {
        self.connects.fetch_add(1, Ordering::Relaxed);
        let fail = |e: String| SendError::NotSent(format!("connect {}: {e}", self.addr));
        let open = async {
            let tcp = TcpStream::connect(&self.addr)
                .await
                .map_err(|e| fail(e.to_string()))?;
            // An order must not wait for the ACK of the previous write.
            tcp.set_nodelay(true).map_err(|e| fail(e.to_string()))?;
            let sock = Sock::Attached(tcp);
            match &self.tls {
                None => Ok(Io::Plain(sock)),
                Some(t) => t
                    .connector
                    .connect(t.name.clone(), sock)
                    .await
                    .map(|s| Io::Tls(Box::new(s)))
                    .map_err(|e| fail(format!("TLS: {e}"))),
            }
        };
        tokio::time::timeout(self.connect_timeout, open)
            .await
            .map_err(|_| fail("timed out".into()))?
    }

    /// An idle connection that is still open and clean, else a fresh one, else none.
    fn checkout(&self) -> Option<Conn> {
        for pool in [&self.idle, &self.fresh] {
            loop {
                let Some(c) = pool.lock().pop() else {
                    break;
                };
                let mut c = c;
                if c.last_used.elapsed() < self.max_idle && c.io.usable() {
                    return Some(c);
                }
            }
        }
        None
    }

    /// Sends one request and reads its answer on the calling task.
    pub async fn send(&self, req: &HttpRequest) -> Result<Answer, SendError> {
        let mut conn = match self.checkout() {
            Some(c) => c,
            None => Conn::new(self.dial().await?),
        };
        wire::encode(&mut conn.wbuf, &self.host, req).map_err(SendError::NotSent)?;
        let deadline = Instant::now() + self.timeout;
        match write_all(&mut conn, deadline).await {
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

/// Writes the encoded request whole; on failure, how many bytes the connection took (for
/// TLS, 1 once the session accepted any: records may be on the wire) and why (`None`:
/// the deadline passed).
async fn write_all(conn: &mut Conn, deadline: Instant) -> Result<(), (usize, Option<String>)> {
    let buf = &conn.wbuf;
    match &mut conn.io {
        Io::Plain(sock) => {
            let io = sock.tcp().map_err(|e| (0, Some(format!("write: {e}"))))?;
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
        Io::Tls(t) => {
            let w = async {
                t.write_all(buf).await?;
                t.flush().await
            };
            match tokio::time::timeout_at(deadline, w).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err((1, Some(format!("write: {e}")))),
                Err(_) => Err((1, None)),
            }
        }
    }
}

/// Reads one answer; also whether the connection may carry the next request.
async fn read_answer(conn: &mut Conn) -> Result<(Answer, bool), String> {
    loop {
        if let Some(done) = wire::parse(&conn.rbuf)? {
            return Ok(done);
        }
        let n = conn
            .io
            .read_buf(&mut conn.rbuf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return match wire::parse_at_eof(&conn.rbuf)? {
                Some(a) => Ok((a, false)),
                None => Err("connection closed before the answer was complete".into()),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Method;
    use tokio::io::AsyncWriteExt;

    pub(super) fn req(method: Method, target: &str, body: Option<&str>) -> HttpRequest {
        HttpRequest {
            method,
            target: target.into(),
            headers: vec![("X-MEXC-APIKEY", "k".into())],
            body: body.map(str::to_string),
        }
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
        pool_tls(url, None)
    }

    fn pool_tls(url: &str, tls: Option<Arc<rustls::ClientConfig>>) -> H1Pool {
        H1Pool::for_url(
            &url::Url::parse(url).unwrap(),
            Arc::new(AtomicU64::new(0)),
            Duration::from_secs(2),
            Duration::from_secs(2),
            Duration::from_secs(30),
            tls,
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

    const CERT: &[u8] = include_bytes!("testdata/localhost.cert.pem");
    const KEY: &[u8] = include_bytes!("testdata/localhost.key.pem");

    /// An HTTPS server (the test certificate) answering every request on a connection
    /// with its target; the number of TLS handshakes it completed.
    async fn tls_server() -> (String, Arc<AtomicU64>) {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from_pem_slice(CERT).unwrap()],
                PrivateKeyDer::from_pem_slice(KEY).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://localhost:{}", l.local_addr().unwrap().port());
        let handshakes = Arc::new(AtomicU64::new(0));
        let hs = handshakes.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = l.accept().await.unwrap();
                let acceptor = acceptor.clone();
                let hs = hs.clone();
                tokio::spawn(async move {
                    let Ok(mut s) = acceptor.accept(tcp).await else {
                        return;
                    };
                    hs.fetch_add(1, Ordering::Relaxed);
                    let mut buf = Vec::new();
                    loop {
                        let target = loop {
                            let mut hs = [httparse::EMPTY_HEADER; 16];
                            let mut r = httparse::Request::new(&mut hs);
                            if let Ok(httparse::Status::Complete(n)) = r.parse(&buf) {
                                let len: usize = r
                                    .headers
                                    .iter()
                                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                                    .map_or(0, |h| {
                                        std::str::from_utf8(h.value).unwrap().parse().unwrap()
                                    });
                                if buf.len() >= n + len {
                                    let t = r.path.unwrap().to_string();
                                    buf.drain(..n + len);
                                    break t;
                                }
                            }
                            if s.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                                return;
                            }
                        };
                        let a = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{target}",
                            target.len()
                        );
                        s.write_all(a.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        (url, handshakes)
    }

    fn trusting_the_test_cert() -> Arc<rustls::ClientConfig> {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from_pem_slice(CERT).unwrap())
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }

    /// TLS connections handshaken on one runtime (the background one) serve requests
    /// from another (the hot thread's), kept alive: one handshake per connection.
    #[test]
    fn tls_connections_prefilled_elsewhere_serve_the_hot_runtime() {
        let server_rt = tokio::runtime::Runtime::new().unwrap();
        let (url, handshakes) = server_rt.block_on(tls_server());
        let p = pool_tls(&url, Some(trusting_the_test_cert()));
        let rt = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        };
        assert_eq!(rt().block_on(p.prefill(1)), 1);
        rt().block_on(async {
            for t in ["/a", "/b", "/c"] {
                let a = p.send(&req(Method::POST, t, Some("{}"))).await.unwrap();
                assert_eq!((a.status, &a.body[..]), (200, t.as_bytes()));
            }
        });
        assert_eq!(handshakes.load(Ordering::Relaxed), 1);
        assert_eq!(p.connects.load(Ordering::Relaxed), 1);
    }

    /// A certificate the client does not trust: refused before any request byte.
    #[tokio::test]
    async fn an_untrusted_certificate_is_not_sent() {
        let (url, _) = tls_server().await;
        let e = pool_tls(&url, None)
            .send(&req(Method::POST, "/o", Some("{}")))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, SendError::NotSent(m) if m.contains("TLS")),
            "{e:?}"
        );
    }

    #[test]
    fn only_http_and_https() {
        let n = Arc::new(AtomicU64::new(0));
        let d = Duration::from_secs(1);
        let u = url::Url::parse("https://api.mexc.com").unwrap();
        assert!(H1Pool::for_url(&u, n.clone(), d, d, d, None).is_some());
        let u = url::Url::parse("ws://api.mexc.com").unwrap();
        assert!(H1Pool::for_url(&u, n, d, d, d, None).is_none());
    }
}
