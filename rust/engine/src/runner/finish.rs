//! A transaction's end, booked (ledger, PnL, risk, journal, Python), and the release of
//! one refused before its orders went out.

use std::sync::atomic::Ordering;

use arb_core::time::now_ms;
use arb_core::{ErrorClass, Route};
use arb_exec::Amount;
use arb_telemetry::metrics;

use super::{EngineEvent, Inner, Sym};
use crate::accounting::Ledger;
use crate::convert::{amount_dec, scale_to_acct};
use crate::detect::Opportunity;
use crate::journal::{self, Dec, JournalRecord};
use crate::tx::{ArbTx, Outcome};

impl Inner {
    /// Books a finished transaction: ledger, PnL, risk, journal, Python.
    pub(super) fn finish(
        &self,
        sym: &Sym,
        tx: &ArbTx,
        outcome: Outcome,
        notional: i128,
        tick_to_trade_us: Option<i64>,
    ) {
        let mut ledger = Ledger::new();
        // What could not be booked (venue values beyond any real account): journaled
        // in the transaction's detail, counted as malformed.
        let mut not_booked = Vec::new();
        let mut journal_fills = Vec::new();
        for o in &tx.orders {
            let Some(st) = self.tracker_state(o.venue, &o.client_id) else {
                continue;
            };
            self.journal_tracked(tx.id, &o.client_id, o.role, sym, o.side.as_str(), &st);
            for f in &st.fills {
                if let Err(e) = ledger.record(f, &sym.base, &sym.quote) {
                    not_booked.push(e.to_string());
                }
                journal_fills.push(f.clone());
            }
        }
        for f in journal_fills {
            self.journal_fill(tx.id, sym, &f);
        }
        // Mark residual base at the mid of the venues' tops (for PnL and risk).
        let mark = self.mark_price(sym);
        let pnl = ledger
            .pnl(&sym.quote, |asset| {
                (asset == sym.base).then_some(mark).flatten()
            })
            .unwrap_or_else(|| {
                not_booked.push("realized PnL does not fit; booked as 0".into());
                Amount::ZERO
            });
        let fees = ledger.fees_quote();
        let residual = tx.residual();
        let residual_acct = scale_to_acct(residual, sym.scales.qty);
        not_booked.extend(merge_ledger(
            &mut self.stats.ledger.lock(),
            &tx.orders,
            self,
            sym,
        ));
        for (total, add, what) in [
            (&self.stats.pnl, pnl, "PnL"),
            (&self.stats.fees, fees, "fees"),
        ] {
            let mut total = total.lock();
            match total.checked_add(add) {
                Some(t) => *total = t,
                None => not_booked.push(format!("the run's {what} total does not fit; left out")),
            }
        }
        if !not_booked.is_empty() {
            self.stats.error(ErrorClass::Malformed);
        }
        *self
            .stats
            .outcomes
            .lock()
            .entry(outcome.label())
            .or_insert(0) += 1;
        metrics::counter("engine_transactions_total", &[("outcome", outcome.label())]).inc();
        let kill = self.risk.lock().closed(
            notional,
            &sym.base,
            pnl.mantissa(),
            residual_acct,
            mark.map_or(0, |m| m.mantissa()),
            now_ms(),
        );
        if let Some(k) = kill {
            self.halted(k);
        }
        let (bought, sold) = tx.bought_sold();
        self.journal
            .send(JournalRecord::TxFinish(Box::new(journal::TxFinish {
                tx_id: tx.id,
                finished_ms: now_ms(),
                outcome: outcome.label(),
                bought_qty: Dec::new(bought as i128, sym.scales.qty),
                sold_qty: Dec::new(sold as i128, sym.scales.qty),
                realized_pnl: amount_dec(pnl),
                fees_quote: amount_dec(fees),
                residual_base: Dec::new(residual, sym.scales.qty),
                tick_to_trade_us,
                detail: not_booked.join("; "),
            })));
        self.emit(EngineEvent::Transaction {
            tx_id: tx.id,
            symbol: sym.unified.to_string(),
            outcome: outcome.label().into(),
            realized_pnl: pnl.to_string(),
            fees_quote: fees.to_string(),
            tick_to_trade_us,
        });
        sym.busy.store(false, Ordering::Release);
    }

    pub(crate) fn mark_price(&self, sym: &Sym) -> Option<Amount> {
        let mut sum = 0u128;
        let mut n = 0u128;
        for &v in &sym.venues {
            if let Some(t) = self.store.top(v, sym.id) {
                if let (Some(b), Some(a)) = (t.bid, t.ask) {
                    sum += b.price as u128 + a.price as u128;
                    n += 2;
                }
            }
        }
        (n > 0).then(|| Amount::from_scaled((sum / n) as u64, sym.scales.price))
    }

    pub(super) fn release(&self, sym: &Sym, notional: i128) {
        self.risk
            .lock()
            .closed(notional, &sym.base, 0, 0, 0, now_ms());
        sym.busy.store(false, Ordering::Release);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn abandon(
        &self,
        sym: &Sym,
        opp: &Opportunity,
        route: Route,
        notional: i128,
        opp_id: u64,
        book_age_ms: i64,
        balance_age_ms: Option<i64>,
        why: &str,
    ) {
        self.journal.send(self.opportunity_record(
            sym,
            opp,
            route,
            opp_id,
            book_age_ms,
            balance_age_ms,
            why,
            None,
        ));
        self.emit(EngineEvent::Opportunity {
            id: opp_id,
            symbol: sym.unified.to_string(),
            buy: route.buy,
            sell: route.sell,
            qty: arb_core::fixed::format_scaled(opp.qty as i128, sym.scales.qty),
            edge_bps: arb_core::fixed::format_scaled(opp.edge as i128, 4),
            decision: why.to_string(),
        });
        self.release(sym, notional);
    }
}

/// Adds a finished transaction's fills to the running inventory ledger; returns why
/// each fill that could not be booked was not.
fn merge_ledger(
    total: &mut Ledger,
    orders: &[crate::tx::LegOrder],
    inner: &Inner,
    sym: &Sym,
) -> Vec<String> {
    let mut not_booked = Vec::new();
    for o in orders {
        if let Some(st) = inner.tracker_state(o.venue, &o.client_id) {
            for f in &st.fills {
                if let Err(e) = total.record(f, &sym.base, &sym.quote) {
                    not_booked.push(e.to_string());
                }
            }
        }
    }
    not_booked
}
