//! Gate.io v4 wallet endpoints over the simulated wallets: currencies with their chains
//! (public `GET /spot/currencies`, `GET /wallet/currency_chains`), fees and minimums
//! (`GET /wallet/withdraw_status`), deposit addresses (`GET /wallet/deposit_address`),
//! withdrawals (`POST /withdrawals` with `withdraw_order_id`, `GET /wallet/withdrawals`)
//! and deposits (`GET /wallet/deposits`). Fields and statuses follow Gate's documentation
//! (withdrawal `REQUEST`, `PEND`, `EXTPEND`, `DONE`; deposit `PEND`, `DONE`; ids `w...` and
//! `d...`; times in seconds); the amount of a withdrawal includes its fee.

// Handlers return a ready HTTP response as their error, as in `rest.rs`.
#![allow(clippy::result_large_err)]

use axum::body::Body;
use axum::http::{Response, StatusCode};
use serde_json::{json, Value};

use super::rest::err;
use crate::faults::{FaultKind, Hang, Hook};
use crate::http::{get, json_response, Params};
use crate::spec::BAL_SCALE;
use crate::state::VenueState;
use crate::wallet::{Deposit, Network, Phase, WalletError, Wallets, WithdrawRequest, Withdrawal};
use arb_core::fixed::format_scaled;

type Resp = Response<Body>;

fn ok(v: Value) -> Resp {
    json_response(StatusCode::OK, &v)
}

fn bad(label: &str, message: impl Into<String>) -> Resp {
    err(StatusCode::BAD_REQUEST, label, message)
}

fn amount(m: i128) -> String {
    format_scaled(m, BAL_SCALE)
}

/// Whether `(method, sub)` (the path under `/api/v4`) is a public wallet endpoint.
pub fn is_public(method: &str, sub: &str) -> bool {
    method == "GET" && matches!(sub, "/spot/currencies" | "/wallet/currency_chains")
}

/// A public wallet endpoint; `None` for a path this file does not serve.
pub fn public(vs: &VenueState, sub: &str, params: &Params) -> Option<Resp> {
    Some(match sub {
        "/spot/currencies" => currencies(vs),
        "/wallet/currency_chains" => currency_chains(vs, params),
        _ => return None,
    })
}

/// A signed wallet endpoint of `account`; `None` for a path this file does not serve.
pub fn private(
    vs: &VenueState,
    account: u32,
    method: &str,
    sub: &str,
    params: &Params,
    body: &[u8],
) -> Option<Resp> {
    Some(match (method, sub) {
        ("GET", "/wallet/withdraw_status") => withdraw_status(vs, params),
        ("GET", "/wallet/deposit_address") => deposit_address(vs, account, params),
        ("POST", "/withdrawals") => withdraw(vs, account, body),
        ("GET", "/wallet/withdrawals") => withdrawals(vs, account, params),
        ("GET", "/wallet/deposits") => deposits(vs, account, params),
        _ => return None,
    })
}

fn nets<'a>(vs: &'a VenueState, asset: &str) -> &'a [Network] {
    vs.wallets().networks(asset).unwrap_or_default()
}

fn currencies(vs: &VenueState) -> Resp {
    let list: Vec<Value> = Wallets::listed(vs)
        .iter()
        .map(|a| {
            let chains: Vec<Value> = nets(vs, a)
                .iter()
                .map(|n| {
                    json!({
                        "name": n.chain, "addr": "",
                        "withdraw_disabled": !Wallets::is_open(vs, a, n, false),
                        "withdraw_delayed": false,
                        "deposit_disabled": !Wallets::is_open(vs, a, n, true),
                    })
                })
                .collect();
            let any = |deposit: bool| {
                nets(vs, a)
                    .iter()
                    .any(|n| Wallets::is_open(vs, a, n, deposit))
            };
            json!({
                "currency": a, "name": a, "delisted": false,
                "withdraw_disabled": !any(false), "withdraw_delayed": false,
                "deposit_disabled": !any(true), "trade_disabled": false,
                "chain": nets(vs, a).first().map_or(a.as_str(), |n| n.chain.as_str()),
                "chains": chains,
            })
        })
        .collect();
    ok(Value::Array(list))
}

fn currency_param(params: &Params) -> Result<&str, Resp> {
    get(params, "currency").ok_or_else(|| {
        bad(
            "MISSING_REQUIRED_PARAM",
            "Missing required parameter: currency",
        )
    })
}

fn currency_chains(vs: &VenueState, params: &Params) -> Resp {
    let c = match currency_param(params) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let list: Vec<Value> = nets(vs, c)
        .iter()
        .map(|n| {
            let (d, w) = (
                Wallets::is_open(vs, c, n, true),
                Wallets::is_open(vs, c, n, false),
            );
            json!({
                "chain": n.chain, "name_cn": n.name, "name_en": n.name, "contract_address": "",
                "is_disabled": u8::from(!d && !w), "is_deposit_disabled": u8::from(!d),
                "is_withdraw_disabled": u8::from(!w), "decimal": "8",
            })
        })
        .collect();
    ok(Value::Array(list))
}

/// Fees per chain. Gate gives one minimum per currency (`withdraw_amount_mini`): the
/// largest of its chains' minimums, so an amount that passes it passes on every chain.
fn withdraw_status(vs: &VenueState, params: &Params) -> Resp {
    let want = get(params, "currency");
    let list: Vec<Value> = Wallets::listed(vs)
        .iter()
        .filter(|a| want.is_none_or(|w| w.eq_ignore_ascii_case(a)))
        .filter(|a| !nets(vs, a).is_empty())
        .map(|a| {
            let ns = nets(vs, a);
            let fees: serde_json::Map<String, Value> = ns
                .iter()
                .map(|n| (n.chain.clone(), json!(amount(n.fee))))
                .collect();
            let pct: serde_json::Map<String, Value> =
                ns.iter().map(|n| (n.chain.clone(), json!("0%"))).collect();
            let min = ns.iter().map(|n| n.min).max().unwrap_or(0);
            let max = ns.iter().map(|n| n.max).min().unwrap_or(0);
            json!({
                "currency": a, "name": a, "name_cn": a, "deposit": "0",
                "withdraw_percent": "0%", "withdraw_fix": amount(ns[0].fee),
                "withdraw_day_limit": amount(max), "withdraw_day_limit_remain": amount(max),
                "withdraw_amount_mini": amount(min), "withdraw_eachtime_limit": amount(max),
                "withdraw_fix_on_chains": fees, "withdraw_percent_on_chains": pct,
            })
        })
        .collect();
    ok(Value::Array(list))
}

fn deposit_address(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let c = match currency_param(params) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let ns = nets(vs, c);
    if ns.is_empty() {
        return bad("INVALID_CURRENCY", format!("Invalid currency {c}"));
    }
    let chains: Vec<Value> = ns
        .iter()
        .filter_map(|n| {
            let address = vs.wallets().address(vs.index, account, &n.chain)?;
            Some(json!({
                "chain": n.chain, "address": address, "payment_id": "",
                "payment_name": "", "obtain_failed": 0,
            }))
        })
        .collect();
    let first = chains.first().map_or(json!(""), |c| c["address"].clone());
    ok(json!({
        "currency": c.to_ascii_uppercase(), "address": first, "multichain_addresses": chains,
    }))
}

fn wallet_error(e: &WalletError) -> Resp {
    let label = match e {
        WalletError::InsufficientBalance { .. } => "BALANCE_NOT_ENOUGH",
        WalletError::UnknownAsset { .. } => "INVALID_CURRENCY",
        _ => "INVALID_PARAM_VALUE",
    };
    bad(label, e.to_string())
}

/// Gate's withdrawal ids are `w` and a number.
fn withdrawal_id(w: &Withdrawal) -> String {
    format!("w{}", 13_389_600 + w.seq)
}

fn status(w: &Withdrawal) -> &'static str {
    match w.phase {
        Phase::Processing => "PEND",
        Phase::OnChain => "EXTPEND",
        Phase::Credited => "DONE",
    }
}

fn record(w: &Withdrawal, status: &str) -> Value {
    json!({
        "id": withdrawal_id(w), "txid": w.txid, "block_number": "",
        "withdraw_order_id": w.client_id, "timestamp": (w.created_ms / 1000).to_string(),
        "amount": amount(w.amount), "fee": amount(w.fee), "currency": w.asset,
        "address": w.address, "memo": w.memo, "status": status, "chain": w.chain,
    })
}

fn withdraw(vs: &VenueState, account: u32, body: &[u8]) -> Resp {
    let v: Value = match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Value::Object(m),
        _ => return bad("INVALID_REQUEST_BODY", "Request body is not a JSON object"),
    };
    // Gate takes numbers as strings, but a client may send a JSON number.
    let field = |k: &str| -> Option<String> {
        match v.get(k)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let (Some(currency), Some(address), Some(amt)) =
        (field("currency"), field("address"), field("amount"))
    else {
        return bad(
            "MISSING_REQUIRED_PARAM",
            "Missing required parameter: currency, address or amount",
        );
    };
    let client_id = field("withdraw_order_id").unwrap_or_default();
    let id_ok = client_id.len() <= 32
        && client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !id_ok {
        return bad(
            "INVALID_PARAM_VALUE",
            "withdraw_order_id: up to 32 of 0-9, A-Z, a-z, _, - and .",
        );
    }
    let chain = field("chain");
    let memo = field("memo").unwrap_or_default();
    let req = WithdrawRequest {
        asset: &currency,
        chain: chain.as_deref(),
        address: &address,
        memo: &memo,
        amount: &amt,
        client_id: &client_id,
        remark: "",
    };
    let hang = matches!(
        vs.faults.take(Hook::Withdraw, None),
        Some(FaultKind::WithdrawApplyThenTimeout)
    );
    let mut resp = match vs.wallets().withdraw(vs, account, &req) {
        Ok(w) => ok(record(&w, "REQUEST")),
        Err(e) => wallet_error(&e),
    };
    if hang {
        resp.extensions_mut().insert(Hang);
    }
    resp
}

/// The documented filters and page: `currency`, `from`/`to` (seconds), `limit` (default
/// 100), `offset`; newest first.
fn page<T>(params: &Params, mut list: Vec<T>, time_ms: impl Fn(&T) -> i64) -> Vec<T> {
    let secs = |k: &str| get(params, k).and_then(|s| s.parse::<i64>().ok());
    let (from, to) = (secs("from"), secs("to"));
    let limit = get(params, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let offset = get(params, "offset")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(0);
    list.retain(|x| {
        let t = time_ms(x) / 1000;
        from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e)
    });
    list.reverse();
    list.into_iter().skip(offset).take(limit).collect()
}

fn withdrawals(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let currency = get(params, "currency");
    let by_id = get(params, "withdraw_id");
    let by_client = get(params, "withdraw_order_id");
    let all: Vec<Withdrawal> = vs
        .wallets()
        .withdrawals(vs.index, account)
        .into_iter()
        .filter(|w| currency.is_none_or(|c| c.eq_ignore_ascii_case(&w.asset)))
        .filter(|w| by_id.is_none_or(|i| i == withdrawal_id(w)))
        .filter(|w| by_client.is_none_or(|c| c == w.client_id))
        .collect();
    let list: Vec<Value> = page(params, all, |w| w.created_ms)
        .iter()
        .map(|w| record(w, status(w)))
        .collect();
    ok(Value::Array(list))
}

fn deposits(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let currency = get(params, "currency");
    let all: Vec<Deposit> = vs
        .wallets()
        .deposits(vs.index, account)
        .into_iter()
        .filter(|d| currency.is_none_or(|c| c.eq_ignore_ascii_case(&d.asset)))
        .collect();
    let list: Vec<Value> = page(params, all, |d| d.created_ms)
        .iter()
        .map(|d| {
            json!({
                "id": format!("d{}", 33_361_300 + d.seq), "txid": d.txid,
                "timestamp": (d.created_ms / 1000).to_string(), "amount": amount(d.amount),
                "currency": d.asset, "address": d.address, "memo": "",
                "status": if d.credited { "DONE" } else { "PEND" }, "chain": d.chain,
            })
        })
        .collect();
    ok(Value::Array(list))
}
