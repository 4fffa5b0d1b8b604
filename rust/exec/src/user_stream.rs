//! Private streams: MEXC (listenKey, protobuf orders/deals/account) and Gate
//! (`spot.orders`, `spot.usertrades`, `spot.balances` with per-message auth), feeding the
//! venue client's [`OrderTracker`](crate::lifecycle::OrderTracker).
//!
//! The stream is a task that reconnects forever until stopped. MEXC's listenKey is
//! created before each connection, kept alive every `listen_key_keepalive_ms` (MEXC
//! says 30 min), and replaced when the keep-alive fails or the server says
//! "Invalid listen key" / closes the connection. After every connection (the first
//! included: events may have happened before it) the orders and fills are reconciled
//! over REST, so an event lost while disconnected is still recorded; the tracker
//! de-duplicates fills by trade id, so seeing one twice is harmless.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arb_core::Venue;
use arb_market::venues::mexc::proto::{Body, PushDataV3ApiWrapper};
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::amount::Amount;
use crate::client::VenueClient;
use crate::lifecycle::{Balance, ExecEvent, Fill, OrderReport, OrderStatus, Source};
use crate::order::{ClientOrderId, Side};

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
        tokio::spawn(supervise(client, symbols, s, st));
        UserStream { stop, stats }
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

/// Why a connection ended.
enum End {
    Stopped,
    /// Reconnect; `new_key` when the listenKey must be replaced.
    Reconnect {
        why: String,
        new_key: bool,
    },
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
    // Fills are reconciled from a minute before the last frame the previous connection
    // received (a connection can be dead well before it is noticed), first from a
    // minute before the stream started.
    let mut since = arb_core::time::now_ms() - 60_000;
    let mut listen_key: Option<String> = None;
    let mut backoff = Duration::from_millis(100);
    loop {
        if stop.is_cancelled() {
            break;
        }
        let end = match venue {
            Venue::Mexc => {
                if listen_key.is_none() {
                    match client.create_listen_key().await {
                        Ok(k) => {
                            stats.listen_keys_created.fetch_add(1, Ordering::Relaxed);
                            // A listenKey opens the account's private stream: scrubbed from
                            // every log line, like the API keys.
                            arb_telemetry::register_secret(&k);
                            listen_key = Some(k);
                        }
                        Err(e) => {
                            client.tracker().publish(ExecEvent::Stream {
                                venue,
                                connected: false,
                                detail: format!("listenKey: {e}"),
                            });
                        }
                    }
                }
                match &listen_key {
                    Some(k) => mexc_session(&client, k, &symbols, since, &stop, &stats).await,
                    None => End::Reconnect {
                        why: "could not create a listenKey".into(),
                        new_key: true,
                    },
                }
            }
            Venue::Gate => gate_session(&client, &symbols, since, &stop, &stats).await,
        };
        stats.connected.store(false, Ordering::Release);
        let last = stats.last_frame_ms.load(Ordering::Relaxed);
        if last > 0 {
            since = since.max(last - 60_000);
        }
        match end {
            End::Stopped => break,
            End::Reconnect { why, new_key } => {
                client.tracker().publish(ExecEvent::Stream {
                    venue,
                    connected: false,
                    detail: why,
                });
                if new_key {
                    if let Some(k) = listen_key.take() {
                        let _ = client.delete_listen_key(&k).await;
                    }
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
    if let Some(k) = listen_key {
        let _ = client.delete_listen_key(&k).await;
    }
}

/// Runs the REST reconciliation after a (re)connection, in the background so stream
/// frames keep being read meanwhile.
fn spawn_reconcile(client: &VenueClient, symbols: &[String], since: i64, stats: &Arc<StreamStats>) {
    let (c, s, st) = (client.clone(), symbols.to_vec(), stats.clone());
    tokio::spawn(async move {
        if let Ok(n) = c.reconcile(&s, Some(since)).await {
            st.reconciled_fills.fetch_add(n as u64, Ordering::Relaxed);
            st.reconciles.fetch_add(1, Ordering::Release);
        }
    });
}

fn connected(client: &VenueClient, stats: &StreamStats) {
    stats.connects.fetch_add(1, Ordering::Relaxed);
    stats.connected.store(true, Ordering::Release);
    client.tracker().publish(ExecEvent::Stream {
        venue: client.venue(),
        connected: true,
        detail: "subscribed".into(),
    });
}

// ------------------------------------------------------------------------- MEXC

async fn mexc_session(
    client: &VenueClient,
    key: &str,
    symbols: &[String],
    since: i64,
    stop: &CancellationToken,
    stats: &Arc<StreamStats>,
) -> End {
    let cfg = client.config();
    let url = format!("{}?listenKey={key}", cfg.ws_url);
    let ws =
        match crate::http::ws_connect(&url, Duration::from_millis(cfg.connect_timeout_ms)).await {
            Ok(ws) => ws,
            // A refused upgrade can mean the key is gone: take a new one.
            Err(why) => return End::Reconnect { why, new_key: true },
        };
    let (mut sink, mut stream) = ws.split();
    let sub = json!({"method": "SUBSCRIPTION", "params": [
        "spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb", "spot@private.account.v3.api.pb"]});
    if sink.send(Message::text(sub.to_string())).await.is_err() {
        return End::Reconnect {
            why: "subscribe failed".into(),
            new_key: false,
        };
    }
    connected(client, stats);
    spawn_reconcile(client, symbols, since, stats);
    let mut ping = tokio::time::interval(Duration::from_secs(20));
    let keepalive_every = Duration::from_millis(cfg.listen_key_keepalive_ms.max(1_000));
    let mut keepalive = tokio::time::interval_at(
        tokio::time::Instant::now() + keepalive_every,
        keepalive_every,
    );
    // MEXC drops a connection after 60 s without data; silence that long means dead.
    let silence = Duration::from_secs(70);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return End::Stopped,
            _ = ping.tick() => {
                if sink.send(Message::text(r#"{"method":"PING"}"#)).await.is_err() {
                    return End::Reconnect { why: "ping write failed".into(), new_key: false };
                }
            }
            _ = keepalive.tick() => {
                if let Err(e) = client.keepalive_listen_key(key).await {
                    return End::Reconnect { why: format!("listenKey keep-alive failed: {e}"), new_key: true };
                }
            }
            msg = tokio::time::timeout(silence, stream.next()) => {
                let msg = match msg {
                    Err(_) => return End::Reconnect { why: "no data for 70 s".into(), new_key: false },
                    Ok(None) => return End::Reconnect { why: "connection closed".into(), new_key: false },
                    Ok(Some(Err(e))) => return End::Reconnect { why: format!("read: {e}"), new_key: false },
                    Ok(Some(Ok(m))) => m,
                };
                stats.frames.fetch_add(1, Ordering::Relaxed);
                stats.last_frame_ms.store(arb_core::time::now_ms(), Ordering::Relaxed);
                match msg {
                    Message::Binary(b) => mexc_frame(client, &b, stats),
                    Message::Text(t) if t.as_str().contains("Invalid listen key") => {
                        return End::Reconnect { why: "Invalid listen key".into(), new_key: true };
                    }
                    Message::Close(f) => {
                        // The server closes an expired key's connections; a new key
                        // costs one REST call, a stale one a failed reconnect.
                        return End::Reconnect { why: format!("closed by server: {f:?}"), new_key: true };
                    }
                    _ => {}
                }
            }
        }
    }
}

fn amt(s: &str) -> Option<Amount> {
    if s.is_empty() {
        None
    } else {
        Amount::parse(s).ok()
    }
}

fn mexc_frame(client: &VenueClient, bytes: &[u8], stats: &StreamStats) {
    let tracker = client.tracker();
    let Ok(w) = PushDataV3ApiWrapper::decode(bytes) else {
        stats.decode_errors.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let symbol = w.symbol.clone().unwrap_or_default();
    match w.body {
        Some(Body::PrivateOrders(o)) => {
            let status = match o.status {
                1 => OrderStatus::Open,
                2 => OrderStatus::Filled,
                3 => OrderStatus::PartiallyFilled,
                4 | 5 => OrderStatus::Canceled,
                _ => {
                    stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            };
            stats.orders.fetch_add(1, Ordering::Relaxed);
            tracker.on_report(&OrderReport {
                venue: Venue::Mexc,
                order_id: o.id.clone(),
                client_id: (!o.client_id.is_empty())
                    .then(|| ClientOrderId::from_venue(&o.client_id)),
                symbol,
                side: Side::parse(&o.trade_type.to_string()),
                status,
                price: amt(&o.price),
                orig_qty: amt(&o.quantity).filter(|q| !q.is_zero()),
                filled_qty: amt(&o.cumulative_quantity),
                filled_quote: amt(&o.cumulative_amount),
                time_ms: o.create_time,
                source: Source::Stream,
            });
        }
        Some(Body::PrivateDeals(d)) => {
            let (Some(price), Some(qty), Some(side)) = (
                amt(&d.price),
                amt(&d.quantity),
                Side::parse(&d.trade_type.to_string()),
            ) else {
                stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                return;
            };
            // The deal's own amount, else price x quantity; a product out of range is a
            // malformed deal (counted), never a panic.
            let Some(quote_qty) = amt(&d.amount).or_else(|| price.checked_mul(qty)) else {
                stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                return;
            };
            stats.fills.fetch_add(1, Ordering::Relaxed);
            let fill = Fill {
                venue: Venue::Mexc,
                trade_id: d.trade_id.clone(),
                order_id: d.order_id.clone(),
                client_id: (!d.client_order_id.is_empty())
                    .then(|| ClientOrderId::from_venue(&d.client_order_id)),
                symbol,
                side,
                price,
                qty,
                quote_qty,
                fee: amt(&d.fee_amount).unwrap_or_default(),
                fee_currency: d.fee_currency.clone(),
                is_maker: d.is_maker,
                time_ms: d.time,
                source: Source::Stream,
            };
            // A deal whose sums with its order's do not fit is a malformed deal.
            if tracker.on_fill(&fill).is_err() {
                stats.decode_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        Some(Body::PrivateAccount(a)) => {
            if let (Some(free), Some(locked)) = (amt(&a.balance_amount), amt(&a.frozen_amount)) {
                tracker.publish(ExecEvent::Balance {
                    venue: Venue::Mexc,
                    balance: Balance {
                        asset: a.vcoin_name.clone(),
                        free,
                        locked,
                    },
                    time_ms: a.time,
                });
            }
        }
        _ => {}
    }
}

// ------------------------------------------------------------------------- Gate

fn gate_subscribe(client: &VenueClient, channel: &str, payload: Value) -> String {
    let cfg = client.config();
    let t = client.venue_now_ms() / 1000;
    let sign = arb_core::sign::gate_ws_sign(cfg.api_secret.expose(), channel, "subscribe", t);
    json!({
        "time": t, "channel": channel, "event": "subscribe", "payload": payload,
        "auth": {"method": "api_key", "KEY": cfg.api_key, "SIGN": sign},
    })
    .to_string()
}

async fn gate_session(
    client: &VenueClient,
    symbols: &[String],
    since: i64,
    stop: &CancellationToken,
    stats: &Arc<StreamStats>,
) -> End {
    let cfg = client.config();
    let ws =
        match crate::http::ws_connect(&cfg.ws_url, Duration::from_millis(cfg.connect_timeout_ms))
            .await
        {
            Ok(ws) => ws,
            Err(why) => {
                return End::Reconnect {
                    why,
                    new_key: false,
                }
            }
        };
    let (mut sink, mut stream) = ws.split();
    for (ch, payload) in [
        ("spot.orders", json!(["!all"])),
        ("spot.usertrades", json!(["!all"])),
        ("spot.balances", json!([])),
    ] {
        if sink
            .send(Message::text(gate_subscribe(client, ch, payload)))
            .await
            .is_err()
        {
            return End::Reconnect {
                why: "subscribe failed".into(),
                new_key: false,
            };
        }
    }
    let mut acks = 0;
    let mut ping = tokio::time::interval(Duration::from_secs(10));
    let silence = Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return End::Stopped,
            _ = ping.tick() => {
                let p = json!({"time": arb_core::time::now_ms() / 1000, "channel": "spot.ping"}).to_string();
                if sink.send(Message::text(p)).await.is_err() {
                    return End::Reconnect { why: "ping write failed".into(), new_key: false };
                }
            }
            msg = tokio::time::timeout(silence, stream.next()) => {
                let msg = match msg {
                    Err(_) => return End::Reconnect { why: "no data for 60 s".into(), new_key: false },
                    Ok(None) => return End::Reconnect { why: "connection closed".into(), new_key: false },
                    Ok(Some(Err(e))) => return End::Reconnect { why: format!("read: {e}"), new_key: false },
                    Ok(Some(Ok(m))) => m,
                };
                stats.frames.fetch_add(1, Ordering::Relaxed);
                stats.last_frame_ms.store(arb_core::time::now_ms(), Ordering::Relaxed);
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(f) => return End::Reconnect { why: format!("closed by server: {f:?}"), new_key: false },
                    _ => continue,
                };
                let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                    stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let event = v.get("event").and_then(Value::as_str).unwrap_or("");
                if event == "subscribe" {
                    if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
                        // Code 4 is an authentication failure: reconnecting will not fix it,
                        // but the backoff keeps it cheap and the event says why.
                        return End::Reconnect { why: format!("subscribe refused: {err}"), new_key: false };
                    }
                    acks += 1;
                    if acks == 3 {
                        connected(client, stats);
                        spawn_reconcile(client, symbols, since, stats);
                    }
                    continue;
                }
                if event != "update" {
                    continue;
                }
                gate_update(client, &v, stats);
            }
        }
    }
}

fn gate_update(client: &VenueClient, v: &Value, stats: &StreamStats) {
    let tracker = client.tracker();
    let channel = v.get("channel").and_then(Value::as_str).unwrap_or("");
    let items = match v.get("result") {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => return,
    };
    for it in &items {
        match channel {
            "spot.orders" => match crate::gate::parse_order(it, Source::Stream) {
                Ok(r) => {
                    stats.orders.fetch_add(1, Ordering::Relaxed);
                    tracker.on_report(&r);
                }
                Err(_) => {
                    stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                }
            },
            "spot.usertrades" => match crate::gate::parse_trade(it, Source::Stream) {
                Ok(f) => {
                    stats.fills.fetch_add(1, Ordering::Relaxed);
                    // Sums with its order's that do not fit: a malformed trade.
                    if tracker.on_fill(&f).is_err() {
                        stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(_) => {
                    stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                }
            },
            "spot.balances" => {
                let b = (|| -> Result<Balance, String> {
                    Ok(Balance {
                        asset: crate::json::text(it, "currency")?,
                        free: crate::json::amount(it, "available")?,
                        locked: crate::json::amount(it, "freeze")?,
                    })
                })();
                match b {
                    Ok(balance) => tracker.publish(ExecEvent::Balance {
                        venue: Venue::Gate,
                        balance,
                        time_ms: crate::json::opt_int(it, "timestamp_ms").unwrap_or(0),
                    }),
                    Err(_) => {
                        stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            _ => {}
        }
    }
}
