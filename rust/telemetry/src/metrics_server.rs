//! The `/metrics` endpoint: a minimal HTTP/1.1 responder on a loopback port.
//!
//! Why hand-written on a std thread and not axum on the tokio runtime: the only job is
//! "GET /metrics -> text", a scrape every few seconds. A dedicated thread keeps scrapes
//! off the trading runtime's workers (rendering takes the registry lock and formats a
//! few kB), needs no runtime in Rust-only programs and tests, and adds no dependency.
//! Connections are served one at a time with a short read timeout, so a stuck client
//! delays a scrape by at most that timeout and can never reach the hot path.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::metrics::Registry;

/// A running `/metrics` server. Stopped on drop.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Serves `registry` on `127.0.0.1:port` (`port = 0` lets the OS choose; see
    /// [`MetricsServer::local_addr`]). Before each render the process RSS gauge is
    /// refreshed.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub fn start(port: u16, registry: Registry) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let join = thread::Builder::new()
            .name("arb-metrics-http".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if s.load(Ordering::Acquire) {
                        break;
                    }
                    if let Ok(stream) = conn {
                        // A broken client only loses its own response.
                        let _ = serve(stream, &registry);
                    }
                }
            })?;
        Ok(MetricsServer {
            addr,
            stop,
            join: Some(join),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and joins the thread. Idempotent.
    pub fn stop(&mut self) {
        if let Some(j) = self.join.take() {
            self.stop.store(true, Ordering::Release);
            // Wake the blocking accept with one connection of our own.
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            let _ = j.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(stream: TcpStream, registry: &Registry) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Read (and ignore) the headers up to the blank line.
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, ctype, body) = match (method, path) {
        ("GET", "/metrics") => {
            if let Some(rss) = crate::process::rss_bytes() {
                registry
                    .gauge(crate::metrics::names::PROCESS_RSS_BYTES, &[])
                    .set(rss as f64);
            }
            (
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                registry.render(),
            )
        }
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "not found: try /metrics\n".into(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET is served\n".into(),
        ),
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(body.as_bytes())?;
    out.flush()
}
