//! The pooled HTTP client of one venue, with new TCP connections counted, and the
//! venue's clock offset.
//!
//! Connection reuse is measured, not assumed: a tower layer wrapped around reqwest's
//! connector (`ClientBuilder::connector_layer`) is called exactly when the pool has no
//! idle connection and a new one must be dialled, so `connects / requests` is the
//! share of requests that paid for a handshake.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::config::VenueConfig;

/// Counts calls into the connector (= new connections dialled).
#[derive(Clone)]
struct CountConnects(Arc<AtomicU64>);

#[derive(Clone)]
struct Counted<S> {
    inner: S,
    n: Arc<AtomicU64>,
}

impl<S> tower::Layer<S> for CountConnects {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            n: self.0.clone(),
        }
    }
}

impl<S: tower::Service<R>, R> tower::Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        self.n.fetch_add(1, Ordering::Relaxed);
        self.inner.call(req)
    }
}

/// Connection statistics of one client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConnStats {
    pub requests: u64,
    pub new_connections: u64,
}

impl ConnStats {
    /// Share of requests that went out on an already open connection.
    pub fn reuse_ratio(&self) -> f64 {
        if self.requests == 0 {
            return 1.0;
        }
        1.0 - (self.new_connections.min(self.requests) as f64 / self.requests as f64)
    }
}

/// Builds the pooled client: keep-alive pool of `pool_size`, TCP_NODELAY, timeouts,
/// rustls (ring provider: builds with gcc alone, no cmake) for `https` URLs.
pub fn build_client(
    cfg: &VenueConfig,
) -> Result<(reqwest::Client, Arc<AtomicU64>), reqwest::Error> {
    let connects = Arc::new(AtomicU64::new(0));
    Ok((build_pool(cfg, connects.clone())?, connects))
}

/// One connection pool to the venue, counting its new connections into `connects`.
///
/// # Errors
/// A TLS backend that cannot start.
pub fn build_pool(
    cfg: &VenueConfig,
    connects: Arc<AtomicU64>,
) -> Result<reqwest::Client, reqwest::Error> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(cfg.pool_size)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .tcp_keepalive(Duration::from_secs(30))
        .connect_timeout(Duration::from_millis(cfg.connect_timeout_ms))
        .timeout(cfg.request_timeout())
        // The venues speak HTTP/1.1 with keep-alive; h2 negotiation would only add a
        // round of ALPN work and a different pooling model to reason about.
        .http1_only()
        .connector_layer(CountConnects(connects))
        .build()?;
    Ok(client)
}

/// A WebSocket connection as both private streams and the Gate trading path open it.
pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket (`ws://` on the simulator, `wss://` on the venues) with
/// TCP_NODELAY: without it, a small order frame waits for the ACK of the previous one
/// (Nagle plus the peer's delayed ACK), which costs ~40 ms per request on loopback.
///
/// # Errors
/// Timeout or the connection/handshake error, as text.
pub async fn ws_connect(url: &str, timeout: Duration) -> Result<WsStream, String> {
    // wss on the real venues: rustls with the ring provider (the only one compiled in).
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The query can hold a credential (MEXC's `?listenKey=`): errors show the URL
    // without it, and the error text is cleared of it too.
    let (shown, query) = match url.split_once('?') {
        Some((base, q)) => (format!("{base}?***"), Some(q)),
        None => (url.to_string(), None),
    };
    match tokio::time::timeout(
        timeout,
        tokio_tungstenite::connect_async_with_config(url, None, true),
    )
    .await
    {
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(e)) => {
            let mut why = e.to_string();
            if let Some(q) = query.filter(|q| !q.is_empty()) {
                why = why.replace(q, "***");
            }
            Err(format!("connect {shown}: {why}"))
        }
        Err(_) => Err(format!("connect {shown}: timed out")),
    }
}

/// An integer header (a decimal part, as in `1700000000.123`, is dropped).
pub(crate) fn header_i64(h: &reqwest::header::HeaderMap, name: &str) -> Option<i64> {
    h.get(name)?
        .to_str()
        .ok()?
        .trim()
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// The venue's clock minus ours, in ms, tracked from server-time answers and applied
/// to every signed timestamp (MEXC rejects `timestamp >= serverTime + 1000`, Gate
/// anything 60 s off).
#[derive(Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Records a server time read between local times `sent_ms` and `received_ms`:
    /// the server stamped it at about the midpoint.
    pub fn observe(&self, server_ms: i64, sent_ms: i64, received_ms: i64) {
        let mid = sent_ms + (received_ms - sent_ms) / 2;
        self.offset_ms.store(server_ms - mid, Ordering::Relaxed);
    }

    /// Our best estimate of the venue's clock now.
    pub fn venue_now_ms(&self) -> i64 {
        arb_core::time::now_ms() + self.offset_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_offset_from_midpoint() {
        let c = Clock::default();
        c.observe(10_500, 1_000, 2_000);
        assert_eq!(c.offset_ms(), 9_000);
        assert!((c.venue_now_ms() - arb_core::time::now_ms() - 9_000).abs() <= 5);
    }

    /// MEXC's private stream URL carries the listenKey (`?listenKey=...`): a connect
    /// error used to repeat the whole URL into logs and alerts.
    #[tokio::test]
    async fn connect_errors_do_not_repeat_the_query() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let url = format!("ws://127.0.0.1:{port}/ws?listenKey=pqrsLISTENKEY0123456789");
        let e = match ws_connect(&url, Duration::from_secs(5)).await {
            Err(e) => e,
            Ok(_) => panic!("connected to a closed port"),
        };
        assert!(!e.contains("LISTENKEY"), "{e}");
        assert!(e.contains(&format!("127.0.0.1:{port}/ws")), "{e}");
    }

    #[test]
    fn reuse_ratio() {
        let s = ConnStats {
            requests: 1000,
            new_connections: 20,
        };
        assert!((s.reuse_ratio() - 0.98).abs() < 1e-9);
    }
}
