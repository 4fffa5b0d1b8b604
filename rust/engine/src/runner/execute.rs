//! Execution: once the pre-trade checks cleared an opportunity ([`super::pretrade`]), both
//! legs sent at once, and the transaction driven to its end from the order
//! trackers (cancel at the deadline, resolve unknown outcomes, hedge residuals).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arb_core::time::{now_ms, now_ns};
use arb_core::{ErrorClass, Route, Venue, VenueKind, VenueMap};
use arb_exec::client::{Located, OrderRef, VenueClient};
use arb_exec::lifecycle::{OrderState, OrderStatus};
use arb_exec::order::{ClientOrderId, Leg, OrderKind, OrderRequest, PreparedOrder, TimeInForce};
use arb_exec::{Amount, ExecError};

use super::journaling::{order_record, venue_name};
use super::pretrade::Cleared;
use super::state::HotPathStages;
use super::{EngineEvent, Inner, Sym};
use crate::config::{MexcBuyOrder, OrderStyle, Params};
use crate::convert::{amount_at, scale_to_acct};
use crate::detect::Opportunity;
use crate::journal::{self, Dec, JournalRecord};
use crate::tx::{Action, ArbTx, LegEvent, LegRole, OrderEnd, Outcome, Side};

impl Inner {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn execute(
        self: Arc<Self>,
        sym: Arc<Sym>,
        route: Route,
        detected: Opportunity,
        notional: i128,
        recv_ns: i64,
        book_age_ms: i64,
        p: Params,
    ) {
        let opp_id = self.next_id();
        let stages = &self.stats.hot_path;
        HotPathStages::mark(&stages.task_started, recv_ns, now_ns());
        let Route { buy, sell } = route;
        let Some(Cleared {
            opp,
            book_age_ms,
            balance_age_ms,
        }) = self
            .pretrade(&sym, route, &detected, notional, opp_id, book_age_ms, &p)
            .await
        else {
            return;
        };
        HotPathStages::mark(&stages.checks_cleared, recv_ns, now_ns());
        let scales = sym.scales;
        let nscale = scales.price + scales.qty;
        let qty_txt = || arb_core::fixed::format_scaled(opp.qty as i128, scales.qty);
        let edge_txt = || arb_core::fixed::format_scaled(opp.edge as i128, 4);

        let tx_id = self.next_id();
        let prefix = self.cfg.client_id_prefix.clone();
        let id =
            |leg| ClientOrderId::for_leg(&prefix, tx_id, leg).expect("prefix validated at start");
        let (buy_id, sell_id) = (id(Leg::A), id(Leg::B));
        let price = |m: u64| Amount::from_scaled(m, scales.price);
        let qty = Amount::from_scaled(opp.qty, scales.qty);
        let buy_kind = match buy_order_kind(&p, buy, price(opp.buy_limit), qty) {
            // The venue takes no market orders for the symbol: an IOC limit through the
            // book instead (at the detection's cap if the book is gone meanwhile).
            OrderKind::Market { qty } if !sym.rules[buy].market_orders => OrderKind::Limit {
                price: price(
                    self.walked_limit(&sym, buy, Side::Buy, opp.qty, &p)
                        .unwrap_or(opp.buy_limit),
                ),
                qty,
                tif: TimeInForce::Ioc,
            },
            k => k,
        };
        let sell_kind = OrderKind::Limit {
            price: price(opp.sell_limit),
            qty,
            tif: match p.order_style {
                OrderStyle::MarketLimit => TimeInForce::Gtc,
                OrderStyle::IocBoth => TimeInForce::Ioc,
            },
        };
        let buy_req = OrderRequest {
            rules: sym.rules[buy].clone(),
            side: Side::Buy,
            kind: buy_kind,
            client_id: buy_id.clone(),
        };
        let sell_req = OrderRequest {
            rules: sym.rules[sell].clone(),
            side: Side::Sell,
            kind: sell_kind,
            client_id: sell_id.clone(),
        };
        let prepared = buy_req
            .prepare()
            .and_then(|b| sell_req.prepare().map(|s| (b, s)));
        let (pb, ps) = match prepared {
            Ok(x) => x,
            Err(e) => {
                self.stats.error(e.class());
                self.abandon(
                    &sym,
                    &opp,
                    route,
                    notional,
                    opp_id,
                    book_age_ms,
                    Some(balance_age_ms),
                    &format!("order preparation failed: {e}"),
                );
                return;
            }
        };
        let opportunity_event = |decision: &str| EngineEvent::Opportunity {
            id: opp_id,
            symbol: sym.unified.to_string(),
            buy,
            sell,
            qty: qty_txt(),
            edge_bps: edge_txt(),
            decision: decision.into(),
        };
        if self.cfg.dry_run {
            let bal = Some(balance_age_ms);
            self.journal.send(self.opportunity_record(
                &sym,
                &opp,
                route,
                opp_id,
                book_age_ms,
                bal,
                "dry_run",
                None,
            ));
            self.emit(opportunity_event("dry_run"));
            self.release(&sym, notional);
            return;
        }

        // Reserve what the legs use (stream mode reads these).
        let quote_res = Amount::from_mantissa(scale_to_acct(opp.buy_cost as i128, nscale));
        let reserved = {
            let mut b = self.balances.lock();
            let r = b
                .reserve(tx_id, buy, &sym.quote, quote_res)
                .and_then(|()| b.reserve(tx_id, sell, &sym.base, qty));
            if r.is_err() {
                b.finish(tx_id, &VenueMap::new(), now_ms());
            }
            r
        };
        if let Err(e) = reserved {
            // Only absurd venue balances get here: nothing is sent.
            self.stats.error(ErrorClass::Malformed);
            self.journal.send(JournalRecord::Event {
                t_ms: now_ms(),
                kind: "not_sent",
                detail: format!("{}: {e}", sym.unified),
            });
            self.release(&sym, notional);
            return;
        }
        // The intent first: the transaction and both orders are staged in the journal
        // before they are sent (no syscall: the writer picks them up off this path), so
        // a crash after the send leaves the journal knowing what was in flight. The
        // Python event comes after the orders are out.
        let request_us = now_ns() / 1000;
        let submitted_ms = now_ms();
        self.journal.stage(self.opportunity_record(
            &sym,
            &opp,
            route,
            opp_id,
            book_age_ms,
            Some(balance_age_ms),
            "taken",
            Some(tx_id),
        ));
        self.journal
            .stage(JournalRecord::TxStart(Box::new(journal::TxStart {
                tx_id,
                symbol: sym.unified.clone(),
                buy_venue: venue_name(buy),
                sell_venue: venue_name(sell),
                qty: Dec::new(opp.qty as i128, scales.qty),
                expected_pnl: Dec::new(opp.profit_e8, nscale + 8),
                started_ms: request_us / 1000,
            })));
        self.journal
            .stage(order_record(tx_id, LegRole::Buy, &sym, &pb, request_us));
        self.journal
            .stage(order_record(tx_id, LegRole::Sell, &sym, &ps, request_us));
        // Measured after the staging, so its cost is in the figure.
        let tick_to_trade_us = (now_ns() - recv_ns) / 1000;
        self.stats
            .tick_to_trade
            .record_ns((tick_to_trade_us.max(0) * 1000) as u64);
        // Both legs at once (as `arb_exec::submit_pair_prepared`), each timed on its own
        // so the per-venue acknowledgement latency is that venue's.
        let ((ra, ack_a, out_a), (rb, ack_b, out_b)) = tokio::join!(
            timed_place(&self.clients[buy], &pb),
            timed_place(&self.clients[sell], &ps)
        );
        HotPathStages::mark(&stages.first_order_out, recv_ns, out_a.min(out_b));
        HotPathStages::mark(&stages.both_orders_out, recv_ns, out_a.max(out_b));
        self.emit(opportunity_event("taken"));
        for (v, r, ack_us, p) in [(buy, &ra, ack_a, &pb), (sell, &rb, ack_b, &ps)] {
            if let Ok(st) = r {
                self.stats.leg_ack[v]
                    .record(Duration::from_micros((ack_us - request_us).max(0) as u64));
                self.journal_ack(tx_id, p, st, ack_us);
            }
        }

        let mut tx = ArbTx::new(
            tx_id,
            buy,
            sell,
            opp.qty,
            buy_id.as_str().to_string(),
            sell_id.as_str().to_string(),
            p.hedge_policy,
        );
        self.fold_result(&mut tx, &sym, buy_id.as_str(), ra);
        self.fold_result(&mut tx, &sym, sell_id.as_str(), rb);
        let outcome = self.drive(&mut tx, &sym, &p).await;

        self.settle_fills(&tx, &sym, submitted_ms).await;
        // Reservations (legs and hedges) stay until the balances reflect the fills.
        let last_fill_ms = self.last_fill_ms(&tx);
        self.balances.lock().finish(tx.id, &last_fill_ms, now_ms());
        self.finish(&sym, &tx, outcome, notional, Some(tick_to_trade_us));
    }

    /// Folds a placement's immediate result into the transaction.
    pub(super) fn fold_result(
        &self,
        tx: &mut ArbTx,
        sym: &Sym,
        client_id: &str,
        r: Result<OrderState, ExecError>,
    ) {
        match r {
            Ok(st) => self.fold_state(tx, sym, client_id, &st),
            Err(e) => {
                self.stats.error(e.class());
                // Rejections: never retried as they are. Not API-tradable: the symbol
                // stops for good. Invalid order (precision, minimum, price range): our
                // rules disagree with the venue's; the symbol pauses for a minute.
                // Insufficient funds: the streamed balances are refreshed at once.
                match e.class() {
                    ErrorClass::SymbolNotTradable => sym.paused.store(true, Ordering::Relaxed),
                    ErrorClass::InvalidOrder => sym
                        .paused_until_ns
                        .store(now_ns() + 60_000_000_000, Ordering::Relaxed),
                    ErrorClass::InsufficientFunds => self.refresh_balances(e.venue),
                    _ => {}
                }
                let ev = if e.class() == ErrorClass::UnknownOutcome {
                    LegEvent::Unknown
                } else {
                    LegEvent::Final {
                        end: OrderEnd::Rejected(e.class()),
                        filled: 0,
                    }
                };
                tx.apply(client_id, ev);
                self.journal.send(JournalRecord::Event {
                    t_ms: now_ms(),
                    kind: "order_error",
                    detail: format!("tx {} {client_id}: {e}", tx.id),
                });
            }
        }
    }

    /// Folds a tracker state (fills, ack, final status) into the transaction.
    pub(super) fn fold_state(&self, tx: &mut ArbTx, sym: &Sym, client_id: &str, st: &OrderState) {
        let qs = sym.scales.qty;
        if let Some(oid) = &st.order_id {
            tx.apply(
                client_id,
                LegEvent::Ack {
                    venue_id: oid.clone(),
                },
            );
        }
        for f in &st.fills {
            tx.apply(
                client_id,
                LegEvent::Fill {
                    trade_id: f.trade_id.clone(),
                    qty: amount_at(f.qty, qs),
                },
            );
        }
        let end = match st.status {
            OrderStatus::Filled => Some(OrderEnd::Filled),
            OrderStatus::Canceled => Some(OrderEnd::Canceled),
            OrderStatus::Expired => Some(OrderEnd::Expired),
            OrderStatus::Rejected => Some(OrderEnd::Rejected(ErrorClass::InvalidOrder)),
            OrderStatus::Unknown => {
                tx.apply(client_id, LegEvent::Unknown);
                None
            }
            _ => None,
        };
        if let Some(end) = end {
            tx.apply(
                client_id,
                LegEvent::Final {
                    end,
                    filled: amount_at(effective_filled(st), qs),
                },
            );
        }
    }

    pub(super) fn tracker_state(&self, venue: Venue, client_id: &str) -> Option<OrderState> {
        self.clients[venue]
            .tracker()
            .get(&ClientOrderId::from_venue(client_id))
    }

    /// Runs the transaction's state machine to its end.
    pub(super) async fn drive(&self, tx: &mut ArbTx, sym: &Sym, p: &Params) -> Outcome {
        let started_ms = now_ms();
        let deadline = Instant::now() + Duration::from_millis(self.cfg.sell_deadline_ms);
        let hard_stop = Instant::now() + Duration::from_secs(60);
        loop {
            // Refresh from the trackers (streams and REST feed them).
            for i in 0..tx.orders.len() {
                let (venue, cid) = (tx.orders[i].venue, tx.orders[i].client_id.clone());
                if let Some(st) = self.tracker_state(venue, &cid) {
                    self.fold_state(tx, sym, &cid, &st);
                }
            }
            if Instant::now() >= deadline {
                tx.deadline();
            }
            // Everything final: make sure every fill is in before the residual decides
            // anything (a fill can trail its order's final state).
            if tx.outcome().is_none() && tx.orders.iter().all(|o| o.is_final()) {
                self.settle_fills(tx, sym, started_ms).await;
                for i in 0..tx.orders.len() {
                    let (venue, cid) = (tx.orders[i].venue, tx.orders[i].client_id.clone());
                    if let Some(st) = self.tracker_state(venue, &cid) {
                        self.fold_state(tx, sym, &cid, &st);
                    }
                }
            }
            match tx.next_action() {
                Action::Done(o) => return o,
                Action::Wait => {
                    if Instant::now() >= hard_stop {
                        // Something never answered: resolve every open order by query.
                        tx.deadline();
                    }
                    let live: Vec<(Venue, String)> = tx
                        .orders
                        .iter()
                        .filter(|o| !o.is_final())
                        .map(|o| (o.venue, o.client_id.clone()))
                        .collect();
                    let wait = deadline
                        .saturating_duration_since(Instant::now())
                        .max(Duration::from_millis(20));
                    self.wait_any_change(&live, wait.min(Duration::from_millis(500)))
                        .await;
                }
                Action::Cancel { client_id, venue } => {
                    tx.apply(&client_id, LegEvent::CancelSent);
                    let r = self.clients[venue]
                        .cancel(
                            &sym.rules[venue].venue_symbol,
                            &OrderRef::Client(ClientOrderId::from_venue(&client_id)),
                        )
                        .await;
                    if let Err(e) = &r {
                        if !e.is_order_not_found() {
                            self.stats.error(e.class());
                        }
                        // Already final (filled/canceled) or unknown: ask the venue.
                        self.resolve(tx, sym, venue, &client_id).await;
                    }
                }
                Action::Resolve { client_id, venue } => {
                    self.resolve(tx, sym, venue, &client_id).await;
                }
                Action::Hedge {
                    role,
                    venue,
                    side,
                    qty,
                    ioc,
                } => {
                    let legs: Vec<String> = tx
                        .orders
                        .iter()
                        .map(|o| {
                            format!(
                                "{}:{}:{:?}:filled={}",
                                o.client_id, o.venue, o.phase, o.filled
                            )
                        })
                        .collect();
                    self.journal.send(JournalRecord::Event {
                        t_ms: now_ms(),
                        kind: "hedge",
                        detail: format!(
                            "tx {} residual {} -> {} {qty} on {venue}; legs {}",
                            tx.id,
                            tx.residual(),
                            side.as_str(),
                            legs.join(", ")
                        ),
                    });
                    // Where the residual can be traded: the policy's venue if its
                    // amount precision and minimum take it exactly, else the other venue
                    // (chasing there) if that one can; what neither can take is dust.
                    let route = tx.route();
                    let Some(plan) = self.hedge_plan(sym, route, venue, side, qty, ioc, p.slippage)
                    else {
                        self.journal.send(JournalRecord::Event {
                            t_ms: now_ms(),
                            kind: "dust",
                            detail: format!(
                                "tx {}: residual {} base units below what either venue can trade; kept",
                                tx.id,
                                tx.residual()
                            ),
                        });
                        tx.finish_dust();
                        continue;
                    };
                    // `None`: nothing was sent (the venue would refuse it): dust, no failure.
                    if let Some(ok) = self.hedge(tx, sym, role, side, plan).await {
                        if let Some(k) = self.risk.lock().hedge_result(ok) {
                            self.halted(k);
                        }
                    }
                }
            }
        }
    }

    pub(super) async fn wait_any_change(&self, live: &[(Venue, String)], wait: Duration) {
        if live.is_empty() {
            return;
        }
        type Waiter = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
        let futs: Vec<Waiter> = live
            .iter()
            .map(|(v, cid)| -> Waiter {
                let tracker = self.clients[*v].tracker().clone();
                let cid = ClientOrderId::from_venue(cid);
                // The version is read now, before waiting, so a change that lands in
                // between is not missed.
                let seen = tracker.get(&cid).map_or(0, |s| s.version);
                Box::pin(async move {
                    tracker
                        .wait_until(&cid, wait, move |s| s.version > seen)
                        .await;
                })
            })
            .collect();
        let _ = tokio::time::timeout(wait, futures_select_any(futs)).await;
    }

    /// Queries an order and folds the answer in. An acknowledged order is asked for by
    /// its venue id (venues forget client ids of finished orders: Gate at once, in its
    /// order lookup). One never acknowledged is looked for in every source that covers
    /// finished orders (`VenueClient::resolve_unknown`: the tracker, the order by
    /// client id, the order and trade histories around the send, twice, after MEXC's
    /// read lag); only that proof of absence makes it final with nothing filled. A
    /// source that cannot be read leaves it unknown, asked again on the next round.
    pub(super) async fn resolve(&self, tx: &mut ArbTx, sym: &Sym, venue: Venue, client_id: &str) {
        let c = &self.clients[venue];
        let symbol = &sym.rules[venue].venue_symbol;
        let venue_id = tx
            .order(client_id)
            .and_then(|o| o.venue_id.clone())
            .or_else(|| {
                self.tracker_state(venue, client_id)
                    .and_then(|s| s.order_id)
            });
        let found = match &venue_id {
            Some(id) => c
                .query(symbol, &OrderRef::Venue(id.clone()))
                .await
                .map(|_| true),
            None => c
                .resolve_unknown(symbol, &ClientOrderId::from_venue(client_id))
                .await
                .map(|l| l != Located::Absent),
        };
        match found {
            Ok(true) => {
                if let Some(st) = self.tracker_state(venue, client_id) {
                    self.fold_state(tx, sym, client_id, &st);
                }
            }
            Ok(false) => {
                tx.apply(
                    client_id,
                    LegEvent::Final {
                        end: OrderEnd::Rejected(ErrorClass::UnknownOutcome),
                        filled: 0,
                    },
                );
            }
            Err(e) => {
                self.stats.error(e.class());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// Makes sure every fill of every order is known before booking: a venue's order
    /// answer can say "filled" before the private stream has delivered each fill.
    /// Waits (bounded) for the stream, then asks the venue's trade list over REST.
    pub(super) async fn settle_fills(&self, tx: &ArbTx, sym: &Sym, since_ms: i64) {
        fn complete(st: &OrderState) -> bool {
            st.fills.iter().fold(Amount::ZERO, |a, f| a + f.qty) >= effective_filled(st)
        }
        for o in &tx.orders {
            let c = &self.clients[o.venue];
            let cid = ClientOrderId::from_venue(&o.client_id);
            if c.tracker().get(&cid).is_none_or(|s| complete(&s)) {
                continue;
            }
            let settled = c
                .tracker()
                .wait_until(&cid, Duration::from_millis(1500), complete)
                .await;
            if settled.is_none() {
                let venue_symbol = &sym.rules[o.venue].venue_symbol;
                if let Err(e) = c.my_trades(venue_symbol, Some(since_ms - 5_000), 100).await {
                    self.stats.error(e.class());
                }
            }
        }
    }

    /// The venue time of the transaction's last fill on each venue (`None`: nothing
    /// filled there). An order reported filled whose fills are not in is taken as filled
    /// now.
    pub(super) fn last_fill_ms(&self, tx: &ArbTx) -> VenueMap<i64> {
        let mut last = VenueMap::new();
        for o in &tx.orders {
            let Some(st) = self.tracker_state(o.venue, &o.client_id) else {
                continue;
            };
            let t = match st.fills.iter().map(|f| f.time_ms).max() {
                Some(t) => t,
                None if effective_filled(&st).is_zero() => continue,
                None => self.clients[o.venue].venue_now_ms(),
            };
            let l = last.get_or_insert_with(o.venue, || t);
            *l = (*l).max(t);
        }
        last
    }

    pub(super) fn transaction_panicked(&self, sym: &Sym, notional: i128) {
        sym.paused.store(true, Ordering::Relaxed);
        self.release(sym, notional);
        let reason = format!(
            "{}: a transaction task panicked; symbol paused until restart",
            sym.unified
        );
        arb_telemetry::log_text(
            arb_telemetry::Level::Critical,
            "arb_engine",
            reason.clone(),
            [],
        );
        self.journal.send(JournalRecord::Event {
            t_ms: now_ms(),
            kind: "tx_panic",
            detail: reason.clone(),
        });
        self.emit(EngineEvent::Halted { reason });
    }
}

/// What an order has filled as far as anything says: its filled quantity, and for an
/// order reported `filled` at least its original quantity (a status can arrive before
/// the quantity that goes with it, e.g. a placement answer without `executedQty`).
fn effective_filled(st: &OrderState) -> Amount {
    let fills = st.fills.iter().fold(Amount::ZERO, |a, f| a + f.qty);
    let mut q = st.filled_qty.max(fills);
    if st.status == OrderStatus::Filled {
        if let Some(orig) = st.orig_qty {
            q = q.max(orig);
        }
    }
    q
}

/// The buy leg: capped at the worst ask detection priced (an IOC limit; `prepare()`
/// rounds a buy price down to the venue's tick, the safe side of the cap) unless a MEXC
/// venue (any instance) is told to buy at market (`strategy.mexc_buy_order: market`).
fn buy_order_kind(p: &Params, venue: Venue, cap: Amount, qty: Amount) -> OrderKind {
    match (p.order_style, venue.kind(), p.mexc_buy_order) {
        (OrderStyle::MarketLimit, VenueKind::Mexc, MexcBuyOrder::Market) => {
            OrderKind::Market { qty }
        }
        _ => OrderKind::Limit {
            price: cap,
            qty,
            tif: TimeInForce::Ioc,
        },
    }
}

impl Inner {
    /// The limit price (book scale) of the IOC that stands in for a market order of
    /// `qty` (book scale) on `venue`, which takes none for the symbol: its book walked to
    /// the size, plus `strategy.market_fallback_bps`. `None` when that side is empty.
    pub(super) fn walked_limit(
        &self,
        sym: &Sym,
        venue: Venue,
        side: Side,
        qty: u64,
        p: &Params,
    ) -> Option<u64> {
        let book_side = match side {
            Side::Buy => arb_market::book::BookSide::Ask,
            Side::Sell => arb_market::book::BookSide::Bid,
        };
        let worst = self
            .store
            .read(venue, sym.id, |b, _| b.sweep(book_side, qty).worst_price)?;
        let legs = sym.legs.read();
        (worst > 0).then(|| {
            crate::detect::walked_limit_price(
                worst,
                side == Side::Buy,
                p.market_fallback,
                sym.scales,
                &legs[venue],
            )
        })
    }
}

/// Places one order and notes when its answer came (wall-clock microseconds).
/// Places `o`; also when it was acknowledged (us) and when it went out (ns): the write of
/// its request, seen as [`arb_exec::h1::last_write_ns`] changing during one of its polls
/// (the owned order connections are written by the polling task itself); through a
/// client library's connection task instead, the end of its first poll, when the request
/// was handed over.
async fn timed_place(
    c: &VenueClient,
    o: &PreparedOrder,
) -> (Result<OrderState, ExecError>, i64, i64) {
    let mut out_ns = None;
    let mut first_yield = None;
    let mut place = std::pin::pin!(c.place_prepared(o));
    let r = std::future::poll_fn(|cx| {
        let before = arb_exec::h1::last_write_ns();
        let p = std::future::Future::poll(place.as_mut(), cx);
        let after = arb_exec::h1::last_write_ns();
        if after != before && out_ns.is_none() {
            out_ns = Some(after);
        }
        first_yield.get_or_insert_with(now_ns);
        p
    })
    .await;
    let out = out_ns.or(first_yield).unwrap_or_else(now_ns);
    (r, now_ns() / 1000, out)
}

/// Resolves when the first of `futs` does.
async fn futures_select_any(
    futs: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
) {
    if futs.is_empty() {
        return;
    }
    let mut futs = futs;
    std::future::poll_fn(move |cx| {
        for f in futs.iter_mut() {
            if f.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buy_leg_is_capped_unless_mexc_is_told_to_buy_at_market() {
        let cfg: crate::config::StrategyConfig = serde_json::from_str(
            r#"{"symbols":["BTC/USDT"],"min_edge_bps":"5","slippage_buffer_bps":"2",
                "trade_notional":"100","order_style":"market_limit","hedge_policy":"unwind",
                "cooldown_ms":0,"balance_mode":"fresh","python_risk_mode":"notify"}"#,
        )
        .unwrap();
        let risk = crate::config::RiskConfig {
            max_position_per_asset: "1".into(),
            max_total_exposure: "1".into(),
            max_notional_per_trade: "1".into(),
            daily_loss_limit: "1".into(),
            max_open_arbitrages: 1,
            max_book_age_ms: 1,
            max_balance_age_ms: 1,
            kill_switches: crate::config::KillSwitchConfig {
                leg_imbalance_notional: "1".into(),
                consecutive_hedge_failures: 1,
                resyncs_per_minute: 1,
            },
        };
        let mut p = cfg.params(&risk).unwrap();
        let (cap, qty) = (
            Amount::parse("100.5").unwrap(),
            Amount::parse("0.01").unwrap(),
        );
        let capped = OrderKind::Limit {
            price: cap,
            qty,
            tif: TimeInForce::Ioc,
        };
        // The default: both venues' buys are IOC limits at the cap.
        assert_eq!(p.mexc_buy_order, MexcBuyOrder::IocLimit);
        for v in [Venue::MEXC, Venue::GATE] {
            assert_eq!(buy_order_kind(&p, v, cap, qty), capped, "{v}");
        }
        p.mexc_buy_order = MexcBuyOrder::Market;
        assert_eq!(
            buy_order_kind(&p, Venue::MEXC, cap, qty),
            OrderKind::Market { qty }
        );
        assert_eq!(buy_order_kind(&p, Venue::GATE, cap, qty), capped);
        p.order_style = OrderStyle::IocBoth;
        assert_eq!(buy_order_kind(&p, Venue::MEXC, cap, qty), capped);
    }
}
