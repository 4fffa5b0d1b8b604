//! Gate.io's private stream: `spot.orders`, `spot.usertrades` and `spot.balances`
//! subscribed with per-message auth, and their decoding.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::parse::{parse_order, parse_trade};
use super::sign::gate_ws_sign;
use crate::client::VenueClient;
use crate::lifecycle::{Balance, ExecEvent, Source};
use crate::user_stream::{connected, spawn_reconcile, StreamStats};
use crate::venue_api::{End, SessionCtx, UserSession};

/// Gate's stream needs no state across connections: every subscription is signed.
pub struct GateSession;

impl UserSession for GateSession {
    fn run<'a>(&'a mut self, ctx: &'a SessionCtx<'a>) -> BoxFuture<'a, End> {
        session(ctx).boxed()
    }

    fn discard<'a>(&'a mut self, _client: &'a VenueClient) -> BoxFuture<'a, ()> {
        async {}.boxed()
    }
}

fn subscribe(client: &VenueClient, channel: &str, payload: Value) -> String {
    let cfg = client.config();
    let t = client.venue_now_ms() / 1000;
    let sign = gate_ws_sign(cfg.api_secret.expose(), channel, "subscribe", t);
    json!({
        "time": t, "channel": channel, "event": "subscribe", "payload": payload,
        "auth": {"method": "api_key", "KEY": cfg.api_key, "SIGN": sign},
    })
    .to_string()
}

async fn session(ctx: &SessionCtx<'_>) -> End {
    let (client, stats) = (ctx.client, ctx.stats);
    let cfg = client.config();
    let ws =
        match crate::http::ws_connect(&cfg.ws_url, Duration::from_millis(cfg.connect_timeout_ms))
            .await
        {
            Ok(ws) => ws,
            Err(why) => {
                return End::Reconnect {
                    why,
                    new_credentials: false,
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
            .send(Message::text(subscribe(client, ch, payload)))
            .await
            .is_err()
        {
            return End::Reconnect {
                why: "subscribe failed".into(),
                new_credentials: false,
            };
        }
    }
    let mut acks = 0;
    let mut ping = tokio::time::interval(Duration::from_secs(10));
    let silence = Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = ctx.stop.cancelled() => return End::Stopped,
            _ = ping.tick() => {
                let p = json!({"time": arb_core::time::now_ms() / 1000, "channel": "spot.ping"}).to_string();
                if sink.send(Message::text(p)).await.is_err() {
                    return End::Reconnect { why: "ping write failed".into(), new_credentials: false };
                }
            }
            msg = tokio::time::timeout(silence, stream.next()) => {
                let msg = match msg {
                    Err(_) => return End::Reconnect { why: "no data for 60 s".into(), new_credentials: false },
                    Ok(None) => return End::Reconnect { why: "connection closed".into(), new_credentials: false },
                    Ok(Some(Err(e))) => return End::Reconnect { why: format!("read: {e}"), new_credentials: false },
                    Ok(Some(Ok(m))) => m,
                };
                stats.frames.fetch_add(1, Ordering::Relaxed);
                stats.last_frame_ms.store(arb_core::time::now_ms(), Ordering::Relaxed);
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(f) => return End::Reconnect { why: format!("closed by server: {f:?}"), new_credentials: false },
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
                        return End::Reconnect { why: format!("subscribe refused: {err}"), new_credentials: false };
                    }
                    acks += 1;
                    if acks == 3 {
                        connected(client, stats);
                        spawn_reconcile(client, ctx.symbols, ctx.since, stats);
                    }
                    continue;
                }
                if event != "update" {
                    continue;
                }
                update(client, &v, stats);
            }
        }
    }
}

fn update(client: &VenueClient, v: &Value, stats: &StreamStats) {
    let tracker = client.tracker();
    let venue = client.venue();
    let channel = v.get("channel").and_then(Value::as_str).unwrap_or("");
    let items = match v.get("result") {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => return,
    };
    for it in &items {
        match channel {
            "spot.orders" => match parse_order(venue, it, Source::Stream) {
                Ok(r) => {
                    stats.orders.fetch_add(1, Ordering::Relaxed);
                    tracker.on_report(&r);
                }
                Err(_) => {
                    stats.decode_errors.fetch_add(1, Ordering::Relaxed);
                }
            },
            "spot.usertrades" => match parse_trade(venue, it, Source::Stream) {
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
                        venue,
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
