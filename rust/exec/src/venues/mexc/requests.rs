//! MEXC spot v3 REST requests: the endpoint of each operation, its parameters (every
//! parameter in the query string, as ccxt does) and the signed request itself.

use reqwest::Method;

use super::sign::{push_param, signed_query};
use crate::client::OrderRef;
use crate::order::{ClientOrderId, PreparedKind, PreparedOrder, Side, TimeInForce};
use crate::ratelimit::Endpoint;
use crate::venue_api::{Call, HttpRequest, RequestCtx};

/// The client order id as MEXC takes it: as is.
pub fn client_id_wire(id: &ClientOrderId) -> String {
    id.as_str().to_string()
}

/// The request of one attempt: the query (signed: `timestamp`, `recvWindow`,
/// `signature` appended) and the key header.
pub fn request(ctx: &RequestCtx<'_>, c: &Call) -> HttpRequest {
    let cfg = ctx.cfg;
    let q = if c.signed {
        signed_query(
            &c.params,
            ctx.venue_now_ms,
            cfg.recv_window_ms,
            cfg.api_secret.expose(),
        )
    } else {
        let mut q = String::new();
        for (k, v) in &c.params {
            push_param(&mut q, k, v);
        }
        q
    };
    let target = if q.is_empty() {
        format!("{}{}", ctx.base_path, c.path)
    } else {
        format!("{}{}?{}", ctx.base_path, c.path, q)
    };
    HttpRequest {
        method: c.method.clone(),
        target,
        headers: vec![
            ("X-MEXC-APIKEY", cfg.api_key.clone()),
            ("Content-Type", "application/json".into()),
        ],
        body: None,
    }
}

pub fn server_time() -> (Call, &'static str) {
    let mut c = Call::new(
        Endpoint::Public,
        "server_time",
        "",
        Method::GET,
        "/api/v3/time",
    );
    c.signed = false;
    (c, "serverTime")
}

pub fn balances() -> Call {
    Call::new(
        Endpoint::Account,
        "balances",
        "",
        Method::GET,
        "/api/v3/account",
    )
}

pub fn fees(symbol: &str) -> Call {
    Call::new(
        Endpoint::Fee,
        "fees",
        symbol,
        Method::GET,
        "/api/v3/tradeFee",
    )
    .param("symbol", symbol)
}

/// `GET` / `DELETE /api/v3/order` by venue id or client id.
fn by_order(
    ep: Endpoint,
    op: &'static str,
    method: Method,
    symbol: &str,
    order: &OrderRef,
) -> Call {
    let c = Call::new(ep, op, symbol, method, "/api/v3/order").param("symbol", symbol);
    match order {
        OrderRef::Venue(id) => c.param("orderId", id.clone()),
        OrderRef::Client(id) => c.param("origClientOrderId", client_id_wire(id)),
    }
}

pub fn query(symbol: &str, order: &OrderRef) -> Call {
    by_order(Endpoint::QueryOrder, "query", Method::GET, symbol, order)
}

pub fn cancel(symbol: &str, order: &OrderRef) -> Call {
    by_order(Endpoint::Cancel, "cancel", Method::DELETE, symbol, order)
}

pub fn open_orders(symbol: &str) -> Call {
    Call::new(
        Endpoint::OpenOrders,
        "open_orders",
        symbol,
        Method::GET,
        "/api/v3/openOrders",
    )
    .param("symbol", symbol)
}

/// `GET /api/v3/myTrades`: the newest `limit` (at most 100) of `[since_ms, until_ms]`;
/// MEXC has no page numbers.
pub fn trades_page(symbol: &str, since_ms: Option<i64>, until_ms: Option<i64>, limit: u32) -> Call {
    let mut c = Call::new(
        Endpoint::MyTrades,
        "my_trades",
        symbol,
        Method::GET,
        "/api/v3/myTrades",
    )
    .param("symbol", symbol);
    if let Some(s) = since_ms {
        c.params.push(("startTime", s.to_string()));
    }
    if let Some(u) = until_ms {
        c.params.push(("endTime", u.to_string()));
    }
    c.param("limit", limit.min(100).to_string())
}

/// `GET /api/v3/allOrders`: orders in any state created in the window.
pub fn order_history(symbol: &str, since_ms: i64, until_ms: i64, limit: u32) -> Call {
    Call::new(
        Endpoint::OpenOrders,
        "order_history",
        symbol,
        Method::GET,
        "/api/v3/allOrders",
    )
    .param("symbol", symbol)
    .param("startTime", since_ms.to_string())
    .param("endTime", until_ms.to_string())
    .param("limit", limit.to_string())
}

pub fn place(p: &PreparedOrder) -> Call {
    let mut c = Call::new(
        Endpoint::Place,
        "place",
        &p.symbol,
        Method::POST,
        "/api/v3/order",
    );
    c.params = place_params(p);
    c
}

/// The parameters of `POST /api/v3/order`, in ccxt's order.
pub fn place_params(p: &PreparedOrder) -> Vec<(&'static str, String)> {
    let side = match p.side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    };
    let mut v = vec![("symbol", p.symbol.clone()), ("side", side.to_string())];
    match &p.kind {
        PreparedKind::Limit { price, qty, tif } => {
            let t = match tif {
                TimeInForce::Gtc => "LIMIT",
                TimeInForce::Ioc => "IMMEDIATE_OR_CANCEL",
                TimeInForce::Fok => "FILL_OR_KILL",
                TimeInForce::PostOnly => "LIMIT_MAKER",
            };
            v.push(("type", t.to_string()));
            v.push(("quantity", qty.clone()));
            v.push(("price", price.clone()));
        }
        PreparedKind::Market { qty } => {
            v.push(("type", "MARKET".to_string()));
            v.push(("quantity", qty.clone()));
        }
        PreparedKind::MarketQuote { quote } => {
            v.push(("type", "MARKET".to_string()));
            v.push(("quoteOrderQty", quote.clone()));
        }
    }
    v.push(("newClientOrderId", client_id_wire(&p.client_id)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::order::{Leg, OrderKind, OrderRequest, SymbolRules};
    use arb_core::Venue;
    use std::sync::Arc;

    #[test]
    fn order_params_per_kind() {
        let rules = Arc::new(SymbolRules::new(
            Venue::MEXC,
            "BTCUSDT",
            2,
            6,
            Amount::parse("0.000001").unwrap(),
            Amount::parse("1").unwrap(),
        ));
        let id = ClientOrderId::for_leg("ab", 42, Leg::A).unwrap();
        let req = OrderRequest {
            rules,
            side: Side::Buy,
            kind: OrderKind::MarketQuote {
                quote: Amount::parse("25.5").unwrap(),
            },
            client_id: id,
        };
        let p = place_params(&req.prepare().unwrap());
        assert_eq!(
            p,
            vec![
                ("symbol", "BTCUSDT".to_string()),
                ("side", "BUY".to_string()),
                ("type", "MARKET".to_string()),
                ("quoteOrderQty", "25.50".to_string()),
                ("newClientOrderId", "ab_16_a".to_string()),
            ]
        );
        let post_only = OrderRequest {
            kind: OrderKind::Limit {
                price: Amount::parse("100").unwrap(),
                qty: Amount::parse("0.5").unwrap(),
                tif: TimeInForce::PostOnly,
            },
            ..req
        };
        assert!(place_params(&post_only.prepare().unwrap())
            .contains(&("type", "LIMIT_MAKER".to_string())));
    }

    /// The client-id wire format round trip: sent as is, read back as the same id.
    #[test]
    fn client_id_wire_round_trip() {
        let id = ClientOrderId::for_leg("arb", 7, Leg::Unwind(2)).unwrap();
        let wire = client_id_wire(&id);
        assert_eq!(wire, "arb_7_u2");
        assert_eq!(ClientOrderId::from_venue(&wire), id);
        let q = query("BTCUSDT", &OrderRef::Client(id));
        assert!(q
            .params
            .contains(&("origClientOrderId", "arb_7_u2".to_string())));
    }
}
