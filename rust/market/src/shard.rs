//! One market-data connection ("shard") and the books it feeds: connect, subscribe,
//! read frames, keep each book in sequence, resync on faults, heartbeat, reconnect with
//! backoff, and replace the connection before the venue's age limit without a hole.
//!
//! Everything for a shard runs on its one task: frames are parsed into a reused scratch
//! [`Diff`], applied under the book's lock, and the store's listeners run inline right
//! after. REST snapshots are fetched by short-lived tasks that post the parsed result back
//! through a channel, tagged with the book's `epoch` so that a reply to a request made
//! before a later reset is ignored.
//!
//! Connection replacement ("rotation"): a second connection subscribes to the same books
//! while the first keeps feeding them. Each live book keeps the second connection's pushes
//! aside until one of them contains the book's next version; from that push on the book
//! follows the new connection (the first push may overlap, which absolute levels make
//! exact; later ones must chain strictly). When every book has moved, the old connection
//! is closed. Books that fail to link within `rotation_overlap_max` resync on the new one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arb_core::Venue;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::stamped::Stamped;
use tokio_util::sync::CancellationToken;

use crate::book::{Level, LevelError, Scales};
use crate::feed::{get_text, Backoff, FeedConfig, LogLevel, LogRecord, LogSink, VenueCounters};
use crate::protocol::{FeedProtocol, Frame, FrameHandler, Snapshot, Streams, SubAction};
use crate::store::{BookStore, InvalidReason, MarketEvent, SyncState};
use crate::symbols::{SymbolId, SymbolInfo};
use crate::sync::{BookSync, Diff, Outcome, Start, SyncFault};

/// Test hook (`feed::panic_next_shard`): the next shard to start panics.
pub(crate) static PANIC_NEXT_RUN: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

type Ws = WebSocketStream<MaybeTlsStream<Stamped<TcpStream>>>;

/// Pushes from an incoming connection kept per book while it waits to link.
const MAX_PENDING: usize = 1024;

/// One book fed by a shard.
pub(crate) struct ShardBook {
    id: SymbolId,
    venue_symbol: String,
    scales: Scales,
    sync: BookSync,
    /// Bumped at every reset; snapshot replies for an older epoch are stale.
    epoch: u64,
    /// Generation of the connection this book follows.
    conn: u64,
    snapshot_failures: u32,
    /// Rotation: pushes from the incoming connection, oldest first.
    pending: Vec<Diff>,
}

impl ShardBook {
    /// `sync` is the procedure the venue's feed protocol prescribes.
    pub(crate) fn new(
        sync: BookSync,
        id: SymbolId,
        venue_symbol: String,
        info: &SymbolInfo,
    ) -> Self {
        Self {
            id,
            venue_symbol,
            scales: Scales {
                price: info.price_scale,
                qty: info.qty_scale,
            },
            sync,
            epoch: 0,
            conn: 0,
            snapshot_failures: 0,
            pending: Vec::new(),
        }
    }
}

struct SnapReply {
    book: usize,
    epoch: u64,
    result: Result<Snapshot, String>,
}

struct Conn {
    gen: u64,
    /// When the socket last delivered bytes: a frame's receive time.
    read_ns: Arc<AtomicI64>,
    sink: SplitSink<Ws, Message>,
    stream: SplitStream<Ws>,
    opened: Instant,
    last_frame: Instant,
}

/// How a book resyncs after [`Shard::reset_book`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Resync {
    /// Its subscription was just sent: only the snapshot (if any) is needed.
    Subscribed,
    /// Out of sequence: REST snapshot, or resubscribe for spot.obu.
    Fault,
    /// Silent far beyond the staleness limit: resubscribe (and snapshot if needed).
    Silent,
}

/// Work that needs a connection's sink, queued by handlers and run after each event.
enum Action {
    Resubscribe(usize),
}

pub(crate) struct Shard {
    /// The venue's protocol: URLs, frames, sync procedure.
    proto: Arc<dyn FeedProtocol>,
    venue: Venue,
    no: usize,
    cfg: Arc<FeedConfig>,
    store: Arc<BookStore>,
    books: Vec<ShardBook>,
    index: HashMap<String, usize>,
    http: reqwest::Client,
    log: LogSink,
    counters: Arc<VenueCounters>,
    cancel: CancellationToken,
    snap_tx: mpsc::UnboundedSender<SnapReply>,
    /// Taken by `run` for the shard's life (so `select!` can poll it beside `&mut self`).
    snap_rx: Option<mpsc::UnboundedReceiver<SnapReply>>,
    scratch: Diff,
    next_gen: u64,
    actions: Vec<Action>,
    /// Rotation in progress: generation of the incoming connection and when it started.
    rotating: Option<(u64, Instant)>,
    /// Last incremental update applied to a live book (or the connection's opening).
    /// Snapshots and resubscription answers do not count: they answer our own requests,
    /// so a connection silent for every book is judged by this, not by the books' ages,
    /// which each resync refreshes one book at a time.
    last_live_update: Instant,
}

impl Shard {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        proto: Arc<dyn FeedProtocol>,
        no: usize,
        cfg: Arc<FeedConfig>,
        store: Arc<BookStore>,
        books: Vec<ShardBook>,
        http: reqwest::Client,
        log: LogSink,
        counters: Arc<VenueCounters>,
        cancel: CancellationToken,
    ) -> Self {
        let index = books
            .iter()
            .enumerate()
            .map(|(i, b)| (b.venue_symbol.clone(), i))
            .collect();
        let (snap_tx, snap_rx) = mpsc::unbounded_channel();
        Self {
            venue: proto.venue(),
            proto,
            no,
            cfg,
            store,
            books,
            index,
            http,
            log,
            counters,
            cancel,
            snap_tx,
            snap_rx: Some(snap_rx),
            scratch: Diff::default(),
            next_gen: 1,
            actions: Vec::new(),
            rotating: None,
            last_live_update: Instant::now(),
        }
    }

    fn log(&self, level: LogLevel, event: &'static str, detail: &str) {
        let detail = format!("shard {}: {detail}", self.no);
        (self.log)(&LogRecord {
            level,
            venue: self.venue,
            event,
            detail: &detail,
        });
    }

    fn ws_url(&self) -> &str {
        self.proto.ws_url()
    }

    /// What the supervisor needs after the shard is gone (see `feed::supervise`).
    pub(crate) fn parts(
        &self,
    ) -> (
        Venue,
        usize,
        Arc<FeedConfig>,
        Arc<BookStore>,
        LogSink,
        CancellationToken,
    ) {
        (
            self.venue,
            self.no,
            self.cfg.clone(),
            self.store.clone(),
            self.log.clone(),
            self.cancel.clone(),
        )
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = SymbolId> + '_ {
        self.books.iter().map(|b| b.id)
    }

    /// The shard's life: connect, serve, reconnect with backoff until cancelled.
    pub(crate) async fn run(mut self) {
        if PANIC_NEXT_RUN.swap(false, std::sync::atomic::Ordering::AcqRel) {
            panic!("test hook: {} shard {} panicked", self.venue, self.no);
        }
        let mut backoff = Backoff::new(self.cfg.backoff_min, self.cfg.backoff_max);
        let cancel = self.cancel.clone();
        let Some(mut snap_rx) = self.snap_rx.take() else {
            return;
        };
        for i in 0..self.books.len() {
            self.store.set_resyncing(self.venue, self.books[i].id);
        }
        loop {
            if self.cancel.is_cancelled() {
                break;
            }
            let opened = tokio::select! {
                _ = cancel.cancelled() => break,
                r = self.open() => r,
            };
            let conn = match opened {
                Ok(c) => c,
                Err(e) => {
                    self.counters
                        .connect_failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let d = backoff.next_delay();
                    self.log(
                        LogLevel::Warn,
                        "connect_failed",
                        &format!(
                            "{} attempt {}: {e}; retrying in {} ms",
                            self.ws_url(),
                            backoff.attempt(),
                            d.as_millis()
                        ),
                    );
                    if self.sleep(d).await {
                        break;
                    }
                    continue;
                }
            };
            self.counters
                .connects
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.log(
                LogLevel::Info,
                "connected",
                &format!(
                    "{} gen {} with {} books",
                    self.ws_url(),
                    conn.gen,
                    self.books.len()
                ),
            );
            for i in 0..self.books.len() {
                self.books[i].conn = conn.gen;
                self.reset_book(i, Resync::Subscribed);
            }
            self.last_live_update = Instant::now();
            let reason = self.serve(conn, &mut backoff, &mut snap_rx).await;
            self.rotating = None;
            self.actions.clear();
            let now = arb_core::time::now_ns();
            let cancelled = self.cancel.is_cancelled();
            for b in &mut self.books {
                b.sync.reset();
                b.pending.clear();
                b.epoch += 1;
                // Every book must sync again on the next connection: a resync.
                self.store.invalidate(
                    self.venue,
                    b.id,
                    InvalidReason::Disconnected,
                    !cancelled,
                    now,
                );
            }
            if self.cancel.is_cancelled() {
                break;
            }
            self.counters
                .disconnects
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let d = backoff.next_delay();
            self.log(
                LogLevel::Warn,
                "reconnect",
                &format!(
                    "connection lost: {reason}; reconnect attempt {} in {} ms",
                    backoff.attempt(),
                    d.as_millis()
                ),
            );
            if self.sleep(d).await {
                break;
            }
        }
        for b in &self.books {
            self.store.set_idle(self.venue, b.id);
        }
        self.log(LogLevel::Info, "stopped", "feed stopped");
    }

    /// Sleeps unless cancelled first; true if cancelled.
    async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            _ = self.cancel.cancelled() => true,
            _ = tokio::time::sleep(d) => false,
        }
    }

    /// Connects and subscribes every book of the shard.
    async fn open(&mut self) -> Result<Conn, String> {
        let url = self.ws_url().to_owned();
        let (ws, read_ns) = tokio::time::timeout(self.cfg.http_timeout, ws_open(&url))
            .await
            .map_err(|_| {
                format!(
                    "connect timed out after {} ms",
                    self.cfg.http_timeout.as_millis()
                )
            })??;
        let (mut sink, stream) = ws.split();
        for msg in self.subscribe_messages(None, SubAction::Subscribe) {
            sink.send(Message::text(msg))
                .await
                .map_err(|e| format!("subscribe: {e}"))?;
        }
        let gen = self.next_gen;
        self.next_gen += 1;
        self.counters
            .connects
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = Instant::now();
        Ok(Conn {
            gen,
            read_ns,
            sink,
            stream,
            opened: now,
            last_frame: now,
        })
    }

    /// Subscription frames for one book (`Some(i)`) or every book.
    fn subscribe_messages(&self, book: Option<usize>, action: SubAction) -> Vec<String> {
        let symbols: Vec<&str> = match book {
            Some(i) => vec![self.books[i].venue_symbol.as_str()],
            None => self.books.iter().map(|b| b.venue_symbol.as_str()).collect(),
        };
        // Tickers and trades ride along on the initial subscription only; a book resync
        // (book = Some) touches the book channel alone.
        let streams = match book {
            None => self.cfg.streams(),
            Some(_) => Streams::BOOK,
        };
        self.proto.subscription(&symbols, action, streams)
    }

    /// Resets book `i` to resyncing and starts its resync: a REST snapshot, or (spot.obu)
    /// a resubscription when `resubscribe` is given a connection to do it on.
    fn reset_book(&mut self, i: usize, how: Resync) {
        let b = &mut self.books[i];
        b.sync.reset();
        b.pending.clear();
        b.epoch += 1;
        self.store.set_resyncing(self.venue, b.id);
        let start = b.sync.start();
        // A fresh subscription needs no resubscribe; spot.obu always resyncs by
        // resubscribing; a silent book is resubscribed on either venue, in case the venue
        // quietly dropped the subscription (a snapshot alone would not bring it back).
        let resubscribe = match how {
            Resync::Subscribed => false,
            Resync::Fault => start == Start::FullPush,
            Resync::Silent => true,
        };
        if resubscribe {
            self.actions.push(Action::Resubscribe(i));
        }
        if start == Start::Snapshot {
            self.request_snapshot(i, Duration::ZERO);
        }
    }

    fn request_snapshot(&self, i: usize, delay: Duration) {
        let b = &self.books[i];
        let url = self.proto.snapshot_url(&b.venue_symbol);
        let (proto, venue, http, tx, scales, epoch, sym) = (
            self.proto.clone(),
            self.venue,
            self.http.clone(),
            self.snap_tx.clone(),
            b.scales,
            b.epoch,
            b.venue_symbol.clone(),
        );
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            let fetch = async {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let body = get_text(&http, venue, &url)
                    .await
                    .map_err(|e| e.to_string())?;
                proto.parse_snapshot(&sym, &body, scales)
            };
            // A panic in the fetch or its parser still answers (as a failed snapshot,
            // retried like any other): a reply that never comes would leave the book
            // resyncing for ever.
            let fetch = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(fetch));
            let result = tokio::select! {
                _ = cancel.cancelled() => return,
                r = fetch => r.unwrap_or_else(|_| Err("the snapshot task panicked".to_string())),
            };
            let _ = tx.send(SnapReply {
                book: i,
                epoch,
                result,
            });
        });
    }

    /// Serves one connection until it fails, goes silent, or the shard is cancelled.
    /// Returns the reason, for the reconnect log.
    async fn serve(
        &mut self,
        conn: Conn,
        backoff: &mut Backoff,
        snap_rx: &mut mpsc::UnboundedReceiver<SnapReply>,
    ) -> String {
        let cancel = self.cancel.clone();
        let mut cur = conn;
        let mut next: Option<Conn> = None;
        // Held for the connection's life: `on_message` borrows it beside `&mut self`
        // without touching the reference count per frame.
        let proto = self.proto.clone();
        let ping_every = proto.ping_interval();
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        let check_every =
            (self.cfg.stale_after / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let mut check = tokio::time::interval(check_every);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut healthy_since: Option<Instant> = None;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return "cancelled".into(),
                msg = cur.stream.next() => {
                    match msg {
                        None => return "closed by the venue".into(),
                        Some(Err(e)) => return format!("read error: {e}"),
                        Some(Ok(m)) => {
                            cur.last_frame = Instant::now();
                            if let Message::Close(frame) = &m {
                                return format!("close frame from the venue: {frame:?}");
                            }
                            let recv_ns = cur.read_ns.load(Ordering::Relaxed);
                            self.on_message(&*proto, m, cur.gen, recv_ns);
                        }
                    }
                }
                msg = async { match next.as_mut() { Some(c) => c.stream.next().await, None => std::future::pending().await } }, if next.is_some() => {
                    let failed = match msg {
                        None => Some("closed by the venue".to_string()),
                        Some(Err(e)) => Some(format!("read error: {e}")),
                        Some(Ok(Message::Close(f))) => Some(format!("close frame: {f:?}")),
                        Some(Ok(m)) => {
                            if let Some(c) = next.as_mut() { c.last_frame = Instant::now(); }
                            let (gen, recv_ns) = next.as_ref().map_or((0, 0), |c| (c.gen, c.read_ns.load(Ordering::Relaxed)));
                            self.on_message(&*proto, m, gen, recv_ns);
                            None
                        }
                    };
                    if let Some(reason) = failed {
                        // The incoming connection failed: books that already moved to it
                        // resync on the current one; try again at the next check.
                        let gen = next.as_ref().map_or(0, |c| c.gen);
                        self.log(LogLevel::Warn, "rotation_failed", &format!("incoming connection gen {gen}: {reason}"));
                        next = None;
                        self.abort_rotation(cur.gen);
                    }
                }
                Some(r) = snap_rx.recv() => self.on_snapshot(r),
                _ = ping.tick() => {
                    let msg = proto.ping();
                    self.counters.pings.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if let Err(e) = cur.sink.send(Message::text(msg.clone())).await {
                        return format!("ping write error: {e}");
                    }
                    if let Some(c) = next.as_mut() {
                        let _ = c.sink.send(Message::text(msg)).await;
                    }
                }
                _ = check.tick() => {
                    if cur.last_frame.elapsed() > self.cfg.reset_after {
                        return format!("no frame for {} ms", cur.last_frame.elapsed().as_millis());
                    }
                    // Silence is judged only on a connection older than the limit: a
                    // fresh one (after a long reconnect backoff) has had no chance to
                    // deliver yet, and the books' age still counts from before the drop.
                    let any_silent = self.check_books();
                    if any_silent
                        && cur.opened.elapsed() > self.cfg.reset_after
                        && self.last_live_update.elapsed() > self.cfg.reset_after
                    {
                        return format!(
                            "every book silent for more than {} ms",
                            self.cfg.reset_after.as_millis()
                        );
                    }
                    if healthy_since.is_none() && self.books.iter().any(|b| b.sync.is_live()) {
                        healthy_since = Some(Instant::now());
                    }
                    if healthy_since.is_some_and(|t| t.elapsed() > Duration::from_secs(10)) {
                        // Stable again: the next failure starts from the shortest delay.
                        backoff.reset();
                    }
                    if next.is_none() && self.rotating.is_none() && cur.opened.elapsed() >= self.cfg.connection_max_age {
                        match self.start_rotation().await {
                            Ok(c) => next = Some(c),
                            Err(e) => self.log(LogLevel::Warn, "rotation_failed", &format!("could not open the replacement connection: {e}")),
                        }
                    }
                }
            }
            // Rotation bookkeeping: finish when every book follows the new connection,
            // or when the overlap has lasted too long.
            if let (Some((gen, started)), Some(_)) = (self.rotating, next.as_ref()) {
                let all_moved = self.books.iter().all(|b| b.conn == gen);
                if all_moved || started.elapsed() > self.cfg.rotation_overlap_max {
                    if !all_moved {
                        for i in 0..self.books.len() {
                            if self.books[i].conn != gen {
                                self.log(
                                    LogLevel::Warn,
                                    "rotation_resync",
                                    &format!(
                                        "{} did not link within the overlap",
                                        self.books[i].venue_symbol
                                    ),
                                );
                                self.books[i].conn = gen;
                                self.store.invalidate(
                                    self.venue,
                                    self.books[i].id,
                                    InvalidReason::Disconnected,
                                    true,
                                    arb_core::time::now_ns(),
                                );
                                self.reset_book(i, Resync::Fault);
                            }
                        }
                    }
                    let mut old = std::mem::replace(&mut cur, next.take().expect("checked above"));
                    let _ = old.sink.send(Message::Close(None)).await;
                    self.rotating = None;
                    self.counters
                        .rotations
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.log(
                        LogLevel::Info,
                        "rotated",
                        &format!("connection gen {} replaced by gen {}", old.gen, cur.gen),
                    );
                }
            }
            if let Err(e) = self.run_actions(&mut cur, &mut next).await {
                return e;
            }
        }
    }

    async fn run_actions(&mut self, cur: &mut Conn, next: &mut Option<Conn>) -> Result<(), String> {
        while let Some(a) = self.actions.pop() {
            match a {
                Action::Resubscribe(i) => {
                    let gen = self.books[i].conn;
                    let conn = if gen == cur.gen {
                        &mut *cur
                    } else if let Some(n) = next.as_mut().filter(|n| n.gen == gen) {
                        n
                    } else {
                        &mut *cur
                    };
                    self.counters
                        .resubscribes
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    for ev in [SubAction::Unsubscribe, SubAction::Subscribe] {
                        for m in self.subscribe_messages(Some(i), ev) {
                            conn.sink
                                .send(Message::text(m))
                                .await
                                .map_err(|e| format!("resubscribe write error: {e}"))?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    async fn start_rotation(&mut self) -> Result<Conn, String> {
        let c = self.open().await?;
        self.log(
            LogLevel::Info,
            "rotation_started",
            &format!("replacement connection gen {} opened", c.gen),
        );
        self.rotating = Some((c.gen, Instant::now()));
        // Books that are not live have nothing to keep: they move now and sync there.
        for i in 0..self.books.len() {
            if !self.books[i].sync.is_live() {
                self.books[i].conn = c.gen;
                self.reset_book(i, Resync::Subscribed);
            }
        }
        Ok(c)
    }

    fn abort_rotation(&mut self, cur_gen: u64) {
        self.rotating = None;
        for i in 0..self.books.len() {
            self.books[i].pending.clear();
            if self.books[i].conn != cur_gen {
                self.books[i].conn = cur_gen;
                self.store.invalidate(
                    self.venue,
                    self.books[i].id,
                    InvalidReason::Disconnected,
                    true,
                    arb_core::time::now_ns(),
                );
                self.reset_book(i, Resync::Fault);
            }
        }
    }

    /// `read_ns`: when the socket delivered the frame's last bytes (0: unknown).
    fn on_message(&mut self, proto: &dyn FeedProtocol, m: Message, gen: u64, read_ns: i64) {
        let recv_ns = if read_ns > 0 {
            read_ns
        } else {
            arb_core::time::now_ns()
        };
        self.counters
            .frames
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let frame = match &m {
            Message::Text(t) => Frame::Text(t.as_str()),
            Message::Binary(b) => Frame::Binary(b),
            // Protocol pings are answered by tungstenite; pongs and other frames carry nothing.
            _ => return,
        };
        proto.on_frame(
            frame,
            &mut Frames {
                shard: self,
                gen,
                recv_ns,
            },
        );
    }

    fn unparsable_frame(&self, detail: &str) {
        self.counters
            .unparsable_frames
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.log(LogLevel::Warn, "unparsable_frame", detail);
    }

    fn unparsable_event(&self, i: usize, what: &str, e: LevelError) {
        self.unparsable_frame(&format!("{} {what}: {e}", self.books[i].venue_symbol));
    }

    /// Publishes a ticker; an empty side (price 0 or "") is `None`.
    fn publish_ticker(
        &self,
        i: usize,
        bid: (&str, &str),
        ask: (&str, &str),
        time_ms: i64,
        recv_ns: i64,
    ) {
        let sc = self.books[i].scales;
        let side = |(p, q): (&str, &str)| -> Result<Option<Level>, LevelError> {
            if p.is_empty() {
                return Ok(None);
            }
            let l = sc.level(p, if q.is_empty() { "0" } else { q })?;
            Ok((l.price != 0).then_some(l))
        };
        match (side(bid), side(ask)) {
            (Ok(bid), Ok(ask)) => self.store.publish(&MarketEvent::Ticker {
                venue: self.venue,
                symbol: self.books[i].id,
                bid,
                ask,
                time_ms,
                recv_ns,
            }),
            (Err(e), _) | (_, Err(e)) => self.unparsable_event(i, "ticker", e),
        }
    }

    fn publish_trade(
        &self,
        i: usize,
        price: &str,
        qty: &str,
        taker_buy: bool,
        time_ms: i64,
        recv_ns: i64,
    ) {
        match self.books[i].scales.level(price, qty) {
            Ok(l) => self.store.publish(&MarketEvent::Trade {
                venue: self.venue,
                symbol: self.books[i].id,
                price: l.price,
                qty: l.qty,
                taker_buy,
                time_ms,
                recv_ns,
            }),
            Err(e) => self.unparsable_event(i, "trade", e),
        }
    }

    /// Handles the parsed push in `self.scratch` for book `i`, received on connection `gen`.
    fn on_diff(&mut self, i: usize, gen: u64, recv_ns: i64) {
        if self.books[i].conn != gen {
            // Rotation: a push from the incoming connection for a book still on the old one.
            if self.rotating.is_some_and(|(g, _)| g == gen) && !self.scratch.full {
                let b = &mut self.books[i];
                if b.pending.len() >= MAX_PENDING {
                    b.pending.remove(0);
                }
                b.pending.push(self.scratch.clone());
                self.try_link(i, recv_ns);
            }
            return;
        }
        let venue = self.venue;
        let b = &mut self.books[i];
        let was_live = b.sync.is_live();
        let (res, top, crossed) = {
            let Some(mut book) = self.store.lock(venue, b.id) else {
                return;
            };
            let r = b.sync.on_diff(&self.scratch, &mut book);
            (r, (book.best_bid(), book.best_ask()), book.is_crossed())
        };
        match res {
            Ok(Outcome::Applied) | Ok(Outcome::Replaced) => {
                let version = b.sync.version().unwrap_or(0);
                if was_live && matches!(res, Ok(Outcome::Applied)) {
                    self.last_live_update = Instant::now();
                }
                if crossed {
                    self.fault(
                        i,
                        InvalidReason::Crossed,
                        &format!("crossed after version {version}"),
                    );
                    return;
                }
                self.store
                    .applied(venue, b.id, version, !was_live, top, recv_ns);
                if self.rotating.is_some() && !self.books[i].pending.is_empty() {
                    self.try_link(i, recv_ns);
                }
            }
            Ok(Outcome::Buffered) | Ok(Outcome::Dropped) => {}
            Err(f) => self.fault(i, InvalidReason::Gap, &f.to_string()),
        }
    }

    /// Rotation: moves book `i` to the incoming connection once one of its pending pushes
    /// contains the book's next version.
    fn try_link(&mut self, i: usize, recv_ns: i64) {
        let Some((gen, _)) = self.rotating else {
            return;
        };
        let venue = self.venue;
        let b = &mut self.books[i];
        let Some(local) = b.sync.version() else {
            return;
        };
        b.pending.retain(|d| d.last > local);
        if b.pending.first().is_none_or(|d| d.first > local + 1) {
            return;
        }
        let pending = std::mem::take(&mut b.pending);
        b.sync.relink();
        let mut fault = None;
        let (top, crossed) = {
            let Some(mut book) = self.store.lock(venue, b.id) else {
                return;
            };
            for d in &pending {
                if let Err(f) = b.sync.on_diff(d, &mut book) {
                    fault = Some(f);
                    break;
                }
            }
            ((book.best_bid(), book.best_ask()), book.is_crossed())
        };
        b.conn = gen;
        if let Some(f) = fault {
            self.fault(
                i,
                InvalidReason::Gap,
                &format!("while linking to the new connection: {f}"),
            );
        } else if crossed {
            self.fault(
                i,
                InvalidReason::Crossed,
                "crossed after linking to the new connection",
            );
        } else {
            let version = self.books[i].sync.version().unwrap_or(0);
            self.store
                .applied(venue, self.books[i].id, version, false, top, recv_ns);
        }
    }

    /// Invalidates book `i` (counted), logs why, and starts its resync.
    fn fault(&mut self, i: usize, reason: InvalidReason, detail: &str) {
        let sym = self.books[i].venue_symbol.clone();
        self.log(
            LogLevel::Warn,
            reason.as_str(),
            &format!("{sym}: {detail}; resyncing"),
        );
        self.store.invalidate(
            self.venue,
            self.books[i].id,
            reason,
            true,
            arb_core::time::now_ns(),
        );
        let how = if reason == InvalidReason::Stale {
            Resync::Silent
        } else {
            Resync::Fault
        };
        self.reset_book(i, how);
    }

    fn on_snapshot(&mut self, r: SnapReply) {
        let i = r.book;
        if self
            .books
            .get(i)
            .is_none_or(|b| b.epoch != r.epoch || b.sync.is_live())
        {
            // An answer to a request made before a later reset, or for a book that a
            // `full` push has synced meanwhile.
            return;
        }
        let venue = self.venue;
        let Snapshot {
            version,
            bids,
            asks,
        } = match r.result {
            Ok(s) => s,
            Err(e) => {
                self.counters
                    .snapshot_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let b = &mut self.books[i];
                b.snapshot_failures += 1;
                let delay = (self.cfg.backoff_min * (1 << b.snapshot_failures.min(6)))
                    .min(self.cfg.backoff_max);
                self.log(
                    LogLevel::Warn,
                    "snapshot_failed",
                    &format!(
                        "{}: {e}; retrying in {} ms",
                        self.books[i].venue_symbol,
                        delay.as_millis()
                    ),
                );
                self.request_snapshot(i, delay);
                return;
            }
        };
        self.counters
            .snapshots
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let b = &mut self.books[i];
        b.snapshot_failures = 0;
        let (res, top, crossed) = {
            let Some(mut book) = self.store.lock(venue, b.id) else {
                return;
            };
            let r = b.sync.on_snapshot(version, &bids, &asks, &mut book);
            (r, (book.best_bid(), book.best_ask()), book.is_crossed())
        };
        match res {
            Ok(_) if crossed => self.fault(
                i,
                InvalidReason::Crossed,
                &format!("crossed after snapshot {version}"),
            ),
            Ok(_) => {
                let v = self.books[i].sync.version().unwrap_or(version);
                self.store.applied(
                    venue,
                    self.books[i].id,
                    v,
                    true,
                    top,
                    arb_core::time::now_ns(),
                );
            }
            Err(SyncFault::SnapshotBehind {
                snapshot,
                first_buffered,
            }) => {
                self.log(
                    LogLevel::Info,
                    "snapshot_behind",
                    &format!("{}: snapshot {snapshot} older than buffered push {first_buffered}; refetching", self.books[i].venue_symbol),
                );
                self.request_snapshot(i, self.cfg.backoff_min / 2);
            }
            Err(f) => self.fault(
                i,
                InvalidReason::Gap,
                &format!("after snapshot {version}: {f}"),
            ),
        }
    }

    /// Books live but silent far beyond the staleness limit are cleared and resubscribed;
    /// books stuck resyncing that long get a fresh attempt. Returns true if any book was
    /// silent that long; the caller replaces the connection if, besides, no live book
    /// received an update for that long (it answers pings but delivers nothing).
    fn check_books(&mut self) -> bool {
        let mut silent = 0;
        for i in 0..self.books.len() {
            let id = self.books[i].id;
            let Some(age) = self.store.age(self.venue, id) else {
                continue;
            };
            if age <= self.cfg.reset_after {
                continue;
            }
            if let Some(SyncState::Live | SyncState::Resyncing) =
                self.store.sync_state(self.venue, id)
            {
                silent += 1;
                self.fault(
                    i,
                    InvalidReason::Stale,
                    &format!("no update for {} ms", age.as_millis()),
                );
            }
        }
        silent > 0
    }
}

/// The shard's side of a frame being read ([`FeedProtocol::on_frame`]): `gen` is the
/// connection it arrived on, `recv_ns` when.
struct Frames<'s> {
    shard: &'s mut Shard,
    gen: u64,
    recv_ns: i64,
}

impl FrameHandler for Frames<'_> {
    #[inline]
    fn book(&self, venue_symbol: &str) -> Option<(usize, Scales)> {
        let &i = self.shard.index.get(venue_symbol)?;
        Some((i, self.shard.books[i].scales))
    }

    #[inline]
    fn scratch(&mut self) -> &mut Diff {
        &mut self.shard.scratch
    }

    #[inline]
    fn diff(&mut self, book: usize) {
        self.shard.on_diff(book, self.gen, self.recv_ns);
    }

    fn bad_diff(&mut self, book: usize, detail: &str) {
        self.shard.fault(book, InvalidReason::Unparsable, detail);
    }

    /// Tickers and trades count only from the connection the book follows (during a
    /// rotation both connections deliver them).
    fn ticker(&mut self, book: usize, bid: (&str, &str), ask: (&str, &str), time_ms: i64) {
        if self.shard.books[book].conn == self.gen {
            self.shard
                .publish_ticker(book, bid, ask, time_ms, self.recv_ns);
        }
    }

    fn trade(&mut self, book: usize, price: &str, qty: &str, taker_buy: bool, time_ms: i64) {
        if self.shard.books[book].conn == self.gen {
            self.shard
                .publish_trade(book, price, qty, taker_buy, time_ms, self.recv_ns);
        }
    }

    fn venue_error(&mut self, detail: &str) {
        self.shard.log(LogLevel::Warn, "venue_error", detail);
    }

    fn venue_text(&mut self, text: &str) {
        self.shard.log(LogLevel::Warn, "venue_text", text);
    }

    fn unparsable(&mut self, detail: &str) {
        self.shard.unparsable_frame(detail);
    }
}

/// Opens a market-data WebSocket on a socket that stamps its reads ([`Stamped`]), with
/// Nagle off (pings and (re)subscriptions must not wait for a delayed ACK); `wss` through
/// rustls as tungstenite's own connect does.
async fn ws_open(url: &str) -> Result<(Ws, Arc<AtomicI64>), String> {
    let u = url::Url::parse(url).map_err(|e| format!("url {url:?}: {e}"))?;
    let host = u
        .host_str()
        .ok_or_else(|| format!("url {url:?} has no host"))?;
    let port = u
        .port_or_known_default()
        .ok_or_else(|| format!("url {url:?} has no port"))?;
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let sock = Stamped::new(tcp);
    let read_ns = sock.last_read();
    let (ws, _) = tokio_tungstenite::client_async_tls_with_config(url, sock, None, None)
        .await
        .map_err(|e| e.to_string())?;
    Ok((ws, read_ns))
}
