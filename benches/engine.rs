//! Engine hot path: detection over two 20-level books (both directions, as the hook runs
//! it on every book change), and the risk check that follows a detected opportunity.

use std::hint::black_box;

use arb_core::Venue;
use arb_engine::detect::{detect, Caps, DetectParams, LegRules, Scales};
use arb_engine::risk::{Proposal, RiskLimits, RiskState, ACCT_SCALE};
use criterion::{criterion_group, criterion_main, Criterion};

const SC: Scales = Scales { price: 4, qty: 8 };

/// Levels around `mid` (price mantissa at scale 4) with `step` between them.
fn side(mid: u64, step: i64, n: usize) -> Vec<(u64, u64)> {
    (0..n)
        .map(|i| {
            (
                (mid as i64 + step * i as i64) as u64,
                10_000_000 + 1_000_000 * i as u64,
            )
        })
        .collect()
}

fn rules(fee: u64) -> LegRules {
    LegRules {
        price_decimals: 2,
        amount_decimals: 6,
        min_qty: 100,
        min_notional: 3 * 10u128.pow(12),
        taker_fee: fee,
    }
}

fn bench(c: &mut Criterion) {
    // No edge: the common case on every book change.
    let asks_a = side(600_010_000, 10_000, 20);
    let bids_a = side(600_000_000, -10_000, 20);
    let asks_b = side(600_020_000, 10_000, 20);
    let bids_b = side(599_990_000, -10_000, 20);
    // A 40 bps dislocation: detection walks levels and prices a trade.
    let bids_dear = side(602_400_000, -10_000, 20);
    let (ra, rb) = (rules(50_000), rules(100_000));
    let p = DetectParams {
        threshold: 70_000,
        max_cost: 250 * 10u128.pow(12),
    };
    let mut g = c.benchmark_group("detect");
    g.bench_function("both_directions_no_edge_20_levels", |b| {
        b.iter(|| {
            let x = detect(
                black_box(&asks_a),
                black_box(&bids_b),
                SC,
                &ra,
                &rb,
                &p,
                &Caps::UNLIMITED,
            );
            let y = detect(
                black_box(&asks_b),
                black_box(&bids_a),
                SC,
                &rb,
                &ra,
                &p,
                &Caps::UNLIMITED,
            );
            black_box((x.is_ok(), y.is_ok()))
        })
    });
    g.bench_function("edge_priced_20_levels", |b| {
        b.iter(|| {
            black_box(detect(
                black_box(&asks_a),
                black_box(&bids_dear),
                SC,
                &ra,
                &rb,
                &p,
                &Caps::UNLIMITED,
            ))
        })
    });
    g.finish();

    let q = |u: i128| u * 10i128.pow(ACCT_SCALE);
    let mut risk = RiskState::new(
        RiskLimits {
            max_position_per_asset: q(5),
            max_total_exposure: q(5000),
            max_notional_per_trade: q(250),
            daily_loss_limit: q(50),
            max_open_arbitrages: 2,
            leg_imbalance_notional: q(200),
            consecutive_hedge_failures: 3,
            resyncs_per_minute: 30,
        },
        0,
    );
    c.bench_function("risk/check", |b| {
        let prop = Proposal {
            base_asset: "BTC",
            qty: q(1) / 1000,
            notional: q(60),
            buy: Venue::MEXC,
            sell: Venue::GATE,
        };
        b.iter(|| black_box(risk.check(black_box(&prop), 1_000)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
