//! Private streams against the simulator: the fills the streams deliver equal the
//! simulator's fill list by trade id on both venues; an expired MEXC listenKey loses
//! no private event (the stream takes a new key, reconnects and reconciles over REST);
//! Gate's WebSocket trading path places and cancels.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use arb_core::Venue;
use arb_exec::order::ClientOrderId;
use arb_exec::{
    ExecEvent, Leg, OrderKind, OrderPath, OrderRef, OrderRequest, OrderStatus, Side, Source,
    TimeInForce, UserStream, VenueClient,
};
use arb_sim::{SimConfig, Simulator};
use common::*;

async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sim_trade_ids(sim: &Simulator, venue: Venue) -> BTreeSet<String> {
    sim.fills(venue, &sim.trader(venue).api_key)
        .into_iter()
        .map(|f| f.trade_id)
        .collect()
}

fn tracked_trade_ids(c: &VenueClient) -> BTreeSet<String> {
    c.tracker()
        .all()
        .iter()
        .flat_map(|o| o.fills.iter().map(|f| f.trade_id.clone()))
        .collect()
}

/// A mix of taker fills, partial fills and cancels on `venue`.
async fn trade_some(sim: &Simulator, c: &VenueClient, venue: Venue, txn0: u64, n: u64) {
    let rules = rules(sim, venue).await;
    for i in 0..n {
        let (bid, ask) = best(sim, venue);
        let (side, price) = if i % 2 == 0 {
            (Side::Buy, ask)
        } else {
            (Side::Sell, bid)
        };
        let req = OrderRequest {
            rules: rules.clone(),
            side,
            kind: OrderKind::Limit {
                price,
                qty: amt("0.003"),
                tif: TimeInForce::Ioc,
            },
            client_id: ClientOrderId::for_leg("st", txn0 + i, Leg::A).unwrap(),
        };
        c.place(&req).await.unwrap();
        if i % 3 == 0 {
            let rest = OrderRequest {
                kind: OrderKind::Limit {
                    price: bid.checked_mul(amt("0.95")).unwrap(),
                    qty: amt("0.002"),
                    tif: TimeInForce::Gtc,
                },
                side: Side::Buy,
                client_id: ClientOrderId::for_leg("st", txn0 + i, Leg::B).unwrap(),
                ..req
            };
            c.place(&rest).await.unwrap();
            c.cancel(symbol(venue), &OrderRef::Client(rest.client_id.clone()))
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_fills_equal_the_simulators_fills() {
    let sim = quiet_sim().await;
    for (k, venue) in [Venue::MEXC, Venue::GATE].into_iter().enumerate() {
        let c = client(&sim, venue);
        let mut events = c.tracker().subscribe_events();
        let stream = UserStream::start(c.clone(), vec![symbol(venue).to_string()]);
        eventually("connected and reconciled", || {
            stream.stats.reconciles.load(Ordering::Acquire) >= 1
        })
        .await;
        trade_some(&sim, &c, venue, 1000 * (k as u64 + 1), 9).await;
        let truth = sim_trade_ids(&sim, venue);
        assert!(truth.len() >= 9, "{venue}: {}", truth.len());
        // Every fill arrives on the stream (no REST read of trades was made).
        let mut streamed = BTreeSet::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while streamed.len() < truth.len() {
            let ev = tokio::time::timeout_at(deadline, events.recv())
                .await
                .expect("stream fills in time")
                .unwrap();
            if let ExecEvent::Fill(f) = ev {
                assert_eq!(f.source, Source::Stream);
                streamed.insert(f.trade_id);
            }
        }
        assert_eq!(streamed, truth, "{venue}");
        assert_eq!(tracked_trade_ids(&c), truth, "{venue}");
        // Stream order pushes took every IOC and canceled order to a final state.
        eventually("orders final", || c.tracker().live().is_empty()).await;
        assert_eq!(stream.stats.decode_errors.load(Ordering::Relaxed), 0);
        stream.stop();
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_listen_key_loses_no_private_event() {
    let cfg = SimConfig {
        market_paused: true,
        listen_key_ttl_secs: 2,
        ..SimConfig::default()
    };
    let sim = Simulator::start(cfg).await.unwrap();
    let venue = Venue::MEXC;
    let c = client(&sim, venue);
    let stream = UserStream::start(c.clone(), vec![symbol(venue).to_string()]);
    eventually("connected", || {
        stream.stats.reconciles.load(Ordering::Acquire) >= 1
    })
    .await;
    // Keep trading across the expiry (the keep-alive period is the default 30 min, so
    // the 2 s key dies) until the stream has taken a new key and reconciled again.
    let mut txn = 5000;
    while stream.stats.listen_keys_created.load(Ordering::Relaxed) < 2
        || stream.stats.reconciles.load(Ordering::Acquire) < 2
    {
        trade_some(&sim, &c, venue, txn, 2).await;
        txn += 2;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(txn < 5000 + 2_000, "the stream never renewed its listenKey");
    }
    trade_some(&sim, &c, venue, txn, 3).await;
    let truth = sim_trade_ids(&sim, venue);
    eventually("every fill recorded", || tracked_trade_ids(&c) == truth).await;
    assert!(stream.stats.connects.load(Ordering::Relaxed) >= 2);
    stream.stop();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_websocket_order_path_places_and_cancels() {
    let sim = quiet_sim().await;
    let mut cfg = config(&sim, Venue::GATE);
    cfg.order_path = OrderPath::Ws;
    let c = VenueClient::new(cfg).unwrap();
    let rules = rules(&sim, Venue::GATE).await;
    let (bid, ask) = best(&sim, Venue::GATE);
    let resting = OrderRequest {
        rules: rules.clone(),
        side: Side::Buy,
        kind: OrderKind::Limit {
            price: bid.checked_mul(amt("0.9")).unwrap(),
            qty: amt("0.01"),
            tif: TimeInForce::Gtc,
        },
        client_id: ClientOrderId::for_leg("ws", 1, Leg::A).unwrap(),
    };
    let s = c.place(&resting).await.unwrap();
    assert_eq!(s.status, OrderStatus::Open);
    let r = c
        .cancel(
            symbol(Venue::GATE),
            &OrderRef::Client(resting.client_id.clone()),
        )
        .await
        .unwrap();
    assert_eq!(r.status, OrderStatus::Canceled);
    let ioc = OrderRequest {
        kind: OrderKind::Limit {
            price: ask,
            qty: amt("0.01"),
            tif: TimeInForce::Ioc,
        },
        client_id: ClientOrderId::for_leg("ws", 2, Leg::A).unwrap(),
        ..resting.clone()
    };
    let s = c.place(&ioc).await.unwrap();
    assert_eq!(s.status, OrderStatus::Filled, "{s:?}");
    let orders = sim.orders(Venue::GATE, &sim.trader(Venue::GATE).api_key);
    assert_eq!(orders.len(), 2);
    assert_eq!(
        c.conn_stats().requests,
        0,
        "place and cancel went over the WebSocket, not REST"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_keeps_one_listen_key_past_its_lifetime() {
    let cfg = SimConfig {
        market_paused: true,
        listen_key_ttl_secs: 2,
        ..SimConfig::default()
    };
    let sim = Simulator::start(cfg).await.unwrap();
    let mut vc = config(&sim, Venue::MEXC);
    // Extended every second, a 2 s key never lapses.
    vc.listen_key_keepalive_ms = 1_000;
    let c = VenueClient::new(vc).unwrap();
    let stream = UserStream::start(c.clone(), vec![symbol(Venue::MEXC).to_string()]);
    eventually("connected", || {
        stream.stats.reconciles.load(Ordering::Acquire) >= 1
    })
    .await;
    // Trade until well past two key lifetimes, counting on the venue's clock of fills.
    let start = sim
        .fills(Venue::MEXC, &sim.trader(Venue::MEXC).api_key)
        .len();
    let t0 = std::time::Instant::now();
    let mut txn = 9000;
    while t0.elapsed() < Duration::from_secs(5) {
        trade_some(&sim, &c, Venue::MEXC, txn, 1).await;
        txn += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let truth = sim_trade_ids(&sim, Venue::MEXC);
    assert!(truth.len() > start);
    eventually("every fill recorded", || tracked_trade_ids(&c) == truth).await;
    assert_eq!(stream.stats.listen_keys_created.load(Ordering::Relaxed), 1);
    assert_eq!(stream.stats.connects.load(Ordering::Relaxed), 1);
    stream.stop();
    sim.shutdown().await;
}
