//! The WebSocket send loop both venues share, through real sockets: a connection's queue
//! is the venue broadcast, bounded by `ws_backlog`, and a consumer that falls further
//! behind is disconnected (and counted) instead of silently missing versions.

use std::time::Duration;

use arb_core::{Venue, VenueKind};
use arb_sim::market::Market;
use arb_sim::{FaultKind, FaultSpec, SimConfig, Simulator};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// The smallest broadcast the simulator allows.
const BACKLOG: usize = 16;

fn quiet() -> SimConfig {
    SimConfig {
        symbols: vec!["BTC/USDT".into()],
        market_paused: true,
        ws_backlog: BACKLOG,
        ..SimConfig::default()
    }
}

/// The venue's WebSocket URL and a request subscribing to BTC/USDT book increments.
fn depth_subscription(sim: &Simulator, venue: Venue) -> (String, String) {
    let e = sim.endpoints();
    match venue.kind() {
        VenueKind::Mexc => (
            e.mexc_ws.clone(),
            serde_json::json!({"method": "SUBSCRIPTION", "id": 1,
                "params": ["spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"]})
            .to_string(),
        ),
        VenueKind::Gate => (
            e.gate_ws.clone(),
            serde_json::json!({"time": arb_core::time::now_ms() / 1000, "id": 1,
                "channel": "spot.order_book_update", "event": "subscribe",
                "payload": ["BTC_USDT", "100ms"]})
            .to_string(),
        ),
    }
}

async fn a_consumer_behind_by_more_than_the_backlog_is_disconnected(venue: Venue) {
    let sim = Simulator::start(quiet()).await.expect("simulator starts");
    let (url, subscribe) = depth_subscription(&sim, venue);
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connects");
    ws.send(Message::Text(subscribe.into())).await.unwrap();
    // The subscription's reply (text on both venues) comes first.
    let reply = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a reply")
        .expect("open")
        .expect("a frame");
    assert!(reply.is_text(), "{venue}: {reply:?}");

    // Frames stop for a while (the loop stops taking events off the broadcast), and
    // meanwhile the venue publishes many more events than the backlog holds.
    sim.inject_fault(FaultSpec {
        venue,
        symbol: None,
        kind: FaultKind::Stall { secs: 1.0 },
        count: None,
        duration_ms: None,
    })
    .unwrap();
    let mut market = Market::new(sim.shared());
    for _ in 0..20 * BACKLOG {
        market.step_on(sim.shared(), venue);
    }

    // The connection ends (the timeout only keeps a broken loop from hanging the test).
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "{venue}: the slow consumer was not disconnected"
    );
    let counters = sim.counters();
    assert_eq!(
        counters[venue.as_str()]["faults"]["ws_lagged_disconnects"],
        1,
        "{venue}: {counters}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mexc_disconnects_a_slow_consumer() {
    a_consumer_behind_by_more_than_the_backlog_is_disconnected(Venue::MEXC).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_disconnects_a_slow_consumer() {
    a_consumer_behind_by_more_than_the_backlog_is_disconnected(Venue::GATE).await;
}
