//! The book hot path: a venue frame parsed and applied to an exact book, per frame.
//! MEXC: protobuf `aggre.depth` push decoded (zero-allocation wire reader; prost for comparison), levels parsed at the symbol's scales, the
//! version chain checked and the levels applied. Gate: a `spot.obu` JSON frame the same
//! way. 10 and 100 levels per frame, on a book of 400 levels a side. Also the same Gate
//! frame through the shared store (lock, apply, health, one listener), which is what a
//! feed does per frame. Target: at most 2 us for a 10-level frame on either venue.
//!
//! Run: `cargo bench -p arb-benches --bench book`.

use std::hint::black_box;
use std::sync::Arc;

use arb_core::Venue;
use arb_market::gate::{self, GateEvent};
use arb_market::mexc::{self, MexcPush};
use arb_market::venues::mexc::proto::{
    Body, DepthItem, PublicAggreDepthsV3Api, PushDataV3ApiWrapper,
};
use arb_market::{BookStore, BookSync, Diff, Level, OrderBook, Scales, SymbolTable};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use prost::Message;

const FRAMES: usize = 1000;
const SCALES: Scales = Scales { price: 4, qty: 12 };

/// Deterministic pseudo-random numbers (no dependency on rand in the benches).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn fmt(m: u64, scale: u32) -> String {
    arb_core::fixed::format_scaled(m as i128, scale)
}

/// One frame's levels: `(is_bid, price, qty)` at the shared scales.
type Frame = Vec<(bool, u64, u64)>;

/// A resting book of 400 levels a side around 65,000.00 (prices at 2 decimals, written
/// at the shared scale 4), and `FRAMES` updates of `levels` levels each near the top:
/// new quantities, deletes and re-inserts, as a busy BTC book looks.
fn scenario(levels: usize) -> (Vec<Level>, Vec<Level>, Vec<Frame>) {
    let mut r = Lcg(42);
    let bids: Vec<Level> = (0..400)
        .map(|i| Level {
            price: (6_500_000 - i) * 100,
            qty: 1 + r.next() % 5_000_000,
        })
        .collect();
    let asks: Vec<Level> = (0..400)
        .map(|i| Level {
            price: (6_500_001 + i) * 100,
            qty: 1 + r.next() % 5_000_000,
        })
        .collect();
    let frames = (0..FRAMES)
        .map(|_| {
            (0..levels)
                .map(|j| {
                    let bid = j % 2 == 0;
                    let depth = r.next() % 60;
                    let price = if bid {
                        6_500_000 - depth
                    } else {
                        6_500_001 + depth
                    } * 100;
                    let qty = if r.next() % 5 == 0 {
                        0
                    } else {
                        1 + r.next() % 5_000_000
                    };
                    (bid, price, qty * 10_000)
                })
                .collect()
        })
        .collect();
    (bids, asks, frames)
}

fn mexc_frames(frames: &[Frame]) -> Vec<Vec<u8>> {
    frames
        .iter()
        .enumerate()
        .map(|(n, f)| {
            let item = |&(_, p, q): &(bool, u64, u64)| DepthItem {
                price: fmt(p, 4),
                quantity: fmt(q, 12),
            };
            PushDataV3ApiWrapper {
                channel: "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT".into(),
                symbol: Some("BTCUSDT".into()),
                symbol_id: None,
                create_time: None,
                send_time: Some(1_754_741_322_152),
                body: Some(Body::PublicAggreDepths(PublicAggreDepthsV3Api {
                    bids: f.iter().filter(|l| l.0).map(item).collect(),
                    asks: f.iter().filter(|l| !l.0).map(item).collect(),
                    event_type: "spot@public.aggre.depth.v3.api.pb@100ms".into(),
                    from_version: (1001 + 3 * n as u64).to_string(),
                    to_version: (1003 + 3 * n as u64).to_string(),
                    last_order_create_time: 0,
                })),
            }
            .encode_to_vec()
        })
        .collect()
}

fn gate_frames(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .enumerate()
        .map(|(n, f)| {
            let side = |bid: bool| {
                f.iter()
                    .filter(|l| l.0 == bid)
                    .map(|&(_, p, q)| format!("[\"{}\",\"{}\"]", fmt(p, 4), fmt(q, 12)))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            format!(
                r#"{{"channel":"spot.obu","result":{{"t":1747054612695,"s":"ob.BTC_USDT.400","U":{},"u":{},"b":[{}],"a":[{}]}},"time_ms":1747054612925}}"#,
                1001 + 3 * n,
                1003 + 3 * n,
                side(true),
                side(false)
            )
        })
        .collect()
}

/// A live sync at version 1000 on the resting book.
fn live(sync: BookSync, bids: &[Level], asks: &[Level]) -> (BookSync, OrderBook) {
    let mut s = sync;
    let mut b = OrderBook::new(SCALES);
    match s.start() {
        arb_market::sync::Start::Snapshot => {
            s.on_snapshot(1000, bids, asks, &mut b).unwrap();
        }
        arb_market::sync::Start::FullPush => {
            let full = Diff {
                first: 1000,
                last: 1000,
                full: true,
                bids: bids.to_vec(),
                asks: asks.to_vec(),
            };
            s.on_diff(&full, &mut b).unwrap();
        }
    }
    (s, b)
}

fn bench(c: &mut Criterion) {
    for levels in [10usize, 100] {
        let (bids, asks, frames) = scenario(levels);
        let mexc_bin = mexc_frames(&frames);
        let gate_txt = gate_frames(&frames);

        let mut g = c.benchmark_group(format!("book_{levels}_levels"));
        g.throughput(Throughput::Elements(FRAMES as u64));
        g.sample_size(30);

        g.bench_function("mexc_decode_apply", |b| {
            b.iter_batched(
                || (live(BookSync::mexc(), &bids, &asks), Diff::default()),
                |((mut sync, mut book), mut diff)| {
                    for f in &mexc_bin {
                        let p = mexc::depth_view(black_box(f)).unwrap().unwrap();
                        p.fill(SCALES, &mut diff).unwrap();
                        sync.on_diff(&diff, &mut book).unwrap();
                    }
                    black_box(book.best_bid())
                },
                BatchSize::LargeInput,
            )
        });

        // The same with prost's generated decoding (a String per price and quantity),
        // for comparison: the feed uses the zero-allocation reader above.
        g.bench_function("mexc_prost_decode_apply", |b| {
            b.iter_batched(
                || (live(BookSync::mexc(), &bids, &asks), Diff::default()),
                |((mut sync, mut book), mut diff)| {
                    for f in &mexc_bin {
                        let MexcPush::Depth(p) = mexc::decode_push(black_box(f)).unwrap() else {
                            unreachable!()
                        };
                        p.fill(SCALES, &mut diff).unwrap();
                        sync.on_diff(&diff, &mut book).unwrap();
                    }
                    black_box(book.best_bid())
                },
                BatchSize::LargeInput,
            )
        });

        g.bench_function("gate_parse_apply", |b| {
            b.iter_batched(
                || (live(BookSync::gate_obu(), &bids, &asks), Diff::default()),
                |((mut sync, mut book), mut diff)| {
                    for f in &gate_txt {
                        let GateEvent::Book(p) = gate::parse_frame(black_box(f)).unwrap() else {
                            unreachable!()
                        };
                        p.fill(SCALES, &mut diff).unwrap();
                        sync.on_diff(&diff, &mut book).unwrap();
                    }
                    black_box(book.best_bid())
                },
                BatchSize::LargeInput,
            )
        });

        // Through the shared store, as a feed does: lock, apply, read top, unlock,
        // record health, call one listener.
        let gate_list = r#"[{"id":"BTC_USDT","base":"BTC","quote":"USDT","fee":"0.1","amount_precision":5,"precision":2}]"#;
        let table = Arc::new(SymbolTable::from_json(None, Some(gate_list)).unwrap());
        let id = table.id("BTC/USDT").unwrap();
        let store = BookStore::new(table);
        let sc = store.top(Venue::GATE, id).unwrap().scales;
        assert_eq!(sc, SCALES);
        store.add_listener(Arc::new(|c| {
            black_box(c.bid);
        }));
        g.bench_function("gate_parse_apply_store", |b| {
            b.iter_batched(
                || {
                    let (s, book) = live(BookSync::gate_obu(), &bids, &asks);
                    *store.lock(Venue::GATE, id).unwrap() = book;
                    (s, Diff::default())
                },
                |(mut sync, mut diff)| {
                    for f in &gate_txt {
                        let GateEvent::Book(p) = gate::parse_frame(black_box(f)).unwrap() else {
                            unreachable!()
                        };
                        p.fill(sc, &mut diff).unwrap();
                        let top = {
                            let mut book = store.lock(Venue::GATE, id).unwrap();
                            sync.on_diff(&diff, &mut book).unwrap();
                            (book.best_bid(), book.best_ask())
                        };
                        store.applied(Venue::GATE, id, diff.last, false, top, 0);
                    }
                },
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
