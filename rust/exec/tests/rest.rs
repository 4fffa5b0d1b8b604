//! REST against the simulator on loopback, on both venues: server time, balances, fees,
//! place / query (venue id and client id) / open orders / cancel, fills by my_trades
//! equal to the simulator's own fill list, and venue-side and local rejections.

mod common;

use arb_core::{ErrorClass, Venue};
use arb_exec::order::ClientOrderId;
use arb_exec::{Leg, OrderKind, OrderRef, OrderRequest, OrderStatus, Side, TimeInForce};
use common::*;

fn id(txn: u64, leg: Leg) -> ClientOrderId {
    ClientOrderId::for_leg("rt", txn, leg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn place_query_cancel_fill_on_both_venues() {
    let sim = quiet_sim().await;
    for (n, venue) in [Venue::MEXC, Venue::GATE].into_iter().enumerate() {
        let c = client(&sim, venue);
        let key = sim.trader(venue).api_key.clone();
        let rules = rules(&sim, venue).await;
        let sym = symbol(venue);

        let t = c.server_time().await.unwrap();
        assert!(t > 0);
        assert!(c.clock_offset_ms().abs() < 5_000, "{}", c.clock_offset_ms());

        let truth = sim.balances(venue, &key);
        let bal = c.balances().await.unwrap();
        for b in &bal {
            let (free, locked) = &truth[&b.asset];
            assert_eq!(
                (b.free, b.locked),
                (amt(free), amt(locked)),
                "{venue} {}",
                b.asset
            );
        }
        assert_eq!(bal.len(), truth.len());

        let fees = c.fees(sym).await.unwrap();
        assert!(fees.taker >= fees.maker, "{venue} {fees:?}");

        // A resting buy well under the market.
        let (bid, ask) = best(&sim, venue);
        let rest_price = bid.checked_mul(amt("0.9")).unwrap();
        let qty = amt("0.01");
        let cid = id(100 + n as u64, Leg::A);
        let req = OrderRequest {
            rules: rules.clone(),
            side: Side::Buy,
            kind: OrderKind::Limit {
                price: rest_price,
                qty,
                tif: TimeInForce::Gtc,
            },
            client_id: cid.clone(),
        };
        let s = c.place(&req).await.unwrap();
        assert_eq!(s.status, OrderStatus::Open, "{venue}");
        let oid = s.order_id.clone().unwrap();
        let by_id = query_settled(&c, sym, &OrderRef::Venue(oid.clone())).await;
        let by_cid = query_settled(&c, sym, &OrderRef::Client(cid.clone())).await;
        assert_eq!(by_id.order_id, oid);
        assert_eq!(by_cid.order_id, oid);
        assert_eq!(by_cid.client_id.as_ref(), Some(&cid));
        assert_eq!(by_cid.status, OrderStatus::Open);
        let open = c.open_orders(sym).await.unwrap();
        assert!(open.iter().any(|o| o.order_id == oid), "{venue} {open:?}");
        let canceled = c.cancel(sym, &OrderRef::Client(cid.clone())).await.unwrap();
        assert_eq!(canceled.status, OrderStatus::Canceled, "{venue}");
        assert_eq!(c.tracker().get(&cid).unwrap().status, OrderStatus::Canceled);
        let truth_order = sim
            .orders(venue, &key)
            .into_iter()
            .find(|o| o.order_id == oid)
            .expect("the simulator has the order");
        assert_eq!(truth_order.status, "canceled");
        assert_eq!(ClientOrderId::from_venue(&truth_order.client_order_id), cid);
        // Cancelling again answers with the final state, not an error.
        let again = c.cancel(sym, &OrderRef::Venue(oid.clone())).await.unwrap();
        assert_eq!(again.status, OrderStatus::Canceled);

        // An IOC buy at the ask fills.
        let cid = id(200 + n as u64, Leg::B);
        let ioc = OrderRequest {
            rules: rules.clone(),
            side: Side::Buy,
            kind: OrderKind::Limit {
                price: ask,
                qty,
                tif: TimeInForce::Ioc,
            },
            client_id: cid.clone(),
        };
        c.place(&ioc).await.unwrap();
        let trades = c.my_trades(sym, None, 100).await.unwrap();
        let final_state = c.tracker().get(&cid).unwrap();
        let truth_fills: Vec<_> = sim
            .fills(venue, &key)
            .into_iter()
            .filter(|f| ClientOrderId::from_venue(&f.client_order_id) == cid)
            .collect();
        assert!(
            !truth_fills.is_empty(),
            "{venue}: the IOC at the ask filled"
        );
        let mut ours: Vec<_> = final_state
            .fills
            .iter()
            .map(|f| f.trade_id.clone())
            .collect();
        let mut theirs: Vec<_> = truth_fills.iter().map(|f| f.trade_id.clone()).collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{venue}");
        for f in &truth_fills {
            let mine = trades.iter().find(|t| t.trade_id == f.trade_id).unwrap();
            assert_eq!(
                (mine.price, mine.qty, mine.fee),
                (amt(&f.price), amt(&f.qty), amt(&f.fee))
            );
            assert_eq!(mine.fee_currency, f.fee_currency);
        }
        assert_eq!(final_state.filled_qty, qty);
        assert_eq!(final_state.status, OrderStatus::Filled, "{venue}");
        assert!(!final_state.fees.is_empty());

        // A quote-sized market buy (MEXC quoteOrderQty, Gate market buy amount).
        let cid = id(300 + n as u64, Leg::A);
        let mkt = OrderRequest {
            rules: rules.clone(),
            side: Side::Buy,
            kind: OrderKind::MarketQuote { quote: amt("50") },
            client_id: cid.clone(),
        };
        let s = c.place(&mkt).await.unwrap();
        assert!(s.order_id.is_some());
        query_settled(&c, sym, &by_venue_id(&c, &cid)).await;
        let q = c.tracker().get(&cid).unwrap();
        assert_eq!(q.status, OrderStatus::Filled, "{venue} {q:?}");
        assert!(!q.filled_qty.is_zero());

        // Refused by the venue: far more than the balance.
        let cid = id(400 + n as u64, Leg::A);
        let huge = OrderRequest {
            rules: rules.clone(),
            side: Side::Buy,
            kind: OrderKind::Limit {
                price: rest_price,
                qty: amt("20"),
                tif: TimeInForce::Gtc,
            },
            client_id: cid.clone(),
        };
        let e = c.place(&huge).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::InsufficientFunds, "{venue}: {e}");
        assert_eq!(c.tracker().get(&cid).unwrap().status, OrderStatus::Rejected);

        // Refused locally, before any request: below the minimum notional.
        let before = sim.orders(venue, &key).len();
        let sent_before = c.conn_stats().requests;
        let tiny = OrderRequest {
            rules: rules.clone(),
            side: Side::Buy,
            kind: OrderKind::Limit {
                price: rest_price,
                qty: amt("0.000001"),
                tif: TimeInForce::Gtc,
            },
            client_id: id(500 + n as u64, Leg::A),
        };
        assert_eq!(
            c.place(&tiny).await.unwrap_err().class(),
            ErrorClass::InvalidOrder
        );
        assert_eq!(c.conn_stats().requests, sent_before);
        assert_eq!(sim.orders(venue, &key).len(), before);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_clock_is_resynchronised_and_the_refused_request_sent_again() {
    let sim = quiet_sim().await;
    for venue in [Venue::MEXC, Venue::GATE] {
        let c = client(&sim, venue);
        // Our idea of the venue's clock is two minutes behind: outside MEXC's recvWindow
        // and Gate's 60 s.
        c.skew_clock_for_test(-120_000);
        let before = c.conn_stats().requests;
        let b = c.balances().await.unwrap();
        assert!(!b.is_empty());
        // Refused once, clock read, sent again.
        assert_eq!(c.conn_stats().requests - before, 3, "{venue}");
        assert!(
            c.clock_offset_ms().abs() < 5_000,
            "{venue}: {}",
            c.clock_offset_ms()
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fok_post_only_and_base_sized_market_orders() {
    let sim = quiet_sim().await;
    for (n, venue) in [Venue::MEXC, Venue::GATE].into_iter().enumerate() {
        let c = client(&sim, venue);
        let key = sim.trader(venue).api_key.clone();
        let rules = rules(&sim, venue).await;
        let sym = symbol(venue);
        let book = sim.truth_book(venue, sym, 1).unwrap();
        let (ask, ask_qty) = (amt(&book.asks[0].0), amt(&book.asks[0].1));
        let (bid, _) = best(&sim, venue);
        let fills_of = |cid: &ClientOrderId| {
            sim.fills(venue, &key)
                .into_iter()
                .filter(|f| ClientOrderId::from_venue(&f.client_order_id) == *cid)
                .count()
        };
        let mk = |txn: u64, side: Side, kind: OrderKind| OrderRequest {
            rules: rules.clone(),
            side,
            kind,
            client_id: id(1000 + 10 * n as u64 + txn, Leg::A),
        };

        // FOK for more than the best ask level holds at that price: killed, no fill.
        let too_big = ask_qty + amt("0.5");
        let fok = mk(
            1,
            Side::Buy,
            OrderKind::Limit {
                price: ask,
                qty: too_big,
                tif: TimeInForce::Fok,
            },
        );
        match c.place(&fok).await {
            Ok(_) => {
                query_settled(&c, sym, &by_venue_id(&c, &fok.client_id)).await;
                let s = c.tracker().get(&fok.client_id).unwrap();
                assert!(
                    s.status.is_final() && s.status != OrderStatus::Filled,
                    "{venue} {s:?}"
                );
            }
            Err(e) => assert_eq!(e.class(), ErrorClass::InvalidOrder, "{venue}: {e}"),
        }
        assert_eq!(fills_of(&fok.client_id), 0, "{venue}");

        // FOK that fits: filled completely.
        let fok_ok = mk(
            2,
            Side::Buy,
            OrderKind::Limit {
                price: ask,
                qty: amt("0.001"),
                tif: TimeInForce::Fok,
            },
        );
        c.place(&fok_ok).await.unwrap();
        query_settled(&c, sym, &by_venue_id(&c, &fok_ok.client_id)).await;
        assert_eq!(
            c.tracker().get(&fok_ok.client_id).unwrap().status,
            OrderStatus::Filled,
            "{venue}"
        );

        // Post-only that would take: never fills (refused or cancelled by the venue).
        let (_, ask_now) = best(&sim, venue);
        let po_cross = mk(
            3,
            Side::Buy,
            OrderKind::Limit {
                price: ask_now,
                qty: amt("0.001"),
                tif: TimeInForce::PostOnly,
            },
        );
        match c.place(&po_cross).await {
            Ok(_) => {
                query_settled(&c, sym, &by_venue_id(&c, &po_cross.client_id)).await;
                let s = c.tracker().get(&po_cross.client_id).unwrap();
                assert!(
                    s.status.is_final() && s.filled_qty.is_zero(),
                    "{venue} {s:?}"
                );
            }
            Err(e) => assert_eq!(e.class(), ErrorClass::InvalidOrder, "{venue}: {e}"),
        }
        assert_eq!(fills_of(&po_cross.client_id), 0, "{venue}");

        // Post-only under the market: rests.
        let po = mk(
            4,
            Side::Buy,
            OrderKind::Limit {
                price: bid.checked_mul(amt("0.95")).unwrap(),
                qty: amt("0.001"),
                tif: TimeInForce::PostOnly,
            },
        );
        assert_eq!(
            c.place(&po).await.unwrap().status,
            OrderStatus::Open,
            "{venue}"
        );
        c.cancel(sym, &OrderRef::Client(po.client_id.clone()))
            .await
            .unwrap();

        // Market sell sized in base.
        let sell = mk(5, Side::Sell, OrderKind::Market { qty: amt("0.002") });
        c.place(&sell).await.unwrap();
        query_settled(&c, sym, &by_venue_id(&c, &sell.client_id)).await;
        let s = c.tracker().get(&sell.client_id).unwrap();
        assert_eq!(
            (s.status, s.filled_qty),
            (OrderStatus::Filled, amt("0.002")),
            "{venue}"
        );
    }
    sim.shutdown().await;
}
