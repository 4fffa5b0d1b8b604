//! The same guarantees as `faults.rs`, with the faults injected by the simulator itself
//! (`Simulator::inject_fault`): apply-then-timeout, refusal without applying, 5xx,
//! 429 with Retry-After, partial fills, an expired listenKey and dropped private
//! connections. Afterwards every intended order exists exactly once and every fill is
//! recorded.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arb_core::{ErrorClass, Venue, VenueKind};
use arb_exec::order::ClientOrderId;
use arb_exec::{
    Leg, OrderKind, OrderRequest, OrderStatus, Side, TimeInForce, UserStream, VenueClient,
};
use arb_sim::{FaultKind, Simulator, WsScope};
use common::*;

fn fired(sim: &Simulator, id: u64) -> u64 {
    sim.faults()
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .map(|r| r["fired"].as_u64().unwrap())
        .unwrap()
}

async fn resting_buy(sim: &Simulator, venue: Venue, txn: u64) -> OrderRequest {
    let (bid, _) = best(sim, venue);
    OrderRequest {
        rules: rules(sim, venue).await,
        side: Side::Buy,
        kind: OrderKind::Limit {
            price: bid.checked_mul(amt("0.9")).unwrap(),
            qty: amt("0.01"),
            tif: TimeInForce::Gtc,
        },
        client_id: ClientOrderId::for_leg("sf", txn, Leg::A).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_faults_never_duplicate_or_lose_an_order() {
    let sim = quiet_sim().await;
    let mut txn = 0;
    for venue in [Venue::MEXC, Venue::GATE] {
        let c = client(&sim, venue);
        for kind in [
            FaultKind::ApplyThenTimeout,
            FaultKind::RejectWithoutApply,
            FaultKind::RestStatus { status: 502 },
        ] {
            txn += 1;
            let req = resting_buy(&sim, venue, txn).await;
            let id = sim
                .inject_fault(fault(venue, kind.clone(), Some(1)))
                .unwrap();
            let s = c
                .place(&req)
                .await
                .unwrap_or_else(|e| panic!("{venue} {kind:?}: {e}"));
            assert_eq!(fired(&sim, id), 1, "{venue} {kind:?}");
            assert_eq!(s.status, OrderStatus::Open, "{venue} {kind:?}");
            assert_eq!(copies(&sim, venue, &req.client_id), 1, "{venue} {kind:?}");
        }
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_429_is_waited_out() {
    let sim = quiet_sim().await;
    for (i, venue) in [Venue::MEXC, Venue::GATE].into_iter().enumerate() {
        let c = client(&sim, venue);
        let req = resting_buy(&sim, venue, 100 + i as u64).await;
        let id = sim
            .inject_fault(fault(
                venue,
                FaultKind::RestRateLimit {
                    retry_after_secs: 1,
                },
                Some(1),
            ))
            .unwrap();
        let t0 = Instant::now();
        c.place(&req).await.unwrap();
        // The retry cannot have gone out before Retry-After (a lower bound: noise only
        // makes it later).
        assert!(t0.elapsed() >= Duration::from_secs(1));
        assert_eq!(fired(&sim, id), 1);
        assert_eq!(copies(&sim, venue, &req.client_id), 1);
        // Handled inside the client, and counted for the snapshot.
        let r = c.rest_outcomes();
        assert_eq!(
            (r.rate_limited, r.retries, r.server_errors),
            (1, 1, 0),
            "{r:?}"
        );
    }
    sim.shutdown().await;
}

/// A read answered 5xx is retried; the snapshot's counters show the 5xx and the retry
/// although the caller saw no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_retries_are_counted() {
    let sim = quiet_sim().await;
    for venue in [Venue::MEXC, Venue::GATE] {
        let c = client(&sim, venue);
        let id = sim
            .inject_fault(fault(venue, FaultKind::RestStatus { status: 503 }, Some(2)))
            .unwrap();
        c.balances().await.unwrap();
        assert_eq!(fired(&sim, id), 2);
        let r = c.rest_outcomes();
        assert_eq!(
            (r.server_errors, r.retries, r.rate_limited),
            (2, 2, 0),
            "{venue} {r:?}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halted_venue_opens_the_breaker_and_a_probe_closes_it() {
    let sim = quiet_sim().await;
    let mut cfg = config(&sim, Venue::GATE);
    cfg.breaker_threshold = 3;
    cfg.breaker_cooldown_ms = 300;
    cfg.read_attempts = 1;
    let c = VenueClient::new(cfg).unwrap();
    sim.inject_fault(fault(Venue::GATE, FaultKind::Halt, None))
        .unwrap();
    for _ in 0..3 {
        assert_eq!(c.balances().await.unwrap_err().class(), ErrorClass::Venue);
    }
    assert_eq!(c.breaker_state(), arb_exec::BreakerState::Open);
    let e = c.balances().await.unwrap_err();
    assert!(e.message.contains("circuit breaker open"), "{e}");
    sim.inject_fault(fault(Venue::GATE, FaultKind::Resume, None))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(c.breaker_state(), arb_exec::BreakerState::HalfOpen);
    c.balances().await.unwrap();
    assert_eq!(c.breaker_state(), arb_exec::BreakerState::Closed);
    sim.shutdown().await;
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

async fn taker(sim: &Simulator, c: &VenueClient, venue: Venue, txn: u64) -> ClientOrderId {
    let (_, ask) = best(sim, venue);
    let req = OrderRequest {
        rules: rules(sim, venue).await,
        side: Side::Buy,
        kind: OrderKind::Limit {
            price: ask,
            qty: amt("0.004"),
            tif: TimeInForce::Ioc,
        },
        client_id: ClientOrderId::for_leg("sf", txn, Leg::B).unwrap(),
    };
    c.place(&req).await.unwrap();
    req.client_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_private_streams_lose_no_event_and_partial_fills_are_exact() {
    let sim = quiet_sim().await;
    for (k, venue) in [Venue::MEXC, Venue::GATE].into_iter().enumerate() {
        let base = 1000 * (k as u64 + 1);
        let c = client(&sim, venue);
        let stream = UserStream::start(c.clone(), vec![symbol(venue).to_string()]);
        eventually("connected", || {
            stream.stats.reconciles.load(Ordering::Acquire) >= 1
        })
        .await;
        taker(&sim, &c, venue, base).await;
        // The venue drops the private connection (MEXC: every listenKey expires too).
        let drop_kind = match venue.kind() {
            VenueKind::Mexc => FaultKind::ExpireListenKeys,
            VenueKind::Gate => FaultKind::CloseConnections {
                scope: WsScope::Private,
            },
        };
        sim.inject_fault(fault(venue, drop_kind, None)).unwrap();
        // Trades while the stream is down or reconnecting.
        for i in 1..4 {
            taker(&sim, &c, venue, base + i).await;
        }
        // A partial fill: half the size, the rest cancelled.
        sim.inject_fault(fault(venue, FaultKind::PartialFill { pct: 50 }, Some(1)))
            .unwrap();
        let partial = taker(&sim, &c, venue, base + 10).await;
        eventually("reconnected and reconciled", || {
            stream.stats.reconciles.load(Ordering::Acquire) >= 2
        })
        .await;
        let truth = sim_trade_ids(&sim, venue);
        eventually("every fill recorded", || tracked_trade_ids(&c) == truth).await;
        let p = c
            .tracker()
            .wait_final(&partial, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(p.filled_qty, amt("0.002"), "{venue} {p:?}");
        assert!(
            matches!(p.status, OrderStatus::Canceled | OrderStatus::Expired),
            "{venue} {p:?}"
        );
        assert!(stream.stats.connects.load(Ordering::Relaxed) >= 2);
        if venue == Venue::MEXC {
            assert!(stream.stats.listen_keys_created.load(Ordering::Relaxed) >= 2);
        }
        stream.stop();
    }
    sim.shutdown().await;
}
