//! Crash recovery: before trading starts, reconcile every venue with the journal.
//!
//! The engine may have died anywhere, including between the two legs of an arbitrage or
//! after an order was sent but before the journal heard of it (journal writes are off
//! the hot path). Client order ids name the engine instance, the transaction and the
//! leg (`<instance>_<tx>_<leg>`), so what the venues hold can be attributed without the
//! journal, and recovery touches only ids with exactly this engine's instance name (a
//! second engine on the same account keeps its own):
//!
//! 1. our orders still open on either venue are canceled (a resting sell of a crashed
//!    arbitrage must not fill later, unwatched);
//! 2. our fills since the last journaled activity that the journal does not have are
//!    adopted: every page of each venue's trade list over the window
//!    ([`VenueClient::fills_between`](arb_exec::client::VenueClient::fills_between)),
//!    written to the journal under their transaction, which is created if the journal
//!    never saw it start;
//! 3. every transaction left unfinished gets its residual (base bought minus sold)
//!    computed from all its fills and handled by the hedge policy (unwind / chase
//!    flatten it with a market or IOC order, hold keeps it within the risk limits), and
//!    is closed in the journal as `recovered`;
//! 4. a transaction that had finished but gets a late fill is amended, never
//!    overwritten: its outcome stays, its figures are recomputed from all its fills
//!    (a residual the late fill leaves is handled as in 3), and an `adopted` event
//!    records the figures before and after.
//!
//! In a dry run recovery is read-only: it queries the venues and reports what it would
//! cancel, adopt and flatten, and sends and journals nothing of it (a later real
//! recovery then finds everything as it was).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use arb_core::time::{now_ms, now_ns};
use arb_core::Venue;
use arb_exec::client::{Located, OrderRef};
use arb_exec::lifecycle::Fill;
use arb_exec::order::{ClientOrderId, Leg, OrderKind, OrderRequest, Side};
use arb_exec::Amount;

use crate::accounting::Ledger;
use crate::journal::{self, Dec, JournalRecord};
use crate::runner::{Inner, Sym};
use crate::tx::HedgePolicy;

/// What recovery found and did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RecoveryReport {
    /// A dry run: nothing was sent or journaled; `would` says what would have been.
    pub dry_run: bool,
    /// Our orders found open and canceled.
    pub canceled_orders: usize,
    /// Fills the journal did not have, now written.
    pub adopted_fills: usize,
    /// Transactions closed (or amended) by recovery: (tx id, symbol, residual before,
    /// action).
    pub transactions: Vec<(u64, String, String, String)>,
    /// In a dry run, each action recovery would have taken, in order.
    pub would: Vec<String>,
    /// Problems met (recovery continues past them; each is also journaled).
    pub errors: Vec<String>,
}

/// Look back this far before the last journaled activity for fills.
const LOOKBACK_MS: i64 = 10 * 60_000;

/// The unwind legs recovery's flattening orders use (`u200`, `u201`, ...): a
/// transaction flattened twice (a late fill after a recovery) needs a fresh client id.
const FLATTEN_LEG: u8 = 200;

fn ours(inner: &Inner, id: &ClientOrderId) -> Option<u64> {
    let leg = id.leg_id()?;
    (leg.prefix == inner.cfg.client_id_prefix).then_some(leg.txn)
}

/// The first flattening leg no order of the transaction has used yet.
fn next_flatten_leg<'a>(ids: impl Iterator<Item = &'a str>) -> Result<u8, String> {
    let used = ids
        .filter_map(|c| ClientOrderId::from_venue(c).leg_id())
        .filter_map(|l| match l.leg {
            Leg::Unwind(n) if n >= FLATTEN_LEG => Some(n),
            _ => None,
        })
        .max();
    match used {
        None => Ok(FLATTEN_LEG),
        Some(n) => n
            .checked_add(1)
            .ok_or_else(|| "every flattening client id is used".to_string()),
    }
}

/// Runs recovery. Never fails as a whole: each problem is reported and recovery goes on.
pub async fn recover(inner: &Arc<Inner>) -> RecoveryReport {
    let dry = inner.cfg.dry_run;
    let mut rep = RecoveryReport {
        dry_run: dry,
        ..RecoveryReport::default()
    };
    let path = std::path::Path::new(&inner.cfg.journal_path);
    let state = match journal::read_state(path) {
        Ok(s) => s,
        Err(e) => {
            rep.errors.push(format!("journal unreadable: {e}"));
            return rep;
        }
    };
    let since = state
        .unfinished
        .iter()
        .map(|u| u.started_ms)
        .chain(state.last_started_ms)
        .min()
        .unwrap_or_else(now_ms)
        - LOOKBACK_MS;
    let mut known: HashSet<(String, String)> = state.fills.clone();
    // Fills per (tx id) with the symbol they belong to.
    let mut adopted: BTreeMap<u64, (Arc<Sym>, Vec<Fill>)> = BTreeMap::new();

    for sym in inner.syms.iter().flatten() {
        for &v in &sym.venues {
            let c = &inner.clients[v];
            let vs = sym.rules[v].venue_symbol.clone();
            // 1. Cancel what is still open.
            match c.open_orders(&vs).await {
                Ok(open) => {
                    for o in open {
                        let Some(cid) = o.client_id.clone().filter(|c| ours(inner, c).is_some())
                        else {
                            continue;
                        };
                        if dry {
                            rep.would.push(format!(
                                "would cancel {v} {cid} ({} {} at {})",
                                o.side.map_or("?", |s| s.as_str()),
                                o.orig_qty.map_or("?".into(), |q| q.to_string()),
                                o.price.map_or("market".into(), |p| p.to_string()),
                            ));
                            continue;
                        }
                        match c.cancel(&vs, &OrderRef::Client(cid.clone())).await {
                            Ok(r) => {
                                rep.canceled_orders += 1;
                                if let Some(txn) = ours(inner, &cid) {
                                    inner.journal_order_state(txn, sym, v, &r);
                                }
                            }
                            Err(e) if e.is_order_not_found() => {}
                            Err(e) => rep.errors.push(format!("{v} cancel {cid}: {e}")),
                        }
                    }
                }
                Err(e) => rep.errors.push(format!("{v} open orders {vs}: {e}")),
            }
            // 2. Fills the journal does not have: every page of the window.
            let fills = match c.fills_between(&vs, Some(since), None).await {
                Ok(f) => f,
                Err(e) => {
                    rep.errors.push(format!("{v} trades {vs}: {e}"));
                    continue;
                }
            };
            for mut f in fills {
                if known.contains(&(v.as_str().to_string(), f.trade_id.clone())) {
                    continue;
                }
                if f.client_id.is_none() {
                    // Some venues' trade lists omit the client id: ask the order.
                    if let Ok(r) = c.query(&vs, &OrderRef::Venue(f.order_id.clone())).await {
                        f.client_id = r.client_id;
                    }
                }
                let Some(txn) = f.client_id.as_ref().and_then(|c| ours(inner, c)) else {
                    continue;
                };
                known.insert((v.as_str().to_string(), f.trade_id.clone()));
                adopted
                    .entry(txn)
                    .or_insert_with(|| (sym.clone(), Vec::new()))
                    .1
                    .push(f);
            }
        }
    }

    // Orders the journal last saw in flight: their state at the venue now.
    if dry {
        if !state.in_flight.is_empty() {
            rep.would.push(format!(
                "would record the venues' state of {} order(s) the journal left in flight",
                state.in_flight.len()
            ));
        }
    } else {
        for o in &state.in_flight {
            resolve_in_flight(inner, o, &mut rep).await;
        }
    }

    // Unfinished transactions without any fill are closed too.
    for u in &state.unfinished {
        if adopted.contains_key(&u.tx_id) {
            continue;
        }
        if let Some(sym) = inner
            .syms
            .iter()
            .flatten()
            .find(|s| *s.unified == *u.symbol)
        {
            adopted.insert(u.tx_id, (sym.clone(), Vec::new()));
        }
    }
    let policy = inner.params.read().hedge_policy;

    for (txn, (sym, fills)) in adopted {
        // What the journal has of it: its fills (a kill can land between the journal
        // writes of two legs; counting only the adopted fills would "flatten" a
        // position that does not exist) and, if it finished, its figures.
        let jtx = match journal::read_tx(path, txn) {
            Ok(t) => t,
            Err(e) => {
                rep.errors.push(format!("tx {txn}: {e}"));
                continue;
            }
        };
        let finished = jtx.outcome.clone();
        let journaled: Vec<Fill> = jtx
            .fills
            .iter()
            .filter_map(|r| journaled_fill(r, &sym))
            .collect();
        let Some((bought, sold)) = base_sums(fills.iter().chain(journaled.iter())) else {
            // Venue values no real account holds: nothing is sent for this transaction;
            // the operator sees why.
            rep.errors.push(format!(
                "tx {txn}: its fills' base quantities do not fit a sum; left as it is"
            ));
            continue;
        };
        let residual = bought - sold;
        let all_fills = || fills.iter().chain(journaled.iter());
        let venue_of = |side: Side| all_fills().find(|f| f.side == side).map(|f| f.venue);
        let flatten_venue = if residual.is_negative() {
            // Buy back where a market buy is sized in base (MEXC; Gate's are in quote).
            base_market_buy_venue(&sym)
        } else {
            // Sell the base where it was bought.
            venue_of(Side::Buy).unwrap_or(sym.venues[0])
        };
        if dry {
            if !fills.is_empty() {
                rep.would.push(format!(
                    "would adopt {} fill(s) of tx {txn} ({})",
                    fills.len(),
                    finished.as_deref().unwrap_or("unfinished")
                ));
            }
            let action = if residual.is_zero() {
                "balanced".to_string()
            } else if policy == HedgePolicy::Hold {
                format!("would hold {residual} {}", sym.base)
            } else {
                format!(
                    "would flatten {residual} {} with a market {} on {flatten_venue}",
                    sym.base,
                    if residual.is_negative() {
                        "buy"
                    } else {
                        "sell"
                    }
                )
            };
            if !residual.is_zero() {
                rep.would
                    .push(format!("tx {txn} {}: {action}", sym.unified));
            }
            if finished.is_none() {
                rep.would.push(format!("would close tx {txn} as recovered"));
            }
            rep.transactions
                .push((txn, sym.unified.to_string(), residual.to_string(), action));
            continue;
        }
        rep.adopted_fills += fills.len();
        // This process's books: the adopted fills only (the journaled ones were booked
        // by the process that journaled them).
        let mut ledger = Ledger::new();
        for f in &fills {
            if let Err(e) = ledger.record(f, &sym.base, &sym.quote) {
                rep.errors.push(format!("tx {txn}: {e}"));
            }
        }
        // The transaction as a whole: its journaled fills plus the adopted ones.
        let mut tx_ledger = ledger.clone();
        for f in &journaled {
            if let Err(e) = tx_ledger.record(f, &sym.base, &sym.quote) {
                rep.errors.push(format!("tx {txn}: {e}"));
            }
        }
        if finished.is_none() {
            // The journal may never have seen it start (crash before the write):
            // create it (a no-op when it did).
            let buy_venue = venue_of(Side::Buy).unwrap_or(sym.venues[0]);
            // Where it sold; with no sell fill, the symbol's first other venue (the
            // route is only informative for a transaction the journal never saw).
            let sell_venue = venue_of(Side::Sell)
                .or_else(|| sym.venues.iter().copied().find(|&v| v != buy_venue))
                .unwrap_or(buy_venue);
            inner
                .journal
                .send(JournalRecord::TxStart(Box::new(journal::TxStart {
                    tx_id: txn,
                    symbol: sym.unified.clone(),
                    buy_venue: buy_venue.as_str(),
                    sell_venue: sell_venue.as_str(),
                    qty: Dec::new(bought.mantissa().max(sold.mantissa()), 18),
                    expected_pnl: Dec::new(0, 0),
                    started_ms: fills.iter().map(|f| f.time_ms).min().unwrap_or_else(now_ms),
                })));
        }
        for f in &fills {
            inner.journal_fill(txn, &sym, f);
        }
        // The orders behind the adopted fills: their final state at the venue, so no
        // journal row stays "in flight" for an order the venue has finished.
        let mut seen_orders = HashSet::new();
        for f in &fills {
            if !seen_orders.insert((f.venue, f.order_id.clone())) {
                continue;
            }
            let c = &inner.clients[f.venue];
            let vs = &sym.rules[f.venue].venue_symbol;
            match c.query(vs, &OrderRef::Venue(f.order_id.clone())).await {
                Ok(r) => inner.journal_order_state(txn, &sym, f.venue, &r),
                Err(e) => rep
                    .errors
                    .push(format!("{} query order {}: {e}", f.venue, f.order_id)),
            }
        }
        let mut flattened = Amount::ZERO;
        let action = if residual.is_zero() {
            "balanced".to_string()
        } else if policy == HedgePolicy::Hold {
            let mark = inner.mark_price(&sym);
            inner.risk.lock().closed(
                0,
                &sym.base,
                0,
                residual.mantissa(),
                mark.map_or(0, |m| m.mantissa()),
                now_ms(),
            );
            "held".to_string()
        } else {
            let ids = jtx.client_ids.iter().map(String::as_str).chain(
                fills
                    .iter()
                    .filter_map(|f| f.client_id.as_ref().map(|c| c.as_str())),
            );
            let leg = next_flatten_leg(ids);
            let result = match leg {
                Ok(leg) => flatten(inner, &sym, txn, leg, flatten_venue, residual).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(fills) => {
                    for f in &fills {
                        for l in [&mut ledger, &mut tx_ledger] {
                            if let Err(e) = l.record(f, &sym.base, &sym.quote) {
                                rep.errors.push(format!("tx {txn}: {e}"));
                            }
                        }
                    }
                    flattened = residual;
                    "flattened".to_string()
                }
                Err(e) => {
                    rep.errors
                        .push(format!("tx {txn}: flattening {residual} failed: {e}"));
                    "flatten_failed".to_string()
                }
            }
        };
        let mark = inner.mark_price(&sym);
        let pnl = tx_ledger
            .pnl(&sym.quote, |a| (a == &*sym.base).then_some(mark).flatten())
            .unwrap_or_else(|| {
                rep.errors
                    .push(format!("tx {txn}: realized PnL does not fit; booked as 0"));
                Amount::ZERO
            });
        let (bought_after, sold_after) = if flattened.is_negative() {
            (bought - flattened, sold)
        } else {
            (bought, sold + flattened)
        };
        let left = residual - flattened;
        match &finished {
            None => inner
                .journal
                .send(JournalRecord::TxFinish(Box::new(journal::TxFinish {
                    tx_id: txn,
                    finished_ms: now_ms(),
                    outcome: "recovered",
                    bought_qty: Dec::new(bought.mantissa(), 18),
                    sold_qty: Dec::new(sold.mantissa(), 18),
                    realized_pnl: Dec::new(pnl.mantissa(), 18),
                    fees_quote: Dec::new(tx_ledger.fees_quote().mantissa(), 18),
                    residual_base: Dec::new(residual.mantissa(), 18),
                    tick_to_trade_us: None,
                    detail: format!("recovered at start-up: residual {residual} {action}"),
                }))),
            Some(outcome) => {
                // Finished before: amend from all its fills, keep the outcome.
                let note = format!(
                    "amended at start-up: {} late fill(s) adopted, residual {residual} {action}",
                    fills.len()
                );
                let was = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
                inner.journal.send(JournalRecord::Event {
                    t_ms: now_ms(),
                    kind: "adopted",
                    detail: format!(
                        "tx {txn} ({outcome}): {} late fill(s) [{}]; bought {} -> {bought_after}, \
                         sold {} -> {sold_after}, pnl {} -> {pnl}, fees {} -> {}, residual {} -> \
                         {left} ({action})",
                        fills.len(),
                        fills
                            .iter()
                            .map(|f| format!("{} {}", f.venue, f.trade_id))
                            .collect::<Vec<_>>()
                            .join(", "),
                        was(&jtx.bought_qty),
                        was(&jtx.sold_qty),
                        was(&jtx.realized_pnl),
                        was(&jtx.fees_quote),
                        tx_ledger.fees_quote(),
                        was(&jtx.residual_base),
                    ),
                });
                inner
                    .journal
                    .send(JournalRecord::TxAmend(Box::new(journal::TxAmend {
                        tx_id: txn,
                        bought_qty: Dec::new(bought_after.mantissa(), 18),
                        sold_qty: Dec::new(sold_after.mantissa(), 18),
                        realized_pnl: Dec::new(pnl.mantissa(), 18),
                        fees_quote: Dec::new(tx_ledger.fees_quote().mantissa(), 18),
                        residual_base: Dec::new(left.mantissa(), 18),
                        note,
                    })));
            }
        }
        if let Err(e) = inner.stats.ledger.lock().merge(&ledger) {
            rep.errors.push(format!("tx {txn}: {e}"));
        }
        let action = if finished.is_some() {
            format!("amended, {action}")
        } else {
            action
        };
        rep.transactions
            .push((txn, sym.unified.to_string(), residual.to_string(), action));
    }
    for e in &rep.errors {
        inner.journal.send(JournalRecord::Event {
            t_ms: now_ms(),
            kind: "recovery_error",
            detail: e.clone(),
        });
    }
    if dry && !rep.would.is_empty() {
        // A record of the plan; nothing recovery reads back.
        inner.journal.send(JournalRecord::Event {
            t_ms: now_ms(),
            kind: "recovery_dry_run",
            detail: rep.would.join("; "),
        });
    }
    inner.journal.flush();
    rep
}

/// Journals the venue's word on an order the journal last saw in flight, found the way
/// an unknown placement outcome is ([`arb_exec::client::VenueClient::locate`]: by client
/// id, else in the venue's order and trade histories around its journaled request, and
/// only after the venue's read-after-write lag — Gate answers client ids only while an
/// order is open, MEXC not at all for a moment after accepting one). An order no source
/// has never arrived: no money moved, and the row says so (`not_found`).
async fn resolve_in_flight(
    inner: &Arc<Inner>,
    o: &journal::InFlightOrder,
    rep: &mut RecoveryReport,
) {
    let (Ok(venue), Some(sym)) = (
        o.venue.parse::<Venue>(),
        inner
            .syms
            .iter()
            .flatten()
            .find(|s| *s.unified == *o.symbol),
    ) else {
        return; // a symbol no longer configured: nothing to ask
    };
    let c = &inner.clients[venue];
    let vs = &sym.rules[venue].venue_symbol;
    let cid = ClientOrderId::from_venue(&o.client_order_id);
    let st = match c.locate(vs, &cid, o.request_ms).await {
        Ok(Located::Found(st)) => Some(st),
        Ok(Located::Absent) => None,
        Err(e) => {
            rep.errors
                .push(format!("{venue} locate order {}: {e}", o.client_order_id));
            return;
        }
    };
    let absent = "at recovery no source at the venue had it (order, histories, fills)";
    inner
        .journal
        .send(JournalRecord::Order(Box::new(journal::OrderRecord {
            client_order_id: o.client_order_id.clone(),
            tx_id: o.tx_id,
            leg: "",
            venue: venue.as_str(),
            symbol: sym.unified.clone(),
            side: "",
            kind: "",
            price: None,
            qty: None,
            quote_qty: None,
            venue_order_id: st.as_ref().and_then(|s| s.order_id.clone()),
            status: st.as_ref().map_or("not_found", |s| s.status.as_str()),
            filled_qty: st.as_ref().map(|s| Dec::new(s.filled_qty.mantissa(), 18)),
            request_us: 0,
            ack_us: None,
            final_us: st
                .as_ref()
                .is_none_or(|s| s.status.is_final())
                .then(|| now_ns() / 1000),
            error_class: None,
            error: match &st {
                Some(s) => s.reason.clone(),
                None => Some(absent.into()),
            },
        })));
}

/// A journaled fill back as an execution fill (for the transaction's residual and PnL);
/// `None` for a row that does not parse.
fn journaled_fill(r: &journal::JournaledFill, sym: &Sym) -> Option<Fill> {
    let venue: Venue = r.venue.parse().ok()?;
    Some(Fill {
        venue,
        trade_id: r.trade_id.clone(),
        order_id: String::new(),
        client_id: None,
        symbol: sym.rules[venue].venue_symbol.clone(),
        side: Side::parse(&r.side)?,
        price: Amount::parse(&r.price).ok()?,
        qty: Amount::parse(&r.qty).ok()?,
        quote_qty: Amount::parse(&r.quote_qty).ok()?,
        fee: Amount::parse(&r.fee).ok()?,
        fee_currency: r.fee_asset.clone(),
        is_maker: false,
        time_ms: 0,
        source: arb_exec::lifecycle::Source::Rest,
    })
}

/// Sends one market order on `venue` (client id leg `u<leg>`) that brings the residual
/// of `txn` to zero, journals its fills and returns them. (Both venues take base-sized
/// market sells; base-sized market buys exist on MEXC only, which is why buy-backs go
/// there.)
async fn flatten(
    inner: &Arc<Inner>,
    sym: &Arc<Sym>,
    txn: u64,
    leg: u8,
    venue: Venue,
    residual: Amount,
) -> Result<Vec<Fill>, String> {
    let (side, qty) = if residual.is_negative() {
        (Side::Buy, Amount::ZERO - residual)
    } else {
        (Side::Sell, residual)
    };
    let c = &inner.clients[venue];
    let cid = ClientOrderId::for_leg(&inner.cfg.client_id_prefix, txn, Leg::Unwind(leg))
        .map_err(|e| e.to_string())?;
    let req = OrderRequest {
        rules: sym.rules[venue].clone(),
        side,
        kind: OrderKind::Market { qty },
        client_id: cid.clone(),
    };
    let p = req.prepare().map_err(|e| e.to_string())?;
    inner.journal_order(
        txn,
        crate::tx::LegRole::Hedge(leg),
        sym,
        &p,
        now_ns() / 1000,
    );
    c.place_prepared(&p).await.map_err(|e| e.to_string())?;
    let st = c
        .tracker()
        .wait_until(&cid, Duration::from_secs(5), |s| {
            s.status.is_final()
                && s.fills.iter().fold(Amount::ZERO, |a, f| a + f.qty) >= s.filled_qty
        })
        .await
        .ok_or("no final state in time")?;
    // Its row was journaled at the request: close it with the venue's final state, or
    // it stays "in flight" for an order the venue has finished.
    inner.journal_tracked(
        txn,
        cid.as_str(),
        crate::tx::LegRole::Hedge(leg),
        sym,
        side.as_str(),
        &st,
    );
    for f in &st.fills {
        inner.journal_fill(txn, sym, f);
    }
    Ok(st.fills)
}

/// Base bought and sold over `fills`, checked: venue quantities are bounded
/// (`MAX_PARSED`), but a venue can send any number of fills. `None` if a sum does not fit.
fn base_sums<'a>(fills: impl Iterator<Item = &'a Fill>) -> Option<(Amount, Amount)> {
    let (mut bought, mut sold) = (Amount::ZERO, Amount::ZERO);
    for f in fills {
        match f.side {
            Side::Buy => bought = bought.checked_add(f.qty)?,
            Side::Sell => sold = sold.checked_add(f.qty)?,
        }
    }
    Some((bought, sold))
}

/// The first venue of `sym` whose market buys are sized in base (a residual short is
/// bought back there by quantity); the symbol's first venue if none is.
fn base_market_buy_venue(sym: &Sym) -> Venue {
    let market = OrderKind::Market { qty: Amount::ZERO };
    sym.venues
        .iter()
        .copied()
        .find(|&v| {
            arb_exec::adapter_for(v)
                .check_sizing(Side::Buy, &market)
                .is_ok()
        })
        .unwrap_or(sym.venues[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use arb_exec::amount::MAX_PARSED;
    use arb_exec::lifecycle::Source;

    fn fill(n: usize, side: Side, qty: Amount) -> Fill {
        Fill {
            venue: Venue::MEXC,
            trade_id: n.to_string(),
            order_id: "1".into(),
            client_id: None,
            symbol: "BTCUSDT".into(),
            side,
            price: Amount::from_mantissa(1),
            qty,
            quote_qty: qty,
            fee: Amount::ZERO,
            fee_currency: "USDT".into(),
            is_maker: false,
            time_ms: 0,
            source: Source::Rest,
        }
    }

    #[test]
    fn fills_whose_base_sum_does_not_fit_are_refused_not_summed() {
        // Each quantity is at the parser's bound; 200 of them exceed i128.
        let many: Vec<Fill> = (0..200).map(|n| fill(n, Side::Buy, MAX_PARSED)).collect();
        assert_eq!(base_sums(many.iter()), None);
        let two = [
            fill(1, Side::Buy, MAX_PARSED),
            fill(2, Side::Sell, Amount::from_mantissa(5)),
        ];
        assert_eq!(
            base_sums(two.iter()),
            Some((MAX_PARSED, Amount::from_mantissa(5)))
        );
    }
}
