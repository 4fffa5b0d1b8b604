//! Client-side rate limiting against the simulator with the venues' documented limits
//! enforced: a burst far above Gate's 10 placements/s per market and MEXC's 2/s on
//! GET /account goes through without the venue ever answering 429, and so does a burst
//! of reconciliation calls whose MEXC weights add up past the 500 per 10 s budget.

mod common;

use arb_core::Venue;
use arb_exec::order::ClientOrderId;
use arb_exec::{Leg, OrderKind, OrderRef, OrderRequest, Side, TimeInForce};
use arb_sim::{SimConfig, Simulator};
use common::*;

type Calls = tokio::task::JoinSet<Result<(), arb_exec::ExecError>>;

/// `n` concurrent balance reads (MEXC: `GET /api/v3/account`, 2 a second).
fn read_balances(tasks: &mut Calls, c: &arb_exec::VenueClient, n: usize) {
    for _ in 0..n {
        let c = c.clone();
        tasks.spawn(async move { c.balances().await.map(|_| ()) });
    }
}

async fn all_succeed(mut tasks: Calls) {
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_are_spread_so_the_venue_never_says_429() {
    let cfg = SimConfig {
        market_paused: true,
        rate_limits: true,
        ..SimConfig::default()
    };
    let sim = Simulator::start(cfg).await.unwrap();
    let gate = client(&sim, Venue::GATE);
    let rules = rules(&sim, Venue::GATE).await;
    let (bid, _) = best(&sim, Venue::GATE);
    let mut tasks = Calls::new();
    for i in 0..25u64 {
        let c = gate.clone();
        let req = OrderRequest {
            rules: rules.clone(),
            side: Side::Buy,
            kind: OrderKind::Limit {
                price: bid.checked_mul(amt("0.8")).unwrap(),
                qty: amt("0.001"),
                tif: TimeInForce::Gtc,
            },
            client_id: ClientOrderId::for_leg("rl", i, Leg::A).unwrap(),
        };
        tasks.spawn(async move { c.place(&req).await.map(|_| ()) });
    }
    let mexc = client(&sim, Venue::MEXC);
    read_balances(&mut tasks, &mexc, 6);
    all_succeed(tasks).await;
    let counters = sim.counters();
    assert_eq!(counters["gateio"]["rate_limited"], 0, "{counters}");
    assert_eq!(counters["mexc"]["rate_limited"], 0, "{counters}");
    assert_eq!(
        sim.orders(Venue::GATE, &sim.trader(Venue::GATE).api_key)
            .len(),
        25
    );
    // The limiter did hold requests back (25 > 10 per second, 6 > 2 per second).
    assert!(
        gate.limiter().stats().waits >= 15,
        "{:?}",
        gate.limiter().stats()
    );
    assert!(
        mexc.limiter().stats().waits >= 4,
        "{:?}",
        mexc.limiter().stats()
    );
    sim.shutdown().await;
}

/// The calls reconciliation makes, all at once: 55 trade-list pages (weight 10: 550, over
/// the budget of 500 per 10 s of `GET /api/v3/myTrades`), 60 order queries (weight 2),
/// 40 open-order lists (weight 3) and 6 balance reads (weight 10, and 2 a second).
/// Counted in requests, every class is far under 500 and all would go at once; counted
/// in weights, the client holds the last trade pages back and the venue never refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconciliation_burst_stays_inside_the_mexc_weight_budget() {
    let cfg = SimConfig {
        market_paused: true,
        rate_limits: true,
        // Queries right after the placement find it (the lag is not what this tests).
        mexc_read_lag_ms: 0,
        ..SimConfig::default()
    };
    let sim = Simulator::start(cfg).await.unwrap();
    let mexc = client(&sim, Venue::MEXC);
    let rules = rules(&sim, Venue::MEXC).await;
    let (bid, _) = best(&sim, Venue::MEXC);
    let resting = mexc
        .place(&OrderRequest {
            rules,
            side: Side::Buy,
            kind: OrderKind::Limit {
                price: bid.checked_mul(amt("0.8")).unwrap(),
                qty: amt("0.001"),
                tif: TimeInForce::Gtc,
            },
            client_id: ClientOrderId::for_leg("rw", 1, Leg::A).unwrap(),
        })
        .await
        .unwrap();
    let id = OrderRef::Venue(resting.order_id.clone().unwrap());
    let sym = symbol(Venue::MEXC);
    let mut tasks = Calls::new();
    for _ in 0..55 {
        let c = mexc.clone();
        tasks.spawn(async move { c.my_trades(sym, None, 100).await.map(|_| ()) });
    }
    for _ in 0..60 {
        let (c, id) = (mexc.clone(), id.clone());
        tasks.spawn(async move { c.query(sym, &id).await.map(|_| ()) });
    }
    for _ in 0..40 {
        let c = mexc.clone();
        tasks.spawn(async move { c.open_orders(sym).await.map(|_| ()) });
    }
    read_balances(&mut tasks, &mexc, 6);
    all_succeed(tasks).await;
    let counters = sim.counters();
    assert_eq!(counters["mexc"]["rate_limited"], 0, "{counters}");
    assert!(
        mexc.limiter().stats().waits >= 5,
        "{:?}",
        mexc.limiter().stats()
    );
    sim.shutdown().await;
}
