//! The pre-trade checks between detection and sending: the balances (fresh from the
//! route's two venues at once, or the streamed view with reservations), a final re-check on the
//! current books under them, and Python's veto in `veto` mode.

use std::time::{Duration, Instant};

use arb_core::time::now_ms;
use arb_core::Route;

use crate::detect::Caps;

use super::{Inner, Sym, VetoRequest};
use crate::config::{BalanceMode, Params, PythonRiskMode};
use crate::detect::Opportunity;

/// How long a trade waits for Python's answer in `veto` mode; later is a refusal.
const VETO_TIMEOUT: Duration = Duration::from_secs(1);

/// An opportunity the pre-trade checks cleared, as re-priced on the current books under
/// the checked balances.
pub(super) struct Cleared {
    pub(super) opp: Opportunity,
    /// The older book's age at the re-check, milliseconds.
    pub(super) book_age_ms: i64,
    /// The balances' age at the decision, milliseconds (0: asked just now).
    pub(super) balance_age_ms: i64,
}

impl Inner {
    /// Runs the pre-trade checks on a detected opportunity. `None`: refused (journaled,
    /// told to Python, the symbol released).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn pretrade(
        &self,
        sym: &Sym,
        route: Route,
        detected: &Opportunity,
        notional: i128,
        opp_id: u64,
        book_age_ms: i64,
        p: &Params,
    ) -> Option<Cleared> {
        let Route { buy, sell } = route;
        // Every refusal before the orders go out is journaled, told to Python and
        // releases the symbol the same way.
        let refuse =
            |opp: &Opportunity, book_age_ms: i64, balance_age_ms: Option<i64>, why: &str| {
                self.abandon(
                    sym,
                    opp,
                    route,
                    notional,
                    opp_id,
                    book_age_ms,
                    balance_age_ms,
                    why,
                )
            };
        // Pre-trade: balances, then a final re-check on the current books.
        let (caps, balance_age_ms) = match p.balance_mode {
            BalanceMode::Fresh => {
                let (cb, cs) = (&self.clients[buy], &self.clients[sell]);
                let asked_ms = [cb.venue_now_ms(), cs.venue_now_ms()];
                let (a, b) = tokio::join!(cb.balances(), cs.balances());
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        // Into the shared book: a newer push still wins, and in-flight
                        // reservations of other trades still apply.
                        let mut book = self.balances.lock();
                        for ((v, bals), at) in [(buy, a), (sell, b)].into_iter().zip(asked_ms) {
                            let listed = bals.into_iter().map(|x| (x.asset, x.free));
                            book.snapshot(v, listed, at, now_ms());
                        }
                        (self.route_caps(sym, &book), 0)
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        self.stats.error(e.class());
                        refuse(
                            detected,
                            book_age_ms,
                            None,
                            &format!("balance check failed: {e}"),
                        );
                        return None;
                    }
                }
            }
            BalanceMode::Stream => {
                let bal = self.balances.lock();
                let age = now_ms() - bal.updated_ms(buy).min(bal.updated_ms(sell));
                (self.route_caps(sym, &bal), age)
            }
        };
        self.stats
            .decision_balance_age
            .record(Duration::from_millis(balance_age_ms.max(0) as u64));
        self.stats
            .decision_book_age
            .record(Duration::from_millis(book_age_ms.max(0) as u64));
        if balance_age_ms > p.max_balance_age_ms as i64 {
            self.stats.stale_refused.inc();
            refuse(
                detected,
                book_age_ms,
                Some(balance_age_ms),
                "refused: balance data too old",
            );
            return None;
        }
        // Every route is priced again under the balances: the detected one must still
        // be the best.
        let caps = |r: Route| {
            caps.iter()
                .find(|(x, _)| *x == r)
                .map_or(Caps::UNLIMITED, |(_, c)| *c)
        };
        let Some((opp, route2, book_age_ms)) = self.best_opportunity(sym, p, Some(&caps)) else {
            self.stats.vanished.inc();
            refuse(
                detected,
                book_age_ms,
                Some(balance_age_ms),
                "vanished at re-check",
            );
            return None;
        };
        if route2 != route {
            self.stats.vanished.inc();
            refuse(
                detected,
                book_age_ms,
                Some(balance_age_ms),
                "direction flipped at re-check",
            );
            return None;
        }
        // Python: veto (wait for approval) or notify (never wait).
        let scales = sym.scales;
        let nscale = scales.price + scales.qty;
        let qty_txt = || arb_core::fixed::format_scaled(opp.qty as i128, scales.qty);
        let edge_txt = || arb_core::fixed::format_scaled(opp.edge as i128, 4);
        if p.python_risk_mode == PythonRiskMode::Veto {
            // Veto mode approves only what Python approves: with no rule installed
            // (e.g. the mode switched at runtime without one), nothing is sent.
            let Some(veto) = self.veto.read().clone() else {
                refuse(
                    &opp,
                    book_age_ms,
                    Some(balance_age_ms),
                    "refused: veto mode and no python rule installed",
                );
                return None;
            };
            let t = Instant::now();
            let rx = veto(VetoRequest {
                symbol: sym.unified.to_string(),
                buy,
                sell,
                qty: qty_txt(),
                notional: arb_core::fixed::format_scaled(opp.buy_cost as i128, nscale),
                edge_bps: edge_txt(),
            });
            let answer = tokio::time::timeout(VETO_TIMEOUT, rx).await;
            let waited = t.elapsed();
            // A late answer refuses even when it is already there: a `VetoFn` may answer
            // before it returns (the Python one calls the rule directly), and then the
            // timeout above never runs.
            let ok = matches!(answer, Ok(Ok(true))) && waited <= VETO_TIMEOUT;
            self.stats.veto_wait.record(waited);
            if !ok {
                refuse(&opp, book_age_ms, Some(balance_age_ms), "vetoed by python");
                return None;
            }
        }

        Some(Cleared {
            opp,
            book_age_ms,
            balance_age_ms,
        })
    }
}
