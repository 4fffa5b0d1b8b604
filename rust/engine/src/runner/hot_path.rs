//! The hot path: the hook the feed calls inline on every book change, detection over both
//! venues' books in both directions, and the balance caps detection prices under.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use arb_core::time::{now_ms, now_ns};
use arb_core::Venue;
use arb_market::store::{BookChange, ChangeKind};
use arb_market::BookSide;

use super::{Inner, Sym, PANIC_NEXT_TX};
use crate::balances::BalanceBook;
use crate::config::Params;
use crate::convert::{acct_to_scale, scale_to_acct};
use crate::detect::{detect, Caps, DetectParams, Opportunity};
use crate::risk::Proposal;

/// Levels of each side copied out of a book for detection.
const DEPTH: usize = 20;

impl Inner {
    /// The hot-path hook: runs inline on the feed task after each applied change.
    pub fn on_change(self: &Arc<Self>, ch: &BookChange) {
        if !matches!(ch.kind, ChangeKind::Update | ChangeKind::Synced) {
            if let ChangeKind::Invalidated(_) = ch.kind {
                if let Some(k) = self.risk.lock().resync(now_ms()) {
                    self.halted(k);
                }
            }
            return;
        }
        let Some(sym) = self.syms.get(ch.symbol.index()).and_then(Option::as_ref) else {
            return;
        };
        self.stats.changes.inc();
        if sym.busy.load(Ordering::Acquire) || sym.paused.load(Ordering::Relaxed) {
            return;
        }
        let p = self.params.read();
        let now = now_ns();
        if now - sym.last_act_ns.load(Ordering::Relaxed) < p.cooldown_ns
            || now < sym.paused_until_ns.load(Ordering::Relaxed)
        {
            return;
        }
        let Some((opp, buy, book_age_ms)) = self.best_opportunity(sym, &p, None) else {
            return;
        };
        self.stats.detected.inc();
        let notional = scale_to_acct(opp.buy_cost as i128, sym.scales.price + sym.scales.qty);
        let qty = scale_to_acct(opp.qty as i128, sym.scales.qty);
        let check = self.risk.lock().check(
            &Proposal {
                base_asset: &sym.base,
                qty,
                notional,
                buy,
                sell: crate::convert::two_venue_other(buy),
            },
            now / 1_000_000,
        );
        // One dislocation is acted on once: the cooldown starts whatever the decision.
        sym.last_act_ns.store(now, Ordering::Relaxed);
        if let Err(v) = check {
            self.stats.vetoed.inc();
            *self.stats.vetoes.lock().entry(v.label()).or_insert(0) += 1;
            return;
        }
        if sym
            .busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        self.risk.lock().opened(notional);
        self.stats.taken.inc();
        let me = self.clone();
        let sym = sym.clone();
        let recv_ns = ch.recv_ns;
        let params = p.clone();
        drop(p);
        // A panicked transaction would leave its symbol busy (never traded again) and its
        // notional counted open: the panic is caught in the task itself (no second task
        // per trade) and releases both, pausing the symbol since its legs may be anywhere
        // (the journal keeps the transaction unfinished, and recovery closes it at the
        // next start). Its balance reservations stay held for the same reason (its legs
        // may still fill). The panic itself was logged (scrubbed), counted and alerted by
        // the process's panic hook.
        self.handle.spawn(async move {
            let run = async {
                if PANIC_NEXT_TX.swap(false, Ordering::AcqRel) {
                    panic!("test hook: a transaction task of {} panicked", sym.unified);
                }
                me.clone()
                    .execute(
                        sym.clone(),
                        buy,
                        opp,
                        notional,
                        recv_ns,
                        book_age_ms,
                        params,
                    )
                    .await;
            };
            if futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(run))
                .await
                .is_err()
            {
                me.transaction_panicked(&sym, notional);
            }
        });
    }

    /// Copies both books' top levels (valid and fresh only) and prices both directions.
    /// Returns the better opportunity, its buy venue and the older book's age (ms).
    pub(super) fn best_opportunity(
        &self,
        sym: &Sym,
        p: &Params,
        caps: Option<[Caps; 2]>,
    ) -> Option<(Opportunity, Venue, i64)> {
        let mut bids = [[(0u64, 0u64); DEPTH]; 2];
        let mut asks = [[(0u64, 0u64); DEPTH]; 2];
        let mut n_bids = [0usize; 2];
        let mut n_asks = [0usize; 2];
        let mut age_ms = 0i64;
        for v in [Venue::MEXC, Venue::GATE] {
            let i = v.index();
            let ok = self.store.read(v, sym.id, |book, valid| {
                if !valid {
                    return false;
                }
                for (k, l) in book.depth(BookSide::Bid, DEPTH).enumerate() {
                    bids[i][k] = (l.price, l.qty);
                    n_bids[i] = k + 1;
                }
                for (k, l) in book.depth(BookSide::Ask, DEPTH).enumerate() {
                    asks[i][k] = (l.price, l.qty);
                    n_asks[i] = k + 1;
                }
                true
            })?;
            if !ok {
                return None;
            }
            let age = self
                .store
                .age(v, sym.id)
                .map_or(i64::MAX, |d| d.as_millis() as i64);
            age_ms = age_ms.max(age);
        }
        if age_ms > p.max_book_age_ms as i64 {
            self.stats.stale_refused.inc();
            return None;
        }
        let legs = *sym.legs.read();
        let max_cost =
            acct_to_scale(p.trade_notional, sym.scales.price + sym.scales.qty).max(0) as u128;
        let dp = DetectParams {
            threshold: p.threshold,
            max_cost,
        };
        let mut best: Option<(Opportunity, Venue)> = None;
        for buy in [Venue::MEXC, Venue::GATE] {
            let (b, s) = (buy.index(), crate::convert::two_venue_other(buy).index());
            let c = caps.map_or(Caps::UNLIMITED, |c| c[b]);
            if let Ok(o) = detect(
                &asks[b][..n_asks[b]],
                &bids[s][..n_bids[s]],
                sym.scales,
                &legs[b],
                &legs[s],
                &dp,
                &c,
            ) {
                if best.as_ref().is_none_or(|(x, _)| o.profit_e8 > x.profit_e8) {
                    best = Some((o, buy));
                }
            }
        }
        best.map(|(o, v)| (o, v, age_ms))
    }

    pub(super) fn caps_from(&self, sym: &Sym, buy: Venue, bal: &BalanceBook) -> Caps {
        let nscale = sym.scales.price + sym.scales.qty;
        // A balance whose available amount does not fit is none to trade with.
        let quote = bal
            .available(buy, &sym.quote)
            .map_or(0, |a| a.mantissa().max(0));
        let base = bal
            .available(crate::convert::two_venue_other(buy), &sym.base)
            .map_or(0, |a| a.mantissa().max(0));
        Caps {
            buy_quote: acct_to_scale(quote, nscale) as u128,
            sell_base: acct_to_scale(base, sym.scales.qty).min(u64::MAX as i128) as u64,
        }
    }
}
