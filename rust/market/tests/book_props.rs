//! Property tests: the order book against a simple reference (ordered maps), and the
//! sync procedures against a simulated venue history (random pushes, random snapshot
//! version and arrival point, random lost push).

use std::collections::BTreeMap;

use arb_market::{BookSide, BookSync, Diff, Level, OrderBook, Scales, SyncFault};
use proptest::prelude::*;

#[derive(Default, Clone, Debug, PartialEq)]
struct RefBook {
    bids: BTreeMap<u64, u64>,
    asks: BTreeMap<u64, u64>,
}

impl RefBook {
    fn set(&mut self, side: BookSide, l: Level) {
        let m = match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        };
        if l.qty == 0 {
            m.remove(&l.price);
        } else {
            m.insert(l.price, l.qty);
        }
    }
    fn bids(&self) -> Vec<Level> {
        self.bids
            .iter()
            .rev()
            .map(|(&price, &qty)| Level { price, qty })
            .collect()
    }
    fn asks(&self) -> Vec<Level> {
        self.asks
            .iter()
            .map(|(&price, &qty)| Level { price, qty })
            .collect()
    }
}

fn same(book: &OrderBook, r: &RefBook) -> bool {
    book.levels(BookSide::Bid).collect::<Vec<_>>() == r.bids()
        && book.levels(BookSide::Ask).collect::<Vec<_>>() == r.asks()
}

fn side() -> impl Strategy<Value = BookSide> {
    prop_oneof![Just(BookSide::Bid), Just(BookSide::Ask)]
}

fn op() -> impl Strategy<Value = (BookSide, Level)> {
    // Few distinct prices so that updates hit existing levels, and many zeros (deletes).
    (side(), 1u64..40, prop_oneof![Just(0u64), 1u64..1_000])
        .prop_map(|(s, price, qty)| (s, Level { price, qty }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn book_matches_reference(ops in prop::collection::vec(op(), 0..300), take in 0u64..20_000, n in 0usize..12) {
        let mut book = OrderBook::new(Scales { price: 2, qty: 3 });
        let mut r = RefBook::default();
        for (s, l) in ops {
            book.set(s, l);
            r.set(s, l);
            prop_assert_eq!(book.best_bid(), r.bids().first().copied());
            prop_assert_eq!(book.best_ask(), r.asks().first().copied());
        }
        prop_assert!(same(&book, &r));
        prop_assert_eq!(book.depth(BookSide::Bid, n).collect::<Vec<_>>(), r.bids().into_iter().take(n).collect::<Vec<_>>());
        let crossed = matches!((r.bids().first(), r.asks().first()), (Some(b), Some(a)) if b.price >= a.price);
        prop_assert_eq!(book.is_crossed(), crossed);
        // Sweep against a direct computation on the reference.
        let asks = r.asks();
        let mut left = take;
        let (mut qty, mut notional) = (0u64, 0u128);
        for l in &asks {
            if left == 0 { break; }
            let t = l.qty.min(left);
            left -= t;
            qty += t;
            notional += l.price as u128 * t as u128;
        }
        let s = book.sweep(BookSide::Ask, take);
        prop_assert_eq!((s.qty, s.notional), (qty, notional));
    }
}

/// A venue history: `states[v]` is the true book after version `v` (version 0 = empty),
/// and `pushes` cover versions 1..=N in order, each with the absolute levels its versions
/// touched.
#[derive(Debug, Clone)]
struct History {
    states: Vec<RefBook>,
    pushes: Vec<Diff>,
}

fn history() -> impl Strategy<Value = History> {
    // Each version changes 1..3 levels; bids live in 1..20, asks in 21..40 so the true
    // book never crosses. Versions are grouped into pushes of 1..4 versions.
    let change = (side(), 0u64..20, prop_oneof![Just(0u64), 1u64..500]).prop_map(|(s, p, q)| {
        let price = if s == BookSide::Bid { 1 + p } else { 21 + p };
        (s, Level { price, qty: q })
    });
    let version = prop::collection::vec(change, 1..4);
    (
        prop::collection::vec(version, 2..80),
        prop::collection::vec(1usize..5, 80),
    )
        .prop_map(|(versions, groups)| {
            let mut states = vec![RefBook::default()];
            for v in &versions {
                let mut next = states.last().unwrap().clone();
                for &(s, l) in v {
                    next.set(s, l);
                }
                states.push(next);
            }
            let mut pushes = Vec::new();
            let mut v = 1usize;
            let mut g = groups.iter().cycle();
            while v <= versions.len() {
                let last = (v + g.next().unwrap() - 1).min(versions.len());
                let mut touched = RefBook::default();
                for ver in &versions[v - 1..last] {
                    for &(s, l) in ver {
                        touched.set(
                            s,
                            Level {
                                price: l.price,
                                qty: u64::MAX,
                            },
                        );
                    }
                }
                // Absolute values as of `last` for every level touched in the range.
                let at = &states[last];
                let pick = |m: &BTreeMap<u64, u64>, truth: &BTreeMap<u64, u64>| -> Vec<Level> {
                    m.keys()
                        .map(|&price| Level {
                            price,
                            qty: truth.get(&price).copied().unwrap_or(0),
                        })
                        .collect()
                };
                pushes.push(Diff {
                    first: v as u64,
                    last: last as u64,
                    full: false,
                    bids: pick(&touched.bids, &at.bids),
                    asks: pick(&touched.asks, &at.asks),
                });
                v = last + 1;
            }
            History { states, pushes }
        })
}

/// Feeds `h` with the snapshot (true book at `snap_v`) arriving after `arrive` pushes,
/// optionally losing push `lose`. Returns the faults and the final book.
fn run(
    mut sync: BookSync,
    h: &History,
    snap_v: usize,
    arrive: usize,
    lose: Option<usize>,
) -> (Vec<SyncFault>, OrderBook, BookSync) {
    let mut book = OrderBook::new(Scales::default());
    let mut faults = Vec::new();
    let snap = &h.states[snap_v];
    for (i, d) in h.pushes.iter().enumerate() {
        if i == arrive {
            if let Err(f) = sync.on_snapshot(snap_v as u64, &snap.bids(), &snap.asks(), &mut book) {
                faults.push(f);
            }
        }
        if Some(i) == lose {
            continue;
        }
        if let Err(f) = sync.on_diff(d, &mut book) {
            faults.push(f);
        }
    }
    if arrive >= h.pushes.len() {
        if let Err(f) = sync.on_snapshot(snap_v as u64, &snap.bids(), &snap.asks(), &mut book) {
            faults.push(f);
        }
    }
    (faults, book, sync)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A snapshot at any version, arriving at any point, with every push delivered: the
    /// book ends equal to the venue's, with no fault, unless the snapshot is older than
    /// the first push buffered before it (then the documented answer is "refetch").
    #[test]
    fn sync_without_loss_ends_exact(h in history(), snap_pick in any::<prop::sample::Index>(), arrive_pick in any::<prop::sample::Index>(), mexc in any::<bool>()) {
        let n = h.states.len() - 1;
        let snap_v = snap_pick.index(n + 1);
        let arrive = arrive_pick.index(h.pushes.len() + 1);
        let sync = if mexc { BookSync::mexc() } else { BookSync::gate_update() };
        let (faults, book, sync) = run(sync, &h, snap_v, arrive, None);
        // The snapshot is too old only if a push buffered before it starts after snap_v + 1.
        let too_old = h.pushes[..arrive].iter().find(|d| d.last > snap_v as u64).is_some_and(|d| d.first > snap_v as u64 + 1);
        if too_old {
            prop_assert!(matches!(faults.as_slice(), [SyncFault::SnapshotBehind { .. }]), "{:?}", faults);
        } else {
            prop_assert!(faults.is_empty(), "{:?}", faults);
            prop_assert_eq!(sync.version(), Some(n.max(snap_v) as u64));
            prop_assert!(same(&book, &h.states[n]));
        }
    }

    /// Losing one push is always detected when the push carried changes newer than the
    /// snapshot, and never reported otherwise.
    #[test]
    fn lost_push_is_detected(h in history(), snap_pick in any::<prop::sample::Index>(), lose_pick in any::<prop::sample::Index>(), mexc in any::<bool>()) {
        prop_assume!(h.pushes.len() >= 2);
        let n = h.states.len() - 1;
        let snap_v = snap_pick.index(n / 2 + 1);
        // The snapshot arrives first, so every fault is a live gap.
        let lose = lose_pick.index(h.pushes.len() - 1); // never the very last push: nothing would follow to reveal it
        let sync = if mexc { BookSync::mexc() } else { BookSync::gate_update() };
        let (faults, book, _) = run(sync, &h, snap_v, 0, Some(lose));
        let lost = &h.pushes[lose];
        if lost.last > snap_v as u64 {
            prop_assert!(!faults.is_empty(), "lost push [{}, {}] after snapshot {} not detected", lost.first, lost.last, snap_v);
            let gap_ok = matches!(faults[0], SyncFault::Gap { expected, .. } if expected <= lost.first.max(snap_v as u64 + 1));
            prop_assert!(gap_ok, "{:?}", faults);
        } else {
            prop_assert!(faults.is_empty(), "{:?}", faults);
            prop_assert!(same(&book, &h.states[n]));
        }
    }
}

#[test]
fn obu_full_push_then_chain_matches_reference() {
    // spot.obu: increments before the first full push are ignored; the full push is the
    // book; the chain after it is strict.
    let mut sync = BookSync::gate_obu();
    let mut book = OrderBook::new(Scales::default());
    let mut r = RefBook::default();
    let inc = |first, last, p, q| Diff {
        first,
        last,
        full: false,
        bids: vec![Level { price: p, qty: q }],
        asks: vec![],
    };
    assert!(sync.on_diff(&inc(1, 2, 5, 5), &mut book).is_ok());
    assert!(book.is_empty());
    let full = Diff {
        first: 10,
        last: 10,
        full: true,
        bids: vec![Level { price: 3, qty: 1 }],
        asks: vec![Level { price: 9, qty: 2 }],
    };
    sync.on_diff(&full, &mut book).unwrap();
    r.set(BookSide::Bid, Level { price: 3, qty: 1 });
    r.set(BookSide::Ask, Level { price: 9, qty: 2 });
    for (v, p) in (11..20).zip(1..) {
        sync.on_diff(&inc(v, v, p, v), &mut book).unwrap();
        r.set(BookSide::Bid, Level { price: p, qty: v });
    }
    assert!(same(&book, &r));
    assert!(sync.on_diff(&inc(21, 21, 1, 1), &mut book).is_err());
}
