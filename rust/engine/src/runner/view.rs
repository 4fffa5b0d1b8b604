//! The view an operator watches: [`Engine::snapshot`], everything the dashboard, status
//! and Python read (books, venues, stats, inventory, risk).

use std::sync::atomic::{AtomicU64, Ordering};

use arb_core::Venue;
use arb_exec::Amount;
use arb_market::feed::MarketData;
use arb_telemetry::metrics::Histogram;
use serde_json::json;

use super::{Engine, Inner};

impl Engine {
    /// A JSON view of everything an operator watches (books, venues, stats, inventory).
    pub fn snapshot(&self) -> serde_json::Value {
        let mut v = self.inner.snapshot(self.market.lock().as_ref());
        // Private streams (order/fill/balance pushes): connections, listenKeys, fills
        // recovered by the REST reconciliation after each reconnect.
        for (venue, s) in Venue::ALL.iter().zip(self.streams.lock().iter()) {
            let st = &s.stats;
            let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
            v["venues"][venue.as_str()]["private_stream"] = json!({
                "connected": st.connected.load(Ordering::Relaxed),
                "connects": l(&st.connects),
                "listen_keys_created": l(&st.listen_keys_created),
                "frames": l(&st.frames),
                "fills": l(&st.fills),
                "reconciles": l(&st.reconciles),
                "reconciled_fills": l(&st.reconciled_fills),
                "decode_errors": l(&st.decode_errors),
            });
        }
        v
    }
}

impl Inner {
    pub(super) fn snapshot(&self, market: Option<&MarketData>) -> serde_json::Value {
        let mut symbols = serde_json::Map::new();
        for sym in self.syms.iter().flatten() {
            let mut venues = serde_json::Map::new();
            let mut tops = [None, None];
            for v in Venue::ALL {
                let top = self.store.top(v, sym.id);
                let h = self.store.health(v, sym.id);
                let fmt = |m: u64| arb_core::fixed::format_scaled(m as i128, sym.scales.price);
                tops[v.index()] = top
                    .filter(|t| t.valid)
                    .and_then(|t| Some((t.bid?.price, t.ask?.price)));
                venues.insert(
                    v.as_str().into(),
                    json!({
                        "bid": top.and_then(|t| t.bid).map(|l| fmt(l.price)),
                        "ask": top.and_then(|t| t.ask).map(|l| fmt(l.price)),
                        "valid": top.is_some_and(|t| t.valid),
                        "state": h.map(|h| format!("{:?}", h.state).to_lowercase()),
                        "age_ms": h.and_then(|h| h.age).map(|d| d.as_millis() as u64),
                        "resyncs": h.map(|h| h.resyncs),
                        "gaps": h.map(|h| h.gaps),
                        "updates": h.map(|h| h.updates),
                    }),
                );
            }
            // Gross top-of-book edge in bps for both directions.
            let edge = |buy: usize, sell: usize| -> Option<String> {
                let (_, ask) = tops[buy]?;
                let (bid, _) = tops[sell]?;
                let e = (bid as i128 - ask as i128) * 1_000_000 / ask.max(1) as i128;
                Some(arb_core::fixed::format_scaled(e, 2))
            };
            symbols.insert(
                sym.unified.to_string(),
                json!({
                    "venues": venues,
                    "edge_bps": {"buy_mexc_sell_gateio": edge(0, 1), "buy_gateio_sell_mexc": edge(1, 0)},
                    "busy": sym.busy.load(Ordering::Relaxed),
                    "paused": sym.paused.load(Ordering::Relaxed),
                }),
            );
        }
        let mut venues = serde_json::Map::new();
        for v in Venue::ALL {
            let c = &self.clients[v.index()];
            let conn = c.conn_stats();
            venues.insert(
                v.as_str().into(),
                json!({
                    "healthy": self.healthy[v.index()].load(Ordering::Relaxed),
                    "breaker": format!("{:?}", c.breaker_state()).to_lowercase(),
                    "clock_offset_ms": c.clock_offset_ms(),
                    "rate_limit": {
                        "waits": c.limiter().stats().waits,
                        "venue_blocks": c.limiter().stats().venue_blocks,
                    },
                    "requests": conn.requests,
                    "new_connections": conn.new_connections,
                    "connection_reuse": conn.reuse_ratio(),
                    "feed": market.map(|m| {
                        let c = m.counters(v);
                        json!({"connects": c.connects, "disconnects": c.disconnects, "frames": c.frames,
                               "unparsable_frames": c.unparsable_frames, "snapshots": c.snapshots,
                               "resubscribes": c.resubscribes})
                    }),
                }),
            );
        }
        let q = |h: &Histogram| {
            let s = h.snapshot();
            json!({
                "count": s.count(),
                "p50_us": s.quantile(0.5).map(|v| v / 1000),
                "p99_us": s.quantile(0.99).map(|v| v / 1000),
                "max_us": s.max().map(|v| v / 1000),
            })
        };
        let st = &self.stats;
        let mut inventory = serde_json::Map::new();
        for (v, asset, d) in st.ledger.lock().deltas() {
            inventory
                .entry(v.as_str().to_string())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("object")
                .insert(asset.to_string(), json!(d.to_string()));
        }
        let risk = self.risk.lock();
        let p = self.params();
        json!({
            "uptime_s": self.started.elapsed().as_secs_f64(),
            // A dry run detects and sends nothing: the views say so instead of "taken".
            "dry_run": self.cfg.dry_run,
            "strategy": {
                "min_edge_bps": arb_core::fixed::format_scaled((p.threshold - p.slippage) as i128, 4),
                "slippage_buffer_bps": arb_core::fixed::format_scaled(p.slippage as i128, 4),
                "trade_notional": Amount::from_mantissa(p.trade_notional).to_string(),
                "cooldown_ms": p.cooldown_ns / 1_000_000,
                "order_style": format!("{:?}", p.order_style),
                "mexc_buy_order": format!("{:?}", p.mexc_buy_order),
                "hedge_policy": format!("{:?}", p.hedge_policy),
                "balance_mode": format!("{:?}", p.balance_mode),
                "python_risk_mode": format!("{:?}", p.python_risk_mode),
            },
            "startup_ms": self.ready_ms.lock().clone(),
            "symbols": symbols,
            "venues": venues,
            "stats": {
                "book_changes": st.changes.get(),
                "opportunities_detected": st.detected.get(),
                "opportunities_vetoed": st.vetoed.get(),
                "opportunities_taken": st.taken.get(),
                "opportunities_vanished": st.vanished.get(),
                "refused_stale": st.stale_refused.get(),
                "vetoes": st.vetoes.lock().clone(),
                "outcomes": st.outcomes.lock().clone(),
                "errors": st.errors.lock().clone(),
                "pnl": st.pnl.lock().to_string(),
                "fees": st.fees.lock().to_string(),
                "tick_to_trade": q(&st.tick_to_trade),
                "leg_ack": {"mexc": q(&st.leg_ack[0]), "gateio": q(&st.leg_ack[1])},
                "decision_book_age": q(&st.decision_book_age),
                "decision_balance_age": q(&st.decision_balance_age),
                "python_veto": q(&st.veto_wait),
            },
            "inventory": inventory,
            "risk": {
                "halted": risk.halted().map(|k| k.to_string()),
                "open_arbitrages": risk.open_arbitrages(),
                "daily_pnl": Amount::from_mantissa(risk.daily_pnl()).to_string(),
            },
            "journal_errors": self.journal.errors(),
        })
    }
}
