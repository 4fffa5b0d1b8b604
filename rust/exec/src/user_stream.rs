//! The private-stream driver: runs the venue's [`UserSession`](crate::venue_api::UserSession)
//! (its folder's `stream.rs`: MEXC's listenKey and protobuf channels, Gate's signed
//! channels), feeding the venue client's [`OrderTracker`](crate::lifecycle::OrderTracker).
//!
//! The stream is a task that reconnects forever until stopped, with backoff; when a
//! connection ends asking for new credentials (MEXC's listenKey expired or refused)
//! the session discards them first. After every connection (the first included:
//! events may have happened before it) the orders and fills are reconciled over REST,
//! so an event lost while disconnected is still recorded; the tracker de-duplicates
//! fills by trade id, so seeing one twice is harmless.

use arb_core::Venue;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::client::VenueClient;
use crate::lifecycle::ExecEvent;
use crate::venue_api::{End, SessionCtx};

/// Counters of a private stream.
#[derive(Debug, Default)]
pub struct StreamStats {
    pub connects: AtomicU64,
    pub listen_keys_created: AtomicU64,
    pub frames: AtomicU64,
    pub fills: AtomicU64,
    pub orders: AtomicU64,
    pub reconciled_fills: AtomicU64,
    /// REST reconciliations completed (one after each connection).
    pub reconciles: AtomicU64,
    pub decode_errors: AtomicU64,
    /// True while connected and subscribed.
    pub connected: AtomicBool,
    /// Wall-clock ms of the last frame received (0 before the first).
    pub last_frame_ms: AtomicI64,
}

/// A running private stream; stops when [`UserStream::stop`] is called or dropped.
pub struct UserStream {
    venue: Venue,
    stop: CancellationToken,
    pub stats: Arc<StreamStats>,
}

impl UserStream {
    /// Starts the private stream of `client`'s venue. `symbols` (venue format) are the
    /// markets reconciled over REST after each (re)connection.
    pub fn start(client: VenueClient, symbols: Vec<String>) -> UserStream {
        let stop = CancellationToken::new();
        let stats = Arc::new(StreamStats::default());
        let (s, st) = (stop.clone(), stats.clone());
        let venue = client.venue();
        tokio::spawn(supervise(client, symbols, s, st));
        UserStream { venue, stop, stats }
    }

    /// The venue whose stream this is.
    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Test hook: the next private stream task to start panics.
    #[doc(hidden)]
    pub fn panic_next_start() {
        PANIC_NEXT_RUN.store(true, Ordering::Release);
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }

    pub fn is_connected(&self) -> bool {
        self.stats.connected.load(Ordering::Acquire)
    }
}

impl Drop for UserStream {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

static PANIC_NEXT_RUN: AtomicBool = AtomicBool::new(false);

/// Runs the stream, and runs it again (after a pause) if its task panics: otherwise the
/// account's orders and fills would silently stop arriving. The panic itself is logged,
/// counted and alerted by the process's panic hook (arb-telemetry); here the stream is
/// reported disconnected, which is what the engine's health checks act on.
async fn supervise(
    client: VenueClient,
    symbols: Vec<String>,
    stop: CancellationToken,
    stats: Arc<StreamStats>,
) {
    loop {
        let task = tokio::spawn(run(
            client.clone(),
            symbols.clone(),
            stop.clone(),
            stats.clone(),
        ));
        match task.await {
            Err(e) if e.is_panic() => {
                stats.connected.store(false, Ordering::Release);
                client.tracker().publish(ExecEvent::Stream {
                    venue: client.venue(),
                    connected: false,
                    detail: "private stream task panicked; restarting in 1 s".into(),
                });
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            // Stopped, or the runtime is shutting down.
            _ => return,
        }
    }
}

async fn run(
    client: VenueClient,
    symbols: Vec<String>,
    stop: CancellationToken,
    stats: Arc<StreamStats>,
) {
    if PANIC_NEXT_RUN.swap(false, Ordering::AcqRel) {
        panic!("test hook: a private stream task panicked");
    }
    let venue = client.venue();
    let mut session = client.api().user_session();
    // Fills are reconciled from a minute before the last frame the previous connection
    // received (a connection can be dead well before it is noticed), first from a
    // minute before the stream started.
    let mut since = arb_core::time::now_ms() - 60_000;
    let mut backoff = Duration::from_millis(100);
    loop {
        if stop.is_cancelled() {
            break;
        }
        let ctx = SessionCtx {
            client: &client,
            symbols: &symbols,
            since,
            stop: &stop,
            stats: &stats,
        };
        let end = session.run(&ctx).await;
        stats.connected.store(false, Ordering::Release);
        let last = stats.last_frame_ms.load(Ordering::Relaxed);
        if last > 0 {
            since = since.max(last - 60_000);
        }
        match end {
            End::Stopped => break,
            End::Reconnect {
                why,
                new_credentials,
            } => {
                client.tracker().publish(ExecEvent::Stream {
                    venue,
                    connected: false,
                    detail: why,
                });
                if new_credentials {
                    session.discard(&client).await;
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
    stats.connected.store(false, Ordering::Release);
    session.discard(&client).await;
}

/// Runs the REST reconciliation after a (re)connection, in the background so stream
/// frames keep being read meanwhile.
pub(crate) fn spawn_reconcile(
    client: &VenueClient,
    symbols: &[String],
    since: i64,
    stats: &Arc<StreamStats>,
) {
    let (c, s, st) = (client.clone(), symbols.to_vec(), stats.clone());
    tokio::spawn(async move {
        if let Ok(n) = c.reconcile(&s, Some(since)).await {
            st.reconciled_fills.fetch_add(n as u64, Ordering::Relaxed);
            st.reconciles.fetch_add(1, Ordering::Release);
        }
    });
}

/// A session is connected and subscribed: counted, flagged and reported.
pub(crate) fn connected(client: &VenueClient, stats: &StreamStats) {
    stats.connects.fetch_add(1, Ordering::Relaxed);
    stats.connected.store(true, Ordering::Release);
    client.tracker().publish(ExecEvent::Stream {
        venue: client.venue(),
        connected: true,
        detail: "subscribed".into(),
    });
}
