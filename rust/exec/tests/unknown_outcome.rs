//! Unknown placement outcomes of orders that finish at once (an IOC leg, a market
//! buy) against the simulator's real lookup rules: Gate finds an order by its `text`
//! only while it is open, MEXC's order query lags its write. The simulator applies the
//! order and never answers; afterwards exactly one order exists at the venue and the
//! client reports what it filled.

mod common;

use arb_core::{ErrorClass, Venue};
use arb_exec::order::ClientOrderId;
use arb_exec::{Leg, Located, OrderKind, OrderRef, OrderRequest, OrderStatus, Side, TimeInForce};
use arb_sim::{FaultKind, SimConfig, Simulator};
use common::*;

fn apply_then_timeout(sim: &Simulator, venue: Venue) {
    sim.inject_fault(fault(venue, FaultKind::ApplyThenTimeout, Some(1)))
        .unwrap();
}

/// A buy that takes the best ask at once and finishes (IOC limit above the ask).
async fn ioc_buy(sim: &Simulator, venue: Venue, txn: u64) -> OrderRequest {
    let (_, ask) = best(sim, venue);
    OrderRequest {
        rules: rules(sim, venue).await,
        side: Side::Buy,
        kind: OrderKind::Limit {
            price: ask.checked_mul(amt("1.01")).unwrap(),
            qty: amt("0.01"),
            tif: TimeInForce::Ioc,
        },
        client_id: ClientOrderId::for_leg("uo", txn, Leg::A).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_finds_a_finished_order_by_text_only_in_its_histories() {
    let sim = quiet_sim().await;
    let c = client(&sim, Venue::GATE);
    let req = ioc_buy(&sim, Venue::GATE, 1).await;
    let s = c.place(&req).await.unwrap();
    assert_eq!(s.status, OrderStatus::Filled);
    // As Gate documents: a custom id names only an open order.
    let e = c
        .query(
            symbol(Venue::GATE),
            &OrderRef::Client(req.client_id.clone()),
        )
        .await
        .unwrap_err();
    assert!(e.is_order_not_found(), "{e}");
    let id = s.order_id.clone().unwrap();
    let r = c
        .query(symbol(Venue::GATE), &OrderRef::Venue(id))
        .await
        .unwrap();
    assert_eq!(r.client_id.as_ref(), Some(&req.client_id));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_ioc_whose_answer_was_lost_is_found_not_sent_again() {
    let sim = quiet_sim().await;
    let mut cfg = config(&sim, Venue::GATE);
    cfg.request_timeout_ms = 500;
    let c = arb_exec::VenueClient::new(cfg).unwrap();
    let req = ioc_buy(&sim, Venue::GATE, 2).await;
    apply_then_timeout(&sim, Venue::GATE);
    let s = c.place(&req).await.unwrap();
    assert_eq!(copies(&sim, Venue::GATE, &req.client_id), 1);
    assert_eq!(s.status, OrderStatus::Filled);
    assert_eq!(s.filled_qty, amt("0.01"));
    let truth: Vec<String> = sim
        .fills(Venue::GATE, &sim.trader(Venue::GATE).api_key)
        .into_iter()
        .map(|f| f.trade_id)
        .collect();
    let mut seen: Vec<String> = s.fills.iter().map(|f| f.trade_id.clone()).collect();
    seen.sort();
    let mut truth = truth;
    truth.sort();
    assert_eq!(seen, truth);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mexc_market_buy_whose_answer_was_lost_is_found_despite_the_read_lag() {
    // The venue's read lags its write longer than the client waits for an answer: a
    // query by client id answers -2013 for an order that exists.
    let sim = Simulator::start(SimConfig {
        market_paused: true,
        mexc_read_lag_ms: 1_500,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut cfg = config(&sim, Venue::MEXC);
    cfg.request_timeout_ms = 500;
    // Not waiting the lag out: the order history must show what the query hides.
    cfg.read_after_write_ms = Some(0);
    let c = arb_exec::VenueClient::new(cfg).unwrap();
    let req = OrderRequest {
        rules: rules(&sim, Venue::MEXC).await,
        side: Side::Buy,
        kind: OrderKind::Market { qty: amt("0.01") },
        client_id: ClientOrderId::for_leg("uo", 3, Leg::A).unwrap(),
    };
    apply_then_timeout(&sim, Venue::MEXC);
    let s = c.place(&req).await.unwrap();
    assert_eq!(copies(&sim, Venue::MEXC, &req.client_id), 1);
    assert_eq!(s.status, OrderStatus::Filled);
    assert_eq!(s.filled_qty, amt("0.01"));
    assert!(!s.fills.is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_nothing_can_prove_stays_unknown_until_the_histories_answer() {
    let sim = quiet_sim().await;
    let mut cfg = config(&sim, Venue::GATE);
    cfg.request_timeout_ms = 500;
    cfg.read_attempts = 1;
    let c = arb_exec::VenueClient::new(cfg).unwrap();
    let req = ioc_buy(&sim, Venue::GATE, 4).await;
    apply_then_timeout(&sim, Venue::GATE);
    let placing = {
        let (c, req) = (c.clone(), req.clone());
        tokio::spawn(async move { c.place(&req).await })
    };
    // Once the venue has the order (its answer is held back), every later request
    // fails: neither the order nor its absence can be proven.
    for _ in 0..2_000 {
        if copies(&sim, Venue::GATE, &req.client_id) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(copies(&sim, Venue::GATE, &req.client_id), 1);
    sim.inject_fault(fault(
        Venue::GATE,
        FaultKind::RestStatus { status: 503 },
        None,
    ))
    .unwrap();
    let e = placing.await.unwrap().unwrap_err();
    assert_eq!(e.class, ErrorClass::UnknownOutcome, "{e}");
    assert_eq!(
        c.tracker().get(&req.client_id).unwrap().status,
        OrderStatus::Unknown
    );
    // The venue answers again. What the runner does with a leg left unknown: a lookup
    // by client id alone says "not found" for this filled IOC; resolving it from the
    // histories finds it with its fills.
    sim.clear_faults();
    let sym = symbol(Venue::GATE);
    let by_text = c.query(sym, &OrderRef::Client(req.client_id.clone())).await;
    assert!(by_text.unwrap_err().is_order_not_found());
    let Located::Found(s) = c.resolve_unknown(sym, &req.client_id).await.unwrap() else {
        panic!("a filled order reported absent");
    };
    assert_eq!((s.status, s.filled_qty), (OrderStatus::Filled, amt("0.01")));
    assert!(!s.fills.is_empty());
    assert_eq!(copies(&sim, Venue::GATE, &req.client_id), 1);
    // The snapshot's counters saw both: the placement's own attempt to resolve it
    // while every request failed (unresolved), then this one (resolved).
    let r = c.rest_outcomes();
    assert_eq!((r.unknown_resolved, r.unknown_unresolved), (1, 1), "{r:?}");
    sim.shutdown().await;
}
