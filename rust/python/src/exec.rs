//! Python bindings for arb-exec: `VenueClient` (one venue's signed REST client, order
//! tracker, private stream and breaker), `submit_pair` and `client_order_id`.
//!
//! Every network call is an awaitable run on the process-wide runtime; results are
//! plain dicts built from the Rust types' serde form (amounts as exact decimal
//! strings); errors are the exception classes of `errors.rs`, mapped from the Rust
//! error's class in one place (`to_py_err`). The typed Python layer lives in
//! `arbhybrid/exchange.py`.

use std::collections::HashMap;
use std::sync::Arc;

use arb_core::{ErrorClass, Venue};
use arb_exec::order::ClientOrderId;
use arb_exec::{
    Amount, ExecError, ExecEvent, Leg, OrderKind, OrderRef, OrderRequest, Side, SymbolRules,
    TimeInForce, UserStream, VenueClient, VenueConfig,
};
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::bridge::{self, Dispatcher};
use crate::errors::{py_err, startup_error, value_error};
use crate::runtime::{self, runtime, shutdown_token};

pub(crate) fn to_py_err(e: ExecError) -> PyErr {
    py_err(e.class(), e.to_string())
}

fn json_to_py(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any().unbind(),
            None => n.to_string().into_pyobject(py)?.into_any().unbind(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any().unbind(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| json_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            pyo3::types::PyList::new(py, items)?.into_any().unbind()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any().unbind()
        }
    })
}

pub(crate) fn ser<T: arb_exec::serde::Serialize>(v: &T) -> PyResult<Py<PyAny>> {
    let j = serde_json::to_value(v).map_err(|e| py_err(ErrorClass::Malformed, e.to_string()))?;
    runtime::attach(|py| json_to_py(py, &j))
}

pub(crate) fn amount(field: &str, s: &str) -> PyResult<Amount> {
    Amount::parse(s).map_err(|e| value_error(format!("{field}: {e}")))
}

fn invalid(msg: impl Into<String>) -> PyErr {
    py_err(ErrorClass::InvalidOrder, msg)
}

/// Reads an order spec dict: `symbol, side, type ("limit"|"market"), qty, price,
/// quote_qty, tif ("gtc"|"ioc"|"fok"|"post_only"), client_id`.
fn order_from_dict(
    rules: &HashMap<String, Arc<SymbolRules>>,
    venue: Venue,
    d: &Bound<'_, PyDict>,
) -> PyResult<OrderRequest> {
    let get = |k: &str| -> PyResult<Option<String>> {
        match d.get_item(k)? {
            None => Ok(None),
            Some(v) if v.is_none() => Ok(None),
            Some(v) => Ok(Some(v.str()?.to_string())),
        }
    };
    let need = |k: &str| -> PyResult<String> {
        get(k)?.ok_or_else(|| invalid(format!("order spec: missing {k:?}")))
    };
    let symbol = need("symbol")?;
    let r = rules.get(&symbol).cloned().ok_or_else(|| {
        invalid(format!(
            "{venue}: no trading rules for {symbol:?}: call set_rules() first"
        ))
    })?;
    let side_s = need("side")?;
    let side =
        Side::parse(&side_s).ok_or_else(|| invalid(format!("order spec: side {side_s:?}")))?;
    let kind = match get("type")?.as_deref().unwrap_or("limit") {
        "limit" => {
            let tif_s = get("tif")?.unwrap_or_else(|| "gtc".into());
            let tif = TimeInForce::parse(&tif_s)
                .ok_or_else(|| invalid(format!("order spec: tif {tif_s:?}")))?;
            OrderKind::Limit {
                price: amount("price", &need("price")?)?,
                qty: amount("qty", &need("qty")?)?,
                tif,
            }
        }
        "market" => match (get("qty")?, get("quote_qty")?) {
            (Some(q), None) => OrderKind::Market {
                qty: amount("qty", &q)?,
            },
            (None, Some(q)) => OrderKind::MarketQuote {
                quote: amount("quote_qty", &q)?,
            },
            _ => return Err(invalid("market order spec: exactly one of qty / quote_qty")),
        },
        other => return Err(invalid(format!("order spec: type {other:?}"))),
    };
    let client_id = ClientOrderId::custom(&need("client_id")?).map_err(invalid)?;
    Ok(OrderRequest {
        rules: r,
        side,
        kind,
        client_id,
    })
}

fn order_ref(order_id: Option<String>, client_id: Option<String>) -> PyResult<OrderRef> {
    match (order_id, client_id) {
        (Some(o), None) => Ok(OrderRef::Venue(o)),
        (None, Some(c)) => Ok(OrderRef::Client(
            ClientOrderId::custom(&c).map_err(invalid)?,
        )),
        _ => Err(value_error("give exactly one of order_id / client_id")),
    }
}

fn event_to_py(py: Python<'_>, e: ExecEvent) -> PyResult<Py<PyAny>> {
    let j = serde_json::to_value(&e).map_err(|e| py_err(ErrorClass::Malformed, e.to_string()))?;
    json_to_py(py, &j)
}

/// A venue client from the JSON fields of `arb_exec::VenueConfig`.
pub(crate) fn client_from_json(config_json: &str) -> PyResult<VenueClient> {
    let cfg: VenueConfig =
        serde_json::from_str(config_json).map_err(|e| value_error(format!("venue config: {e}")))?;
    let _guard = runtime().enter();
    VenueClient::new(cfg).map_err(to_py_err)
}

struct StreamSlot {
    stream: UserStream,
    forward: Option<(Dispatcher<ExecEvent>, tokio_util::sync::CancellationToken)>,
}

/// One venue's execution client. `VenueClient(config_json)`: the JSON fields of
/// `arb_exec::VenueConfig` (`venue, rest_url, ws_url, api_key, api_secret`, and
/// optional `request_timeout_ms, pool_size, rate_limit, order_path, ...`).
#[pyclass(name = "VenueClient", module = "arbhybrid._native", frozen)]
pub struct PyVenueClient {
    client: VenueClient,
    rules: Mutex<HashMap<String, Arc<SymbolRules>>>,
    stream: Mutex<Option<StreamSlot>>,
}

#[pymethods]
impl PyVenueClient {
    #[new]
    fn new(config_json: &str) -> PyResult<Self> {
        Ok(PyVenueClient {
            client: client_from_json(config_json)?,
            rules: Mutex::new(HashMap::new()),
            stream: Mutex::new(None),
        })
    }

    #[getter]
    fn venue(&self) -> &'static str {
        self.client.venue().as_str()
    }

    /// `"closed"`, `"open"` or `"half_open"`.
    #[getter]
    fn breaker_state(&self) -> &'static str {
        self.client.breaker_state().as_str()
    }

    #[getter]
    fn clock_offset_ms(&self) -> i64 {
        self.client.clock_offset_ms()
    }

    /// `{"requests", "new_connections", "reuse_ratio", "limiter_waits", "venue_blocks"}`
    /// (requests that waited for our rate limiter; times the venue said stop: 429s).
    fn conn_stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = self.client.conn_stats();
        let l = self.client.limiter().stats();
        let d = PyDict::new(py);
        d.set_item("requests", s.requests)?;
        d.set_item("new_connections", s.new_connections)?;
        d.set_item("reuse_ratio", s.reuse_ratio())?;
        d.set_item("limiter_waits", l.waits)?;
        d.set_item("venue_blocks", l.venue_blocks)?;
        Ok(d.into_any().unbind())
    }

    /// Registers a symbol's trading rules (decimals as ints, minimums as decimal strings).
    #[pyo3(signature = (symbol, price_decimals, amount_decimals, min_qty = "0", min_notional = "0", quote_decimals = None))]
    fn set_rules(
        &self,
        symbol: String,
        price_decimals: u32,
        amount_decimals: u32,
        min_qty: &str,
        min_notional: &str,
        quote_decimals: Option<u32>,
    ) -> PyResult<()> {
        let mut r = SymbolRules::new(
            self.client.venue(),
            symbol.clone(),
            price_decimals,
            amount_decimals,
            amount("min_qty", min_qty)?,
            amount("min_notional", min_notional)?,
        );
        if let Some(q) = quote_decimals {
            r.quote_decimals = q;
        }
        self.rules.lock().insert(symbol, Arc::new(r));
        Ok(())
    }

    fn server_time<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        runtime::future_into_py(py, async move { c.server_time().await.map_err(to_py_err) })
    }

    /// `[{"asset", "free", "locked"}]`.
    fn balances<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        runtime::future_into_py(py, async move {
            let b = c.balances().await.map_err(to_py_err)?;
            ser(&b)
        })
    }

    /// `{"trade", "withdraw"}` as the venue reports them for this key, or None where it
    /// reports none read-only (Gate).
    fn permissions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        runtime::future_into_py(py, async move {
            let p = c.permissions().await.map_err(to_py_err)?;
            ser(&p)
        })
    }

    /// `{"maker", "taker"}` fee rates.
    fn fees<'py>(&self, py: Python<'py>, symbol: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        runtime::future_into_py(py, async move {
            let f = c.fees(&symbol).await.map_err(to_py_err)?;
            ser(&f)
        })
    }

    /// Places an order from a spec dict; returns the tracked order state.
    fn place<'py>(
        &self,
        py: Python<'py>,
        order: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = order_from_dict(&self.rules.lock(), self.client.venue(), order)?;
        let c = self.client.clone();
        runtime::future_into_py(py, async move {
            let s = c.place(&req).await.map_err(to_py_err)?;
            ser(&s)
        })
    }

    #[pyo3(signature = (symbol, order_id = None, client_id = None))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        symbol: String,
        order_id: Option<String>,
        client_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r = order_ref(order_id, client_id)?;
        let c = self.client.clone();
        runtime::future_into_py(py, async move {
            let s = c.query(&symbol, &r).await.map_err(to_py_err)?;
            ser(&s)
        })
    }

    #[pyo3(signature = (symbol, order_id = None, client_id = None))]
    fn cancel<'py>(
        &self,
        py: Python<'py>,
        symbol: String,
        order_id: Option<String>,
        client_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r = order_ref(order_id, client_id)?;
        let c = self.client.clone();
        runtime::future_into_py(py, async move {
            let s = c.cancel(&symbol, &r).await.map_err(to_py_err)?;
            ser(&s)
        })
    }

    fn open_orders<'py>(&self, py: Python<'py>, symbol: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        runtime::future_into_py(py, async move {
            let s = c.open_orders(&symbol).await.map_err(to_py_err)?;
            ser(&s)
        })
    }

    #[pyo3(signature = (symbol, since_ms = None, limit = 100))]
    fn my_trades<'py>(
        &self,
        py: Python<'py>,
        symbol: String,
        since_ms: Option<i64>,
        limit: u32,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        runtime::future_into_py(py, async move {
            let s = c
                .my_trades(&symbol, since_ms, limit)
                .await
                .map_err(to_py_err)?;
            ser(&s)
        })
    }

    /// The tracked state of an order (no network), or None.
    fn order(&self, py: Python<'_>, client_id: &str) -> PyResult<Py<PyAny>> {
        let id = ClientOrderId::custom(client_id).map_err(invalid)?;
        match self.client.tracker().get(&id) {
            Some(s) => ser(&s),
            None => Ok(py.None()),
        }
    }

    /// Every tracked order (no network).
    fn orders(&self) -> PyResult<Py<PyAny>> {
        ser(&self.client.tracker().all())
    }

    /// Waits until the order reaches a final state; None on timeout.
    fn wait_final<'py>(
        &self,
        py: Python<'py>,
        client_id: &str,
        timeout_s: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = ClientOrderId::custom(client_id).map_err(invalid)?;
        let c = self.client.clone();
        let t = std::time::Duration::from_secs_f64(timeout_s.max(0.0));
        runtime::future_into_py(py, async move {
            match c.tracker().wait_final(&id, t).await {
                Some(s) => ser(&s),
                None => runtime::attach(|py| Ok(py.None())),
            }
        })
    }

    /// Starts the private stream (reconciling `symbols` over REST after each connect).
    /// With `callback`, every event (`{"type": "order"|"fill"|"balance"|"stream", ...}`)
    /// is delivered as a list batch on the running asyncio loop. Call from a coroutine.
    #[pyo3(signature = (symbols, callback = None))]
    fn start_user_stream(
        &self,
        py: Python<'_>,
        symbols: Vec<String>,
        callback: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let mut slot = self.stream.lock();
        if slot.is_some() {
            return Err(startup_error("user stream already running"));
        }
        let _guard = runtime().enter();
        let forward = match callback {
            Some(cb) => {
                let loop_ = bridge::running_loop(py)?;
                let d = Dispatcher::new(py, loop_, cb, event_to_py)?;
                // Subscribe before the stream starts so no event can slip past.
                let mut rx = self.client.tracker().subscribe_events();
                let stop = tokio_util::sync::CancellationToken::new();
                let (d2, s2, shutdown) = (d.clone(), stop.clone(), shutdown_token());
                let venue = self.client.venue();
                runtime().spawn(async move {
                    loop {
                        let ev = tokio::select! {
                            _ = s2.cancelled() => break,
                            _ = shutdown.cancelled() => break,
                            ev = rx.recv() => ev,
                        };
                        match ev {
                            Ok(ev) => {
                                if !d2.push(ev) {
                                    break;
                                }
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                                let lost = ExecEvent::Stream {
                                    venue,
                                    connected: true,
                                    detail: format!("event consumer lagged: {n} events not delivered (tracker state is complete)"),
                                };
                                let _ = d2.push(lost);
                            }
                            Err(_) => break,
                        }
                    }
                });
                Some((d, stop))
            }
            None => None,
        };
        let stream = UserStream::start(self.client.clone(), symbols);
        *slot = Some(StreamSlot { stream, forward });
        Ok(())
    }

    fn stop_user_stream(&self) {
        if let Some(s) = self.stream.lock().take() {
            s.stream.stop();
            if let Some((d, stop)) = s.forward {
                stop.cancel();
                d.close();
            }
        }
    }

    /// `{"connected", "connects", "listen_keys_created", "frames", "fills", "orders",
    /// "reconciled_fills", "reconciles", "decode_errors"}`, or None without a stream.
    fn stream_stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        use std::sync::atomic::Ordering::Relaxed;
        let g = self.stream.lock();
        let Some(s) = g.as_ref() else {
            return Ok(py.None());
        };
        let st = &s.stream.stats;
        let d = PyDict::new(py);
        d.set_item("connected", st.connected.load(Relaxed))?;
        d.set_item("connects", st.connects.load(Relaxed))?;
        d.set_item("listen_keys_created", st.listen_keys_created.load(Relaxed))?;
        d.set_item("frames", st.frames.load(Relaxed))?;
        d.set_item("fills", st.fills.load(Relaxed))?;
        d.set_item("orders", st.orders.load(Relaxed))?;
        d.set_item("reconciled_fills", st.reconciled_fills.load(Relaxed))?;
        d.set_item("reconciles", st.reconciles.load(Relaxed))?;
        d.set_item("decode_errors", st.decode_errors.load(Relaxed))?;
        Ok(d.into_any().unbind())
    }

    /// Re-queries live orders and recent fills of `symbols`; returns how many fills were new.
    #[pyo3(signature = (symbols, since_ms = None))]
    fn reconcile<'py>(
        &self,
        py: Python<'py>,
        symbols: Vec<String>,
        since_ms: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        runtime::future_into_py(py, async move {
            c.reconcile(&symbols, since_ms).await.map_err(to_py_err)
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "VenueClient(venue={:?}, rest_url={:?})",
            self.client.venue().as_str(),
            self.client.config().rest_url
        )
    }
}

impl Drop for PyVenueClient {
    fn drop(&mut self) {
        self.stop_user_stream();
    }
}

/// Sends two orders to two venues at once; returns a 2-tuple whose items are the order
/// state dict, or the exception (not raised) of a leg that failed.
#[pyfunction]
fn submit_pair<'py>(
    py: Python<'py>,
    client_a: &PyVenueClient,
    order_a: &Bound<'py, PyDict>,
    client_b: &PyVenueClient,
    order_b: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    let a = order_from_dict(&client_a.rules.lock(), client_a.client.venue(), order_a)?;
    let b = order_from_dict(&client_b.rules.lock(), client_b.client.venue(), order_b)?;
    let (ca, cb) = (client_a.client.clone(), client_b.client.clone());
    runtime::future_into_py(py, async move {
        let (ra, rb) = arb_exec::submit_pair(&ca, &a, &cb, &b).await;
        let conv = |r: Result<arb_exec::OrderState, ExecError>| -> PyResult<Py<PyAny>> {
            match r {
                Ok(s) => ser(&s),
                Err(e) => runtime::attach(|py| Ok(to_py_err(e).into_value(py).into_any())),
            }
        };
        let (a, b) = (conv(ra)?, conv(rb)?);
        runtime::attach(|py| Ok(PyTuple::new(py, [a, b])?.into_any().unbind()))
    })
}

/// A client order id naming an arbitrage leg: `<prefix>_<txn base36>_<leg>` where leg
/// is "a", "b" or "u<n>" (unwind n).
#[pyfunction]
fn client_order_id(prefix: &str, txn: u64, leg: &str) -> PyResult<String> {
    let leg = match leg {
        "a" => Leg::A,
        "b" => Leg::B,
        other => Leg::Unwind(
            other
                .strip_prefix('u')
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| value_error(format!("leg {other:?}: \"a\", \"b\" or \"u<n>\"")))?,
        ),
    };
    ClientOrderId::for_leg(prefix, txn, leg)
        .map(|c| c.to_string())
        .map_err(value_error)
}

/// `(prefix, txn, leg)` of an id built by `client_order_id` (Gate's "t-" accepted), or None.
#[pyfunction]
fn parse_client_order_id(text: &str) -> Option<(String, u64, String)> {
    let l = ClientOrderId::from_venue(text).leg_id()?;
    let leg = match l.leg {
        Leg::A => "a".to_string(),
        Leg::B => "b".to_string(),
        Leg::Unwind(n) => format!("u{n}"),
    };
    Some((l.prefix, l.txn, leg))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyVenueClient>()?;
    m.add_function(wrap_pyfunction!(submit_pair, m)?)?;
    m.add_function(wrap_pyfunction!(client_order_id, m)?)?;
    m.add_function(wrap_pyfunction!(parse_client_order_id, m)?)?;
    Ok(())
}
