//! The hot path: the hook the feed calls inline on every book change, detection over the
//! books of every venue that lists the symbol on every route (ordered pair of venues),
//! and the balance caps detection prices under.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use arb_core::time::{now_ms, now_ns};
use arb_core::{Route, Venue};
use arb_market::store::{BookChange, ChangeKind};
use arb_market::BookSide;

use super::state::HotPathStages;
use super::{Inner, Sym, PANIC_NEXT_TX};
use crate::balances::BalanceBook;
use crate::config::Params;
use crate::convert::{acct_to_scale, scale_to_acct};
use crate::detect::{detect, Caps, DetectParams, Opportunity};
use crate::risk::Proposal;

/// Levels of each side copied out of a book for detection.
const DEPTH: usize = 20;

/// One venue's top levels, copied out of its book under the book's lock.
struct Levels {
    venue: Venue,
    bids: [(u64, u64); DEPTH],
    asks: [(u64, u64); DEPTH],
    n_bids: usize,
    n_asks: usize,
    age_ms: i64,
}

impl Levels {
    fn new(venue: Venue) -> Self {
        Levels {
            venue,
            bids: [(0, 0); DEPTH],
            asks: [(0, 0); DEPTH],
            n_bids: 0,
            n_asks: 0,
            age_ms: 0,
        }
    }
}

thread_local! {
    /// The copied books of the symbol being priced: reused, so the hot path allocates
    /// only the first time a thread prices as many venues.
    static SCRATCH: std::cell::RefCell<Vec<Levels>> = const { std::cell::RefCell::new(Vec::new()) };
}

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
        let Some((opp, route, book_age_ms)) = self.best_opportunity(sym, &p, None) else {
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
                buy: route.buy,
                sell: route.sell,
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
        HotPathStages::mark(&self.stats.hot_path.detected, ch.recv_ns, now_ns());
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
        // On the hot runtime (this feed task's own thread when it has one).
        self.hot.spawn(async move {
            let run = async {
                if PANIC_NEXT_TX.swap(false, Ordering::AcqRel) {
                    panic!("test hook: a transaction task of {} panicked", sym.unified);
                }
                me.clone()
                    .execute(
                        sym.clone(),
                        route,
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

    /// Copies the top levels of every venue's book for the symbol (valid and fresh only;
    /// a venue whose book is not is left out of the routes) and prices every route.
    /// Returns the best opportunity, its route and the older of its two books' ages (ms).
    /// `caps` prices under each route's balances (the pre-trade re-check); `None` is
    /// unlimited (detection on the feed thread).
    pub(super) fn best_opportunity(
        &self,
        sym: &Sym,
        p: &Params,
        caps: Option<&dyn Fn(Route) -> Caps>,
    ) -> Option<(Opportunity, Route, i64)> {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let books = &mut *scratch;
            books.clear();
            for &v in &sym.venues {
                let mut b = Levels::new(v);
                let ok = self.store.read(v, sym.id, |book, valid| {
                    if !valid {
                        return false;
                    }
                    for (k, l) in book.depth(BookSide::Bid, DEPTH).enumerate() {
                        b.bids[k] = (l.price, l.qty);
                        b.n_bids = k + 1;
                    }
                    for (k, l) in book.depth(BookSide::Ask, DEPTH).enumerate() {
                        b.asks[k] = (l.price, l.qty);
                        b.n_asks = k + 1;
                    }
                    true
                });
                if ok != Some(true) {
                    continue;
                }
                b.age_ms = self
                    .store
                    .age(v, sym.id)
                    .map_or(i64::MAX, |d| d.as_millis() as i64);
                books.push(b);
            }
            let legs = sym.legs.read();
            let max_cost =
                acct_to_scale(p.trade_notional, sym.scales.price + sym.scales.qty).max(0) as u128;
            let dp = DetectParams {
                threshold: p.threshold,
                max_cost,
            };
            let mut best: Option<(Opportunity, Route, i64)> = None;
            let mut stale = false;
            for b in books.iter() {
                for s in books.iter() {
                    if b.venue == s.venue {
                        continue;
                    }
                    let route = Route {
                        buy: b.venue,
                        sell: s.venue,
                    };
                    let (Some(lb), Some(ls)) = (legs.get(b.venue), legs.get(s.venue)) else {
                        continue;
                    };
                    let age_ms = b.age_ms.max(s.age_ms);
                    if age_ms > p.max_book_age_ms as i64 {
                        stale = true;
                        continue;
                    }
                    let c = caps.map_or(Caps::UNLIMITED, |f| f(route));
                    if let Ok(o) = detect(
                        &b.asks[..b.n_asks],
                        &s.bids[..s.n_bids],
                        sym.scales,
                        lb,
                        ls,
                        &dp,
                        &c,
                    ) {
                        if best
                            .as_ref()
                            .is_none_or(|(x, _, _)| o.profit_e8 > x.profit_e8)
                        {
                            best = Some((o, route, age_ms));
                        }
                    }
                }
            }
            if best.is_none() && stale {
                self.stats.stale_refused.inc();
            }
            best
        })
    }

    /// The caps of every route of the symbol under `bal` (computed under its lock).
    pub(super) fn route_caps(&self, sym: &Sym, bal: &BalanceBook) -> Vec<(Route, Caps)> {
        Route::all(&sym.venues)
            .map(|r| (r, self.caps_from(sym, r, bal)))
            .collect()
    }

    pub(super) fn caps_from(&self, sym: &Sym, route: Route, bal: &BalanceBook) -> Caps {
        let nscale = sym.scales.price + sym.scales.qty;
        // A balance whose available amount does not fit is none to trade with.
        let quote = bal
            .available(route.buy, &sym.quote)
            .map_or(0, |a| a.mantissa().max(0));
        let base = bal
            .available(route.sell, &sym.base)
            .map_or(0, |a| a.mantissa().max(0));
        Caps {
            buy_quote: acct_to_scale(quote, nscale) as u128,
            sell_base: acct_to_scale(base, sym.scales.qty).min(u64::MAX as i128) as u64,
        }
    }
}
