//! Client-side rate limiting against the simulator with the venues' documented limits
//! enforced: a burst far above Gate's 10 placements/s per market and MEXC's 2/s on
//! GET /account goes through without the venue ever answering 429.

mod common;

use arb_core::Venue;
use arb_exec::order::ClientOrderId;
use arb_exec::{Leg, OrderKind, OrderRequest, Side, TimeInForce};
use arb_sim::{SimConfig, Simulator};
use common::*;

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
    let mut tasks = tokio::task::JoinSet::new();
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
    for _ in 0..6 {
        let c = mexc.clone();
        tasks.spawn(async move { c.balances().await.map(|_| ()) });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
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
