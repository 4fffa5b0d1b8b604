//! Hedging a residual: which venue can take it (precision and minimums), at which price,
//! and the hedge order itself.

use arb_core::time::{now_ms, now_ns};
use arb_core::{ErrorClass, Route, Venue};
use arb_exec::order::{ClientOrderId, Leg, OrderKind, OrderRequest, TimeInForce};
use arb_exec::Amount;

use super::{Inner, Sym};
use crate::detect::hedge_quote;
use crate::journal::JournalRecord;
use crate::tx::{ArbTx, LegRole, Side};

/// A hedge order as planned: where, how much, and its limit price (`None`: market).
#[derive(Clone, Copy, Debug)]
pub(super) struct HedgePlan {
    venue: Venue,
    qty: u64,
    limit: Option<u64>,
}

impl Inner {
    /// The best price an order of `side` takes on `venue` (its best ask for a buy).
    pub(super) fn touch(&self, sym: &Sym, venue: Venue, side: Side) -> Option<u64> {
        self.store.top(venue, sym.id).and_then(|t| match side {
            Side::Buy => t.ask.map(|l| l.price),
            Side::Sell => t.bid.map(|l| l.price),
        })
    }

    /// Chooses where a hedge goes — `venue`, else the other venue of the transaction's
    /// `route` — or `None` when the residual is dust neither venue can trade.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn hedge_plan(
        &self,
        sym: &Sym,
        route: Route,
        venue: Venue,
        side: Side,
        qty: u64,
        ioc: bool,
        slippage: u64,
    ) -> Option<HedgePlan> {
        let legs = sym.legs.read();
        // What `venue` takes and at which price: an IOC limit through the touch (chase,
        // on a venue whose market orders this side are not sized in base, as Gate's
        // market buys, and on one that takes no market orders for it) or a market order.
        let on = |venue: Venue, ioc: bool| {
            let base_sized_market = arb_exec::venues::adapter_for(venue)
                .check_sizing(side, &OrderKind::Market { qty: Amount::ZERO })
                .is_ok();
            // A venue that takes no market orders for the symbol gets the IOC too.
            let limit = ioc || !base_sized_market || !sym.rules[venue].market_orders;
            let q = hedge_quote(
                qty,
                self.touch(sym, venue, side),
                side == Side::Buy,
                limit,
                slippage,
                sym.scales,
                &legs[venue],
            );
            HedgePlan {
                venue,
                qty: q.qty,
                limit: q.limit,
            }
        };
        let here = on(venue, ioc);
        if here.qty == qty {
            return Some(here);
        }
        let Some(other) = route.other(venue) else {
            return Some(here).filter(|h| h.qty > 0);
        };
        let there = on(other, true);
        if there.qty == qty {
            return Some(there);
        }
        // Neither takes it exactly: the larger tradable part; the rest becomes dust.
        match here.qty.max(there.qty) {
            0 => None,
            q if q == here.qty => Some(here),
            _ => Some(there),
        }
    }

    pub(super) async fn hedge(
        &self,
        tx: &mut ArbTx,
        sym: &Sym,
        role: LegRole,
        side: Side,
        plan: HedgePlan,
    ) -> Option<bool> {
        let HedgePlan { venue, qty, limit } = plan;
        let scales = sym.scales;
        let rules = &sym.rules[venue];
        let q = Amount::from_scaled(qty, scales.qty);
        let cid = ClientOrderId::for_leg(&self.cfg.client_id_prefix, tx.id, leg_of(role))
            .expect("validated prefix");
        // At the price the plan checked the venue's minimums at.
        let kind = match limit {
            None => OrderKind::Market { qty: q },
            Some(px) => OrderKind::Limit {
                price: Amount::from_scaled(px, scales.price),
                qty: q,
                tif: TimeInForce::Ioc,
            },
        };
        let req = OrderRequest {
            rules: rules.clone(),
            side,
            kind,
            client_id: cid.clone(),
        };
        let prepared = match req.prepare() {
            Ok(p) => p,
            Err(e) => {
                // Refused by the venue's rules before sending: the residual is dust (the
                // same rejection would come back on every retry, tripping the
                // hedge-failure kill switch over a residual nothing can trade).
                self.journal.send(JournalRecord::Event {
                    t_ms: now_ms(),
                    kind: "dust",
                    detail: format!(
                        "tx {}: residual {} cannot be hedged ({e}); kept",
                        tx.id,
                        tx.residual()
                    ),
                });
                tx.finish_dust();
                return None;
            }
        };
        tx.add_hedge(role, venue, side, cid.as_str().to_string(), qty);
        // Reserved like the legs (released with them, once the balances show the fills):
        // base for a sell, quote at the limit (a market buy: at the ask) for a buy.
        let (asset, amount) = match side {
            Side::Sell => (&sym.base, q),
            Side::Buy => {
                let px = limit.or_else(|| self.touch(sym, venue, side)).unwrap_or(0);
                // prepare() has refused a notional out of range, so the product fits; a
                // touch price that would not (no book) reserves nothing rather than panic.
                let notional = q.checked_mul(Amount::from_scaled(px, scales.price));
                (&sym.quote, notional.unwrap_or(Amount::ZERO))
            }
        };
        if let Err(e) = self.balances.lock().reserve(tx.id, venue, asset, amount) {
            // Sent anyway (a residual must be hedged); only the stream-mode view of the
            // balance misses it until the next REST snapshot.
            self.stats.error(ErrorClass::Malformed);
            self.journal.send(JournalRecord::Event {
                t_ms: now_ms(),
                kind: "not_reserved",
                detail: format!("tx {}: {e}", tx.id),
            });
        }
        self.journal_order(tx.id, role, sym, &prepared, now_ns() / 1000);
        let r = self.clients[venue].place_prepared(&prepared).await;
        let ok = r.is_ok();
        self.fold_result(tx, sym, cid.as_str(), r);
        Some(ok)
    }
}

fn leg_of(role: LegRole) -> Leg {
    match role {
        LegRole::Buy => Leg::A,
        LegRole::Sell => Leg::B,
        LegRole::Hedge(n) => Leg::Unwind(n),
    }
}
