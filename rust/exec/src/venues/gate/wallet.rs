//! Gate.io v4 wallet endpoints: networks from `GET /spot/currencies` (chains and their
//! open flags) and `GET /wallet/withdraw_status` (fee per chain, one minimum per
//! currency), `GET /wallet/deposit_address`, `POST /withdrawals` (`withdraw_order_id`),
//! `GET /wallet/withdrawals` and `GET /wallet/deposits` (times in seconds). Withdrawal
//! `DONE` (and `BCODE`) is done, `CANCEL`, `FAIL` and `INVALID` failed, `EXTPEND` on
//! chain, the rest pending; a deposit `DONE` is credited.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::amount::Amount;
use crate::json::{amount, array, opt_amount, opt_int, opt_text, text};
use crate::ratelimit::Endpoint;
use crate::venue_api::Call;
use crate::wallet::{
    DepositAddress, DepositRecord, NetworkInfo, TransferStatus, WalletApi, WithdrawRequest,
    WithdrawalRecord,
};

/// Gate's wallet API.
pub struct GateWallet;

/// A currency's withdrawal terms: fee per chain, one minimum, one maximum per withdrawal.
type Limits = (HashMap<String, Amount>, Amount, Option<Amount>);

fn call(op: &'static str, method: Method, path: &str) -> Call {
    Call::new(Endpoint::Wallet, op, "", method, path)
}

fn time_ms(v: &Value) -> i64 {
    opt_int(v, "timestamp").map_or(0, |s| s * 1000)
}

fn txid(v: &Value) -> Option<String> {
    opt_text(v, "txid").filter(|s| !s.is_empty())
}

impl WalletApi for GateWallet {
    fn networks(&self) -> Vec<Call> {
        let mut public = call("networks", Method::GET, "/spot/currencies");
        public.signed = false;
        vec![
            public,
            call("withdraw_status", Method::GET, "/wallet/withdraw_status"),
        ]
    }

    fn parse_networks(&self, answers: &[Value]) -> Result<Vec<NetworkInfo>, String> {
        let [currencies, status] = answers else {
            return Err(format!("want 2 answers, got {}", answers.len()));
        };
        let mut fees: HashMap<String, Limits> = HashMap::new();
        for s in array(status, "withdraw_status")? {
            let per_chain = s
                .get("withdraw_fix_on_chains")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(c, f)| {
                    let f = f
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| f.to_string());
                    Amount::parse(&f)
                        .map(|a| (c.to_ascii_uppercase(), a))
                        .map_err(|e| e.to_string())
                })
                .collect::<Result<HashMap<_, _>, _>>()?;
            fees.insert(
                text(s, "currency")?.to_ascii_uppercase(),
                (
                    per_chain,
                    opt_amount(s, "withdraw_amount_mini")?.unwrap_or_default(),
                    opt_amount(s, "withdraw_eachtime_limit")?,
                ),
            );
        }
        let mut out = Vec::new();
        for c in array(currencies, "currencies")? {
            let asset = text(c, "currency")?.to_ascii_uppercase();
            let Some((per_chain, min, max)) = fees.get(&asset) else {
                continue;
            };
            for ch in c
                .get("chains")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let chain = text(ch, "name")?.to_ascii_uppercase();
                // A chain without a stated fee cannot be priced: not offered.
                let Some(fee) = per_chain.get(&chain) else {
                    continue;
                };
                let off = |k: &str| ch.get(k).and_then(Value::as_bool).unwrap_or(true);
                out.push(NetworkInfo {
                    asset: asset.clone(),
                    chain,
                    deposit_open: !off("deposit_disabled"),
                    withdraw_open: !off("withdraw_disabled"),
                    withdraw_fee: *fee,
                    withdraw_min: *min,
                    withdraw_max: *max,
                });
            }
        }
        Ok(out)
    }

    fn deposit_address(&self, asset: &str, _chain: &str) -> Call {
        call("deposit_address", Method::GET, "/wallet/deposit_address").param("currency", asset)
    }

    fn parse_deposit_address(
        &self,
        v: &Value,
        asset: &str,
        chain: &str,
    ) -> Result<Option<DepositAddress>, String> {
        for a in v
            .get("multichain_addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let failed = opt_int(a, "obtain_failed").unwrap_or(0) != 0;
            if !failed && text(a, "chain")?.eq_ignore_ascii_case(chain) {
                return Ok(Some(DepositAddress {
                    asset: asset.to_ascii_uppercase(),
                    chain: chain.to_ascii_uppercase(),
                    address: text(a, "address")?,
                    memo: opt_text(a, "payment_id").filter(|m| !m.is_empty()),
                }));
            }
        }
        Ok(None)
    }

    fn withdraw(&self, req: &WithdrawRequest) -> Call {
        let mut body = json!({
            "withdraw_order_id": req.client_id, "currency": req.asset,
            "address": req.address, "amount": req.amount.to_string(), "chain": req.chain,
        });
        if let Some(m) = &req.memo {
            body["memo"] = json!(m);
        }
        let mut c = call("withdraw", Method::POST, "/withdrawals");
        c.body = Some(body.to_string());
        c
    }

    fn parse_withdraw_ack(&self, v: &Value) -> Result<String, String> {
        text(v, "id")
    }

    fn withdrawals(&self, asset: &str, since_ms: i64) -> Call {
        call("withdrawals", Method::GET, "/wallet/withdrawals")
            .param("currency", asset)
            .param("from", since_ms.div_euclid(1000).to_string())
            .param("limit", "1000")
    }

    fn parse_withdrawals(&self, v: &Value) -> Result<Vec<WithdrawalRecord>, String> {
        array(v, "withdrawals")?
            .iter()
            .map(|w| {
                let status = match text(w, "status")?.as_str() {
                    "DONE" | "BCODE" => TransferStatus::Done,
                    "CANCEL" | "FAIL" | "INVALID" => TransferStatus::Failed,
                    "EXTPEND" => TransferStatus::OnChain,
                    _ => TransferStatus::Pending,
                };
                Ok(WithdrawalRecord {
                    id: text(w, "id")?,
                    client_id: opt_text(w, "withdraw_order_id").filter(|s| !s.is_empty()),
                    asset: text(w, "currency")?.to_ascii_uppercase(),
                    chain: text(w, "chain")?.to_ascii_uppercase(),
                    address: text(w, "address")?,
                    amount: amount(w, "amount")?,
                    fee: opt_amount(w, "fee")?.unwrap_or_default(),
                    status,
                    txid: txid(w),
                    time_ms: time_ms(w),
                })
            })
            .collect()
    }

    fn deposits(&self, asset: &str, since_ms: i64) -> Call {
        call("deposits", Method::GET, "/wallet/deposits")
            .param("currency", asset)
            .param("from", since_ms.div_euclid(1000).to_string())
            .param("limit", "1000")
    }

    fn parse_deposits(&self, v: &Value) -> Result<Vec<DepositRecord>, String> {
        array(v, "deposits")?
            .iter()
            .map(|d| {
                let status = match text(d, "status")?.as_str() {
                    "DONE" => TransferStatus::Done,
                    "CANCEL" | "FAIL" | "INVALID" => TransferStatus::Failed,
                    _ => TransferStatus::OnChain,
                };
                Ok(DepositRecord {
                    id: opt_text(d, "id"),
                    asset: text(d, "currency")?.to_ascii_uppercase(),
                    chain: text(d, "chain")?.to_ascii_uppercase(),
                    address: text(d, "address")?,
                    amount: amount(d, "amount")?,
                    status,
                    txid: txid(d),
                    time_ms: time_ms(d),
                })
            })
            .collect()
    }
}
