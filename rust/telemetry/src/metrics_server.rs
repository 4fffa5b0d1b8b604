//! The `/metrics` endpoint: hyper's HTTP/1.1 server on a loopback port, on a thread of
//! its own.
//!
//! Why hyper and not the hand-written responder it replaces: that one served one
//! connection at a time with an unbounded `read_line` and a per-read timeout, so a client
//! sending 64 MB without a newline grew the process by 64 MB and a client sending a byte
//! a second held every scrape. hyper (already in the tree through axum and reqwest)
//! parses the request with a capped buffer ([`MAX_HEAD_BYTES`]: a larger head gets 431
//! and the connection is closed), bounds the time to read a whole head
//! ([`HEAD_TIMEOUT`]), and each connection is its own task, so a slow client only delays
//! itself; at most [`MAX_CONNECTIONS`] are served at once (more wait to be accepted).
//! Request bodies are never read. axum itself would add routing we do not need and
//! hides these limits behind its `serve`.
//!
//! Why a dedicated thread with its own single-threaded runtime: scrapes stay off the
//! trading runtime's workers (rendering takes the registry lock and formats a few kB),
//! and Rust-only programs and tests need no runtime of their own.

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{oneshot, Semaphore};

use crate::metrics::Registry;

/// The largest request head read (hyper's minimum buffer); a scrape's is ~200 bytes.
pub const MAX_HEAD_BYTES: usize = 8192;
/// Time a client has to send its whole request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a connection may last in all (head, render, and writing the answer).
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 32;

/// A running `/metrics` server. Stopped on drop.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Serves `registry` on `127.0.0.1:port` (`port = 0` lets the OS choose; see
    /// [`MetricsServer::local_addr`]). Before each render the process RSS gauge is
    /// refreshed.
    ///
    /// # Errors
    /// The port cannot be bound, or the server's thread or runtime cannot be created.
    pub fn start(port: u16, registry: Registry) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel();
        let join = thread::Builder::new()
            .name("arb-metrics-http".into())
            .spawn(move || rt.block_on(accept_loop(listener, registry, stopped)))?;
        Ok(MetricsServer {
            addr,
            stop: Some(stop),
            join: Some(join),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, drops open connections and joins the thread. Idempotent.
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_loop(
    listener: TcpListener,
    registry: Registry,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(false);
    loop {
        // Stopping never waits for a slot to free up.
        let slot = tokio::select! {
            _ = &mut stopped => return,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => return,
            },
        };
        let stream = tokio::select! {
            _ = &mut stopped => return,
            conn = listener.accept() => match conn {
                Ok((stream, _)) => stream,
                // A failed accept (e.g. out of descriptors) only loses that client.
                Err(_) => continue,
            },
        };
        let registry = registry.clone();
        let conn = http.serve_connection(
            TokioIo::new(stream),
            hyper::service::service_fn(move |req| {
                let r = answer(&req, &registry);
                async move { Ok::<_, Infallible>(r) }
            }),
        );
        tokio::spawn(async move {
            // A broken or stuck client only loses its own answer.
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, conn).await;
            drop(slot);
        });
    }
}

fn answer(req: &Request<Incoming>, registry: &Registry) -> Response<Full<Bytes>> {
    let (status, ctype, body) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => {
            if let Some(rss) = crate::process::rss_bytes() {
                registry
                    .gauge(crate::metrics::names::PROCESS_RSS_BYTES, &[])
                    .set(rss as f64);
            }
            (
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                registry.render(),
            )
        }
        (&Method::GET, _) => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /metrics\n".into(),
        ),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "only GET is served\n".into(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}
