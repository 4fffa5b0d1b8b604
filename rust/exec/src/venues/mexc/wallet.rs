//! MEXC spot v3 wallet ("capital") endpoints: `GET capital/config/getall` (networks with
//! fee, minimum, maximum and open flags), `GET capital/deposit/address`, `POST
//! capital/withdraw` (`withdrawOrderId`, also sent as `remark` so the history shows it
//! either way), `GET capital/withdraw/history` and `GET capital/deposit/hisrec`.
//! Withdrawal status 1-6 and 10 are pending (6 WAIT_CONFIRM: on chain), 7 SUCCESS, 8
//! FAILED, 9 CANCEL; deposit 5 SUCCESS, 1 and 7 failed, the rest pending.

use reqwest::Method;
use serde_json::Value;

use crate::json::{amount, array, opt_amount, opt_int, opt_text, text};
use crate::ratelimit::Endpoint;
use crate::venue_api::Call;
use crate::wallet::{
    DepositAddress, DepositRecord, NetworkInfo, TransferStatus, WalletApi, WithdrawRequest,
    WithdrawalRecord,
};

/// MEXC's wallet API.
pub struct MexcWallet;

fn call(op: &'static str, method: Method, path: &str) -> Call {
    Call::new(Endpoint::Wallet, op, "", method, path)
}

/// A status that may come as a number or a string.
fn code(v: &Value) -> Option<i64> {
    let s = v.get("status")?;
    s.as_i64().or_else(|| s.as_str()?.parse().ok())
}

/// `coin` of a history row: "USDT" or "USDT-TRX".
fn asset_of(v: &Value) -> Result<String, String> {
    let c = text(v, "coin")?;
    Ok(c.split('-').next().unwrap_or(&c).to_ascii_uppercase())
}

fn chain_of(v: &Value) -> Result<String, String> {
    opt_text(v, "netWork")
        .or_else(|| opt_text(v, "network"))
        .map(|s| s.to_ascii_uppercase())
        .ok_or_else(|| "missing field \"netWork\"".to_string())
}

fn txid(v: &Value) -> Option<String> {
    opt_text(v, "transHash")
        .or_else(|| opt_text(v, "txId"))
        .filter(|s| !s.is_empty())
}

impl WalletApi for MexcWallet {
    fn networks(&self) -> Vec<Call> {
        vec![call(
            "networks",
            Method::GET,
            "/api/v3/capital/config/getall",
        )]
    }

    fn parse_networks(&self, answers: &[Value]) -> Result<Vec<NetworkInfo>, String> {
        let mut out = Vec::new();
        for coin in array(answers.first().unwrap_or(&Value::Null), "currencies")? {
            let asset = text(coin, "coin")?.to_ascii_uppercase();
            for n in coin
                .get("networkList")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let flag = |k: &str| n.get(k).and_then(Value::as_bool).unwrap_or(false);
                out.push(NetworkInfo {
                    asset: asset.clone(),
                    chain: chain_of(n)?,
                    deposit_open: flag("depositEnable"),
                    withdraw_open: flag("withdrawEnable"),
                    withdraw_fee: amount(n, "withdrawFee")?,
                    withdraw_min: amount(n, "withdrawMin")?,
                    withdraw_max: opt_amount(n, "withdrawMax")?,
                });
            }
        }
        Ok(out)
    }

    fn deposit_address(&self, asset: &str, chain: &str) -> Call {
        call(
            "deposit_address",
            Method::GET,
            "/api/v3/capital/deposit/address",
        )
        .param("coin", asset)
        .param("network", chain)
    }

    fn parse_deposit_address(
        &self,
        v: &Value,
        asset: &str,
        chain: &str,
    ) -> Result<Option<DepositAddress>, String> {
        for a in array(v, "deposit addresses")? {
            if chain_of(a)?.eq_ignore_ascii_case(chain) {
                return Ok(Some(DepositAddress {
                    asset: asset.to_ascii_uppercase(),
                    chain: chain.to_ascii_uppercase(),
                    address: text(a, "address")?,
                    memo: opt_text(a, "memo").filter(|m| !m.is_empty()),
                }));
            }
        }
        Ok(None)
    }

    fn withdraw(&self, req: &WithdrawRequest) -> Call {
        let mut c = call("withdraw", Method::POST, "/api/v3/capital/withdraw")
            .param("coin", req.asset.clone())
            .param("withdrawOrderId", req.client_id.clone())
            .param("netWork", req.chain.clone())
            .param("address", req.address.clone())
            .param("amount", req.amount.to_string())
            .param("remark", req.client_id.clone());
        if let Some(m) = &req.memo {
            c.params.push(("memo", m.clone()));
        }
        c
    }

    fn parse_withdraw_ack(&self, v: &Value) -> Result<String, String> {
        text(v, "id")
    }

    fn withdrawals(&self, asset: &str, since_ms: i64) -> Call {
        call(
            "withdrawals",
            Method::GET,
            "/api/v3/capital/withdraw/history",
        )
        .param("coin", asset)
        .param("startTime", since_ms.to_string())
        .param("limit", "1000")
    }

    fn parse_withdrawals(&self, v: &Value) -> Result<Vec<WithdrawalRecord>, String> {
        array(v, "withdrawals")?
            .iter()
            .map(|w| {
                let status = match code(w) {
                    Some(7) => TransferStatus::Done,
                    Some(8 | 9) => TransferStatus::Failed,
                    Some(6) => TransferStatus::OnChain,
                    Some(_) => TransferStatus::Pending,
                    None => return Err("missing field \"status\"".to_string()),
                };
                let client_id = opt_text(w, "withdrawOrderId")
                    .or_else(|| opt_text(w, "remark"))
                    .filter(|s| !s.is_empty());
                Ok(WithdrawalRecord {
                    id: text(w, "id")?,
                    client_id,
                    asset: asset_of(w)?,
                    chain: chain_of(w)?,
                    address: text(w, "address")?,
                    amount: amount(w, "amount")?,
                    fee: opt_amount(w, "transactionFee")?.unwrap_or_default(),
                    status,
                    txid: txid(w),
                    time_ms: opt_int(w, "applyTime").unwrap_or(0),
                })
            })
            .collect()
    }

    fn deposits(&self, asset: &str, since_ms: i64) -> Call {
        call("deposits", Method::GET, "/api/v3/capital/deposit/hisrec")
            .param("coin", asset)
            .param("startTime", since_ms.to_string())
            .param("limit", "1000")
    }

    fn parse_deposits(&self, v: &Value) -> Result<Vec<DepositRecord>, String> {
        array(v, "deposits")?
            .iter()
            .map(|d| {
                let status = match code(d) {
                    Some(5) => TransferStatus::Done,
                    Some(1 | 7) => TransferStatus::Failed,
                    Some(_) => TransferStatus::OnChain,
                    None => return Err("missing field \"status\"".to_string()),
                };
                Ok(DepositRecord {
                    id: opt_text(d, "id"),
                    asset: asset_of(d)?,
                    chain: chain_of(d)?,
                    address: text(d, "address")?,
                    amount: amount(d, "amount")?,
                    status,
                    txid: txid(d),
                    time_ms: opt_int(d, "insertTime").unwrap_or(0),
                })
            })
            .collect()
    }
}
