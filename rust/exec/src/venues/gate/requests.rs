//! Gate.io API v4 spot REST requests: the endpoint of each operation, its query or JSON
//! body (a market buy's `amount` is quote) and the signed request itself.

use reqwest::Method;
use serde_json::{json, Value};

use super::sign::sign_headers;
use crate::client::OrderRef;
use crate::order::{ClientOrderId, PreparedKind, PreparedOrder, TimeInForce};
use crate::ratelimit::Endpoint;
use crate::venue_api::{Call, HttpRequest, RequestCtx};

/// The client order id as Gate takes it: `text`, `t-` plus the id.
pub fn client_id_wire(id: &ClientOrderId) -> String {
    format!("t-{}", id.as_str())
}

/// The request of one attempt: the un-encoded query, the JSON body and (signed) the
/// `KEY` / `Timestamp` / `SIGN` headers over the full path.
pub fn request(ctx: &RequestCtx<'_>, c: &Call) -> HttpRequest {
    let cfg = ctx.cfg;
    let mut q = String::new();
    for (k, v) in &c.params {
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(k);
        q.push('=');
        q.push_str(v);
    }
    let full = format!("{}{}", ctx.base_path, c.path);
    let body = c.body.as_deref().unwrap_or("");
    let mut headers = Vec::with_capacity(5);
    headers.push(("Content-Type", "application/json".to_string()));
    headers.push(("Accept", "application/json".to_string()));
    if c.signed {
        headers.extend(sign_headers(
            &cfg.api_key,
            cfg.api_secret.expose(),
            c.method.as_str(),
            &full,
            &q,
            body.as_bytes(),
            ctx.venue_now_ms.div_euclid(1000),
        ));
    }
    let target = if q.is_empty() {
        full
    } else {
        format!("{full}?{q}")
    };
    HttpRequest {
        method: c.method.clone(),
        target,
        headers,
        body: c.body.clone(),
    }
}

pub fn server_time() -> (Call, &'static str) {
    let mut c = Call::new(
        Endpoint::Public,
        "server_time",
        "",
        Method::GET,
        "/spot/time",
    );
    c.signed = false;
    (c, "server_time")
}

pub fn balances() -> Call {
    Call::new(
        Endpoint::Account,
        "balances",
        "",
        Method::GET,
        "/spot/accounts",
    )
}

pub fn fees(symbol: &str) -> Call {
    Call::new(Endpoint::Fee, "fees", symbol, Method::GET, "/wallet/fee")
        .param("currency_pair", symbol)
}

/// The `{order_id}` path segment: the venue id, or our `text` (Gate resolves a `text`
/// only while the order is open).
fn order_segment(order: &OrderRef) -> String {
    match order {
        OrderRef::Venue(id) => id.clone(),
        OrderRef::Client(id) => client_id_wire(id),
    }
}

pub fn query(symbol: &str, order: &OrderRef) -> Call {
    Call::new(
        Endpoint::QueryOrder,
        "query",
        symbol,
        Method::GET,
        format!("/spot/orders/{}", order_segment(order)),
    )
    .param("currency_pair", symbol)
}

pub fn cancel(symbol: &str, order: &OrderRef) -> Call {
    Call::new(
        Endpoint::Cancel,
        "cancel",
        symbol,
        Method::DELETE,
        format!("/spot/orders/{}", order_segment(order)),
    )
    .param("currency_pair", symbol)
}

pub fn open_orders(symbol: &str) -> Call {
    Call::new(
        Endpoint::OpenOrders,
        "open_orders",
        symbol,
        Method::GET,
        "/spot/orders",
    )
    .param("currency_pair", symbol)
    .param("status", "open")
}

/// `GET /spot/my_trades` page `page` (newest first, at most 1000 a page); the window
/// is in whole seconds.
pub fn trades_page(
    symbol: &str,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    page: u32,
    limit: u32,
) -> Call {
    let mut c = Call::new(
        Endpoint::MyTrades,
        "my_trades",
        symbol,
        Method::GET,
        "/spot/my_trades",
    )
    .param("currency_pair", symbol)
    .param("limit", limit.min(1000).to_string());
    if let Some(s) = since_ms {
        c.params.push(("from", s.div_euclid(1000).to_string()));
    }
    if let Some(u) = until_ms {
        // Whole seconds: round up so the window's last second is in.
        c.params
            .push(("to", (u + 999).div_euclid(1000).to_string()));
    }
    if page > 1 {
        c.params.push(("page", page.to_string()));
    }
    c
}

/// `GET /spot/orders?status=finished` in the window (whole seconds, rounded outwards).
pub fn order_history(symbol: &str, since_ms: i64, until_ms: i64, limit: u32, page: u32) -> Call {
    let mut c = Call::new(
        Endpoint::OpenOrders,
        "order_history",
        symbol,
        Method::GET,
        "/spot/orders",
    )
    .param("currency_pair", symbol)
    .param("status", "finished")
    .param("from", since_ms.div_euclid(1000).to_string())
    .param("to", (until_ms + 999).div_euclid(1000).to_string());
    if page > 1 {
        c.params.push(("page", page.to_string()));
    }
    c.param("limit", limit.to_string())
}

pub fn place(p: &PreparedOrder) -> Call {
    let mut c = Call::new(
        Endpoint::Place,
        "place",
        &p.symbol,
        Method::POST,
        "/spot/orders",
    );
    c.body = Some(place_body(p).to_string());
    c
}

/// The JSON body of `POST /spot/orders` (also the `req_param` of `spot.order_place`).
pub fn place_body(p: &PreparedOrder) -> Value {
    let mut b = json!({
        "currency_pair": p.symbol,
        "side": p.side.as_str(),
        "account": "spot",
        "text": client_id_wire(&p.client_id),
    });
    let m = b.as_object_mut().expect("object literal");
    match &p.kind {
        PreparedKind::Limit { price, qty, tif } => {
            m.insert("type".into(), "limit".into());
            m.insert("amount".into(), qty.clone().into());
            m.insert("price".into(), price.clone().into());
            let t = match tif {
                TimeInForce::Gtc => "gtc",
                TimeInForce::Ioc => "ioc",
                TimeInForce::Fok => "fok",
                TimeInForce::PostOnly => "poc",
            };
            m.insert("time_in_force".into(), t.into());
        }
        PreparedKind::Market { qty } => {
            m.insert("type".into(), "market".into());
            m.insert("amount".into(), qty.clone().into());
            m.insert("time_in_force".into(), "ioc".into());
        }
        PreparedKind::MarketQuote { quote } => {
            m.insert("type".into(), "market".into());
            m.insert("amount".into(), quote.clone().into());
            m.insert("time_in_force".into(), "ioc".into());
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::order::{Leg, OrderKind, OrderRequest, Side, SymbolRules};
    use arb_core::Venue;
    use std::sync::Arc;

    #[test]
    fn bodies_per_kind() {
        let rules = Arc::new(SymbolRules::new(
            Venue::GATE,
            "BTC_USDT",
            1,
            6,
            Amount::parse("0.000001").unwrap(),
            Amount::parse("3").unwrap(),
        ));
        let req = OrderRequest {
            rules,
            side: Side::Buy,
            kind: OrderKind::MarketQuote {
                quote: Amount::parse("10").unwrap(),
            },
            client_id: ClientOrderId::for_leg("ab", 7, Leg::B).unwrap(),
        };
        let b = place_body(&req.prepare().unwrap());
        assert_eq!(
            b,
            json!({"currency_pair":"BTC_USDT","side":"buy","account":"spot","text":"t-ab_7_b",
                   "type":"market","amount":"10.0","time_in_force":"ioc"})
        );
    }

    /// The client-id wire format round trip: `t-` on the wire, stripped when read back.
    #[test]
    fn client_id_wire_round_trip() {
        let id = ClientOrderId::for_leg("arb1", u64::MAX, Leg::Unwind(12)).unwrap();
        let wire = client_id_wire(&id);
        assert!(wire.starts_with("t-") && wire.len() <= 30, "{wire}");
        assert_eq!(ClientOrderId::from_venue(&wire), id);
        let q = query("BTC_USDT", &OrderRef::Client(id));
        assert_eq!(q.path, format!("/spot/orders/{wire}"));
    }
}
