//! Gate's WebSocket trading API (`spot.login`, `spot.order_place`, `spot.order_cancel`)
//! as a second order path, chosen per venue in config (`order_path: "ws"`).
//!
//! One connection. A request is written by the calling task itself (the sink sits
//! behind an async mutex: orders on one connection go out one after another anyway),
//! so no channel hop delays an order; a reader task routes each answer to the waiting
//! request by `request_id`. `spot.order_place` answers twice (an ack, then
//! the result): only the result completes the request. Every request is signed on its
//! own (`api\n<channel>\n<req_param>\n<ts>`) besides the session login, so a request
//! never depends on login state. A dropped connection fails every waiting request as
//! an unknown outcome, which the client resolves over REST by client id, exactly as
//! for a REST timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arb_core::{ErrorClass, Venue};
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::client::{OrderRef, VenueClient};
use crate::error::{classify_gate, ExecError};
use crate::order::PreparedOrder;
use crate::ratelimit::Endpoint;

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Value, ExecError>>>>>;
type Sink =
    Arc<tokio::sync::Mutex<futures_util::stream::SplitSink<crate::http::WsStream, Message>>>;

/// A logged-in trading session on Gate's WebSocket API.
pub struct GateWsTrader {
    sink: Sink,
    pending: Pending,
    next_id: AtomicU64,
    alive: Arc<AtomicBool>,
    /// Stops the reader and ping tasks when the session is dropped.
    stop: CancellationToken,
}

fn fail_all(pending: &Pending, why: &str) {
    for (_, tx) in pending.lock().drain() {
        let _ = tx.send(Err(ExecError::new(
            Venue::Gate,
            "ws_trade",
            ErrorClass::UnknownOutcome,
            why.to_string(),
        )));
    }
}

/// Marks the session dead and fails every waiter when the reader ends, however it ends
/// (a panic unwinds through here too): a dead reader must never leave a session that
/// looks alive, with requests waiting for answers nobody reads.
struct ReaderExit {
    alive: Arc<AtomicBool>,
    pending: Pending,
}

impl Drop for ReaderExit {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Release);
        fail_all(
            &self.pending,
            "WebSocket trading connection closed before the answer",
        );
    }
}

impl GateWsTrader {
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Connects to the venue's WebSocket URL and logs in.
    pub async fn connect(client: &VenueClient) -> Result<GateWsTrader, ExecError> {
        let cfg = client.config();
        let net = |e: String| ExecError::new(Venue::Gate, "ws_trade", ErrorClass::Network, e);
        let ws =
            crate::http::ws_connect(&cfg.ws_url, Duration::from_millis(cfg.connect_timeout_ms))
                .await
                .map_err(net)?;
        let (sink, mut stream) = ws.split();
        let sink: Sink = Arc::new(tokio::sync::Mutex::new(sink));
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
        let alive = Arc::new(AtomicBool::new(true));
        let stop = CancellationToken::new();

        // The application-level ping Gate expects.
        let (sink_p, alive_p, stop_p) = (sink.clone(), alive.clone(), stop.clone());
        tokio::spawn(async move {
            let mut ping = tokio::time::interval(Duration::from_secs(10));
            ping.tick().await;
            loop {
                tokio::select! {
                    _ = stop_p.cancelled() => break,
                    _ = ping.tick() => {}
                }
                let frame =
                    json!({"time": arb_core::time::now_ms() / 1000, "channel": "spot.ping"});
                if sink_p
                    .lock()
                    .await
                    .send(Message::text(frame.to_string()))
                    .await
                    .is_err()
                {
                    alive_p.store(false, Ordering::Release);
                    break;
                }
            }
        });
        // Reader: routes answers to their requests.
        let (alive_r, pending_r, stop_r) = (alive.clone(), pending.clone(), stop.clone());
        tokio::spawn(async move {
            let _exit = ReaderExit {
                alive: alive_r,
                pending: pending_r.clone(),
            };
            loop {
                let msg = tokio::select! {
                    _ = stop_r.cancelled() => break,
                    m = stream.next() => match m { Some(m) => m, None => break },
                };
                let text = match msg {
                    Ok(Message::Text(t)) => t,
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                };
                let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                if v.get("ack").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                let Some(id) = v.get("request_id").and_then(Value::as_str) else {
                    continue;
                };
                let Some(waiter) = pending_r.lock().remove(id) else {
                    continue;
                };
                let _ = waiter.send(Ok(v));
            }
        });
        let t = GateWsTrader {
            sink,
            pending,
            next_id: AtomicU64::new(1),
            alive,
            stop,
        };
        t.request(client, "spot.login", json!({})).await?;
        Ok(t)
    }

    /// Sends one API request and waits for its final answer's `data.result`.
    async fn request(
        &self,
        client: &VenueClient,
        channel: &'static str,
        req_param: Value,
    ) -> Result<Value, ExecError> {
        let cfg = client.config();
        let op = if channel == "spot.order_place" {
            "place"
        } else {
            "ws_trade"
        };
        let req_id = format!(
            "{}-{}",
            arb_core::time::now_ms(),
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let ts = (client.venue_now_ms() / 1000).to_string();
        let param_text = req_param.to_string();
        let sig =
            arb_core::sign::gate_ws_api_sign(cfg.api_secret.expose(), channel, &param_text, &ts);
        let frame = format!(
            r#"{{"time":{ts},"channel":"{channel}","event":"api","payload":{{"req_id":"{req_id}","api_key":"{}","timestamp":"{ts}","signature":"{sig}","req_param":{param_text}}}}}"#,
            cfg.api_key
        );
        let (tx, rx) = oneshot::channel();
        self.pending.lock().insert(req_id.clone(), tx);
        if !self.is_alive() {
            self.pending.lock().remove(&req_id);
            return Err(ExecError::new(
                Venue::Gate,
                op,
                ErrorClass::Network,
                "WebSocket trading connection is closed",
            )
            .with_code(crate::client::NOT_SENT));
        }
        let written = self.sink.lock().await.send(Message::text(frame)).await;
        if let Err(e) = written {
            // Part of the frame may have left: the outcome is unknown, never "not sent".
            self.alive.store(false, Ordering::Release);
            self.pending.lock().remove(&req_id);
            return Err(ExecError::new(
                Venue::Gate,
                op,
                ErrorClass::UnknownOutcome,
                format!("WebSocket write failed: {e}"),
            ));
        }
        let answer = match tokio::time::timeout(cfg.request_timeout(), rx).await {
            Ok(Ok(r)) => r?,
            Ok(Err(_)) => {
                return Err(ExecError::new(
                    Venue::Gate,
                    op,
                    ErrorClass::UnknownOutcome,
                    "answer channel dropped",
                ))
            }
            Err(_) => {
                self.pending.lock().remove(&req_id);
                return Err(ExecError::new(
                    Venue::Gate,
                    op,
                    ErrorClass::Timeout,
                    "no WebSocket answer in time",
                ));
            }
        };
        let status: u16 = answer
            .pointer("/header/status")
            .and_then(|s| {
                s.as_str()
                    .map(str::to_string)
                    .or_else(|| s.as_u64().map(|n| n.to_string()))
            })
            .and_then(|s| s.parse().ok())
            .unwrap_or(200);
        if let Some(errs) = answer.pointer("/data/errs") {
            let label = errs.get("label").and_then(Value::as_str);
            let msg = errs.get("message").and_then(Value::as_str).unwrap_or("");
            let class = classify_gate(if status == 200 { 400 } else { status }, label);
            let mut e = ExecError::new(Venue::Gate, op, class, msg.to_string()).with_status(status);
            if let Some(l) = label {
                e = e.with_code(l);
            }
            return Err(e);
        }
        answer.pointer("/data/result").cloned().ok_or_else(|| {
            ExecError::malformed(Venue::Gate, op, "WebSocket answer without data.result")
                .with_status(200)
        })
    }

    /// `spot.order_place`; returns the order object.
    pub async fn place(&self, client: &VenueClient, p: &PreparedOrder) -> Result<Value, ExecError> {
        client.limiter().acquire(Endpoint::Place, &p.symbol).await;
        self.request(client, "spot.order_place", crate::gate::place_body(p))
            .await
    }

    /// `spot.order_cancel`; returns the order object.
    pub async fn cancel(
        &self,
        client: &VenueClient,
        symbol: &str,
        order: &OrderRef,
    ) -> Result<Value, ExecError> {
        client.limiter().acquire(Endpoint::Cancel, symbol).await;
        let id = match order {
            OrderRef::Venue(id) => id.clone(),
            OrderRef::Client(c) => c.wire(Venue::Gate),
        };
        self.request(
            client,
            "spot.order_cancel",
            json!({"order_id": id, "currency_pair": symbol}),
        )
        .await
    }
}

impl Drop for GateWsTrader {
    fn drop(&mut self) {
        self.stop.cancel();
        fail_all(&self.pending, "WebSocket trading session dropped");
    }
}
