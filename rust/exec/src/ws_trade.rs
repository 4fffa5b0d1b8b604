//! The WebSocket order path (`order_path: "ws"`) for a venue with a WebSocket trading
//! API; the venue's frames come from its [`WsTradeApi`].
//!
//! One connection. A request is written by the calling task itself (the sink sits
//! behind an async mutex: orders on one connection go out one after another anyway),
//! so no channel hop delays an order; a reader task routes each answer to the waiting
//! request by request id, skipping intermediate acks (Gate's `spot.order_place`
//! answers twice: only the result completes the request). A dropped connection fails
//! every waiting request as an unknown outcome, which the client resolves over REST by
//! client id, exactly as for a REST timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arb_core::{ErrorClass, Venue};
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::client::{OrderRef, VenueClient};
use crate::error::ExecError;
use crate::order::PreparedOrder;
use crate::ratelimit::Endpoint;
use crate::venue_api::WsTradeApi;

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Value, ExecError>>>>>;
type Sink =
    Arc<tokio::sync::Mutex<futures_util::stream::SplitSink<crate::http::WsStream, Message>>>;

/// A logged-in trading session on a venue's WebSocket API.
pub struct WsTrader {
    api: &'static dyn WsTradeApi,
    venue: Venue,
    sink: Sink,
    pending: Pending,
    next_id: AtomicU64,
    alive: Arc<AtomicBool>,
    /// Stops the reader and ping tasks when the session is dropped.
    stop: CancellationToken,
}

fn fail_all(venue: Venue, pending: &Pending, why: &str) {
    for (_, tx) in pending.lock().drain() {
        let _ = tx.send(Err(ExecError::new(
            venue,
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
    venue: Venue,
    alive: Arc<AtomicBool>,
    pending: Pending,
}

impl Drop for ReaderExit {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Release);
        fail_all(
            self.venue,
            &self.pending,
            "WebSocket trading connection closed before the answer",
        );
    }
}

impl WsTrader {
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Connects to the venue's WebSocket URL and logs in.
    pub async fn connect(
        client: &VenueClient,
        api: &'static dyn WsTradeApi,
    ) -> Result<WsTrader, ExecError> {
        let cfg = client.config();
        let venue = client.venue();
        let net = |e: String| ExecError::new(venue, "ws_trade", ErrorClass::Network, e);
        let ws =
            crate::http::ws_connect(&cfg.ws_url, Duration::from_millis(cfg.connect_timeout_ms))
                .await
                .map_err(net)?;
        let (sink, mut stream) = ws.split();
        let sink: Sink = Arc::new(tokio::sync::Mutex::new(sink));
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
        let alive = Arc::new(AtomicBool::new(true));
        let stop = CancellationToken::new();

        // The application-level ping the venue expects.
        let (sink_p, alive_p, stop_p) = (sink.clone(), alive.clone(), stop.clone());
        tokio::spawn(async move {
            let mut ping = tokio::time::interval(Duration::from_secs(10));
            ping.tick().await;
            loop {
                tokio::select! {
                    _ = stop_p.cancelled() => break,
                    _ = ping.tick() => {}
                }
                let frame = api.ping_frame(arb_core::time::now_ms());
                if sink_p
                    .lock()
                    .await
                    .send(Message::text(frame))
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
                venue,
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
                let Some(waiter) = api.answer_id(&v).and_then(|id| pending_r.lock().remove(id))
                else {
                    continue;
                };
                let _ = waiter.send(Ok(v));
            }
        });
        let t = WsTrader {
            api,
            venue,
            sink,
            pending,
            next_id: AtomicU64::new(1),
            alive,
            stop,
        };
        let (channel, param) = api.login();
        t.request(client, "ws_trade", channel, param).await?;
        Ok(t)
    }

    /// Sends one API request and waits for its final answer's result.
    async fn request(
        &self,
        client: &VenueClient,
        op: &'static str,
        channel: &'static str,
        req_param: Value,
    ) -> Result<Value, ExecError> {
        let cfg = client.config();
        let venue = self.venue;
        let req_id = format!(
            "{}-{}",
            arb_core::time::now_ms(),
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let frame = self.api.request_frame(
            cfg,
            channel,
            &req_param.to_string(),
            &req_id,
            client.venue_now_ms(),
        );
        let (tx, rx) = oneshot::channel();
        self.pending.lock().insert(req_id.clone(), tx);
        if !self.is_alive() {
            self.pending.lock().remove(&req_id);
            return Err(ExecError::new(
                venue,
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
                venue,
                op,
                ErrorClass::UnknownOutcome,
                format!("WebSocket write failed: {e}"),
            ));
        }
        let answer = match tokio::time::timeout(cfg.request_timeout(), rx).await {
            Ok(Ok(r)) => r?,
            Ok(Err(_)) => {
                return Err(ExecError::new(
                    venue,
                    op,
                    ErrorClass::UnknownOutcome,
                    "answer channel dropped",
                ))
            }
            Err(_) => {
                self.pending.lock().remove(&req_id);
                return Err(ExecError::new(
                    venue,
                    op,
                    ErrorClass::Timeout,
                    "no WebSocket answer in time",
                ));
            }
        };
        self.api.result(self.venue, op, answer)
    }

    /// Places an order; returns the venue's order object.
    pub async fn place(&self, client: &VenueClient, p: &PreparedOrder) -> Result<Value, ExecError> {
        client.limiter().acquire(Endpoint::Place, &p.symbol).await;
        let (channel, param) = self.api.place(p);
        self.request(client, "place", channel, param).await
    }

    /// Cancels an order; returns the venue's order object.
    pub async fn cancel(
        &self,
        client: &VenueClient,
        symbol: &str,
        order: &OrderRef,
    ) -> Result<Value, ExecError> {
        client.limiter().acquire(Endpoint::Cancel, symbol).await;
        let (channel, param) = self.api.cancel(symbol, order);
        self.request(client, "ws_trade", channel, param).await
    }
}

impl Drop for WsTrader {
    fn drop(&mut self) {
        self.stop.cancel();
        fail_all(
            self.venue,
            &self.pending,
            "WebSocket trading session dropped",
        );
    }
}
