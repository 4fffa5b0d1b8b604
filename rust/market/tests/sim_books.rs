//! The feeds against the simulator (arb-sim on loopback), both venues:
//! - local books equal the simulator's true books at random checkpoints over more than
//!   100,000 applied updates (market paused at each checkpoint until versions match);
//! - injected gaps are all detected, the book is never valid while resyncing, and it
//!   equals the truth again after the resync (Gate spot.order_book_update + MEXC);
//! - a book without updates goes stale (not valid) and comes back when updates resume;
//! - connections are replaced (MEXC's 24 h limit, shortened here) without a gap or a
//!   resync, with MEXC symbols sharded 30 per connection (10 with tickers and trades:
//!   MEXC counts channels);
//! - an unreachable venue is retried with backoff, never reported valid;
//! - a shard whose task panics is logged, its books invalidated and it is started again;
//! - a frame nested 50,000 deep is one unparsable frame (counted, resynced), not a crash.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arb_core::fixed::parse_scaled;
use arb_core::Venue;
use arb_market::feed::{
    fetch_symbols, panic_next_shard, FeedConfig, FeedVenue, LogRecord, LogSink,
};
use arb_market::gate::GateBookChannel;
use arb_market::store::{BookChange, ChangeKind, HealthState, InvalidReason, MarketEvent};
use arb_market::{BookStore, Level, MarketData, SymbolId};
use arb_sim::{SimConfig, Simulator};
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};

/// The simulator tests run one at a time: each drives a simulator at thousands of
/// updates a second, and on a 2-core machine several at once only measure the machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn quiet_log() -> (LogSink, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    let sink: LogSink = Arc::new(move |r: &LogRecord<'_>| {
        l.lock().push(format!(
            "{:?} {} {}: {}",
            r.level, r.venue, r.event, r.detail
        ));
    });
    (sink, lines)
}

fn feed_config(sim: &Simulator, gate_channel: GateBookChannel) -> FeedConfig {
    let e = sim.endpoints();
    FeedConfig {
        venues: vec![
            FeedVenue::new(Venue::MEXC, &e.mexc_rest, &e.mexc_ws),
            FeedVenue::new(Venue::GATE, &e.gate_rest, &e.gate_ws),
        ],
        gate_channel,
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(500),
        ..FeedConfig::default()
    }
}

async fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Compares the local book with the simulator's truth if their versions match.
/// `Ok(false)`: versions differ (not caught up yet). `Err`: same version, different book.
fn compare(
    sim: &Simulator,
    store: &BookStore,
    venue: Venue,
    id: SymbolId,
    depth: usize,
) -> Result<bool, String> {
    let table = store.table();
    let info = table.info(id).unwrap();
    let vs = table.venue_symbol(id, venue).unwrap();
    let truth = sim.truth_book(venue, vs, depth).unwrap();
    let (bids, asks, version) = store.depth(venue, id, depth).unwrap();
    if version != truth.version || !store.is_valid(venue, id) {
        return Ok(false);
    }
    let conv = |v: &[(String, String)]| -> Vec<Level> {
        v.iter()
            .map(|(p, q)| Level {
                price: parse_scaled(p, info.price_scale).unwrap(),
                qty: parse_scaled(q, info.qty_scale).unwrap(),
            })
            .collect()
    };
    if bids != conv(&truth.bids) || asks != conv(&truth.asks) {
        return Err(format!(
            "{venue} {vs} at version {version}: local bids {bids:?} asks {asks:?} != truth {:?} {:?}",
            truth.bids, truth.asks
        ));
    }
    Ok(true)
}

/// Pauses the market, waits until every book has the truth's version, compares all,
/// resumes. Returns the number of books compared.
async fn checkpoint(sim: &Simulator, store: &BookStore, books: &[(Venue, SymbolId)]) -> usize {
    sim.set_market_paused(true);
    for &(v, id) in books {
        let mut result = Ok(false);
        wait_for(
            "local version == truth version",
            Duration::from_secs(30),
            || {
                result = compare(sim, store, v, id, 200);
                !matches!(result, Ok(false))
            },
        )
        .await;
        if let Err(e) = result {
            panic!("{e}");
        }
    }
    sim.set_market_paused(false);
    books.len()
}

struct Counting {
    updates: [AtomicU64; 2],
    invalid_but_valid: AtomicU64,
    invalidations: AtomicU64,
}

/// A listener that counts applied updates per venue and checks, at the instant a book
/// is invalidated, that the store no longer reports it valid and holds no levels.
fn counting(store: &Arc<BookStore>) -> Arc<Counting> {
    let c = Arc::new(Counting {
        updates: [AtomicU64::new(0), AtomicU64::new(0)],
        invalid_but_valid: AtomicU64::new(0),
        invalidations: AtomicU64::new(0),
    });
    let (c2, s2) = (c.clone(), Arc::downgrade(store));
    store.add_listener(Arc::new(move |ch: &BookChange| match ch.kind {
        ChangeKind::Update => {
            c2.updates[ch.venue.index()].fetch_add(1, Ordering::Relaxed);
        }
        ChangeKind::Invalidated(_) => {
            c2.invalidations.fetch_add(1, Ordering::Relaxed);
            if let Some(s) = s2.upgrade() {
                let top = s.top(ch.venue, ch.symbol).unwrap();
                if s.is_valid(ch.venue, ch.symbol)
                    || top.valid
                    || top.bid.is_some()
                    || top.ask.is_some()
                {
                    c2.invalid_but_valid.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        ChangeKind::Synced => {}
    }));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_equal_truth_over_100k_updates_both_venues() {
    let _serial = ONE_AT_A_TIME.lock().await;
    // MEXC aggre.depth + Gate spot.obu (the default).
    books_equal_truth_over_100k_updates(GateBookChannel::Obu, 11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_equal_truth_over_100k_updates_gate_order_book_update() {
    let _serial = ONE_AT_A_TIME.lock().await;
    // MEXC aggre.depth + Gate spot.order_book_update with REST snapshots.
    books_equal_truth_over_100k_updates(GateBookChannel::OrderBookUpdate, 12).await;
}

async fn books_equal_truth_over_100k_updates(gate_channel: GateBookChannel, seed: u64) {
    let sim = Simulator::start(SimConfig {
        seed,
        update_rate_hz: 2500.0,
        opportunity_rate_per_min: 30.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cfg = FeedConfig {
        mexc_symbols_per_connection: 2, // two MEXC shards for four symbols
        ..feed_config(&sim, gate_channel)
    };
    let table = Arc::new(fetch_symbols(&cfg).await.unwrap());
    let ids: Vec<SymbolId> = table.common().to_vec();
    assert_eq!(ids.len(), 4);
    let store = Arc::new(BookStore::new(table.clone()));
    let counts = counting(&store);
    let (log, lines) = quiet_log();
    let md = MarketData::start(
        cfg,
        store.clone(),
        &ids,
        &tokio::runtime::Handle::current(),
        log,
    );
    assert_eq!(md.shards(), 3);
    let books: Vec<(Venue, SymbolId)> = [Venue::MEXC, Venue::GATE]
        .iter()
        .flat_map(|&v| ids.iter().map(move |&i| (v, i)))
        .collect();
    wait_for("every book valid", Duration::from_secs(60), || {
        books.iter().all(|&(v, i)| store.is_valid(v, i))
    })
    .await;

    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut checkpoints = 0;
    let total = || {
        counts.updates[0]
            .load(Ordering::Relaxed)
            .min(counts.updates[1].load(Ordering::Relaxed))
            * 2
    };
    while checkpoints < 20 || total() < 100_000 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(20..400))).await;
        checkpoint(&sim, &store, &books).await;
        checkpoints += 1;
        assert!(
            checkpoints < 400,
            "too slow: {} updates after {checkpoints} checkpoints",
            total()
        );
    }
    let (m, g) = (
        counts.updates[0].load(Ordering::Relaxed),
        counts.updates[1].load(Ordering::Relaxed),
    );
    eprintln!(
        "{gate_channel:?}: {checkpoints} checkpoints x {} books, {m} MEXC + {g} Gate updates applied",
        books.len()
    );
    assert!(m >= 50_000 && g >= 50_000);
    for &(v, i) in &books {
        let h = store.health(v, i).unwrap();
        assert_eq!(
            (h.gaps, h.crossed, h.unparsable),
            (0, 0, 0),
            "{v} {:?}: {h:?}\n{:?}",
            table.unified(i),
            lines.lock()
        );
    }
    assert_eq!(counts.invalid_but_valid.load(Ordering::Relaxed), 0);
    md.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_gaps_are_detected_and_resynced() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let sim = Simulator::start(SimConfig {
        seed: 3,
        update_rate_hz: 300.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    // Gate with spot.order_book_update + REST snapshots here (obu is the other test's).
    let cfg = feed_config(&sim, GateBookChannel::OrderBookUpdate);
    let table = Arc::new(fetch_symbols(&cfg).await.unwrap());
    let ids: Vec<SymbolId> = table.common().to_vec();
    let store = Arc::new(BookStore::new(table.clone()));
    let counts = counting(&store);
    let (log, lines) = quiet_log();
    let md = MarketData::start(
        cfg,
        store.clone(),
        &ids,
        &tokio::runtime::Handle::current(),
        log,
    );
    let books: Vec<(Venue, SymbolId)> = [Venue::MEXC, Venue::GATE]
        .iter()
        .flat_map(|&v| ids.iter().map(move |&i| (v, i)))
        .collect();
    wait_for("every book valid", Duration::from_secs(60), || {
        books.iter().all(|&(v, i)| store.is_valid(v, i))
    })
    .await;

    let mut injected: HashMap<(Venue, SymbolId), u64> = HashMap::new();
    for round in 0..3 {
        for &(v, id) in &books {
            let before = store.health(v, id).unwrap().gaps;
            sim.inject_gap(v, table.venue_symbol(id, v).unwrap());
            *injected.entry((v, id)).or_default() += 1;
            wait_for("gap detected", Duration::from_secs(30), || {
                store.health(v, id).unwrap().gaps > before
            })
            .await;
        }
        // Every book resyncs and equals the truth again.
        wait_for("books valid after resync", Duration::from_secs(60), || {
            books.iter().all(|&(v, i)| store.is_valid(v, i))
        })
        .await;
        checkpoint(&sim, &store, &books).await;
        eprintln!("round {round}: all gaps detected, books equal truth after resync");
    }
    for &(v, id) in &books {
        let h = store.health(v, id).unwrap();
        assert_eq!(
            h.gaps,
            injected[&(v, id)],
            "{v} {:?} {h:?}",
            table.unified(id)
        );
        assert!(h.resyncs >= h.gaps);
        assert_eq!(h.state, HealthState::Valid);
    }
    // At the instant of every invalidation the store already reported the book invalid.
    assert!(counts.invalidations.load(Ordering::Relaxed) >= 3 * books.len() as u64);
    assert_eq!(counts.invalid_but_valid.load(Ordering::Relaxed), 0);
    let gap_logs = lines.lock().iter().filter(|l| l.contains(" gap: ")).count();
    assert!(
        gap_logs >= 3 * books.len(),
        "every gap is logged with its reason"
    );
    let sim_gaps: u64 = ["mexc", "gateio"]
        .iter()
        .map(|v| sim.counters()[v]["gaps_injected"].as_u64().unwrap_or(0))
        .sum();
    assert!(sim_gaps == 0 || sim_gaps == 3 * books.len() as u64);
    md.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_books_go_stale_and_recover() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let sim = Simulator::start(SimConfig {
        seed: 9,
        update_rate_hz: 200.0,
        symbols: vec!["BTC/USDT".into(), "ETH/USDT".into()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cfg = FeedConfig {
        stale_after: Duration::from_millis(300),
        reset_after: Duration::from_secs(60),
        ..feed_config(&sim, GateBookChannel::Obu)
    };
    let table = Arc::new(fetch_symbols(&cfg).await.unwrap());
    let ids: Vec<SymbolId> = table.common().to_vec();
    let store = Arc::new(BookStore::new(table.clone()));
    let (log, _) = quiet_log();
    let md = MarketData::start(
        cfg,
        store.clone(),
        &ids,
        &tokio::runtime::Handle::current(),
        log,
    );
    let books: Vec<(Venue, SymbolId)> = [Venue::MEXC, Venue::GATE]
        .iter()
        .flat_map(|&v| ids.iter().map(move |&i| (v, i)))
        .collect();
    wait_for("every book valid", Duration::from_secs(60), || {
        books.iter().all(|&(v, i)| store.is_valid(v, i))
    })
    .await;
    sim.set_market_paused(true);
    wait_for("every book stale", Duration::from_secs(30), || {
        books
            .iter()
            .all(|&(v, i)| store.health(v, i).unwrap().state == HealthState::Stale)
    })
    .await;
    for &(v, i) in &books {
        assert!(!store.is_valid(v, i));
        let top = store.top(v, i).unwrap();
        assert!(!top.valid);
        // Stale is not a fault: the levels are kept (and exact), only not tradable.
        assert!(top.bid.is_some());
    }
    sim.set_market_paused(false);
    wait_for("books valid again", Duration::from_secs(60), || {
        books.iter().all(|&(v, i)| store.is_valid(v, i))
    })
    .await;
    md.shutdown().await;
    sim.shutdown().await;
}

/// A simulator with `n` symbols (four majors, then `TK<i>/USDT`) at 25 updates a second.
async fn many_symbols(n: usize, seed: u64) -> Simulator {
    let mut symbols: Vec<String> = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    symbols.extend((0..n - 4).map(|i| format!("TK{i}/USDT")));
    Simulator::start(SimConfig {
        seed,
        update_rate_hz: 25.0,
        symbols,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_replaced_without_a_hole_and_sharded_by_30() {
    let _serial = ONE_AT_A_TIME.lock().await;
    // 32 symbols: MEXC needs two connections (30 + 2).
    let sim = many_symbols(32, 21).await;
    let cfg = FeedConfig {
        connection_max_age: Duration::from_millis(1500),
        rotation_overlap_max: Duration::from_secs(30),
        ..feed_config(&sim, GateBookChannel::Obu)
    };
    let table = Arc::new(fetch_symbols(&cfg).await.unwrap());
    let ids: Vec<SymbolId> = table.common().to_vec();
    assert_eq!(ids.len(), 32);
    let store = Arc::new(BookStore::new(table.clone()));
    let (log, lines) = quiet_log();
    let md = MarketData::start(
        cfg,
        store.clone(),
        &ids,
        &tokio::runtime::Handle::current(),
        log,
    );
    assert_eq!(md.shards(), 3, "MEXC 30 + 2, Gate 32 on one");
    let books: Vec<(Venue, SymbolId)> = [Venue::MEXC, Venue::GATE]
        .iter()
        .flat_map(|&v| ids.iter().map(move |&i| (v, i)))
        .collect();
    wait_for("every book valid", Duration::from_secs(30), || {
        books.iter().all(|&(v, i)| store.is_valid(v, i))
    })
    .await;
    let resyncs_before: u64 = books
        .iter()
        .map(|&(v, i)| store.health(v, i).unwrap().resyncs)
        .sum();
    wait_for(
        "three rotations per MEXC shard",
        Duration::from_secs(40),
        || md.counters(Venue::MEXC).rotations >= 6,
    )
    .await;
    checkpoint(&sim, &store, &books).await;
    for &(v, i) in &books {
        let h = store.health(v, i).unwrap();
        assert_eq!(
            h.gaps,
            0,
            "{v} {:?} {h:?}\n{:#?}",
            table.unified(i),
            lines.lock()
        );
    }
    let resyncs_after: u64 = books
        .iter()
        .map(|&(v, i)| store.health(v, i).unwrap().resyncs)
        .sum();
    assert_eq!(
        resyncs_after,
        resyncs_before,
        "a rotation forced a resync:\n{:#?}",
        lines.lock()
    );
    let c = md.counters(Venue::MEXC);
    assert_eq!(c.disconnects, 0);
    assert!(c.connects >= 8, "{c:?}");
    md.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_venue_is_retried_with_backoff_and_never_valid() {
    let _serial = ONE_AT_A_TIME.lock().await;
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gate = r#"[{"id":"BTC_USDT","base":"BTC","quote":"USDT","fee":"0.1","amount_precision":6,"precision":1}]"#;
    let table = Arc::new(arb_market::SymbolTable::from_json(None, Some(gate)).unwrap());
    let id = table.id("BTC/USDT").unwrap();
    let store = Arc::new(BookStore::new(table));
    let cfg = FeedConfig {
        venues: vec![FeedVenue::new(
            Venue::GATE,
            format!("http://127.0.0.1:{port}/api/v4"),
            format!("ws://127.0.0.1:{port}/ws/v4/"),
        )],
        backoff_min: Duration::from_millis(5),
        backoff_max: Duration::from_millis(40),
        ..FeedConfig::default()
    };
    let (log, lines) = quiet_log();
    let md = MarketData::start(
        cfg,
        store.clone(),
        &[id],
        &tokio::runtime::Handle::current(),
        log,
    );
    wait_for("five failed attempts", Duration::from_secs(60), || {
        md.counters(Venue::GATE).connect_failures >= 5
    })
    .await;
    assert!(!store.is_valid(Venue::GATE, id));
    assert_eq!(
        store.health(Venue::GATE, id).unwrap().state,
        HealthState::Resyncing
    );
    let logged = lines
        .lock()
        .iter()
        .filter(|l| l.contains("connect_failed") && l.contains("attempt"))
        .count();
    assert!(logged >= 5, "every attempt is logged with its reason");
    md.shutdown().await;
    assert_eq!(
        store.health(Venue::GATE, id).unwrap().state,
        HealthState::Idle
    );
    let _ = InvalidReason::Gap;
}

/// Best bid and ask as a ticker or a book reports them.
type TopPair = (Option<Level>, Option<Level>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickers_and_trades_are_delivered_exactly() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let sim = Simulator::start(SimConfig {
        seed: 13,
        update_rate_hz: 200.0,
        symbols: vec!["BTC/USDT".into(), "ETH/USDT".into()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cfg = FeedConfig {
        tickers: true,
        trades: true,
        ..feed_config(&sim, GateBookChannel::Obu)
    };
    let table = Arc::new(fetch_symbols(&cfg).await.unwrap());
    let ids: Vec<SymbolId> = table.common().to_vec();
    let store = Arc::new(BookStore::new(table.clone()));
    // Last ticker per (venue, symbol) and trade counts per venue.
    let last: Arc<Mutex<HashMap<(Venue, SymbolId), TopPair>>> = Arc::default();
    let trades = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let (l2, t2) = (last.clone(), trades.clone());
    store.add_event_listener(Arc::new(move |e: &MarketEvent| match *e {
        MarketEvent::Ticker {
            venue,
            symbol,
            bid,
            ask,
            ..
        } => {
            l2.lock().insert((venue, symbol), (bid, ask));
        }
        MarketEvent::Trade {
            venue, price, qty, ..
        } => {
            assert!(price > 0 && qty > 0);
            t2[venue.index()].fetch_add(1, Ordering::Relaxed);
        }
    }));
    let (log, _) = quiet_log();
    let md = MarketData::start(
        cfg,
        store.clone(),
        &ids,
        &tokio::runtime::Handle::current(),
        log,
    );
    let books: Vec<(Venue, SymbolId)> = [Venue::MEXC, Venue::GATE]
        .iter()
        .flat_map(|&v| ids.iter().map(move |&i| (v, i)))
        .collect();
    wait_for("every book valid", Duration::from_secs(60), || {
        books.iter().all(|&(v, i)| store.is_valid(v, i))
    })
    .await;
    wait_for("trades on both venues", Duration::from_secs(60), || {
        trades.iter().all(|t| t.load(Ordering::Relaxed) >= 20)
    })
    .await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        checkpoint(&sim, &store, &books).await;
        sim.set_market_paused(true);
        // Quiet market: the last ticker is the book's top, which equals the truth's.
        for &(v, i) in &books {
            wait_for("last ticker == book top", Duration::from_secs(30), || {
                let top = store.top(v, i).unwrap();
                last.lock().get(&(v, i)) == Some(&(top.bid, top.ask))
            })
            .await;
        }
        let counters = sim.counters();
        for v in [Venue::MEXC, Venue::GATE] {
            let sent = counters[v.as_str()]["frames"]["trades"].as_u64().unwrap();
            wait_for(
                "every trade frame delivered",
                Duration::from_secs(30),
                || trades[v.index()].load(Ordering::Relaxed) == sent,
            )
            .await;
        }
        sim.set_market_paused(false);
    }
    md.shutdown().await;
    sim.shutdown().await;
}

/// MEXC's limit is 30 subscriptions (channels, not symbols) per connection: with tickers
/// and trades each symbol takes three, so 11 symbols need two connections. Before, the
/// feed put 30 symbols on one connection whatever the channels, and the venue refused
/// the channels past the 30th: the 11th book never synced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mexc_shards_count_channels_not_symbols() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let sim = many_symbols(11, 23).await;
    let cfg = FeedConfig {
        tickers: true,
        trades: true,
        ..feed_config(&sim, GateBookChannel::Obu)
    };
    let table = Arc::new(fetch_symbols(&cfg).await.unwrap());
    let ids: Vec<SymbolId> = table.common().to_vec();
    assert_eq!(ids.len(), 11);
    let store = Arc::new(BookStore::new(table.clone()));
    // A snapshot alone makes a MEXC book valid for a while: only pushes show that its
    // channel was accepted.
    let pushed: Arc<Mutex<std::collections::HashSet<SymbolId>>> = Arc::default();
    let p2 = pushed.clone();
    store.add_listener(Arc::new(move |c: &BookChange| {
        if c.venue == Venue::MEXC && c.kind == ChangeKind::Update {
            p2.lock().insert(c.symbol);
        }
    }));
    let (log, _) = quiet_log();
    let md = MarketData::start(
        cfg,
        store.clone(),
        &ids,
        &tokio::runtime::Handle::current(),
        log,
    );
    wait_for("a push on every MEXC book", Duration::from_secs(30), || {
        pushed.lock().len() == ids.len()
    })
    .await;
    assert_eq!(
        md.shards(),
        3,
        "MEXC 10 + 1 (3 channels each), Gate 11 on one"
    );
    md.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_silence_clears_resubscribes_and_replaces_the_connection() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let sim = Simulator::start(SimConfig {
        seed: 17,
        update_rate_hz: 100.0,
        symbols: vec!["BTC/USDT".into(), "ETH/USDT".into()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cfg = FeedConfig {
        stale_after: Duration::from_millis(100),
        reset_after: Duration::from_millis(600),
        // Frequent pings: the connections stay alive (pongs) while the books are silent.
        mexc_ping: Duration::from_millis(100),
        gate_ping: Duration::from_millis(100),
        ..feed_config(&sim, GateBookChannel::Obu)
    };
    let table = Arc::new(fetch_symbols(&cfg).await.unwrap());
    let ids: Vec<SymbolId> = table.common().to_vec();
    let store = Arc::new(BookStore::new(table.clone()));
    let counts = counting(&store);
    let (log, lines) = quiet_log();
    let md = MarketData::start(
        cfg,
        store.clone(),
        &ids,
        &tokio::runtime::Handle::current(),
        log,
    );
    let books: Vec<(Venue, SymbolId)> = [Venue::MEXC, Venue::GATE]
        .iter()
        .flat_map(|&v| ids.iter().map(move |&i| (v, i)))
        .collect();
    wait_for("every book valid", Duration::from_secs(60), || {
        books.iter().all(|&(v, i)| store.is_valid(v, i))
    })
    .await;
    sim.set_market_paused(true);
    // Silent far beyond the limit: every book is cleared and resynced, and since the
    // whole connection delivers nothing, it is replaced.
    wait_for(
        "connections replaced after silence",
        Duration::from_secs(60),
        || {
            [Venue::MEXC, Venue::GATE]
                .iter()
                .all(|&v| md.counters(v).disconnects >= 1)
        },
    )
    .await;
    for &(v, i) in &books {
        assert!(store.health(v, i).unwrap().resyncs >= 1);
    }
    // Each silent book was invalidated (logged as stale) and, as the whole connection,
    // alive but delivering no book data, was silent, it was replaced with the reason
    // logged (the replacement resubscribes everything).
    let l = lines.lock().clone();
    for v in ["mexc", "gateio"] {
        assert!(
            l.iter().any(|x| x.contains(&format!("{v} stale:"))),
            "{l:#?}"
        );
        assert!(
            l.iter()
                .any(|x| x.contains(&format!("{v} reconnect:")) && x.contains("every book silent")),
            "{l:#?}"
        );
    }
    sim.set_market_paused(false);
    wait_for("books valid again", Duration::from_secs(60), || {
        books.iter().all(|&(v, i)| store.is_valid(v, i))
    })
    .await;
    checkpoint(&sim, &store, &books).await;
    assert_eq!(counts.invalid_but_valid.load(Ordering::Relaxed), 0);
    md.shutdown().await;
    sim.shutdown().await;
}

/// A simulator with one symbol and the feeds on it: what the two tests below share.
/// `panic_first`: the first shard to start panics (test hook).
async fn one_symbol_feed(
    seed: u64,
    panic_first: bool,
) -> (
    Simulator,
    Arc<arb_market::SymbolTable>,
    Vec<SymbolId>,
    Arc<BookStore>,
    MarketData,
    Arc<Mutex<Vec<String>>>,
) {
    let sim = Simulator::start(SimConfig {
        seed,
        update_rate_hz: 50.0,
        symbols: vec!["BTC/USDT".into()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cfg = feed_config(&sim, GateBookChannel::Obu);
    let table = Arc::new(fetch_symbols(&cfg).await.unwrap());
    let ids: Vec<SymbolId> = table.common().to_vec();
    let store = Arc::new(BookStore::new(table.clone()));
    let (log, lines) = quiet_log();
    if panic_first {
        panic_next_shard();
    }
    let md = MarketData::start(
        cfg,
        store.clone(),
        &ids,
        &tokio::runtime::Handle::current(),
        log,
    );
    (sim, table, ids, store, md, lines)
}

fn all_valid(store: &BookStore, ids: &[SymbolId]) -> bool {
    [Venue::MEXC, Venue::GATE]
        .iter()
        .all(|&v| ids.iter().all(|&i| store.is_valid(v, i)))
}

/// Before, shard tasks were spawned and never polled: a panicked shard's books stayed
/// "resyncing" for ever and nothing said why. (The panic is forced by a test hook.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicked_shard_is_logged_and_restarted() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (sim, _, ids, store, md, lines) = one_symbol_feed(5, true).await;
    wait_for(
        "books valid after a shard panicked",
        Duration::from_secs(30),
        || all_valid(&store, &ids),
    )
    .await;
    assert!(
        lines.lock().iter().any(|l| l.contains("shard_panicked")),
        "{:?}",
        lines.lock()
    );
    md.shutdown().await;
    sim.shutdown().await;
}

/// A Gate frame nested 50,000 deep used to overflow the scanner's stack (SIGSEGV: the
/// whole process, every leg in flight). MEXC's equivalent, nested protobuf groups, stops
/// at prost's recursion limit. Both are now one unparsable frame each, and the books
/// come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_nested_50000_deep_is_an_unparsable_frame() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (sim, table, ids, store, md, _) = one_symbol_feed(6, false).await;
    wait_for("every book valid", Duration::from_secs(30), || {
        all_valid(&store, &ids)
    })
    .await;
    for v in [Venue::MEXC, Venue::GATE] {
        let symbol = table.venue_symbol(ids[0], v).unwrap().to_string();
        sim.inject_fault(arb_sim::FaultSpec {
            venue: v,
            symbol: Some(symbol),
            kind: arb_sim::FaultKind::NestedFrame { depth: 50_000 },
            count: None,
            duration_ms: None,
        })
        .unwrap();
        wait_for("the nested frame counted", Duration::from_secs(30), || {
            md.counters(v).unparsable_frames >= 1
        })
        .await;
    }
    wait_for("books valid again", Duration::from_secs(30), || {
        all_valid(&store, &ids)
    })
    .await;
    md.shutdown().await;
    sim.shutdown().await;
}
