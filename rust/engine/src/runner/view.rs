//! The view an operator watches: [`Snapshot`], everything the dashboard, status and Python
//! read (books, venues, stats, inventory, risk), as typed structs.
//!
//! These structs are the contract with Python (`python/arbhybrid/{dashboard,status,view,
//! engine}.py` and their typed mirror): [`Engine::snapshot`] serialises them to JSON, and
//! a field renamed, retyped or moved here changes what Python reads. Conventions:
//! - money, quantities, prices and edges are **decimal strings** (exact, never floats);
//! - counts, durations and ids are JSON integers; the unit is in the name (`_ms`, `_us`);
//! - a value that can be unknown is `null` (e.g. a book's bid before it synced); a key is
//!   never left out, except where a field says so.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use arb_core::{Route, Venue, VenueMap};
use arb_exec::Amount;
use arb_market::feed::MarketData;
use arb_telemetry::metrics::Histogram;
use serde::Serialize;

use super::{Engine, Inner};
use crate::recovery::RecoveryReport;

/// One value per venue: a JSON object keyed by the venue's name (`mexc`, `gateio`,
/// `mexc_b`), in configuration order.
#[derive(Clone, Debug)]
pub struct PerVenue<T>(pub Vec<(Venue, T)>);

impl<T> PerVenue<T> {
    fn from_fn(venues: &[Venue], f: impl FnMut(Venue) -> T) -> Self {
        let mut f = f;
        PerVenue(venues.iter().map(|&v| (v, f(v))).collect())
    }

    fn get_mut(&mut self, v: Venue) -> Option<&mut T> {
        self.0.iter_mut().find(|(x, _)| *x == v).map(|(_, t)| t)
    }
}

impl<T: Serialize> Serialize for PerVenue<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (v, t) in &self.0 {
            m.serialize_entry(v.as_str(), t)?;
        }
        m.end()
    }
}

/// Everything an operator watches, as [`Engine::snapshot`] gives it.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// Seconds since the engine started (a float).
    pub uptime_s: f64,
    /// A dry run detects and sends nothing: the views say so instead of "taken".
    pub dry_run: bool,
    /// The strategy parameters in force (after any hot reload).
    pub strategy: StrategyView,
    /// How long start-up took, and what crash recovery found.
    pub startup_ms: StartupTimes,
    /// Per configured symbol (its unified name, e.g. `BTC/USDT`).
    pub symbols: BTreeMap<String, SymbolView>,
    /// Per venue: health, REST client, market-data feed and private stream.
    pub venues: PerVenue<VenueView>,
    pub stats: StatsView,
    /// Net balance change per venue and asset from the engine's fills since start:
    /// venue name -> asset -> decimal string (signed). A venue with no fills is absent.
    pub inventory: BTreeMap<String, BTreeMap<String, String>>,
    pub risk: RiskView,
    /// Journal writes that failed since start.
    pub journal_errors: u64,
}

/// The strategy parameters in force.
#[derive(Clone, Debug, Serialize)]
pub struct StrategyView {
    /// Minimum edge after fees, in basis points (decimal string).
    pub min_edge_bps: String,
    /// Slippage buffer on top of the minimum edge, in basis points (decimal string).
    pub slippage_buffer_bps: String,
    /// Quote notional per trade (decimal string).
    pub trade_notional: String,
    /// Cooldown after acting on a symbol, milliseconds.
    pub cooldown_ms: i64,
    /// The Rust variant names (`MarketLimit`, `IocBoth`; `IocLimit`, `Market`; `Chase`,
    /// `Unwind`, `Hold`; `Fresh`, `Stream`; `Notify`, `Veto`, ...).
    pub order_style: String,
    pub mexc_buy_order: String,
    pub hedge_policy: String,
    pub balance_mode: String,
    pub python_risk_mode: String,
}

/// Start-up times (milliseconds since start) and the crash recovery report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StartupTimes {
    /// Every venue answered (credentials checked, clocks synced).
    pub venues_ms: u64,
    /// Each venue's own check (server time, signed balances), by name: the venues are
    /// asked concurrently, so `venues_ms` is about the slowest of these.
    pub per_venue_ms: std::collections::BTreeMap<String, u64>,
    /// What crash recovery found and did before trading.
    pub recovery: RecoveryReport,
    /// Order connections opened (warm) before trading, over every venue.
    pub warm_connections: usize,
    /// The engine was trading-ready (feeds starting, background tasks running).
    pub engine_ms: u64,
}

/// One symbol: every venue's book, the gross edge on every route, and its state.
#[derive(Clone, Debug, Serialize)]
pub struct SymbolView {
    pub venues: PerVenue<BookView>,
    #[serde(serialize_with = "edges_json")]
    pub edge_bps: EdgeView,
    /// A transaction for this symbol is running.
    pub busy: bool,
    /// Paused for good (until restart) after a rejection that cannot be fixed or a
    /// panicked transaction.
    pub paused: bool,
}

/// One venue's book of a symbol: the top and the book's health.
#[derive(Clone, Debug, Serialize)]
pub struct BookView {
    /// Best bid price (decimal string); `null` when the side is empty or never synced.
    pub bid: Option<String>,
    /// Best ask price (decimal string); `null` likewise.
    pub ask: Option<String>,
    /// The book is synced and fresh (tradable).
    pub valid: bool,
    /// `idle`, `resyncing`, `valid` or `stale`; `null`: no such book.
    pub state: Option<String>,
    /// Milliseconds since the last applied update; `null` before the first.
    pub age_ms: Option<u64>,
    /// Times the book went back to resyncing.
    pub resyncs: Option<u64>,
    /// Sequence gaps seen.
    pub gaps: Option<u64>,
    /// Updates applied since start.
    pub updates: Option<u64>,
}

/// Gross top-of-book edge in basis points per route, keyed `buy_<venue>_sell_<venue>`
/// (`buy_mexc_sell_gateio`), in the venues' order (decimal strings, two decimals;
/// negative when the books do not cross); `null` while either book is not valid.
pub type EdgeView = Vec<(Route, Option<String>)>;

/// Serialises an [`EdgeView`] as its JSON object.
fn edges_json<S: serde::Serializer>(e: &EdgeView, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(e.len()))?;
    for (r, bps) in e {
        m.serialize_entry(&format!("buy_{}_sell_{}", r.buy, r.sell), bps)?;
    }
    m.end()
}

/// One venue: health, REST client, market-data feed and private stream.
#[derive(Clone, Debug, Serialize)]
pub struct VenueView {
    /// The last health check passed (REST round trip, breaker not open).
    pub healthy: bool,
    /// The REST circuit breaker: `closed`, `open` or `halfopen`.
    pub breaker: String,
    /// Venue clock minus ours, milliseconds: the offset signed timestamps are made with.
    pub clock_offset_ms: i64,
    pub rate_limit: RateLimitView,
    /// What the venue's REST answers were, by class (429s, 5xx, retries, unknown
    /// placement outcomes resolved and not), counts since start.
    pub rest: arb_exec::RestOutcomes,
    /// REST requests sent.
    pub requests: u64,
    /// New HTTP connections opened for them.
    pub new_connections: u64,
    /// Share of requests on a reused connection, 0.0 to 1.0 (a float).
    pub connection_reuse: f64,
    /// The market-data feed; `null` once the engine is shut down.
    pub feed: Option<FeedView>,
    /// The private stream (order, fill and balance pushes); the key is **absent** once
    /// the engine is shut down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_stream: Option<PrivateStreamView>,
}

/// The REST client's rate limiter.
#[derive(Clone, Debug, Serialize)]
pub struct RateLimitView {
    /// Requests that had to wait for a slot.
    pub waits: u64,
    /// Times the venue told us to stop (429 / nothing remaining).
    pub venue_blocks: u64,
    /// The smallest share (percent) of any rate-limit budget still free now (weights on
    /// MEXC, requests on Gate); `null` before the first request or with limits off.
    pub headroom_pct: Option<u32>,
}

/// A venue's market-data feed counters (since start).
#[derive(Clone, Debug, Serialize)]
pub struct FeedView {
    pub connects: u64,
    pub disconnects: u64,
    pub frames: u64,
    pub unparsable_frames: u64,
    pub snapshots: u64,
    pub resubscribes: u64,
}

/// A venue's private stream: connections, listenKeys, fills recovered by the REST
/// reconciliation after each reconnect (counts since start).
#[derive(Clone, Debug, Serialize)]
pub struct PrivateStreamView {
    /// Connected and subscribed now.
    pub connected: bool,
    pub connects: u64,
    pub listen_keys_created: u64,
    pub frames: u64,
    pub fills: u64,
    /// REST reconciliations completed (one after each connection).
    pub reconciles: u64,
    pub reconciled_fills: u64,
    pub decode_errors: u64,
}

/// Counts since start, PnL, and latency figures.
#[derive(Clone, Debug, Serialize)]
pub struct StatsView {
    pub book_changes: u64,
    pub opportunities_detected: u64,
    /// Refused by a risk limit at detection.
    pub opportunities_vetoed: u64,
    pub opportunities_taken: u64,
    /// Gone (or flipped) at the pre-trade re-check.
    pub opportunities_vanished: u64,
    /// Refused because a book or the balances were too old.
    pub refused_stale: u64,
    /// Risk refusals by limit label.
    pub vetoes: BTreeMap<&'static str, u64>,
    /// Transactions by outcome label (`complete`, `hedged`, `held`, ...).
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Errors by class label.
    pub errors: BTreeMap<&'static str, u64>,
    /// Realized PnL in quote (decimal string).
    pub pnl: String,
    /// Fees in quote (decimal string).
    pub fees: String,
    /// Book update received to both orders handed to the network.
    pub tick_to_trade: LatencyView,
    /// The same path by stage, each from the frame's read (`HotPathStages`).
    pub hot_path: HotPathView,
    /// Order sent to its acknowledgement, per venue.
    pub leg_ack: PerVenue<LatencyView>,
    /// Age of the older book at the decision (recorded in milliseconds).
    pub decision_book_age: LatencyView,
    /// Age of the balances at the decision (recorded in milliseconds).
    pub decision_balance_age: LatencyView,
    /// Waiting for Python's answer in `veto` mode.
    pub python_veto: LatencyView,
}

/// Where the hot path's time goes, each stage from the frame's read.
#[derive(Clone, Debug, Serialize)]
pub struct HotPathView {
    pub detected: LatencyView,
    pub task_started: LatencyView,
    pub checks_cleared: LatencyView,
    pub first_order_out: LatencyView,
    pub both_orders_out: LatencyView,
}

/// A histogram in microseconds (integers); the figures are `null` before any sample.
#[derive(Clone, Debug, Serialize)]
pub struct LatencyView {
    pub count: u64,
    pub p50_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub max_us: Option<u64>,
}

impl LatencyView {
    fn of(h: &Histogram) -> Self {
        let s = h.snapshot();
        LatencyView {
            count: s.count(),
            p50_us: s.quantile(0.5).map(|v| v / 1000),
            p99_us: s.quantile(0.99).map(|v| v / 1000),
            max_us: s.max().map(|v| v / 1000),
        }
    }
}

/// Risk state.
#[derive(Clone, Debug, Serialize)]
pub struct RiskView {
    /// Why trading is halted (a kill switch or the operator); `null`: trading.
    pub halted: Option<String>,
    pub open_arbitrages: u32,
    /// Today's PnL as risk counts it, quote (decimal string, signed).
    pub daily_pnl: String,
}

impl Engine {
    /// Everything an operator watches (books, venues, stats, inventory), typed.
    pub fn view(&self) -> Snapshot {
        let mut v = self.inner.view(self.market.lock().as_ref());
        // Private streams (order/fill/balance pushes): connections, listenKeys, fills
        // recovered by the REST reconciliation after each reconnect.
        for s in self.streams.lock().iter() {
            let st = &s.stats;
            let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
            let Some(view) = v.venues.get_mut(s.venue()) else {
                continue;
            };
            view.private_stream = Some(PrivateStreamView {
                connected: st.connected.load(Ordering::Relaxed),
                connects: l(&st.connects),
                listen_keys_created: l(&st.listen_keys_created),
                frames: l(&st.frames),
                fills: l(&st.fills),
                reconciles: l(&st.reconciles),
                reconciled_fills: l(&st.reconciled_fills),
                decode_errors: l(&st.decode_errors),
            });
        }
        v
    }

    /// [`Engine::view`] as JSON: what Python gets.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(self.view()).expect("the view serialises (string keys only)")
    }
}

impl Inner {
    pub(super) fn view(&self, market: Option<&MarketData>) -> Snapshot {
        let mut symbols = BTreeMap::new();
        for sym in self.syms.iter().flatten() {
            let mut tops = VenueMap::new();
            let venues = PerVenue::from_fn(&sym.venues, |v| {
                let top = self.store.top(v, sym.id);
                let h = self.store.health(v, sym.id);
                let fmt = |m: u64| arb_core::fixed::format_scaled(m as i128, sym.scales.price);
                if let Some(t) = top
                    .filter(|t| t.valid)
                    .and_then(|t| Some((t.bid?.price, t.ask?.price)))
                {
                    tops.insert(v, t);
                }
                BookView {
                    bid: top.and_then(|t| t.bid).map(|l| fmt(l.price)),
                    ask: top.and_then(|t| t.ask).map(|l| fmt(l.price)),
                    valid: top.is_some_and(|t| t.valid),
                    state: h.map(|h| format!("{:?}", h.state).to_lowercase()),
                    age_ms: h.and_then(|h| h.age).map(|d| d.as_millis() as u64),
                    resyncs: h.map(|h| h.resyncs),
                    gaps: h.map(|h| h.gaps),
                    updates: h.map(|h| h.updates),
                }
            });
            // Gross top-of-book edge in bps on every route.
            let edge = |r: Route| -> Option<String> {
                let &(_, ask) = tops.get(r.buy)?;
                let &(bid, _) = tops.get(r.sell)?;
                let e = (bid as i128 - ask as i128) * 1_000_000 / ask.max(1) as i128;
                Some(arb_core::fixed::format_scaled(e, 2))
            };
            symbols.insert(
                sym.unified.to_string(),
                SymbolView {
                    venues,
                    edge_bps: Route::all(&sym.venues).map(|r| (r, edge(r))).collect(),
                    busy: sym.busy.load(Ordering::Relaxed),
                    paused: sym.paused.load(Ordering::Relaxed),
                },
            );
        }
        let venues = PerVenue::from_fn(&self.venues, |v| {
            let c = &self.clients[v];
            let conn = c.conn_stats();
            let limits = c.limiter().stats();
            VenueView {
                healthy: self.healthy[v].load(Ordering::Relaxed),
                breaker: format!("{:?}", c.breaker_state()).to_lowercase(),
                clock_offset_ms: c.clock_offset_ms(),
                rate_limit: RateLimitView {
                    waits: limits.waits,
                    venue_blocks: limits.venue_blocks,
                    headroom_pct: limits.headroom_pct,
                },
                rest: c.rest_outcomes(),
                requests: conn.requests,
                new_connections: conn.new_connections,
                connection_reuse: conn.reuse_ratio(),
                feed: market.map(|m| {
                    let c = m.counters(v);
                    FeedView {
                        connects: c.connects,
                        disconnects: c.disconnects,
                        frames: c.frames,
                        unparsable_frames: c.unparsable_frames,
                        snapshots: c.snapshots,
                        resubscribes: c.resubscribes,
                    }
                }),
                private_stream: None,
            }
        });
        let st = &self.stats;
        let mut inventory: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (v, asset, d) in st.ledger.lock().deltas() {
            inventory
                .entry(v.as_str().to_string())
                .or_default()
                .insert(asset.to_string(), d.to_string());
        }
        let risk = self.risk.lock();
        let p = self.params();
        let counts = |m: &parking_lot::Mutex<std::collections::HashMap<&'static str, u64>>| {
            m.lock().iter().map(|(k, v)| (*k, *v)).collect()
        };
        Snapshot {
            uptime_s: self.started.elapsed().as_secs_f64(),
            dry_run: self.cfg.dry_run,
            strategy: StrategyView {
                min_edge_bps: arb_core::fixed::format_scaled((p.threshold - p.slippage) as i128, 4),
                slippage_buffer_bps: arb_core::fixed::format_scaled(p.slippage as i128, 4),
                trade_notional: Amount::from_mantissa(p.trade_notional).to_string(),
                cooldown_ms: p.cooldown_ns / 1_000_000,
                order_style: format!("{:?}", p.order_style),
                mexc_buy_order: format!("{:?}", p.mexc_buy_order),
                hedge_policy: format!("{:?}", p.hedge_policy),
                balance_mode: format!("{:?}", p.balance_mode),
                python_risk_mode: format!("{:?}", p.python_risk_mode),
            },
            startup_ms: self.ready_ms.lock().clone(),
            symbols,
            venues,
            stats: StatsView {
                book_changes: st.changes.get(),
                opportunities_detected: st.detected.get(),
                opportunities_vetoed: st.vetoed.get(),
                opportunities_taken: st.taken.get(),
                opportunities_vanished: st.vanished.get(),
                refused_stale: st.stale_refused.get(),
                vetoes: counts(&st.vetoes),
                outcomes: counts(&st.outcomes),
                errors: counts(&st.errors),
                pnl: st.pnl.lock().to_string(),
                fees: st.fees.lock().to_string(),
                tick_to_trade: LatencyView::of(&st.tick_to_trade),
                hot_path: HotPathView {
                    detected: LatencyView::of(&st.hot_path.detected),
                    task_started: LatencyView::of(&st.hot_path.task_started),
                    checks_cleared: LatencyView::of(&st.hot_path.checks_cleared),
                    first_order_out: LatencyView::of(&st.hot_path.first_order_out),
                    both_orders_out: LatencyView::of(&st.hot_path.both_orders_out),
                },
                leg_ack: PerVenue::from_fn(&self.venues, |v| LatencyView::of(&st.leg_ack[v])),
                decision_book_age: LatencyView::of(&st.decision_book_age),
                decision_balance_age: LatencyView::of(&st.decision_balance_age),
                python_veto: LatencyView::of(&st.veto_wait),
            },
            inventory,
            risk: RiskView {
                halted: risk.halted().map(|k| k.to_string()),
                open_arbitrages: risk.open_arbitrages(),
                daily_pnl: Amount::from_mantissa(risk.daily_pnl()).to_string(),
            },
            journal_errors: self.journal.errors(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn latency() -> LatencyView {
        LatencyView {
            count: 2,
            p50_us: Some(10),
            p99_us: Some(20),
            max_us: None,
        }
    }

    fn book() -> BookView {
        BookView {
            bid: Some("100.1".into()),
            ask: None,
            valid: true,
            state: Some("valid".into()),
            age_ms: Some(3),
            resyncs: Some(0),
            gaps: None,
            updates: Some(7),
        }
    }

    fn venue(stream: bool) -> VenueView {
        VenueView {
            healthy: true,
            breaker: "closed".into(),
            clock_offset_ms: -4,
            rate_limit: RateLimitView {
                waits: 1,
                venue_blocks: 0,
                headroom_pct: Some(98),
            },
            rest: arb_exec::RestOutcomes {
                rate_limited: 1,
                server_errors: 2,
                retries: 3,
                unknown_resolved: 1,
                unknown_unresolved: 0,
            },
            requests: 9,
            new_connections: 2,
            connection_reuse: 0.75,
            feed: None,
            private_stream: stream.then_some(PrivateStreamView {
                connected: true,
                connects: 1,
                listen_keys_created: 1,
                frames: 5,
                fills: 2,
                reconciles: 1,
                reconciled_fills: 0,
                decode_errors: 0,
            }),
        }
    }

    /// The JSON Python reads, key for key (the shape `json!` built before the view was
    /// typed): a change here is a change of the contract with Python.
    #[test]
    fn the_snapshot_serialises_to_the_shape_python_reads() {
        let snap = Snapshot {
            uptime_s: 1.5,
            dry_run: false,
            strategy: StrategyView {
                min_edge_bps: "5".into(),
                slippage_buffer_bps: "2".into(),
                trade_notional: "100".into(),
                cooldown_ms: 250,
                order_style: "MarketLimit".into(),
                mexc_buy_order: "IocLimit".into(),
                hedge_policy: "Unwind".into(),
                balance_mode: "Fresh".into(),
                python_risk_mode: "Notify".into(),
            },
            startup_ms: StartupTimes {
                venues_ms: 12,
                per_venue_ms: BTreeMap::from([("gateio".to_string(), 12), ("mexc".to_string(), 9)]),
                recovery: RecoveryReport::default(),
                warm_connections: 4,
                engine_ms: 30,
            },
            symbols: BTreeMap::from([(
                "BTC/USDT".to_string(),
                SymbolView {
                    venues: PerVenue(vec![(Venue::MEXC, book()), (Venue::GATE, book())]),
                    edge_bps: vec![
                        (
                            Route {
                                buy: Venue::MEXC,
                                sell: Venue::GATE,
                            },
                            Some("-1.25".into()),
                        ),
                        (
                            Route {
                                buy: Venue::GATE,
                                sell: Venue::MEXC,
                            },
                            None,
                        ),
                    ],
                    busy: false,
                    paused: true,
                },
            )]),
            venues: PerVenue(vec![
                (Venue::MEXC, venue(true)),
                (Venue::GATE, venue(false)),
            ]),
            stats: StatsView {
                book_changes: 100,
                opportunities_detected: 3,
                opportunities_vetoed: 1,
                opportunities_taken: 2,
                opportunities_vanished: 0,
                refused_stale: 0,
                vetoes: BTreeMap::from([("max_open_arbitrages", 1)]),
                outcomes: BTreeMap::from([("complete", 2)]),
                errors: BTreeMap::new(),
                pnl: "0.01".into(),
                fees: "0.2".into(),
                tick_to_trade: latency(),
                hot_path: HotPathView {
                    detected: latency(),
                    task_started: latency(),
                    checks_cleared: latency(),
                    first_order_out: latency(),
                    both_orders_out: latency(),
                },
                leg_ack: PerVenue(vec![(Venue::MEXC, latency()), (Venue::GATE, latency())]),
                decision_book_age: latency(),
                decision_balance_age: latency(),
                python_veto: latency(),
            },
            inventory: BTreeMap::from([(
                "mexc".to_string(),
                BTreeMap::from([("BTC".to_string(), "-0.001".to_string())]),
            )]),
            risk: RiskView {
                halted: None,
                open_arbitrages: 0,
                daily_pnl: "0.01".into(),
            },
            journal_errors: 0,
        };
        let lat = json!({"count": 2, "p50_us": 10, "p99_us": 20, "max_us": null});
        let book = json!({"bid": "100.1", "ask": null, "valid": true, "state": "valid",
                          "age_ms": 3, "resyncs": 0, "gaps": null, "updates": 7});
        let venue = json!({"healthy": true, "breaker": "closed", "clock_offset_ms": -4,
                           "rate_limit": {"waits": 1, "venue_blocks": 0, "headroom_pct": 98},
                           "rest": {"rate_limited": 1, "server_errors": 2, "retries": 3,
                                    "unknown_resolved": 1, "unknown_unresolved": 0},
                           "requests": 9,
                           "new_connections": 2, "connection_reuse": 0.75, "feed": null});
        let mut mexc = venue.clone();
        mexc["private_stream"] = json!({"connected": true, "connects": 1,
            "listen_keys_created": 1, "frames": 5, "fills": 2, "reconciles": 1,
            "reconciled_fills": 0, "decode_errors": 0});
        let expected = json!({
            "uptime_s": 1.5,
            "dry_run": false,
            "strategy": {"min_edge_bps": "5", "slippage_buffer_bps": "2",
                         "trade_notional": "100", "cooldown_ms": 250,
                         "order_style": "MarketLimit", "mexc_buy_order": "IocLimit",
                         "hedge_policy": "Unwind", "balance_mode": "Fresh",
                         "python_risk_mode": "Notify"},
            "startup_ms": {"venues_ms": 12, "per_venue_ms": {"gateio": 12, "mexc": 9}, "engine_ms": 30,
                           "recovery": {"dry_run": false, "canceled_orders": 0,
                                        "adopted_fills": 0, "transactions": [],
                                        "would": [], "errors": []},
                            "warm_connections": 4},
            "symbols": {"BTC/USDT": {
                "venues": {"mexc": book, "gateio": book},
                "edge_bps": {"buy_mexc_sell_gateio": "-1.25", "buy_gateio_sell_mexc": null},
                "busy": false,
                "paused": true,
            }},
            // The private stream's key is absent once the streams are stopped.
            "venues": {"mexc": mexc, "gateio": venue},
            "stats": {
                "book_changes": 100, "opportunities_detected": 3, "opportunities_vetoed": 1,
                "opportunities_taken": 2, "opportunities_vanished": 0, "refused_stale": 0,
                "vetoes": {"max_open_arbitrages": 1}, "outcomes": {"complete": 2},
                "errors": {}, "pnl": "0.01", "fees": "0.2",
                "tick_to_trade": lat,
                "hot_path": {"detected": lat, "task_started": lat, "checks_cleared": lat,
                             "first_order_out": lat, "both_orders_out": lat},
                "leg_ack": {"mexc": lat, "gateio": lat},
                "decision_book_age": lat, "decision_balance_age": lat, "python_veto": lat,
            },
            "inventory": {"mexc": {"BTC": "-0.001"}},
            "risk": {"halted": null, "open_arbitrages": 0, "daily_pnl": "0.01"},
            "journal_errors": 0,
        });
        assert_eq!(serde_json::to_value(&snap).unwrap(), expected);
    }
}
