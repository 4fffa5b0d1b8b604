//! The matching engine of one venue: books with price-time priority, accounts with free
//! and locked balances, fees, order and fill history. Pure and synchronous: the venue
//! front ends (REST, WebSocket) and the background market call it under the venue lock
//! and publish the [`Event`]s it leaves in its outbox, in order.
//!
//! All arithmetic is exact: prices and quantities are `u64` mantissas at the symbol's
//! decimals, notionals `u128` at `price + qty` decimals, balances `i128` at 18 decimals.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use arb_core::fixed::pow10;

use crate::spec::SymbolSpec;

pub use arb_core::Side;

/// How long an order lives and whether it may take liquidity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tif {
    Gtc,
    Ioc,
    Fok,
    /// Post-only: MEXC `LIMIT_MAKER`, Gate `poc`. Cancelled (not rejected) if it would take.
    PostOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderKind {
    Limit,
    Market,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    /// Cancelled after a partial fill (MEXC's PARTIALLY_CANCELED).
    PartiallyCanceled,
}

impl Status {
    pub fn is_open(self) -> bool {
        matches!(self, Status::New | Status::PartiallyFilled)
    }
}

/// Why an order ended; Gate reports it as `finish_as`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    Open,
    Filled,
    Cancelled,
    Ioc,
    Fok,
    Poc,
}

/// The size of a new order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// Base quantity at the symbol's qty decimals.
    Base(u64),
    /// Quote amount to spend (market buys only), at the notional scale.
    Quote(u128),
}

#[derive(Clone, Debug)]
pub struct NewOrder {
    pub symbol: usize,
    pub side: Side,
    pub kind: OrderKind,
    pub tif: Tif,
    /// Limit price at the symbol's price decimals (ignored for market orders).
    pub price: u64,
    pub size: Size,
    pub client_id: String,
    /// Fill at most this percentage of the size, cancelling the rest (an injected
    /// partial-fill fault); `None` = normal matching.
    pub max_fill_pct: Option<u32>,
}

/// A refusal before anything changed. Venue front ends turn it into their own codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    UnknownSymbol,
    InsufficientBalance {
        asset: String,
    },
    BelowMinQty {
        min: String,
    },
    BelowMinNotional {
        min: String,
        value: String,
        quote: String,
    },
    AboveMaxNotional {
        max: String,
    },
    ZeroSize,
    ZeroPrice,
    DuplicateClientId,
    TooManyOpenOrders,
}

#[derive(Clone, Debug)]
pub struct Order {
    pub id: u64,
    pub account: u32,
    pub symbol: usize,
    pub side: Side,
    pub kind: OrderKind,
    pub tif: Tif,
    pub price: u64,
    /// Ordered base quantity (0 for a market buy by quote).
    pub qty: u64,
    /// Quote amount of a market buy by quote (notional scale), else 0.
    pub quote_qty: u128,
    pub filled: u64,
    /// Sum of price * qty over fills, at the notional scale.
    pub filled_quote: u128,
    /// Fee charged so far, balance scale, in `fee_asset`.
    pub fee: i128,
    pub fee_asset: String,
    pub status: Status,
    pub finish: Finish,
    pub create_ms: i64,
    pub update_ms: i64,
    pub client_id: String,
    /// What this order still holds locked (quote for buys, base for sells), balance scale.
    pub locked: i128,
    /// Filled quantity of the last execution (for private pushes).
    pub last_fill: u64,
    /// Whether the last execution was as maker.
    pub last_is_maker: bool,
}

impl Order {
    pub fn remaining(&self) -> u64 {
        self.qty.saturating_sub(self.filled)
    }
}

#[derive(Clone, Debug)]
pub struct Fill {
    pub trade_id: u64,
    pub order_id: u64,
    pub account: u32,
    pub client_id: String,
    pub symbol: usize,
    pub side: Side,
    pub price: u64,
    pub qty: u64,
    pub quote: u128,
    /// Balance scale.
    pub fee: i128,
    pub fee_asset: String,
    pub is_maker: bool,
    pub time_ms: i64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    pub free: i128,
    pub locked: i128,
}

#[derive(Debug)]
pub struct Account {
    pub id: u32,
    /// Background accounts have unlimited funds and keep no history.
    pub unlimited: bool,
    pub balances: BTreeMap<String, Balance>,
    /// Every order this account placed (history), oldest first.
    pub order_ids: Vec<u64>,
    pub fills: Vec<Fill>,
    pub client_ids: HashMap<String, u64>,
    pub open_orders: usize,
}

/// One change of a price level: its new total (0 = gone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelChange {
    pub side: Side,
    pub price: u64,
    pub qty: u64,
}

/// A book change as published: versions `from..=to`, one per level change.
#[derive(Clone, Debug)]
pub struct BookEvent {
    pub symbol: usize,
    pub from: u64,
    pub to: u64,
    pub changes: Vec<LevelChange>,
    /// Best bid/ask after the change: (price, qty).
    pub best_bid: Option<(u64, u64)>,
    pub best_ask: Option<(u64, u64)>,
    pub time_ms: i64,
    /// Set on the push that opened a latency-referee probe gap.
    pub probe: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct TradeEvent {
    pub symbol: usize,
    pub trade_id: u64,
    pub price: u64,
    pub qty: u64,
    /// The taker's side.
    pub taker_side: Side,
    pub time_ms: i64,
}

/// What the engine publishes, in order.
#[derive(Clone, Debug)]
pub enum Event {
    Book(BookEvent),
    Trade(TradeEvent),
    /// An order changed (placed, filled, cancelled); a copy of its state after the change.
    Order(Box<Order>),
    Fill(Box<Fill>),
    /// A balance changed: the account's new free/locked for the asset and the deltas.
    Balance {
        account: u32,
        asset: String,
        balance: Balance,
        free_change: i128,
        locked_change: i128,
        time_ms: i64,
    },
    /// A fault acting on open WebSocket connections (published by the fault injector,
    /// never by the engine), delivered in order with the venue's other events.
    Fault(crate::faults::WsFault),
}

impl Event {
    /// The private account an event belongs to, if any.
    pub fn account(&self) -> Option<u32> {
        match self {
            Event::Order(o) => Some(o.account),
            Event::Fill(f) => Some(f.account),
            Event::Balance { account, .. } => Some(*account),
            _ => None,
        }
    }
}

/// Price levels `(price, total qty)`, best first.
pub type Levels = Vec<(u64, u64)>;

#[derive(Debug, Default)]
struct Level {
    total: u64,
    queue: VecDeque<u64>,
}

#[derive(Debug, Default)]
pub struct Book {
    bids: BTreeMap<u64, Level>,
    asks: BTreeMap<u64, Level>,
    /// Version of the last published change (MEXC version / Gate update id).
    pub version: u64,
    /// Levels touched since the last flush, in first-touch order.
    pending: Vec<(Side, u64)>,
    /// Versions to skip before the next published change (an injected gap).
    pub skip_next: u64,
    pub last_trade_price: u64,
    /// Tags the next published change as the opening of this referee probe.
    pub probe: Option<u64>,
}

impl Book {
    pub fn best_bid(&self) -> Option<(u64, u64)> {
        self.bids.iter().next_back().map(|(p, l)| (*p, l.total))
    }
    pub fn best_ask(&self) -> Option<(u64, u64)> {
        self.asks.iter().next().map(|(p, l)| (*p, l.total))
    }
    /// Levels best first, at most `depth` per side.
    pub fn levels(&self, depth: usize) -> (Levels, Levels) {
        let bids = self
            .bids
            .iter()
            .rev()
            .take(depth)
            .map(|(p, l)| (*p, l.total))
            .collect();
        let asks = self
            .asks
            .iter()
            .take(depth)
            .map(|(p, l)| (*p, l.total))
            .collect();
        (bids, asks)
    }
    pub fn level_qty(&self, side: Side, price: u64) -> u64 {
        let map = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        map.get(&price).map_or(0, |l| l.total)
    }
    fn touch(&mut self, side: Side, price: u64) {
        if !self.pending.contains(&(side, price)) {
            self.pending.push((side, price));
        }
    }
    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<u64, Level> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }
}

/// One venue's exchange state.
pub struct Exchange {
    pub specs: Arc<Vec<SymbolSpec>>,
    pub books: Vec<Book>,
    pub orders: HashMap<u64, Order>,
    pub accounts: Vec<Account>,
    next_order_id: u64,
    next_trade_id: u64,
    /// Events produced since the last [`Exchange::take_events`].
    pub outbox: Vec<Event>,
    touched_balances: Vec<(u32, String, Balance)>,
    pub max_open_orders: usize,
}

const PPM: i128 = 1_000_000;

impl Exchange {
    pub fn new(specs: Arc<Vec<SymbolSpec>>, first_id: u64) -> Self {
        let books = specs.iter().map(|_| Book::default()).collect();
        Exchange {
            specs,
            books,
            orders: HashMap::new(),
            accounts: Vec::new(),
            next_order_id: first_id,
            next_trade_id: first_id,
            outbox: Vec::new(),
            touched_balances: Vec::new(),
            max_open_orders: 500,
        }
    }

    /// Adds an account; returns its id.
    pub fn add_account(&mut self, unlimited: bool, balances: BTreeMap<String, i128>) -> u32 {
        let id = self.accounts.len() as u32;
        self.accounts.push(Account {
            id,
            unlimited,
            balances: balances
                .into_iter()
                .map(|(a, free)| (a, Balance { free, locked: 0 }))
                .collect(),
            order_ids: Vec::new(),
            fills: Vec::new(),
            client_ids: HashMap::new(),
            open_orders: 0,
        });
        id
    }

    pub fn take_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.outbox.drain(..)
    }

    /// Whether `symbol` has level changes waiting for [`Exchange::flush_book`].
    pub fn has_pending(&self, symbol: usize) -> bool {
        !self.books[symbol].pending.is_empty()
    }

    /// Publishes a phantom bid one tick above the best ask (a crossed book), then the
    /// push that removes it: two consecutive versions, the true book unchanged. Returns
    /// false when the book has no ask to cross.
    pub fn publish_crossed(&mut self, symbol: usize, now_ms: i64) -> bool {
        self.flush_book(symbol, now_ms);
        let book = &mut self.books[symbol];
        let Some((ask, _)) = book.best_ask() else {
            return false;
        };
        let phantom = ask + 1;
        let v = book.version + 1 + book.skip_next;
        book.skip_next = 0;
        book.version = v + 1;
        let real = book.level_qty(Side::Buy, phantom);
        let best_ask = book.best_ask();
        let best_bid = book.best_bid();
        for (version, qty, bid) in [
            (v, real + 1, Some((phantom, real + 1))),
            (v + 1, real, best_bid),
        ] {
            self.outbox.push(Event::Book(BookEvent {
                symbol,
                from: version,
                to: version,
                changes: vec![LevelChange {
                    side: Side::Buy,
                    price: phantom,
                    qty,
                }],
                best_bid: bid,
                best_ask,
                time_ms: now_ms,
                probe: None,
            }));
        }
        true
    }

    /// Publishes the pending level changes of `symbol` as one [`BookEvent`].
    pub fn flush_book(&mut self, symbol: usize, now_ms: i64) {
        let book = &mut self.books[symbol];
        if book.pending.is_empty() {
            return;
        }
        let changes: Vec<LevelChange> = book
            .pending
            .drain(..)
            .map(|(side, price)| LevelChange {
                side,
                price,
                qty: 0,
            })
            .collect();
        let mut changes = changes;
        for c in &mut changes {
            c.qty = book.level_qty(c.side, c.price);
        }
        let from = book.version + 1 + book.skip_next;
        book.skip_next = 0;
        let to = from + changes.len() as u64 - 1;
        book.version = to;
        let ev = BookEvent {
            symbol,
            from,
            to,
            changes,
            best_bid: book.best_bid(),
            best_ask: book.best_ask(),
            time_ms: now_ms,
            probe: book.probe.take(),
        };
        self.outbox.push(Event::Book(ev));
    }

    fn bal_mut(&mut self, account: u32, asset: &str) -> &mut Balance {
        let acc = &mut self.accounts[account as usize];
        if !acc.balances.contains_key(asset) {
            acc.balances.insert(asset.to_string(), Balance::default());
        }
        acc.balances.get_mut(asset).expect("inserted above")
    }

    /// Changes a balance (no-op for unlimited accounts) and remembers it for the
    /// balance events of this request.
    fn adjust(&mut self, account: u32, asset: &str, free: i128, locked: i128) {
        if self.accounts[account as usize].unlimited || (free == 0 && locked == 0) {
            return;
        }
        let b = self.bal_mut(account, asset);
        b.free += free;
        b.locked += locked;
        if let Some(t) = self
            .touched_balances
            .iter_mut()
            .find(|(a, s, _)| *a == account && s == asset)
        {
            t.2.free += free;
            t.2.locked += locked;
        } else {
            self.touched_balances
                .push((account, asset.to_string(), Balance { free, locked }));
        }
    }

    fn flush_balances(&mut self, now_ms: i64) {
        let touched = std::mem::take(&mut self.touched_balances);
        for (account, asset, delta) in touched {
            let balance = self.accounts[account as usize]
                .balances
                .get(&asset)
                .copied()
                .unwrap_or_default();
            self.outbox.push(Event::Balance {
                account,
                asset,
                balance,
                free_change: delta.free,
                locked_change: delta.locked,
                time_ms: now_ms,
            });
        }
    }

    /// Adds `delta` (negative: takes) to `account`'s free `asset` and publishes the
    /// balance event: a deposit credited or a withdrawal debited.
    ///
    /// # Errors
    /// [`Reject::InsufficientBalance`] when a debit exceeds the free balance; nothing
    /// changed then.
    pub fn move_funds(
        &mut self,
        account: u32,
        asset: &str,
        delta: i128,
        now_ms: i64,
    ) -> Result<(), Reject> {
        let acc = &self.accounts[account as usize];
        let free = acc.balances.get(asset).map_or(0, |b| b.free);
        if delta < 0 && !acc.unlimited && free < -delta {
            return Err(Reject::InsufficientBalance {
                asset: asset.to_string(),
            });
        }
        self.adjust(account, asset, delta, 0);
        self.flush_balances(now_ms);
        Ok(())
    }

    /// Places an order for `account`. On success the order id; the order may already
    /// be finished (filled, IOC remainder cancelled, post-only cancelled).
    ///
    /// # Errors
    /// A [`Reject`] when the order is invalid or unfunded; nothing changed then.
    pub fn place(&mut self, account: u32, req: &NewOrder, now_ms: i64) -> Result<u64, Reject> {
        // A handle on the specs (not a copy of the spec's strings): this runs per order.
        let specs = Arc::clone(&self.specs);
        let spec = specs.get(req.symbol).ok_or(Reject::UnknownSymbol)?;
        let unlimited = self.accounts[account as usize].unlimited;
        if !unlimited {
            if !req.client_id.is_empty()
                && self.accounts[account as usize]
                    .client_ids
                    .get(&req.client_id)
                    .and_then(|id| self.orders.get(id))
                    .is_some_and(|o| o.status.is_open())
            {
                return Err(Reject::DuplicateClientId);
            }
            if self.accounts[account as usize].open_orders >= self.max_open_orders {
                return Err(Reject::TooManyOpenOrders);
            }
        }
        if req.kind == OrderKind::Limit && req.price == 0 {
            return Err(Reject::ZeroPrice);
        }
        // Size checks and the amount to lock.
        let (qty, quote_qty, lock) = match (req.kind, req.side, req.size) {
            (_, _, Size::Base(0)) | (_, _, Size::Quote(0)) => return Err(Reject::ZeroSize),
            (OrderKind::Limit, side, Size::Base(q)) => {
                if q < spec.min_qty {
                    return Err(Reject::BelowMinQty {
                        min: spec.fmt_qty(spec.min_qty),
                    });
                }
                let n = req.price as u128 * q as u128;
                self.check_notional(spec, n)?;
                let lock = match side {
                    Side::Buy => spec.notional_to_bal(n),
                    Side::Sell => spec.qty_to_bal(q),
                };
                (q, 0u128, lock)
            }
            (OrderKind::Limit, _, Size::Quote(_)) => return Err(Reject::ZeroSize),
            (OrderKind::Market, Side::Buy, Size::Quote(n)) => {
                self.check_notional(spec, n)?;
                (0, n, spec.notional_to_bal(n))
            }
            (OrderKind::Market, Side::Sell, Size::Quote(_)) => return Err(Reject::ZeroSize),
            (OrderKind::Market, side, Size::Base(q)) => {
                if q < spec.min_qty {
                    return Err(Reject::BelowMinQty {
                        min: spec.fmt_qty(spec.min_qty),
                    });
                }
                match side {
                    Side::Sell => (q, 0, spec.qty_to_bal(q)),
                    Side::Buy => {
                        // Lock what sweeping the book would cost now.
                        let cost = self.sweep_cost(req.symbol, q);
                        (q, 0, spec.notional_to_bal(cost))
                    }
                }
            }
        };
        let lock_asset = match req.side {
            Side::Buy => spec.quote.clone(),
            Side::Sell => spec.base.clone(),
        };
        if !unlimited {
            let free = self.accounts[account as usize]
                .balances
                .get(&lock_asset)
                .map_or(0, |b| b.free);
            if free < lock {
                return Err(Reject::InsufficientBalance { asset: lock_asset });
            }
        }
        let id = self.next_order_id;
        self.next_order_id += 1;
        let fee_asset = match req.side {
            Side::Buy => spec.base.clone(),
            Side::Sell => spec.quote.clone(),
        };
        let order = Order {
            id,
            account,
            symbol: req.symbol,
            side: req.side,
            kind: req.kind,
            tif: req.tif,
            price: if req.kind == OrderKind::Limit {
                req.price
            } else {
                0
            },
            qty,
            quote_qty,
            filled: 0,
            filled_quote: 0,
            fee: 0,
            fee_asset,
            status: Status::New,
            finish: Finish::Open,
            create_ms: now_ms,
            update_ms: now_ms,
            client_id: req.client_id.clone(),
            locked: lock,
            last_fill: 0,
            last_is_maker: false,
        };
        self.adjust(account, &lock_asset, -lock, lock);
        if !unlimited {
            let acc = &mut self.accounts[account as usize];
            acc.order_ids.push(id);
            if !req.client_id.is_empty() {
                acc.client_ids.insert(req.client_id.clone(), id);
            }
        }
        self.orders.insert(id, order);

        // Post-only and FOK decide before touching the book.
        let crosses = self.crosses(req.symbol, req.side, req.kind, req.price);
        if req.tif == Tif::PostOnly && crosses {
            self.finish(id, Finish::Poc, now_ms);
            self.flush_balances(now_ms);
            return Ok(id);
        }
        self.push_order_event(id);
        if req.tif == Tif::Fok
            && !self.fok_fillable(req.symbol, req.side, req.kind, req.price, qty, quote_qty)
        {
            self.finish(id, Finish::Fok, now_ms);
            self.flush_balances(now_ms);
            return Ok(id);
        }
        self.match_incoming(id, req.max_fill_pct, now_ms);
        let o = &self.orders[&id];
        let done = match o.kind {
            OrderKind::Market => true,
            OrderKind::Limit => o.filled >= o.qty,
        };
        if done || matches!(o.tif, Tif::Ioc | Tif::Fok) || req.max_fill_pct.is_some() {
            // Filled: all of a base quantity; or, for a market buy by quote, what is left
            // cannot buy one step at the best remaining ask.
            let by_quote_done = o.quote_qty > 0 && o.filled > 0 && {
                let rest = o.quote_qty - o.filled_quote;
                let book = &self.books[o.symbol];
                rest < book.best_ask().map_or(book.last_trade_price, |(p, _)| p) as u128
            };
            let why = if (o.qty > 0 && o.filled >= o.qty) || by_quote_done {
                Finish::Filled
            } else {
                Finish::Ioc
            };
            self.finish(id, why, now_ms);
        } else {
            self.rest(id);
            if !unlimited {
                self.accounts[account as usize].open_orders += 1;
            }
        }
        self.flush_balances(now_ms);
        Ok(id)
    }

    fn check_notional(&self, spec: &SymbolSpec, n: u128) -> Result<(), Reject> {
        if n < spec.min_notional {
            return Err(Reject::BelowMinNotional {
                min: spec.fmt_notional(spec.min_notional),
                value: spec.fmt_notional(n),
                quote: spec.quote.clone(),
            });
        }
        if n > spec.max_notional {
            return Err(Reject::AboveMaxNotional {
                max: spec.fmt_notional(spec.max_notional),
            });
        }
        Ok(())
    }

    /// What buying `qty` at market would cost now (notional scale); the whole ask side
    /// if the book is too thin.
    fn sweep_cost(&self, symbol: usize, mut qty: u64) -> u128 {
        let mut cost = 0u128;
        for (p, l) in &self.books[symbol].asks {
            let q = qty.min(l.total);
            cost += *p as u128 * q as u128;
            qty -= q;
            if qty == 0 {
                break;
            }
        }
        cost
    }

    fn crosses(&self, symbol: usize, side: Side, kind: OrderKind, price: u64) -> bool {
        let b = &self.books[symbol];
        match (side, kind) {
            (_, OrderKind::Market) => true,
            (Side::Buy, _) => b.best_ask().is_some_and(|(a, _)| a <= price),
            (Side::Sell, _) => b.best_bid().is_some_and(|(bb, _)| bb >= price),
        }
    }

    fn fok_fillable(
        &self,
        symbol: usize,
        side: Side,
        kind: OrderKind,
        price: u64,
        qty: u64,
        quote: u128,
    ) -> bool {
        let b = &self.books[symbol];
        let mut need_q = qty as u128;
        let mut need_n = quote;
        let ok = |p: u64| match (kind, side) {
            (OrderKind::Market, _) => true,
            (_, Side::Buy) => p <= price,
            (_, Side::Sell) => p >= price,
        };
        let levels: Box<dyn Iterator<Item = (&u64, &Level)>> = match side {
            Side::Buy => Box::new(b.asks.iter()),
            Side::Sell => Box::new(b.bids.iter().rev()),
        };
        for (p, l) in levels {
            if !ok(*p) {
                break;
            }
            if quote > 0 {
                let n = *p as u128 * l.total as u128;
                if n >= need_n {
                    return true;
                }
                need_n -= n;
            } else {
                if l.total as u128 >= need_q {
                    return true;
                }
                need_q -= l.total as u128;
            }
        }
        false
    }

    /// Matches the incoming order `id` against the opposite side.
    fn match_incoming(&mut self, id: u64, cap_pct: Option<u32>, now_ms: i64) {
        let (symbol, side, kind, limit) = {
            let o = &self.orders[&id];
            (o.symbol, o.side, o.kind, o.price)
        };
        // An injected partial fill caps what may match.
        let (cap_qty, cap_quote) = {
            let o = &self.orders[&id];
            match cap_pct {
                Some(p) => (
                    (o.qty as u128 * p.min(100) as u128 / 100) as u64,
                    o.quote_qty * p.min(100) as u128 / 100,
                ),
                None => (o.qty, o.quote_qty),
            }
        };
        loop {
            let (want, by_quote) = {
                let o = &self.orders[&id];
                if o.quote_qty > 0 {
                    (0, cap_quote.saturating_sub(o.filled_quote))
                } else {
                    (cap_qty.saturating_sub(o.filled), 0)
                }
            };
            if o_is_capped_out(want, by_quote, self.orders[&id].quote_qty > 0) {
                break;
            }
            let book = &mut self.books[symbol];
            let best = match side {
                Side::Buy => book.asks.iter_mut().next(),
                Side::Sell => book.bids.iter_mut().next_back(),
            };
            let Some((&px, level)) = best else { break };
            let acceptable = match (kind, side) {
                (OrderKind::Market, _) => true,
                (_, Side::Buy) => px <= limit,
                (_, Side::Sell) => px >= limit,
            };
            if !acceptable {
                break;
            }
            let Some(&maker_id) = level.queue.front() else {
                break;
            };
            let maker_rem = self.orders[&maker_id].remaining();
            let q = if by_quote > 0 {
                (by_quote / px as u128).min(maker_rem as u128) as u64
            } else {
                want.min(maker_rem)
            };
            if q == 0 {
                break;
            }
            self.execute(id, maker_id, px, q, now_ms);
        }
    }

    /// One trade of `q` at `px` between taker `tid` and resting maker `mid`.
    fn execute(&mut self, tid: u64, mid: u64, px: u64, q: u64, now_ms: i64) {
        let symbol = self.orders[&tid].symbol;
        let specs = Arc::clone(&self.specs);
        let spec = &specs[symbol];
        let trade_id = self.next_trade_id;
        self.next_trade_id += 1;
        let notional = px as u128 * q as u128;
        let taker_side = self.orders[&tid].side;
        // Book: the maker's level shrinks.
        {
            let book = &mut self.books[symbol];
            let map = book.side_mut(taker_side.opposite());
            let level = map.get_mut(&px).expect("maker level exists");
            level.total -= q;
            let maker_done = self.orders[&mid].remaining() == q;
            if maker_done {
                level.queue.pop_front();
            }
            if level.total == 0 {
                map.remove(&px);
            }
            book.touch(taker_side.opposite(), px);
            book.last_trade_price = px;
        }
        for (oid, is_maker) in [(mid, true), (tid, false)] {
            self.apply_fill(oid, is_maker, px, q, notional, trade_id, spec, now_ms);
        }
        self.outbox.push(Event::Trade(TradeEvent {
            symbol,
            trade_id,
            price: px,
            qty: q,
            taker_side,
            time_ms: now_ms,
        }));
        // A fully filled maker is finished.
        if self.orders[&mid].remaining() == 0 {
            self.finish(mid, Finish::Filled, now_ms);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_fill(
        &mut self,
        oid: u64,
        is_maker: bool,
        px: u64,
        q: u64,
        notional: u128,
        trade_id: u64,
        spec: &SymbolSpec,
        now_ms: i64,
    ) {
        let o = self.orders.get_mut(&oid).expect("order exists");
        let ppm = if is_maker {
            spec.maker_ppm
        } else {
            spec.taker_ppm
        } as i128;
        let notional_bal = spec.notional_to_bal(notional);
        let qty_bal = spec.qty_to_bal(q);
        let (fee, lock_release) = match o.side {
            Side::Buy => {
                let fee = qty_bal * ppm / PPM;
                let release = match o.kind {
                    OrderKind::Limit => spec.notional_to_bal(o.price as u128 * q as u128),
                    OrderKind::Market => notional_bal,
                };
                (fee, release)
            }
            Side::Sell => (notional_bal * ppm / PPM, qty_bal),
        };
        o.filled += q;
        o.filled_quote += notional;
        o.fee += fee;
        o.locked -= lock_release;
        o.update_ms = now_ms;
        o.last_fill = q;
        o.last_is_maker = is_maker;
        if o.qty > 0 && o.filled < o.qty || o.quote_qty > 0 {
            o.status = Status::PartiallyFilled;
        }
        let account = o.account;
        let side = o.side;
        let symbol = o.symbol;
        // Background accounts keep no history: no copies for them.
        let snapshot = if self.accounts[account as usize].unlimited {
            None
        } else {
            Some(o.clone())
        };
        match side {
            Side::Buy => {
                // Spent price*q from the lock; a limit buy filled below its limit gets
                // the difference back.
                self.adjust(
                    account,
                    &spec.quote,
                    lock_release - notional_bal,
                    -lock_release,
                );
                self.adjust(account, &spec.base, qty_bal - fee, 0);
            }
            Side::Sell => {
                self.adjust(account, &spec.base, 0, -qty_bal);
                self.adjust(account, &spec.quote, notional_bal - fee, 0);
            }
        }
        let Some(snapshot) = snapshot else {
            return;
        };
        let fill = Fill {
            trade_id,
            order_id: oid,
            account,
            client_id: snapshot.client_id.clone(),
            symbol,
            side,
            price: px,
            qty: q,
            quote: notional,
            fee,
            fee_asset: snapshot.fee_asset.clone(),
            is_maker,
            time_ms: now_ms,
        };
        self.accounts[account as usize].fills.push(fill.clone());
        self.outbox.push(Event::Fill(Box::new(fill)));
        if snapshot.status == Status::PartiallyFilled {
            self.outbox.push(Event::Order(Box::new(snapshot)));
        }
    }

    fn rest(&mut self, id: u64) {
        let o = &self.orders[&id];
        let (symbol, side, price, rem) = (o.symbol, o.side, o.price, o.remaining());
        let book = &mut self.books[symbol];
        let level = book.side_mut(side).entry(price).or_default();
        level.total += rem;
        level.queue.push_back(id);
        book.touch(side, price);
    }

    /// Ends an order: releases what it still holds locked and publishes it.
    fn finish(&mut self, id: u64, why: Finish, now_ms: i64) {
        let spec_idx = self.orders[&id].symbol;
        let o = self.orders.get_mut(&id).expect("order exists");
        o.finish = why;
        o.status = match why {
            Finish::Filled => Status::Filled,
            _ if o.filled > 0 => Status::PartiallyCanceled,
            _ => Status::Canceled,
        };
        o.update_ms = now_ms;
        let release = o.locked;
        o.locked = 0;
        let account = o.account;
        let side = o.side;
        if self.accounts[account as usize].unlimited {
            // Background accounts: no balances, no history.
            self.orders.remove(&id);
            return;
        }
        let snapshot = o.clone();
        let specs = Arc::clone(&self.specs);
        let asset = match side {
            Side::Buy => &specs[spec_idx].quote,
            Side::Sell => &specs[spec_idx].base,
        };
        self.adjust(account, asset, release, -release);
        self.outbox.push(Event::Order(Box::new(snapshot)));
    }

    /// Cancels an open order of `account`.
    ///
    /// # Errors
    /// `Err(None)` when no such order exists for the account, `Err(Some(order))` when it
    /// exists but is already finished.
    pub fn cancel(&mut self, account: u32, id: u64, now_ms: i64) -> Result<(), Option<Status>> {
        let o = self.orders.get(&id).ok_or(None)?;
        if o.account != account {
            return Err(None);
        }
        if !o.status.is_open() {
            return Err(Some(o.status));
        }
        let (symbol, side, price, rem) = (o.symbol, o.side, o.price, o.remaining());
        let book = &mut self.books[symbol];
        let map = book.side_mut(side);
        if let Some(level) = map.get_mut(&price) {
            if let Some(pos) = level.queue.iter().position(|x| *x == id) {
                level.queue.remove(pos);
                level.total -= rem;
                if level.total == 0 {
                    map.remove(&price);
                }
                book.touch(side, price);
            }
        }
        if !self.accounts[account as usize].unlimited {
            let acc = &mut self.accounts[account as usize];
            acc.open_orders = acc.open_orders.saturating_sub(1);
        }
        self.finish(id, Finish::Cancelled, now_ms);
        self.flush_balances(now_ms);
        Ok(())
    }

    /// Open order ids of `account` (optionally one symbol), oldest first.
    pub fn open_orders(&self, account: u32, symbol: Option<usize>) -> Vec<u64> {
        self.accounts[account as usize]
            .order_ids
            .iter()
            .copied()
            .filter(|id| {
                self.orders
                    .get(id)
                    .is_some_and(|o| o.status.is_open() && symbol.is_none_or(|s| o.symbol == s))
            })
            .collect()
    }

    /// Looks an order of `account` up by venue id or client id.
    pub fn find_order(
        &self,
        account: u32,
        id: Option<u64>,
        client_id: Option<&str>,
    ) -> Option<&Order> {
        let id = match (id, client_id) {
            (Some(id), _) => id,
            (None, Some(c)) => *self.accounts[account as usize].client_ids.get(c)?,
            (None, None) => return None,
        };
        self.orders.get(&id).filter(|o| o.account == account)
    }

    /// Removes every order of a background account at `symbol` on `side` whose price
    /// fails `keep`; returns how many were removed.
    pub fn cancel_where(
        &mut self,
        account: u32,
        symbol: usize,
        side: Side,
        keep: impl Fn(u64) -> bool,
        now_ms: i64,
    ) -> usize {
        let ids: Vec<u64> = {
            let book = &self.books[symbol];
            let map = match side {
                Side::Buy => &book.bids,
                Side::Sell => &book.asks,
            };
            map.iter()
                .filter(|(p, _)| !keep(**p))
                .flat_map(|(_, l)| l.queue.iter().copied())
                .filter(|id| self.orders.get(id).is_some_and(|o| o.account == account))
                .collect()
        };
        let n = ids.len();
        for id in ids {
            let _ = self.cancel(account, id, now_ms);
        }
        n
    }

    /// Quantity `account` has resting at one level.
    pub fn own_qty_at(
        &self,
        account: u32,
        symbol: usize,
        side: Side,
        price: u64,
    ) -> (u64, Vec<u64>) {
        let book = &self.books[symbol];
        let map = match side {
            Side::Buy => &book.bids,
            Side::Sell => &book.asks,
        };
        let Some(level) = map.get(&price) else {
            return (0, Vec::new());
        };
        let mut q = 0;
        let mut ids = Vec::new();
        for id in &level.queue {
            if let Some(o) = self.orders.get(id) {
                if o.account == account {
                    q += o.remaining();
                    ids.push(*id);
                }
            }
        }
        (q, ids)
    }

    fn push_order_event(&mut self, id: u64) {
        let o = &self.orders[&id];
        if !self.accounts[o.account as usize].unlimited {
            self.outbox.push(Event::Order(Box::new(o.clone())));
        }
    }
}

/// Nothing left to match under the cap.
fn o_is_capped_out(want: u64, by_quote: u128, is_quote: bool) -> bool {
    if is_quote {
        by_quote == 0
    } else {
        want == 0
    }
}

/// `10^exp` as i128, for balance conversions.
pub fn pow10_i128(exp: u32) -> i128 {
    pow10(exp) as i128
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{specs_for, BAL_SCALE};
    use arb_core::fixed::{format_scaled, parse_scaled};

    /// A Gate BTC_USDT exchange (price 1 dp, qty 6 dp, min 3 USDT, fees 0.1 %/0.1 %)
    /// with two funded accounts.
    fn gate_btc() -> (Exchange, u32, u32) {
        let g = specs_for("BTC/USDT", 0, 7, arb_core::Venue::GATE).unwrap();
        let mut ex = Exchange::new(Arc::new(vec![g]), 1);
        let funds = |u: &str, b: &str| {
            let mut m = BTreeMap::new();
            m.insert("USDT".to_string(), crate::spec::parse_bal(u).unwrap());
            m.insert("BTC".to_string(), crate::spec::parse_bal(b).unwrap());
            m
        };
        let a = ex.add_account(false, funds("100000", "1"));
        let b = ex.add_account(false, funds("100000", "1"));
        (ex, a, b)
    }

    fn limit(side: Side, price: &str, qty: &str, tif: Tif) -> NewOrder {
        NewOrder {
            symbol: 0,
            side,
            kind: OrderKind::Limit,
            tif,
            price: parse_scaled(price, 1).unwrap(),
            size: Size::Base(parse_scaled(qty, 6).unwrap()),
            client_id: String::new(),
            max_fill_pct: None,
        }
    }

    fn bal(ex: &Exchange, acc: u32, asset: &str) -> (String, String) {
        let b = ex.accounts[acc as usize].balances[asset];
        (
            format_scaled(b.free, BAL_SCALE),
            format_scaled(b.locked, BAL_SCALE),
        )
    }

    #[test]
    fn price_time_priority_partial_fills_and_fees() {
        let (mut ex, a, b) = gate_btc();
        let first = ex
            .place(a, &limit(Side::Sell, "60000", "0.1", Tif::Gtc), 1)
            .unwrap();
        let second = ex
            .place(a, &limit(Side::Sell, "60000", "0.1", Tif::Gtc), 2)
            .unwrap();
        let better = ex
            .place(a, &limit(Side::Sell, "59999.9", "0.05", Tif::Gtc), 3)
            .unwrap();
        assert_eq!(bal(&ex, a, "BTC"), ("0.75".into(), "0.25".into()));
        // Buy 0.12 at 60000: takes the better price first, then the oldest order at 60000.
        let taker = ex
            .place(b, &limit(Side::Buy, "60000", "0.12", Tif::Gtc), 4)
            .unwrap();
        assert_eq!(ex.orders[&better].status, Status::Filled);
        assert_eq!(ex.orders[&first].filled, 70_000);
        assert_eq!(ex.orders[&first].status, Status::PartiallyFilled);
        assert_eq!(ex.orders[&second].filled, 0);
        assert_eq!(ex.orders[&taker].status, Status::Filled);
        // Buyer: paid 0.05*59999.9 + 0.07*60000 = 2999.995 + 4200 = 7199.995 USDT;
        // the 0.05 filled below the limit refunds 0.005 of the lock; fee 0.1 % of 0.12 BTC.
        assert_eq!(bal(&ex, b, "USDT"), ("92800.005".into(), "0".into()));
        assert_eq!(bal(&ex, b, "BTC"), ("1.11988".into(), "0".into()));
        // Seller (maker): 7199.995 minus 0.1 % fee = 7192.795005; 0.13 BTC still locked.
        assert_eq!(bal(&ex, a, "USDT"), ("107192.795005".into(), "0".into()));
        assert_eq!(bal(&ex, a, "BTC"), ("0.75".into(), "0.13".into()));
        assert_eq!(ex.accounts[b as usize].fills.len(), 2);
        assert!(ex.accounts[a as usize].fills.iter().all(|f| f.is_maker));
        // Cancel releases exactly the remaining lock.
        ex.cancel(a, first, 5).unwrap();
        ex.cancel(a, second, 5).unwrap();
        assert_eq!(bal(&ex, a, "BTC"), ("0.88".into(), "0".into()));
        assert_eq!(ex.orders[&first].status, Status::PartiallyCanceled);
        assert_eq!(ex.cancel(a, first, 6), Err(Some(Status::PartiallyCanceled)));
        assert_eq!(
            ex.cancel(b, second, 6),
            Err(Some(Status::Canceled)).or(Err(None))
        );
    }

    #[test]
    fn post_only_fok_ioc() {
        let (mut ex, a, b) = gate_btc();
        ex.place(a, &limit(Side::Sell, "60000", "0.1", Tif::Gtc), 1)
            .unwrap();
        let poc = ex
            .place(b, &limit(Side::Buy, "60000", "0.01", Tif::PostOnly), 2)
            .unwrap();
        assert_eq!(
            (ex.orders[&poc].status, ex.orders[&poc].finish),
            (Status::Canceled, Finish::Poc)
        );
        let fok = ex
            .place(b, &limit(Side::Buy, "60000", "0.2", Tif::Fok), 3)
            .unwrap();
        assert_eq!(
            (ex.orders[&fok].filled, ex.orders[&fok].finish),
            (0, Finish::Fok)
        );
        let ioc = ex
            .place(b, &limit(Side::Buy, "60000", "0.15", Tif::Ioc), 4)
            .unwrap();
        assert_eq!(ex.orders[&ioc].filled, 100_000);
        assert_eq!(ex.orders[&ioc].status, Status::PartiallyCanceled);
        assert_eq!(bal(&ex, b, "USDT").1, "0");
        assert!(ex.books[0].best_ask().is_none());
        let rest = ex
            .place(b, &limit(Side::Buy, "59000", "0.01", Tif::PostOnly), 5)
            .unwrap();
        assert_eq!(ex.orders[&rest].status, Status::New);
        assert_eq!(ex.open_orders(b, None), vec![rest]);
    }

    #[test]
    fn market_buy_by_quote_and_rejects() {
        let (mut ex, a, b) = gate_btc();
        ex.place(a, &limit(Side::Sell, "50000", "0.01", Tif::Gtc), 1)
            .unwrap();
        ex.place(a, &limit(Side::Sell, "60000", "0.5", Tif::Gtc), 1)
            .unwrap();
        let req = NewOrder {
            symbol: 0,
            side: Side::Buy,
            kind: OrderKind::Market,
            tif: Tif::Ioc,
            price: 0,
            // 1100 USDT at the notional scale (7 decimals).
            size: Size::Quote(11_000_000_000),
            client_id: String::new(),
            max_fill_pct: None,
        };
        let id = ex.place(b, &req, 2).unwrap();
        let o = &ex.orders[&id];
        // 0.01 at 50000 (500) then 0.01 at 60000 (600).
        assert_eq!((o.filled, o.filled_quote), (20_000, 11_000_000_000));
        assert_eq!(o.status, Status::Filled);
        assert_eq!(bal(&ex, b, "USDT"), ("98900".into(), "0".into()));
        let tiny = limit(Side::Buy, "50000", "0.00002", Tif::Gtc);
        assert_eq!(
            ex.place(b, &tiny, 3),
            Err(Reject::BelowMinNotional {
                min: "3".into(),
                value: "1".into(),
                quote: "USDT".into()
            })
        );
        assert_eq!(
            ex.place(b, &limit(Side::Sell, "50000", "5", Tif::Gtc), 3),
            Err(Reject::InsufficientBalance {
                asset: "BTC".into()
            })
        );
        assert_eq!(
            ex.place(b, &limit(Side::Sell, "50000", "0.000001", Tif::Gtc), 3),
            Err(Reject::BelowMinQty {
                min: "0.00001".into()
            })
        );
    }

    #[test]
    fn book_events_carry_contiguous_versions_and_gaps() {
        let (mut ex, a, _) = gate_btc();
        ex.place(a, &limit(Side::Sell, "60000", "0.1", Tif::Gtc), 1)
            .unwrap();
        ex.place(a, &limit(Side::Buy, "59000", "0.1", Tif::Gtc), 1)
            .unwrap();
        ex.flush_book(0, 1);
        ex.books[0].skip_next = 1;
        ex.place(a, &limit(Side::Buy, "59100", "0.1", Tif::Gtc), 1)
            .unwrap();
        ex.flush_book(0, 2);
        let books: Vec<(u64, u64, usize)> = ex
            .take_events()
            .filter_map(|e| match e {
                Event::Book(b) => Some((b.from, b.to, b.changes.len())),
                _ => None,
            })
            .collect();
        assert_eq!(books, vec![(1, 2, 2), (4, 4, 1)]);
        assert_eq!(ex.books[0].version, 4);
    }
}
