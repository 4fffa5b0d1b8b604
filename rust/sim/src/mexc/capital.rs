//! MEXC spot v3 wallet ("capital") endpoints over the simulated wallets: currency and
//! network configuration (`GET capital/config/getall`), deposit addresses (`GET
//! capital/deposit/address`), withdrawals (`POST capital/withdraw` with `withdrawOrderId`,
//! `GET capital/withdraw/history`) and deposits (`GET capital/deposit/hisrec`). Fields
//! and status codes follow MEXC's documentation (withdrawal status 1 APPLY .. 4
//! PROCESSING, 6 WAIT_CONFIRM, 7 SUCCESS, 8 FAILED; deposit 4 PENDING, 5 SUCCESS);
//! the amount of a withdrawal includes its fee.

use axum::body::Body;
use axum::http::Response;
use serde_json::{json, Value};

use super::rest::{bad, missing, ok};
use crate::faults::{FaultKind, Hang, Hook};
use crate::http::{get, Params};
use crate::spec::BAL_SCALE;
use crate::state::VenueState;
use crate::wallet::{
    hash_hex, Deposit, Network, Phase, WalletError, Wallets, WithdrawRequest, Withdrawal,
};
use arb_core::fixed::format_scaled;

type Resp = Response<Body>;

/// Routes a signed `/api/v3/capital/...` request of `account`; `None` for a path this
/// file does not serve.
pub fn route(
    vs: &VenueState,
    account: u32,
    method: &str,
    path: &str,
    params: &Params,
) -> Option<Resp> {
    let sub = path.strip_prefix("/api/v3/capital/")?;
    Some(match (method, sub) {
        ("GET", "config/getall") => config(vs),
        ("GET", "deposit/address") => deposit_address(vs, account, params),
        ("POST", "withdraw") => withdraw(vs, account, params),
        ("GET", "withdraw/history") => withdraw_history(vs, account, params),
        ("GET", "deposit/hisrec") => deposit_history(vs, account, params),
        _ => return None,
    })
}

fn amount(m: i128) -> String {
    format_scaled(m, BAL_SCALE)
}

fn network_json(vs: &VenueState, asset: &str, n: &Network) -> Value {
    json!({
        "coin": asset, "name": asset, "network": n.name, "netWork": n.chain,
        "depositEnable": Wallets::is_open(vs, asset, n, true),
        "withdrawEnable": Wallets::is_open(vs, asset, n, false),
        "withdrawFee": amount(n.fee), "withdrawMin": amount(n.min),
        "withdrawMax": amount(n.max), "minConfirm": "1", "contract": "",
        "sameAddress": false, "withdrawIntegerMultiple": null, "depositDesc": null,
        "withdrawTips": null, "depositTips": null,
    })
}

/// Every asset the venue lists, each with its networks.
fn config(vs: &VenueState) -> Resp {
    let wallets = vs.wallets();
    let assets = Wallets::listed(vs);
    let list: Vec<Value> = assets
        .iter()
        .map(|a| {
            let nets: Vec<Value> = wallets
                .networks(a)
                .unwrap_or_default()
                .iter()
                .map(|n| network_json(vs, a, n))
                .collect();
            json!({"coin": a, "name": a, "networkList": nets})
        })
        .collect();
    ok(Value::Array(list))
}

fn deposit_address(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let Some(coin) = get(params, "coin") else {
        return missing("coin");
    };
    let wallets = vs.wallets();
    let Some(nets) = wallets.networks(coin) else {
        return bad(400, format!("coin {coin} does not exist"));
    };
    let want = get(params, "network");
    let list: Vec<Value> = nets
        .iter()
        .filter(|n| want.is_none_or(|w| n.is(w)))
        .filter_map(|n| {
            let address = wallets.address(vs.index, account, &n.chain)?;
            Some(json!({
                "coin": coin.to_ascii_uppercase(), "network": n.name, "netWork": n.chain,
                "address": address, "memo": null,
            }))
        })
        .collect();
    ok(Value::Array(list))
}

fn wallet_error(e: &WalletError) -> Resp {
    // MEXC words these in `{code, msg}`; the documentation gives no dedicated codes for
    // most of them, so they answer 400 with a message naming the asset and network.
    match e {
        WalletError::InsufficientBalance { .. } => bad(10101, "Insufficient balance"),
        other => bad(400, other.to_string()),
    }
}

fn withdraw(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let (Some(coin), Some(address), Some(amount)) = (
        get(params, "coin"),
        get(params, "address"),
        get(params, "amount"),
    ) else {
        let name = ["coin", "address", "amount"]
            .into_iter()
            .find(|k| get(params, k).is_none())
            .unwrap_or("coin");
        return missing(name);
    };
    let req = WithdrawRequest {
        asset: coin,
        chain: get(params, "netWork").or_else(|| get(params, "network")),
        address,
        memo: get(params, "memo").unwrap_or(""),
        amount,
        client_id: get(params, "withdrawOrderId").unwrap_or(""),
        remark: get(params, "remark").unwrap_or(""),
    };
    let hang = matches!(
        vs.faults.take(Hook::Withdraw, None),
        Some(FaultKind::WithdrawApplyThenTimeout)
    );
    let mut resp = match vs.wallets().withdraw(vs, account, &req) {
        Ok(w) => ok(json!({"id": withdrawal_id(vs, &w)})),
        Err(e) => wallet_error(&e),
    };
    if hang {
        resp.extensions_mut().insert(Hang);
    }
    resp
}

/// MEXC's withdrawal ids are 32 hex digits.
fn withdrawal_id(vs: &VenueState, w: &Withdrawal) -> String {
    hash_hex(&format!(
        "mexc-withdraw|{}|{}|{}",
        vs.cfg.seed, vs.name, w.seq
    ))[..32]
        .to_string()
}

fn status_code(p: Phase) -> u8 {
    match p {
        Phase::Processing => 4,
        Phase::OnChain => 6,
        Phase::Credited => 7,
    }
}

/// `coin` as MEXC's history takes it: "USDT" or "USDT-TRX" (with the network).
fn coin_filter(params: &Params) -> (Option<String>, Option<String>) {
    match get(params, "coin") {
        None => (None, None),
        Some(c) => match c.split_once('-') {
            Some((a, n)) => (Some(a.to_ascii_uppercase()), Some(n.to_ascii_uppercase())),
            None => (Some(c.to_ascii_uppercase()), None),
        },
    }
}

/// The documented window and page: `startTime`/`endTime` (ms), `limit` default 1000,
/// at most 1000, newest first.
fn window<T>(params: &Params, mut list: Vec<T>, time: impl Fn(&T) -> i64) -> Vec<T> {
    let start = get(params, "startTime").and_then(|s| s.parse::<i64>().ok());
    let end = get(params, "endTime").and_then(|s| s.parse::<i64>().ok());
    let limit = get(params, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    list.retain(|x| start.is_none_or(|s| time(x) >= s) && end.is_none_or(|e| time(x) <= e));
    list.reverse();
    list.truncate(limit);
    list
}

fn withdraw_history(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let (coin, chain) = coin_filter(params);
    let status = get(params, "status").and_then(|s| s.parse::<u8>().ok());
    let all: Vec<Withdrawal> = vs
        .wallets()
        .withdrawals(vs.index, account)
        .into_iter()
        .filter(|w| coin.as_ref().is_none_or(|c| *c == w.asset))
        .filter(|w| chain.as_ref().is_none_or(|c| *c == w.chain))
        .filter(|w| status.is_none_or(|s| s == status_code(w.phase)))
        .collect();
    let list: Vec<Value> = window(params, all, |w| w.created_ms)
        .iter()
        .map(|w| {
            let tx = (!w.txid.is_empty()).then(|| w.txid.clone());
            json!({
                "id": withdrawal_id(vs, w), "txId": tx.as_ref().map(|t| format!("{t}:0")),
                "coin": format!("{}-{}", w.asset, w.chain), "network": w.chain,
                "netWork": w.chain, "address": w.address, "amount": amount(w.amount),
                "transferType": 0, "status": status_code(w.phase),
                "transactionFee": amount(w.fee), "confirmNo": null,
                "applyTime": w.created_ms, "updateTime": w.updated_ms,
                "remark": w.remark, "memo": if w.memo.is_empty() { Value::Null } else { json!(w.memo) },
                "transHash": tx, "withdrawOrderId": w.client_id,
                "explorerUrl": "",
            })
        })
        .collect();
    ok(Value::Array(list))
}

fn deposit_history(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let (coin, chain) = coin_filter(params);
    let status = get(params, "status").and_then(|s| s.parse::<u8>().ok());
    let code = |d: &Deposit| if d.credited { 5 } else { 4 };
    let all: Vec<Deposit> = vs
        .wallets()
        .deposits(vs.index, account)
        .into_iter()
        .filter(|d| coin.as_ref().is_none_or(|c| *c == d.asset))
        .filter(|d| chain.as_ref().is_none_or(|c| *c == d.chain))
        .filter(|d| status.is_none_or(|s| s == code(d)))
        .collect();
    let list: Vec<Value> = window(params, all, |d| d.created_ms)
        .iter()
        .map(|d| {
            json!({
                "amount": amount(d.amount), "coin": format!("{}-{}", d.asset, d.chain),
                "network": d.chain, "netWork": d.chain, "status": code(d),
                "address": d.address, "txId": format!("{}:0", d.txid),
                "transHash": d.txid, "insertTime": d.created_ms, "updateTime": d.updated_ms,
                "unlockConfirm": 1, "confirmTimes": if d.credited { 1 } else { 0 },
                "memo": null,
            })
        })
        .collect();
    ok(Value::Array(list))
}
