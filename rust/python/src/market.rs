//! Python bindings for arb-market: `SymbolTable` (unified <-> venue names, trading rules),
//! `MarketData` (start feeds, read books and health without blocking them) and
//! `BookSubscription` (batched book-change events through the event bridge).
//!
//! Book-change and ticker/trade events reach Python through the event bridge, but never
//! from the feed task itself: the listener only sends on a channel, and a forwarding
//! thread does the bridge's interpreter-lock work, so a busy interpreter cannot delay a
//! book update or the engine's inline detection.
//!
//! Symbol resolution is on Python's hot path, so the table keeps every name as an
//! interned Python string built once: a lookup is a hash probe plus a reference-count
//! increment, with no string allocation per call.

use std::str::FromStr;
use std::sync::Arc;

use arb_core::fixed::format_scaled;
use arb_core::{ErrorClass, Venue, VenueMap};
use arb_market::book::Level;
use arb_market::store::{BookChange, ChangeKind, MarketEvent};
use arb_market::{
    BookStore, FeedConfig, Health, MarketData, Scales, SymbolId, SymbolTable, VenueRules,
};
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::bridge::{running_loop, Convert, Dispatcher};
use crate::errors::{py_err, startup_error, value_error};
use crate::runtime::runtime;

/// A configured venue by name (no allocation for the exact name).
#[inline]
fn venue(v: &str) -> PyResult<Venue> {
    Venue::from_str(v).map_err(|e| value_error(e.to_string()))
}

/// The symbol table with its names pre-built as Python strings.
#[pyclass(name = "SymbolTable", module = "arbhybrid._native", frozen)]
pub struct PySymbolTable {
    table: Arc<SymbolTable>,
    /// Per symbol: the unified name and each listing venue's spelling, interned.
    names: Vec<Names>,
}

struct Names {
    unified: Py<PyString>,
    venues: VenueMap<Py<PyString>>,
}

impl PySymbolTable {
    fn wrap(py: Python<'_>, table: Arc<SymbolTable>) -> Self {
        let names = table
            .iter()
            .map(|i| Names {
                unified: PyString::intern(py, &i.unified).unbind(),
                venues: i
                    .venues
                    .iter()
                    .map(|(v, r)| (v, PyString::intern(py, &r.venue_symbol).unbind()))
                    .collect(),
            })
            .collect();
        Self { table, names }
    }

    /// The unified name (`venue: None`) or `venue`'s spelling of symbol `id`.
    fn name(&self, py: Python<'_>, id: u32, venue: Option<Venue>) -> Option<Py<PyString>> {
        let n = self.names.get(id as usize)?;
        match venue {
            None => Some(n.unified.clone_ref(py)),
            Some(v) => n.venues.get(v).map(|s| s.clone_ref(py)),
        }
    }
}

fn rules_dict<'py>(py: Python<'py>, r: &VenueRules) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("venue_symbol", &*r.venue_symbol)?;
    d.set_item("price_decimals", r.price_decimals)?;
    d.set_item("amount_decimals", r.amount_decimals)?;
    d.set_item("min_qty", r.min_qty.to_string())?;
    d.set_item("min_notional", r.min_notional.to_string())?;
    d.set_item("status", r.status.as_str())?;
    d.set_item("api_tradable", r.api_tradable)?;
    d.set_item("market_orders", r.market_orders)?;
    d.set_item("quote_market_orders", r.quote_market_orders)?;
    d.set_item("buy_start_s", r.buy_start_s)?;
    d.set_item("sell_start_s", r.sell_start_s)?;
    // Why the engine would leave it out on this venue now (None: it trades).
    d.set_item("refusal", r.refusal(arb_core::time::now_ms() / 1000))?;
    d.set_item("maker_fee", r.maker_fee.to_string())?;
    d.set_item("taker_fee", r.taker_fee.to_string())?;
    Ok(d)
}

#[pymethods]
impl PySymbolTable {
    /// Builds the table from MEXC `exchangeInfo` and Gate `currency_pairs` JSON bodies.
    #[staticmethod]
    #[pyo3(signature = (mexc_exchange_info=None, gate_currency_pairs=None))]
    fn from_json(
        py: Python<'_>,
        mexc_exchange_info: Option<&str>,
        gate_currency_pairs: Option<&str>,
    ) -> PyResult<Self> {
        let t = SymbolTable::from_json(mexc_exchange_info, gate_currency_pairs)
            .map_err(|e| py_err(ErrorClass::Malformed, e.to_string()))?;
        Ok(Self::wrap(py, Arc::new(t)))
    }

    fn __len__(&self) -> usize {
        self.table.len()
    }

    /// Unified `BASE/QUOTE` -> id, or None.
    fn id(&self, unified: &str) -> Option<u32> {
        self.table.id(unified).map(|i| i.0)
    }

    /// Venue spelling (`BTCUSDT` / `BTC_USDT`) -> id, or None.
    fn id_by_venue(&self, venue_name: &str, venue_symbol: &str) -> PyResult<Option<u32>> {
        Ok(self
            .table
            .id_by_venue(venue(venue_name)?, venue_symbol)
            .map(|i| i.0))
    }

    /// Id -> unified name.
    fn unified(&self, py: Python<'_>, id: u32) -> Option<Py<PyString>> {
        self.name(py, id, None)
    }

    /// Id -> the venue's spelling, or None if not listed there.
    fn venue_symbol(
        &self,
        py: Python<'_>,
        id: u32,
        venue_name: &str,
    ) -> PyResult<Option<Py<PyString>>> {
        Ok(self.name(py, id, Some(venue(venue_name)?)))
    }

    /// Unified -> venue spelling in one call (`"BTC/USDT", "gateio"` -> `"BTC_USDT"`).
    fn to_venue(
        &self,
        py: Python<'_>,
        unified: &str,
        venue_name: &str,
    ) -> PyResult<Option<Py<PyString>>> {
        let v = venue(venue_name)?;
        Ok(self
            .table
            .id(unified)
            .and_then(|id| self.name(py, id.0, Some(v))))
    }

    /// Venue spelling -> unified in one call.
    #[pyo3(name = "from_venue")]
    fn py_from_venue(
        &self,
        py: Python<'_>,
        venue_name: &str,
        venue_symbol: &str,
    ) -> PyResult<Option<Py<PyString>>> {
        let v = venue(venue_name)?;
        Ok(self
            .table
            .id_by_venue(v, venue_symbol)
            .and_then(|id| self.name(py, id.0, None)))
    }

    /// The venue's trading rules for a symbol (decimals as exact strings), or None.
    fn rules<'py>(
        &self,
        py: Python<'py>,
        id: u32,
        venue_name: &str,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let v = venue(venue_name)?;
        self.table
            .rules(SymbolId(id), v)
            .map(|r| rules_dict(py, r))
            .transpose()
    }

    /// `(price_scale, qty_scale)` of the symbol's books.
    fn scales(&self, id: u32) -> Option<(u32, u32)> {
        self.table
            .info(SymbolId(id))
            .map(|i| (i.price_scale, i.qty_scale))
    }

    /// Ids of the symbols listed on both venues.
    fn common(&self) -> Vec<u32> {
        self.table.common().iter().map(|i| i.0).collect()
    }

    /// Every unified name, in id order.
    fn names(&self) -> Vec<String> {
        self.table.iter().map(|i| i.unified.to_string()).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "SymbolTable(symbols={}, common={})",
            self.table.len(),
            self.table.common().len()
        )
    }
}

/// Hands events from the feed tasks to a dispatcher through a dedicated thread, so a
/// feed never waits for the interpreter lock (the dispatcher takes it to schedule a
/// drain): the listener on the feed task only does a channel send. The thread ends when
/// the listener (holding the sender) is removed or the dispatcher closes.
fn forwarder<E: Send + 'static>(dispatcher: Dispatcher<E>) -> PyResult<std::sync::mpsc::Sender<E>> {
    let (tx, rx) = std::sync::mpsc::channel::<E>();
    std::thread::Builder::new()
        .name("arbhybrid-market-py".into())
        .spawn(move || {
            while let Ok(e) = rx.recv() {
                if !dispatcher.push(e) {
                    break;
                }
            }
        })
        .map_err(|e| startup_error(format!("cannot start the event forwarder: {e}")))?;
    Ok(tx)
}

/// A book change for Python, formatted on the loop thread.
struct PyChange {
    change: BookChange,
    scales: Scales,
    table: Arc<SymbolTable>,
}

fn kind_str(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Update => "update",
        ChangeKind::Synced => "synced",
        ChangeKind::Invalidated(r) => r.as_str(),
    }
}

fn level_py(py: Python<'_>, l: Option<Level>, s: Scales) -> PyResult<Py<PyAny>> {
    Ok(match l {
        Some(l) => (
            format_scaled(l.price as i128, s.price),
            format_scaled(l.qty as i128, s.qty),
        )
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        None => py.None(),
    })
}

/// `(venue, symbol, kind, version, bid, ask, recv_ns)` with bid/ask `(price, qty)`
/// strings or None; kind is `update`, `synced` or the invalidation reason.
fn change_to_py(py: Python<'_>, e: PyChange) -> PyResult<Py<PyAny>> {
    let c = e.change;
    let sym = e.table.unified(c.symbol).unwrap_or("?");
    let items: [Py<PyAny>; 7] = [
        c.venue.as_str().into_pyobject(py)?.into_any().unbind(),
        sym.into_pyobject(py)?.into_any().unbind(),
        kind_str(c.kind).into_pyobject(py)?.into_any().unbind(),
        c.version.into_pyobject(py)?.into_any().unbind(),
        level_py(py, c.bid, e.scales)?,
        level_py(py, c.ask, e.scales)?,
        c.recv_ns.into_pyobject(py)?.into_any().unbind(),
    ];
    Ok(PyTuple::new(py, items)?.into_any().unbind())
}

/// A live subscription to book changes; `stop()` ends it.
#[pyclass(name = "BookSubscription", module = "arbhybrid._native", frozen)]
pub struct PyBookSubscription {
    store: Arc<BookStore>,
    listener: u64,
    dispatcher: Dispatcher<PyChange>,
}

#[pymethods]
impl PyBookSubscription {
    /// Stops delivery. Idempotent.
    fn stop(&self) {
        self.store.remove_listener(self.listener);
        self.dispatcher.close();
    }

    /// `(delivered, batches, callback_errors)`.
    fn stats(&self) -> (u64, u64, u64) {
        let s = self.dispatcher.stats();
        (s.delivered, s.batches, s.callback_errors)
    }
}

/// A ticker or trade for Python, formatted on the loop thread.
struct PyEvent {
    event: MarketEvent,
    scales: Scales,
    table: Arc<SymbolTable>,
}

/// `("ticker", venue, symbol, bid, ask, time_ms, recv_ns)` with bid/ask `(price, qty)` or
/// None, or `("trade", venue, symbol, price, qty, "buy"|"sell", time_ms, recv_ns)` where
/// the side is the taker's.
fn event_to_py(py: Python<'_>, e: PyEvent) -> PyResult<Py<PyAny>> {
    let s = e.scales;
    let any = |v: Bound<'_, PyAny>| v.unbind();
    let items: Vec<Py<PyAny>> = match e.event {
        MarketEvent::Ticker {
            venue,
            symbol,
            bid,
            ask,
            time_ms,
            recv_ns,
        } => vec![
            any("ticker".into_pyobject(py)?.into_any()),
            any(venue.as_str().into_pyobject(py)?.into_any()),
            any(e
                .table
                .unified(symbol)
                .unwrap_or("?")
                .into_pyobject(py)?
                .into_any()),
            level_py(py, bid, s)?,
            level_py(py, ask, s)?,
            any(time_ms.into_pyobject(py)?.into_any()),
            any(recv_ns.into_pyobject(py)?.into_any()),
        ],
        MarketEvent::Trade {
            venue,
            symbol,
            price,
            qty,
            taker_buy,
            time_ms,
            recv_ns,
        } => vec![
            any("trade".into_pyobject(py)?.into_any()),
            any(venue.as_str().into_pyobject(py)?.into_any()),
            any(e
                .table
                .unified(symbol)
                .unwrap_or("?")
                .into_pyobject(py)?
                .into_any()),
            any(format_scaled(price as i128, s.price)
                .into_pyobject(py)?
                .into_any()),
            any(format_scaled(qty as i128, s.qty)
                .into_pyobject(py)?
                .into_any()),
            any(if taker_buy { "buy" } else { "sell" }
                .into_pyobject(py)?
                .into_any()),
            any(time_ms.into_pyobject(py)?.into_any()),
            any(recv_ns.into_pyobject(py)?.into_any()),
        ],
    };
    Ok(PyTuple::new(py, items)?.into_any().unbind())
}

/// A live subscription to tickers and trades; `stop()` ends it.
#[pyclass(name = "MarketEventSubscription", module = "arbhybrid._native", frozen)]
pub struct PyMarketEventSubscription {
    store: Arc<BookStore>,
    listener: u64,
    dispatcher: Dispatcher<PyEvent>,
}

#[pymethods]
impl PyMarketEventSubscription {
    /// Stops delivery. Idempotent.
    fn stop(&self) {
        self.store.remove_event_listener(self.listener);
        self.dispatcher.close();
    }

    /// `(delivered, batches, callback_errors)`.
    fn stats(&self) -> (u64, u64, u64) {
        let s = self.dispatcher.stats();
        (s.delivered, s.batches, s.callback_errors)
    }
}

/// Feeds for a set of symbols on every configured venue.
///
/// `config` is a dict or JSON string with the fields of `arb_market::FeedConfig`
/// (`venues`: a list of `{name, kind, rest, ws}` — `kind` may be left out when the name
/// is a kind's, `mexc` or `gateio`; `gate_channel` = `obu` | `order_book_update`,
/// `stale_after_ms`, ...) plus `symbols`: unified names (default: every symbol listed on
/// at least two venues).
#[pyclass(name = "MarketData", module = "arbhybrid._native")]
pub struct PyMarketData {
    config: FeedConfig,
    symbols: Vec<String>,
    state: Mutex<Option<Running>>,
}

struct Running {
    md: MarketData,
    store: Arc<BookStore>,
    table: Py<PySymbolTable>,
}

fn health_dict<'py>(py: Python<'py>, h: &Health) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("state", h.state.as_str())?;
    d.set_item("valid", h.state == arb_market::HealthState::Valid)?;
    d.set_item("age_ms", h.age.map(|a| a.as_secs_f64() * 1e3))?;
    d.set_item("version", h.version)?;
    d.set_item("resyncs", h.resyncs)?;
    d.set_item("gaps", h.gaps)?;
    d.set_item("crossed", h.crossed)?;
    d.set_item("unparsable", h.unparsable)?;
    d.set_item("updates", h.updates)?;
    Ok(d)
}

impl PyMarketData {
    fn running<T>(&self, f: impl FnOnce(&Running) -> PyResult<T>) -> PyResult<T> {
        let g = self.state.lock();
        let r = g
            .as_ref()
            .ok_or_else(|| startup_error("market data is not running (call start())"))?;
        f(r)
    }

    /// A symbol given as a unified name or an id.
    fn sym(store: &BookStore, symbol: &Bound<'_, PyAny>) -> PyResult<SymbolId> {
        if let Ok(id) = symbol.extract::<u32>() {
            if store.table().info(SymbolId(id)).is_some() {
                return Ok(SymbolId(id));
            }
            return Err(value_error(format!("unknown symbol id {id}")));
        }
        let name: &str = symbol.extract()?;
        store
            .table()
            .id(name)
            .ok_or_else(|| value_error(format!("unknown symbol {name:?}")))
    }
}

fn levels_py(py: Python<'_>, ls: &[Level], s: Scales) -> PyResult<Py<PyList>> {
    let items = ls
        .iter()
        .map(|l| {
            (
                format_scaled(l.price as i128, s.price),
                format_scaled(l.qty as i128, s.qty),
            )
        })
        .collect::<Vec<_>>();
    Ok(PyList::new(py, items)?.unbind())
}

#[pymethods]
impl PyMarketData {
    #[new]
    fn new(py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text: String = if let Ok(s) = config.extract::<String>() {
            s
        } else {
            py.import("json")?
                .call_method1("dumps", (config,))?
                .extract()?
        };
        let mut v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| value_error(format!("market data config: {e}")))?;
        let symbols = match v.as_object_mut().and_then(|o| o.remove("symbols")) {
            Some(s) => serde_json::from_value(s)
                .map_err(|e| value_error(format!("market data config: symbols: {e}")))?,
            None => Vec::new(),
        };
        let config: FeedConfig = serde_json::from_value(v)
            .map_err(|e| value_error(format!("market data config: {e}")))?;
        Ok(Self {
            config,
            symbols,
            state: Mutex::new(None),
        })
    }

    /// Fetches both venues' symbol lists over REST and starts the feeds. Blocks (without
    /// holding the interpreter) until the lists are loaded; books then sync in the
    /// background (watch `health`).
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        if self.state.lock().is_some() {
            return Err(startup_error("market data already started"));
        }
        let cfg = self.config.clone();
        let table = py
            .detach(|| runtime().block_on(arb_market::fetch_symbols(&cfg)))
            .map_err(|e| py_err(ErrorClass::Network, e.to_string()))?;
        let table = Arc::new(table);
        let ids: Vec<SymbolId> = if self.symbols.is_empty() {
            table.common().to_vec()
        } else {
            self.symbols
                .iter()
                .map(|s| {
                    table.id(s).ok_or_else(|| {
                        value_error(format!("symbol {s:?} is listed on neither venue"))
                    })
                })
                .collect::<PyResult<_>>()?
        };
        let store = Arc::new(BookStore::new(table.clone()));
        let md = MarketData::start(
            cfg,
            store.clone(),
            &ids,
            runtime().handle(),
            arb_market::feed::stderr_log(),
        );
        let table = Py::new(py, PySymbolTable::wrap(py, table))?;
        *self.state.lock() = Some(Running { md, store, table });
        Ok(())
    }

    /// The symbol table loaded by `start()`.
    #[getter]
    fn symbols(&self, py: Python<'_>) -> PyResult<Py<PySymbolTable>> {
        self.running(|r| Ok(r.table.clone_ref(py)))
    }

    /// `{"bid": (price, qty) | None, "ask": ..., "valid": bool, "version": int}`; prices
    /// and quantities as exact decimal strings.
    fn top<'py>(
        &self,
        py: Python<'py>,
        venue_name: &str,
        symbol: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let v = venue(venue_name)?;
        self.running(|r| {
            let id = Self::sym(&r.store, symbol)?;
            let t = r
                .store
                .top(v, id)
                .ok_or_else(|| value_error("no such book"))?;
            let d = PyDict::new(py);
            d.set_item("bid", level_py(py, t.bid, t.scales)?)?;
            d.set_item("ask", level_py(py, t.ask, t.scales)?)?;
            d.set_item("valid", t.valid)?;
            d.set_item("version", t.version)?;
            Ok(d)
        })
    }

    /// `{"bids": [(price, qty), ...], "asks": [...], "version", "valid"}`, best first.
    fn depth<'py>(
        &self,
        py: Python<'py>,
        venue_name: &str,
        symbol: &Bound<'py, PyAny>,
        n: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let v = venue(venue_name)?;
        self.running(|r| {
            let id = Self::sym(&r.store, symbol)?;
            let (bids, asks, version) = r
                .store
                .depth(v, id, n)
                .ok_or_else(|| value_error("no such book"))?;
            let valid = r.store.is_valid(v, id);
            let info = r
                .store
                .table()
                .info(id)
                .ok_or_else(|| value_error("no such symbol"))?;
            let s = Scales {
                price: info.price_scale,
                qty: info.qty_scale,
            };
            let d = PyDict::new(py);
            d.set_item("bids", levels_py(py, &bids, s)?)?;
            d.set_item("asks", levels_py(py, &asks, s)?)?;
            d.set_item("version", version)?;
            d.set_item("valid", valid)?;
            Ok(d)
        })
    }

    /// `{"state": valid|stale|resyncing|idle, "valid", "age_ms", "version", "resyncs",
    /// "gaps", "crossed", "unparsable", "updates"}`.
    fn health<'py>(
        &self,
        py: Python<'py>,
        venue_name: &str,
        symbol: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let v = venue(venue_name)?;
        self.running(|r| {
            let id = Self::sym(&r.store, symbol)?;
            let h = r
                .store
                .health(v, id)
                .ok_or_else(|| value_error("no such book"))?;
            health_dict(py, &h)
        })
    }

    /// Feed counters of a venue: connects, disconnects, frames, snapshots, rotations, ...
    fn counters<'py>(&self, py: Python<'py>, venue_name: &str) -> PyResult<Bound<'py, PyDict>> {
        let v = venue(venue_name)?;
        self.running(|r| {
            let c = r.md.counters(v);
            let d = PyDict::new(py);
            for (k, val) in [
                ("connects", c.connects),
                ("connect_failures", c.connect_failures),
                ("disconnects", c.disconnects),
                ("frames", c.frames),
                ("unparsable_frames", c.unparsable_frames),
                ("snapshots", c.snapshots),
                ("snapshot_failures", c.snapshot_failures),
                ("resubscribes", c.resubscribes),
                ("rotations", c.rotations),
                ("pings", c.pings),
            ] {
                d.set_item(k, val)?;
            }
            d.set_item("shards", r.md.shards())?;
            Ok(d)
        })
    }

    /// Calls `callback(events)` on the running asyncio loop with batches of book changes,
    /// each `(venue, symbol, kind, version, bid, ask, recv_ns)`. Must be called from a
    /// coroutine (it binds to the running loop).
    fn subscribe(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<PyBookSubscription> {
        let event_loop = running_loop(py)?;
        self.running(|r| {
            let dispatcher =
                Dispatcher::new(py, event_loop, callback, change_to_py as Convert<PyChange>)?;
            let d = forwarder(dispatcher.clone())?;
            let table = r.store.table().clone();
            let listener = r.store.add_listener(Arc::new(move |c: &BookChange| {
                let Some(info) = table.info(c.symbol) else {
                    return;
                };
                let _ = d.send(PyChange {
                    change: *c,
                    scales: Scales {
                        price: info.price_scale,
                        qty: info.qty_scale,
                    },
                    table: table.clone(),
                });
            }));
            Ok(PyBookSubscription {
                store: r.store.clone(),
                listener,
                dispatcher,
            })
        })
    }

    /// Calls `callback(events)` on the running asyncio loop with batches of tickers and
    /// trades (enable them with `tickers: true` / `trades: true` in the config); see
    /// `MarketEventSubscription` for the tuple shapes. Must be called from a coroutine.
    fn subscribe_market(
        &self,
        py: Python<'_>,
        callback: Py<PyAny>,
    ) -> PyResult<PyMarketEventSubscription> {
        let event_loop = running_loop(py)?;
        self.running(|r| {
            let dispatcher =
                Dispatcher::new(py, event_loop, callback, event_to_py as Convert<PyEvent>)?;
            let d = forwarder(dispatcher.clone())?;
            let table = r.store.table().clone();
            let listener = r.store.add_event_listener(Arc::new(move |e: &MarketEvent| {
                let (MarketEvent::Ticker { symbol, .. } | MarketEvent::Trade { symbol, .. }) = *e;
                let Some(info) = table.info(symbol) else {
                    return;
                };
                let _ = d.send(PyEvent {
                    event: *e,
                    scales: Scales {
                        price: info.price_scale,
                        qty: info.qty_scale,
                    },
                    table: table.clone(),
                });
            }));
            Ok(PyMarketEventSubscription {
                store: r.store.clone(),
                listener,
                dispatcher,
            })
        })
    }

    /// Stops the feeds; idempotent.
    fn stop(&self, py: Python<'_>) {
        let r = self.state.lock().take();
        if let Some(r) = r {
            py.detach(|| runtime().block_on(r.md.shutdown()));
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "MarketData(symbols={:?}, running={})",
            self.symbols,
            self.state.lock().is_some()
        )
    }
}

/// Every configured venue's symbol list over REST (read-only, nothing subscribed): the
/// table `MarketData.start` loads. `config` is a market data config (its `symbols`
/// ignored). Blocks without holding the interpreter.
#[pyfunction]
fn fetch_symbols(py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<PySymbolTable> {
    let md = PyMarketData::new(py, config)?;
    let cfg = md.config;
    let table = py
        .detach(|| runtime().block_on(arb_market::fetch_symbols(&cfg)))
        .map_err(|e| py_err(ErrorClass::Network, e.to_string()))?;
    Ok(PySymbolTable::wrap(py, Arc::new(table)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fetch_symbols, m)?)?;
    m.add_class::<PySymbolTable>()?;
    m.add_class::<PyMarketData>()?;
    m.add_class::<PyBookSubscription>()?;
    m.add_class::<PyMarketEventSubscription>()?;
    Ok(())
}
