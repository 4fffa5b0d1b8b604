//! The MEXC buy leg's price cap: an IOC limit at the worst ask detection priced never
//! fills beyond it when the book moves away before the order lands, where a market
//! order does. Also a measurement (ignored by default; run it by name) of realized
//! slippage of market vs IOC-limit buys in the simulator's live market.

mod common;

use std::time::Duration;

use arb_core::Venue;
use arb_exec::order::ClientOrderId;
use arb_exec::{Amount, Leg, OrderKind, OrderRequest, Side, TimeInForce, VenueClient};
use arb_sim::{SimConfig, Simulator};
use common::*;

/// What detection would price for buying `qty`: the worst ask touched and the cost.
fn priced(sim: &Simulator, qty: Amount) -> (Amount, Amount) {
    let b = sim
        .truth_book(Venue::MEXC, symbol(Venue::MEXC), 50)
        .unwrap();
    let (mut left, mut cost) = (qty, Amount::ZERO);
    for (p, q) in &b.asks {
        let (p, q) = (amt(p), amt(q));
        let take = if q < left { q } else { left };
        cost += p.checked_mul(take).unwrap();
        left = Amount::from_mantissa(left.mantissa() - take.mantissa());
        if left.is_zero() {
            return (p, cost);
        }
    }
    panic!("book too thin for {qty}");
}

/// The venue's fills of one order: (base, quote, highest price).
fn fills_of(sim: &Simulator, c: &VenueClient, cid: &ClientOrderId) -> (Amount, Amount, Amount) {
    let order_id = c.tracker().get(cid).unwrap().order_id.unwrap();
    sim.fills(Venue::MEXC, &sim.trader(Venue::MEXC).api_key)
        .iter()
        .filter(|f| f.order_id == order_id)
        .fold(
            (Amount::ZERO, Amount::ZERO, Amount::ZERO),
            |(b, q, m), f| {
                let p = amt(&f.price);
                (
                    b + amt(&f.qty),
                    q + amt(&f.quote_qty),
                    if p > m { p } else { m },
                )
            },
        )
}

fn buy(rules: &std::sync::Arc<arb_exec::SymbolRules>, kind: OrderKind, n: u64) -> OrderRequest {
    OrderRequest {
        rules: rules.clone(),
        side: Side::Buy,
        kind,
        client_id: ClientOrderId::for_leg("pc", n, Leg::A).unwrap(),
    }
}

fn ioc(price: Amount, qty: Amount) -> OrderKind {
    OrderKind::Limit {
        price,
        qty,
        tif: TimeInForce::Ioc,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ioc_limit_never_fills_beyond_the_cap_when_the_book_moves_away() {
    let sim = quiet_sim().await;
    let c = client(&sim, Venue::MEXC);
    let rules = rules(&sim, Venue::MEXC).await;
    let qty = amt("0.01");
    let (cap, _) = priced(&sim, qty);
    // Between detection and the order, someone takes every ask up to the cap.
    let book = sim
        .truth_book(Venue::MEXC, symbol(Venue::MEXC), 50)
        .unwrap();
    let swept = book
        .asks
        .iter()
        .filter(|(p, _)| amt(p) <= cap)
        .fold(Amount::ZERO, |a, (_, q)| a + amt(q));
    c.place(&buy(&rules, ioc(cap, swept), 1)).await.unwrap();

    let capped = buy(&rules, ioc(cap, qty), 2);
    c.place(&capped).await.unwrap();
    let (base, _, worst) = fills_of(&sim, &c, &capped.client_id);
    assert!(base.is_zero() && worst <= cap, "{base} at up to {worst}");

    let market = buy(&rules, OrderKind::Market { qty }, 3);
    c.place(&market).await.unwrap();
    let (base, _, worst) = fills_of(&sim, &c, &market.client_id);
    assert_eq!(base, qty);
    assert!(
        worst > cap,
        "the market order filled up to {worst}, cap {cap}"
    );
    sim.shutdown().await;
}

/// Realized slippage of MEXC buys against the price detection saw, `TRIALS` of each
/// kind alternating, each sent `DELAY_MS` after the book was read (detection to the
/// venue) in a busy simulated market. Run:
/// `cargo test --profile ci -p arb-exec --test price_cap -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; prints its numbers"]
async fn measure_slippage_market_vs_ioc_limit() {
    const TRIALS: u64 = 40;
    const DELAY_MS: u64 = 100;
    let sim = Simulator::start(SimConfig {
        update_rate_hz: 100.0,
        rate_limits: false,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let c = client(&sim, Venue::MEXC);
    let rules = rules(&sim, Venue::MEXC).await;
    let qty = amt("0.005");
    // Per kind: slippage in bps vs the priced average (f64: a statistic, never money),
    // fill ratio, trials that filled beyond the priced worst ask.
    // Kinds: a market order, an IOC limit at the priced worst ask, and one at that
    // price plus the default slippage buffer (2 bps; the order rounds it down to the tick).
    let mut stats: [(Vec<f64>, Vec<f64>, u32); 3] = Default::default();
    let buffer = amt("1.0002");
    for n in 0..3 * TRIALS {
        let (cap, cost) = priced(&sim, qty);
        tokio::time::sleep(Duration::from_millis(DELAY_MS)).await;
        let k = (n % 3) as usize;
        let kind = match k {
            0 => OrderKind::Market { qty },
            1 => ioc(cap, qty),
            _ => ioc(cap.checked_mul(buffer).unwrap(), qty),
        };
        let req = buy(&rules, kind, 100 + n);
        c.place(&req).await.unwrap();
        let (base, quote, worst) = fills_of(&sim, &c, &req.client_id);
        let f = |a: Amount| a.to_fixed_string(12).parse::<f64>().unwrap();
        let s = &mut stats[k];
        s.1.push(f(base) / f(qty));
        if !base.is_zero() {
            let priced_avg = f(cost) / f(qty);
            s.0.push((f(quote) / f(base) / priced_avg - 1.0) * 1e4);
        }
        if worst > cap {
            s.2 += 1;
        }
    }
    let names = ["market", "ioc_limit", "ioc_limit+2bps"];
    for (name, (slip, ratio, beyond)) in names.iter().zip(&stats) {
        let mut sorted = slip.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let mean = sorted.iter().sum::<f64>() / sorted.len().max(1) as f64;
        let p95 = sorted
            .get((sorted.len() * 95 / 100).min(sorted.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0);
        let worst = sorted.last().copied().unwrap_or(0.0);
        let fill = ratio.iter().sum::<f64>() / ratio.len() as f64;
        println!(
            "{name:>14}: trials {TRIALS}, slippage vs priced avg bps mean {mean:.2} p95 {p95:.2} \
             max {worst:.2}; mean fill ratio {fill:.3}; filled beyond the priced worst ask: {beyond}"
        );
    }
    sim.shutdown().await;
}
