//! The journal rows the engine writes: opportunities acted on, orders (intent, venue
//! reports, tracked state, acknowledgements) and fills.

use std::sync::Arc;

use arb_core::time::{now_ms, now_ns};
use arb_core::{Route, Venue};
use arb_exec::lifecycle::OrderState;
use arb_exec::order::{PreparedOrder, TimeInForce};
use arb_exec::Amount;

use super::{Inner, Sym};
use crate::convert::amount_dec;
use crate::detect::Opportunity;
use crate::journal::{self, Dec, JournalRecord};
use crate::tx::{LegRole, Side};

impl Inner {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn opportunity_record(
        &self,
        sym: &Sym,
        opp: &Opportunity,
        route: Route,
        id: u64,
        book_age_ms: i64,
        balance_age_ms: Option<i64>,
        decision: &str,
        tx_id: Option<u64>,
    ) -> JournalRecord {
        let (ps, qs) = (sym.scales.price, sym.scales.qty);
        JournalRecord::Opportunity(Box::new(journal::OpportunityRecord {
            id,
            t_ms: now_ms(),
            symbol: sym.unified.clone(),
            buy_venue: venue_name(route.buy),
            sell_venue: venue_name(route.sell),
            qty: Dec::new(opp.qty as i128, qs),
            buy_cost: Dec::new(opp.buy_cost as i128, ps + qs),
            sell_proceeds: Dec::new(opp.sell_proceeds as i128, ps + qs),
            best_ask: Dec::new(opp.best_ask as i128, ps),
            best_bid: Dec::new(opp.best_bid as i128, ps),
            edge: opp.edge,
            book_age_ms,
            balance_age_ms,
            decision: decision.to_string(),
            tx_id,
        }))
    }

    pub(crate) fn journal_order(
        &self,
        tx_id: u64,
        role: LegRole,
        sym: &Sym,
        p: &PreparedOrder,
        request_us: i64,
    ) {
        self.journal
            .send(order_record(tx_id, role, sym, p, request_us));
    }

    /// Records an order's state as the venue reports it (recovery).
    pub(crate) fn journal_order_state(
        &self,
        tx_id: u64,
        sym: &Sym,
        venue: Venue,
        r: &arb_exec::lifecycle::OrderReport,
    ) {
        let cid = r
            .client_id
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_else(|| format!("#{}", r.order_id));
        let leg = cid.rsplit('_').next().map_or("", |l| match l {
            "a" => "buy",
            "b" => "sell",
            _ => "hedge",
        });
        self.journal
            .send(JournalRecord::Order(Box::new(journal::OrderRecord {
                client_order_id: cid,
                tx_id,
                leg,
                venue: venue_name(venue),
                symbol: sym.unified.clone(),
                side: r.side.map_or("", Side::as_str),
                kind: "",
                price: r.price.map(amount_dec),
                qty: r.orig_qty.map(amount_dec),
                quote_qty: None,
                venue_order_id: Some(r.order_id.clone()),
                status: r.status.as_str(),
                filled_qty: r.filled_qty.map(amount_dec),
                request_us: 0,
                ack_us: None,
                final_us: r.status.is_final().then(|| now_ns() / 1000),
                error_class: None,
                error: None,
            })));
    }

    /// Records an order's state as its venue client tracks it (status, venue id, filled
    /// quantity; final time once final) in the journal.
    pub(crate) fn journal_tracked(
        &self,
        tx_id: u64,
        client_id: &str,
        role: LegRole,
        sym: &Sym,
        side: &'static str,
        st: &OrderState,
    ) {
        self.journal
            .send(JournalRecord::Order(Box::new(journal::OrderRecord {
                client_order_id: client_id.to_string(),
                tx_id,
                leg: role.label(),
                venue: venue_name(st.venue),
                symbol: sym.unified.clone(),
                side,
                kind: "",
                price: None,
                qty: None,
                quote_qty: None,
                venue_order_id: st.order_id.clone(),
                status: st.status.as_str(),
                filled_qty: Some(amount_dec(st.filled_qty)),
                request_us: 0,
                ack_us: None,
                final_us: st.status.is_final().then(|| now_ns() / 1000),
                error_class: None,
                error: st.reason.clone(),
            })));
    }

    /// Records a leg's acknowledgement (venue id, status, time) in the journal.
    pub(super) fn journal_ack(&self, tx_id: u64, p: &PreparedOrder, st: &OrderState, ack_us: i64) {
        self.journal
            .send(JournalRecord::Order(Box::new(journal::OrderRecord {
                client_order_id: p.client_id.as_str().to_string(),
                tx_id,
                leg: "",
                venue: venue_name(p.venue),
                symbol: Arc::from(""),
                side: "",
                kind: "",
                price: None,
                qty: None,
                quote_qty: None,
                venue_order_id: st.order_id.clone(),
                status: st.status.as_str(),
                filled_qty: None,
                request_us: 0,
                ack_us: Some(ack_us),
                final_us: None,
                error_class: None,
                error: None,
            })));
    }

    pub(crate) fn journal_fill(&self, tx_id: u64, sym: &Sym, f: &arb_exec::lifecycle::Fill) {
        self.journal
            .send(JournalRecord::Fill(Box::new(journal::FillRecord {
                venue: venue_name(f.venue),
                trade_id: f.trade_id.clone(),
                client_order_id: f
                    .client_id
                    .as_ref()
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
                venue_order_id: f.order_id.clone(),
                tx_id: Some(tx_id),
                symbol: sym.unified.clone(),
                side: f.side.as_str(),
                price: f.price.to_string(),
                qty: f.qty.to_string(),
                quote_qty: f.quote_qty.to_string(),
                fee: f.fee.to_string(),
                fee_asset: f.fee_currency.clone(),
                is_maker: f.is_maker,
                t_ms: f.time_ms,
                recv_us: now_ns() / 1000,
            })));
    }
}

pub(super) fn venue_name(v: Venue) -> &'static str {
    v.as_str()
}

/// The journal row of an order about to be sent (its intent: `pending_new`).
pub(super) fn order_record(
    tx_id: u64,
    role: LegRole,
    sym: &Sym,
    p: &PreparedOrder,
    request_us: i64,
) -> JournalRecord {
    use arb_exec::order::PreparedKind;
    let (kind, price, qty, quote) = match &p.kind {
        PreparedKind::Limit { price, qty, tif } => (
            tif_label(*tif),
            Some(price.clone()),
            Some(qty.clone()),
            None,
        ),
        PreparedKind::Market { qty } => ("market", None, Some(qty.clone()), None),
        PreparedKind::MarketQuote { quote } => ("market_quote", None, None, Some(quote.clone())),
    };
    let d = |s: Option<String>| s.and_then(|t| Amount::parse(&t).ok()).map(amount_dec);
    JournalRecord::Order(Box::new(journal::OrderRecord {
        client_order_id: p.client_id.as_str().to_string(),
        tx_id,
        leg: role.label(),
        venue: venue_name(p.venue),
        symbol: sym.unified.clone(),
        side: p.side.as_str(),
        kind,
        price: d(price),
        qty: d(qty),
        quote_qty: d(quote),
        venue_order_id: None,
        status: "pending_new",
        filled_qty: None,
        request_us,
        ack_us: None,
        final_us: None,
        error_class: None,
        error: None,
    }))
}

fn tif_label(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "limit_gtc",
        TimeInForce::Ioc => "limit_ioc",
        TimeInForce::Fok => "limit_fok",
        TimeInForce::PostOnly => "limit_post_only",
    }
}
