//! The WebSocket send loop every simulated venue shares: one task per connection that
//! answers the client's requests, turns the venue's event broadcast into frames, and
//! applies the WebSocket faults, knowing nothing of any venue's protocol.
//!
//! A venue adapter supplies a [`Protocol`] (its subscriptions and frame formats) and
//! calls [`serve`] on the upgraded socket. What the loop does for every venue:
//! - The connection subscribes to the venue's event broadcast when it opens, so every
//!   book change after the client's REST snapshot reaches it in version order.
//! - Backpressure: events wait in the broadcast, whose capacity (`ws_backlog`) bounds
//!   each connection's queue. A connection that falls further behind is closed (as the
//!   venues drop slow consumers, and counted in `ws_lagged_disconnects`) rather than
//!   silently skipping versions.
//! - Every event already waiting is written (up to 256), then the socket is flushed
//!   once: one write per batch instead of one per frame. The flush of a batch holding a
//!   latency-referee probe's opening push is when that probe's frame counts as written.
//! - Faults from the broadcast, in order with the book pushes: close (public, private or
//!   every connection), stall (frames withheld in the broadcast until a deadline), and
//!   the venue's malformed and deeply nested frames to connections that watch the symbol.
//! - Once a second the protocol may end the connection (an expired listenKey, no
//!   subscription within a grace period); shutdown ends every connection.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use crate::faults::WsFault;
use crate::matching::Event;
use crate::state::{VenueRef, VenueState};

/// Events written per batch before a flush (the rest wait for the next turn).
const MAX_BATCH: usize = 256;

/// One connection's venue protocol: its requests, subscriptions and frame formats.
pub trait Protocol: Send {
    /// Answers one text request (subscribe, unsubscribe, ping, trading API): zero or
    /// more replies, in order.
    fn request(&mut self, vs: &VenueState, text: &str) -> Vec<Message>;

    /// True once the connection holds a subscription (events before that send nothing).
    fn is_subscribed(&self) -> bool;

    /// The frames one event produces for this connection's subscriptions.
    fn frames(&self, vs: &VenueState, ev: &Event) -> Vec<Message>;

    /// True if a subscription covers symbol `symbol` (fault frames go only there).
    fn watches(&self, symbol: usize) -> bool;

    /// True for an authenticated connection (which close faults hit).
    fn is_private(&self) -> bool;

    /// A frame nested `depth` levels deep in the venue's wire format.
    fn nested_frame(&self, depth: u32) -> Message;

    /// A frame the venue's decoder must reject.
    fn malformed_frame(&self) -> Message;

    /// Asked once a second: `false` closes the connection. `opened` is when it opened.
    fn keep_open(&self, _vs: &VenueState, _opened: Instant) -> bool {
        true
    }
}

/// Runs one connection of venue `venue` until the client leaves, a fault or the
/// protocol closes it, or the simulator shuts down. `open` builds the connection's
/// protocol state; `Err(text)` refuses the connection with that text, then a close.
pub async fn serve<P: Protocol>(
    venue: VenueRef,
    socket: WebSocket,
    open: impl FnOnce(&VenueState) -> Result<P, String>,
) {
    let shared = &venue.shared;
    let vs = venue.venue();
    vs.counters.ws_connections.fetch_add(1, Ordering::Relaxed);
    let (mut tx, mut rx_ws) = socket.split();
    let mut proto = match open(vs) {
        Ok(p) => p,
        Err(text) => {
            let _ = tx.send(Message::Text(text.into())).await;
            let _ = tx.close().await;
            return;
        }
    };
    let mut events = vs.tx.subscribe();
    let mut check = tokio::time::interval(Duration::from_secs(1));
    let opened = Instant::now();
    // An injected stall withholds frames (they wait in the broadcast) until then.
    let mut stall_until: Option<tokio::time::Instant> = None;
    loop {
        let stalled = stall_until.is_some_and(|u| tokio::time::Instant::now() < u);
        tokio::select! {
            _ = shared.cancel.cancelled() => break,
            _ = tokio::time::sleep_until(stall_until.unwrap_or_else(tokio::time::Instant::now)), if stalled => {
                stall_until = None;
            }
            _ = check.tick() => {
                if !proto.keep_open(vs, opened) {
                    break;
                }
            }
            msg = rx_ws.next() => {
                let Some(Ok(msg)) = msg else { break };
                let text = match msg {
                    Message::Text(t) => t.to_string(),
                    Message::Close(_) => break,
                    _ => continue,
                };
                let mut failed = false;
                for reply in proto.request(vs, &text) {
                    vs.counters.frames_other.fetch_add(1, Ordering::Relaxed);
                    if tx.send(reply).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed {
                    break;
                }
            }
            ev = events.recv(), if !stalled => {
                let mut next = Some(ev);
                let mut done = false;
                let mut batch = 0;
                // A referee probe's opening push in this batch: timed when flushed.
                let mut probe = None;
                while let Some(ev) = next.take() {
                    let ev = match ev {
                        Ok(ev) => ev,
                        Err(RecvError::Lagged(_)) => {
                            vs.counters.ws_lagged_disconnects.fetch_add(1, Ordering::Relaxed);
                            done = true;
                            break;
                        }
                        Err(RecvError::Closed) => {
                            done = true;
                            break;
                        }
                    };
                    let frames = match &*ev {
                        Event::Fault(WsFault::Close(scope)) => {
                            if scope.hits(proto.is_private()) {
                                done = true;
                                break;
                            }
                            Vec::new()
                        }
                        Event::Fault(WsFault::Stall(until)) => {
                            stall_until = Some(tokio::time::Instant::from_std(*until));
                            break;
                        }
                        Event::Fault(WsFault::Nested(sym, depth)) if proto.watches(*sym) => {
                            vec![proto.nested_frame(*depth)]
                        }
                        Event::Fault(WsFault::Malformed(sym)) if proto.watches(*sym) => {
                            vec![proto.malformed_frame()]
                        }
                        Event::Fault(_) => Vec::new(),
                        _ if proto.is_subscribed() => {
                            let fs = proto.frames(vs, &ev);
                            if let (Event::Book(b), false) = (&*ev, fs.is_empty()) {
                                probe = probe.or(b.probe);
                            }
                            fs
                        }
                        _ => Vec::new(),
                    };
                    for frame in frames {
                        if tx.feed(frame).await.is_err() {
                            done = true;
                            break;
                        }
                    }
                    if done {
                        break;
                    }
                    batch += 1;
                    if batch < MAX_BATCH {
                        next = crate::state::try_next(&mut events);
                    }
                }
                if done || tx.flush().await.is_err() {
                    break;
                }
                if let Some(id) = probe {
                    shared.referee.frame_written(id, Instant::now());
                }
            }
        }
    }
    let _ = tx.close().await;
}
