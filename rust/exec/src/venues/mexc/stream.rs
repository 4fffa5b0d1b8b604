//! MEXC's private stream: a listenKey (created over REST before a connection, kept
//! alive every `listen_key_keepalive_ms`, MEXC says 30 min, and replaced when the
//! keep-alive fails or the server says "Invalid listen key" / closes the connection),
//! the subscription to the protobuf orders/deals/account channels, and their decoding.

use std::sync::atomic::Ordering;
use std::time::Duration;

use arb_market::venues::mexc::proto::{Body, PushDataV3ApiWrapper};
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, SinkExt, StreamExt};
use prost::Message as _;
use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::amount::Amount;
use crate::client::{Kind, VenueClient};
use crate::error::ExecError;
use crate::lifecycle::{Balance, ExecEvent, Fill, OrderReport, OrderStatus, Source};
use crate::order::{ClientOrderId, Side};
use crate::ratelimit::Endpoint;
use crate::user_stream::{connected, spawn_reconcile, StreamStats};
use crate::venue_api::{Call, End, SessionCtx, UserSession};

fn listen_key_call(method: Method) -> Call {
    Call::new(
        Endpoint::ListenKey,
        "listen_key",
        "",
        method,
        "/api/v3/userDataStream",
    )
}

/// A new listenKey for the private stream.
pub async fn create_listen_key(client: &VenueClient) -> Result<String, ExecError> {
    let v = client
        .execute(&listen_key_call(Method::POST), Kind::Read)
        .await?;
    crate::json::text(&v, "listenKey")
        .map_err(|m| ExecError::malformed(client.venue(), "listen_key", m))
}

/// Extends a listenKey by 60 minutes.
pub async fn keepalive_listen_key(client: &VenueClient, key: &str) -> Result<(), ExecError> {
    let c = listen_key_call(Method::PUT).param("listenKey", key);
    client.execute(&c, Kind::Read).await.map(|_| ())
}

/// Closes a listenKey.
pub async fn delete_listen_key(client: &VenueClient, key: &str) -> Result<(), ExecError> {
    let c = listen_key_call(Method::DELETE).param("listenKey", key);
    client.execute(&c, Kind::Read).await.map(|_| ())
}

/// The stream's state across connections: the listenKey in use.
#[derive(Default)]
pub struct MexcSession {
    listen_key: Option<String>,
}

impl UserSession for MexcSession {
    fn run<'a>(&'a mut self, ctx: &'a SessionCtx<'a>) -> BoxFuture<'a, End> {
        async move {
            let client = ctx.client;
            if self.listen_key.is_none() {
                match create_listen_key(client).await {
                    Ok(k) => {
                        ctx.stats
                            .listen_keys_created
                            .fetch_add(1, Ordering::Relaxed);
                        // A listenKey opens the account's private stream: scrubbed from
                        // every log line, like the API keys.
                        arb_telemetry::register_secret(&k);
                        self.listen_key = Some(k);
                    }
                    Err(e) => {
                        client.tracker().publish(ExecEvent::Stream {
                            venue: client.venue(),
                            connected: false,
                            detail: format!("listenKey: {e}"),
                        });
                    }
                }
            }
            match &self.listen_key {
                Some(k) => session(ctx, k).await,
                None => End::Reconnect {
                    why: "could not create a listenKey".into(),
                    new_credentials: true,
                },
            }
        }
        .boxed()
    }

    fn discard<'a>(&'a mut self, client: &'a VenueClient) -> BoxFuture<'a, ()> {
        async move {
            if let Some(k) = self.listen_key.take() {
                let _ = delete_listen_key(client, &k).await;
            }
        }
        .boxed()
    }
}

async fn session(ctx: &SessionCtx<'_>, key: &str) -> End {
    let (client, stats) = (ctx.client, ctx.stats);
    let cfg = client.config();
    let url = format!("{}?listenKey={key}", cfg.ws_url);
    let ws =
        match crate::http::ws_connect(&url, Duration::from_millis(cfg.connect_timeout_ms)).await {
            Ok(ws) => ws,
            // A refused upgrade can mean the key is gone: take a new one.
            Err(why) => {
                return End::Reconnect {
                    why,
                    new_credentials: true,
                }
            }
        };
    let (mut sink, mut stream) = ws.split();
    let sub = json!({"method": "SUBSCRIPTION", "params": [
        "spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb", "spot@private.account.v3.api.pb"]});
    if sink.send(Message::text(sub.to_string())).await.is_err() {
        return End::Reconnect {
            why: "subscribe failed".into(),
            new_credentials: false,
        };
    }
    connected(client, stats);
    spawn_reconcile(client, ctx.symbols, ctx.since, stats);
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
            _ = ctx.stop.cancelled() => return End::Stopped,
            _ = ping.tick() => {
                if sink.send(Message::text(r#"{"method":"PING"}"#)).await.is_err() {
                    return End::Reconnect { why: "ping write failed".into(), new_credentials: false };
                }
            }
            _ = keepalive.tick() => {
                if let Err(e) = keepalive_listen_key(client, key).await {
                    return End::Reconnect { why: format!("listenKey keep-alive failed: {e}"), new_credentials: true };
                }
            }
            msg = tokio::time::timeout(silence, stream.next()) => {
                let msg = match msg {
                    Err(_) => return End::Reconnect { why: "no data for 70 s".into(), new_credentials: false },
                    Ok(None) => return End::Reconnect { why: "connection closed".into(), new_credentials: false },
                    Ok(Some(Err(e))) => return End::Reconnect { why: format!("read: {e}"), new_credentials: false },
                    Ok(Some(Ok(m))) => m,
                };
                stats.frames.fetch_add(1, Ordering::Relaxed);
                stats.last_frame_ms.store(arb_core::time::now_ms(), Ordering::Relaxed);
                match msg {
                    Message::Binary(b) => frame(client, &b, stats),
                    Message::Text(t) if t.as_str().contains("Invalid listen key") => {
                        return End::Reconnect { why: "Invalid listen key".into(), new_credentials: true };
                    }
                    Message::Close(f) => {
                        // The server closes an expired key's connections; a new key
                        // costs one REST call, a stale one a failed reconnect.
                        return End::Reconnect { why: format!("closed by server: {f:?}"), new_credentials: true };
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

fn frame(client: &VenueClient, bytes: &[u8], stats: &StreamStats) {
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
                venue: client.venue(),
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
                venue: client.venue(),
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
                    venue: client.venue(),
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
