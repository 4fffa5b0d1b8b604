//! Replays real Gate.io traffic (recorded 2021-04-22: ten pairs, REST `order_book?
//! with_id=true` snapshots and the `spot.order_book_update` stream, in
//! `data/captures/gateio/`, a copy of the real captures) through the Gate book builder, in arrival order.
//!
//! Checks: the documented sync applies for every pair (pushes before the snapshot are
//! buffered, the first applied one contains `id + 1`), the continuous sequence reports no
//! gap, every final book equals an independent reference built from the raw JSON, books
//! are never crossed, the venue's own `spot.tickers` best bid/ask agree with the book,
//! and removing one push from the stream is detected as a gap.

use std::collections::{BTreeMap, HashMap};

use arb_core::fixed::parse_scaled;
use arb_core::Venue;
use arb_market::gate::{self, GateEvent};
use arb_market::symbols::capture_body;
use arb_market::{BookSide, BookSync, Diff, OrderBook, Outcome, Scales, SymbolTable, SyncFault};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/captures/gateio");

enum Ev {
    Snapshot { pair: String, body: String },
    Frame(String),
}

/// `(time, event)` in arrival order; the files use `URL -> t: body` and `URL <- t: frame`
/// or `t: frame` lines.
fn load() -> (SymbolTable, Vec<(f64, Ev)>) {
    let pairs = std::fs::read_to_string(format!("{DIR}/GATEIO.0")).expect("GATEIO.0 capture");
    let table = SymbolTable::from_json(
        None,
        Some(capture_body(pairs.lines().next().unwrap()).unwrap()),
    )
    .unwrap();
    let mut evs: Vec<(f64, Ev)> = Vec::new();
    for line in std::fs::read_to_string(format!("{DIR}/GATEIO.http.0.0"))
        .unwrap()
        .lines()
    {
        if line.trim().is_empty() {
            continue;
        }
        let (url, rest) = line.split_once(" -> ").unwrap();
        let (t, body) = rest.split_once(": ").unwrap();
        let pair = url
            .split("currency_pair=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        evs.push((
            t.parse().unwrap(),
            Ev::Snapshot {
                pair: pair.into(),
                body: body.into(),
            },
        ));
    }
    for line in std::fs::read_to_string(format!("{DIR}/GATEIO.ws.1.0"))
        .unwrap()
        .lines()
    {
        if line.starts_with("wss://") || line.trim().is_empty() {
            continue; // our own sent frames and the connection marker
        }
        let (t, frame) = line.split_once(": ").unwrap();
        evs.push((t.parse().unwrap(), Ev::Frame(frame.into())));
    }
    evs.sort_by(|a, b| a.0.total_cmp(&b.0));
    (table, evs)
}

fn scales(table: &SymbolTable, pair: &str) -> Scales {
    let info = table
        .info(table.id_by_venue(Venue::GATE, pair).unwrap())
        .unwrap();
    Scales {
        price: info.price_scale,
        qty: info.qty_scale,
    }
}

#[derive(Default)]
struct PairState {
    book: OrderBook,
    sync: Option<BookSync>,
    counts: HashMap<&'static str, usize>,
    snapshot_id: Option<u64>,
    /// `(U, u)` of every push, in arrival order.
    pushes: Vec<(u64, u64)>,
}

/// What a replay produced: the table, per-pair state, faults, and per ticker observation
/// whether the book's best bid/ask agreed.
type Replay = (
    SymbolTable,
    HashMap<String, PairState>,
    Vec<(String, SyncFault)>,
    Vec<(String, bool)>,
);

/// Replays the capture, optionally skipping the push of `skip = (pair, U)`.
fn replay(skip: Option<(&str, u64)>) -> Replay {
    let (table, evs) = load();
    let mut pairs: HashMap<String, PairState> = HashMap::new();
    let mut faults = Vec::new();
    let mut ticker_checks = Vec::new();
    let mut diff = Diff::default();
    for (_, ev) in &evs {
        match ev {
            Ev::Snapshot { pair, body } => {
                let sc = scales(&table, pair);
                let st = pairs.entry(pair.clone()).or_default();
                if st.book.scales() != sc {
                    st.book = OrderBook::new(sc);
                }
                let snap = gate::parse_rest_book(pair, body, sc).unwrap();
                st.snapshot_id = Some(snap.id);
                let sync = st.sync.get_or_insert_with(BookSync::gate_update);
                match sync.on_snapshot(snap.id, &snap.bids, &snap.asks, &mut st.book) {
                    Ok(n) => *st.counts.entry("applied").or_default() += n,
                    Err(f) => faults.push((pair.clone(), f)),
                }
            }
            Ev::Frame(text) => match gate::parse_frame(text).unwrap() {
                GateEvent::Book(p) => {
                    if skip == Some((p.pair, p.first)) {
                        continue;
                    }
                    let sc = scales(&table, p.pair);
                    p.fill(sc, &mut diff).unwrap();
                    let st = pairs.entry(p.pair.to_owned()).or_default();
                    if st.book.scales() != sc {
                        st.book = OrderBook::new(sc);
                    }
                    let sync = st.sync.get_or_insert_with(BookSync::gate_update);
                    st.pushes.push((diff.first, diff.last));
                    match sync.on_diff(&diff, &mut st.book) {
                        Ok(o) => {
                            let k = match o {
                                Outcome::Buffered => "buffered",
                                Outcome::Dropped => "dropped",
                                Outcome::Applied => "applied",
                                Outcome::Replaced => "replaced",
                            };
                            *st.counts.entry(k).or_default() += 1;
                        }
                        Err(f) => faults.push((p.pair.to_owned(), f)),
                    }
                    assert!(
                        !st.book.is_crossed(),
                        "{} crossed after push U={}",
                        p.pair,
                        p.first
                    );
                }
                GateEvent::Other {
                    channel: "spot.tickers",
                } => {
                    let v: Value = serde_json::from_str(text).unwrap();
                    let r = &v["result"];
                    let pair = r["currency_pair"].as_str().unwrap();
                    if let Some(st) = pairs
                        .get(pair)
                        .filter(|s| s.sync.as_ref().is_some_and(|s| s.is_live()))
                    {
                        let sc = st.book.scales();
                        let bid =
                            parse_scaled(r["highest_bid"].as_str().unwrap(), sc.price).unwrap();
                        let ask =
                            parse_scaled(r["lowest_ask"].as_str().unwrap(), sc.price).unwrap();
                        let ok = st.book.best_bid().map(|l| l.price) == Some(bid)
                            && st.book.best_ask().map(|l| l.price) == Some(ask);
                        ticker_checks.push((pair.to_owned(), ok));
                    }
                }
                _ => {}
            },
        }
    }
    (table, pairs, faults, ticker_checks)
}

/// The simplest possible book: the snapshot, then every push with `u > id` in arrival
/// order, into ordered maps, straight from the raw JSON.
fn reference_books(table: &SymbolTable) -> HashMap<String, [BTreeMap<u64, u64>; 2]> {
    let (_, evs) = load();
    let mut ids: HashMap<String, u64> = HashMap::new();
    let mut pending: HashMap<String, Vec<Value>> = HashMap::new();
    let mut books: HashMap<String, [BTreeMap<u64, u64>; 2]> = HashMap::new();
    let apply = |book: &mut [BTreeMap<u64, u64>; 2], sc: Scales, v: &Value, keys: [&str; 2]| {
        for (side, key) in keys.iter().enumerate() {
            for lv in v[key].as_array().unwrap() {
                let p = parse_scaled(lv[0].as_str().unwrap(), sc.price).unwrap();
                let q = parse_scaled(lv[1].as_str().unwrap(), sc.qty).unwrap();
                if q == 0 {
                    book[side].remove(&p);
                } else {
                    book[side].insert(p, q);
                }
            }
        }
    };
    for (_, ev) in &evs {
        match ev {
            Ev::Snapshot { pair, body } => {
                let v: Value = serde_json::from_str(body).unwrap();
                let sc = scales(table, pair);
                let id = v["id"].as_u64().unwrap();
                let mut book = [BTreeMap::new(), BTreeMap::new()];
                apply(&mut book, sc, &v, ["bids", "asks"]);
                for r in pending.remove(pair).unwrap_or_default() {
                    if r["u"].as_u64().unwrap() > id {
                        apply(&mut book, sc, &r, ["b", "a"]);
                    }
                }
                books.insert(pair.clone(), book);
                ids.insert(pair.clone(), id);
            }
            Ev::Frame(text) => {
                let v: Value = serde_json::from_str(text).unwrap();
                if v["channel"] != "spot.order_book_update" || v["event"] != "update" {
                    continue;
                }
                let r = v["result"].clone();
                let pair = r["s"].as_str().unwrap().to_owned();
                match books.get_mut(&pair) {
                    None => pending.entry(pair).or_default().push(r),
                    Some(book) => {
                        if r["u"].as_u64().unwrap() > ids[&pair] {
                            apply(book, scales(table, &pair), &r, ["b", "a"]);
                        }
                    }
                }
            }
        }
    }
    books
}

#[test]
fn real_gate_stream_syncs_without_gaps_and_matches_reference() {
    let (table, pairs, faults, ticker_checks) = replay(None);
    assert!(
        faults.is_empty(),
        "continuous capture reported faults: {faults:?}"
    );
    assert_eq!(pairs.len(), 10, "ten pairs in the capture");
    let reference = reference_books(&table);
    let mut buffered_total = 0;
    for (pair, st) in &pairs {
        let sync = st.sync.as_ref().unwrap();
        assert!(sync.is_live(), "{pair} never synced");
        let id = st.snapshot_id.unwrap();
        assert!(sync.version().unwrap() >= id);
        // The first push newer than the snapshot contains id + 1 (documented start rule),
        // and the live count is exactly the pushes newer than the snapshot.
        let newer: Vec<_> = st.pushes.iter().filter(|(_, u)| *u > id).collect();
        if let Some((first, _)) = newer.first() {
            assert!(
                *first <= id + 1,
                "{pair}: first push after snapshot {id} starts at {first}"
            );
        }
        assert_eq!(
            st.counts.get("applied").copied().unwrap_or(0),
            newer.len(),
            "{pair}"
        );
        buffered_total += st.counts.get("buffered").copied().unwrap_or(0);
        let r = &reference[pair];
        let bids: Vec<_> = st
            .book
            .levels(BookSide::Bid)
            .map(|l| (l.price, l.qty))
            .collect();
        let asks: Vec<_> = st
            .book
            .levels(BookSide::Ask)
            .map(|l| (l.price, l.qty))
            .collect();
        let rbids: Vec<_> = r[0].iter().rev().map(|(&p, &q)| (p, q)).collect();
        let rasks: Vec<_> = r[1].iter().map(|(&p, &q)| (p, q)).collect();
        assert_eq!(bids, rbids, "{pair} bids differ from the reference");
        assert_eq!(asks, rasks, "{pair} asks differ from the reference");
        assert!(!bids.is_empty() && !asks.is_empty());
    }
    // The capture has pushes that arrived before their pair's snapshot: the buffering path ran.
    assert!(buffered_total > 0);
    // Gate's ticker is throttled and can lag the book by a push or two, so not every
    // observation matches; a wrong book would match rarely.
    let matched = ticker_checks.iter().filter(|(_, ok)| *ok).count();
    eprintln!("ticker agreement: {matched}/{}", ticker_checks.len());
    assert!(ticker_checks.len() >= 10);
    assert!(
        matched * 4 >= ticker_checks.len() * 3,
        "ticker agreement {matched}/{}",
        ticker_checks.len()
    );
}

#[test]
fn a_missing_push_in_the_real_stream_is_a_gap() {
    // The 10th live push of OMG_USDT (after its snapshot) is removed.
    let (_, evs) = load();
    let snap_t = evs
        .iter()
        .find_map(|(t, e)| {
            matches!(e, Ev::Snapshot { pair, .. } if pair == "OMG_USDT").then_some(*t)
        })
        .unwrap();
    let victim: Vec<u64> = evs
        .iter()
        .filter(|(t, _)| *t > snap_t)
        .filter_map(|(_, e)| match e {
            Ev::Frame(f) => match gate::parse_frame(f).ok()? {
                GateEvent::Book(p) if p.pair == "OMG_USDT" => Some(p.first),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let u = victim[10];
    let (_, _, faults, _) = replay(Some(("OMG_USDT", u)));
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0].0, "OMG_USDT");
    assert!(matches!(faults[0].1, SyncFault::Gap { expected, got } if expected == u && got > u));
}
