//! Wallet operations of one venue: the networks an asset moves on (withdrawal fee,
//! minimum, maximum, whether deposits and withdrawals are open), the account's deposit
//! address, withdrawals with a client withdrawal id, and the withdrawal and deposit
//! histories. Amounts are exact ([`Amount`]).
//!
//! Money leaves here, so the retry policy is the one of order placement: a withdrawal
//! is **never** resent. A timeout or a broken answer is returned as it is
//! ([`arb_core::ErrorClass::Timeout`] / `UnknownOutcome`); the caller resolves it with
//! [`Wallet::find_withdrawal`] (the history, by client withdrawal id), never by sending
//! again. Reads retry as every read does.
//!
//! Each venue's endpoints and parsers are its [`WalletApi`] (`venues/<venue>/wallet.rs`),
//! reached through its [`crate::venue_api::VenueApi::wallet`].

use arb_core::ErrorClass;
use serde_json::Value;

use crate::amount::Amount;
use crate::client::{Kind, VenueClient};
use crate::error::ExecError;
use crate::venue_api::Call;

/// One network of one asset at one venue.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NetworkInfo {
    /// Upper-case asset ("USDT").
    pub asset: String,
    /// The chain's code in the venue's API ("TRX", "ETH", "BSC"): what a withdrawal names.
    pub chain: String,
    pub deposit_open: bool,
    pub withdraw_open: bool,
    /// What one withdrawal pays, in the asset (taken out of its amount).
    pub withdraw_fee: Amount,
    pub withdraw_min: Amount,
    /// `None` when the venue states no maximum.
    pub withdraw_max: Option<Amount>,
}

/// The account's deposit address for an asset on a chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DepositAddress {
    pub asset: String,
    pub chain: String,
    pub address: String,
    /// Memo / tag / payment id, when the chain needs one.
    pub memo: Option<String>,
}

/// A withdrawal to send.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WithdrawRequest {
    pub asset: String,
    pub chain: String,
    pub address: String,
    pub memo: Option<String>,
    /// Debited at the venue, fee included: the receiver gets `amount - fee`.
    pub amount: Amount,
    /// The client withdrawal id (MEXC `withdrawOrderId`, Gate `withdraw_order_id`): at
    /// most 32 of `0-9 A-Z a-z _ - .`, unique per account.
    pub client_id: String,
}

/// Where a withdrawal or deposit stands, as its venue reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// Accepted, not broadcast yet (under review, processing).
    Pending,
    /// Broadcast; the other side has not credited it yet.
    OnChain,
    /// Withdrawal: completed. Deposit: credited.
    Done,
    /// Failed, rejected or cancelled: the venue returns the funds.
    Failed,
}

impl TransferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Pending => "pending",
            TransferStatus::OnChain => "on_chain",
            TransferStatus::Done => "done",
            TransferStatus::Failed => "failed",
        }
    }
}

/// One row of the withdrawal history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WithdrawalRecord {
    /// The venue's id.
    pub id: String,
    /// The client withdrawal id, when the venue reports it.
    pub client_id: Option<String>,
    pub asset: String,
    pub chain: String,
    pub address: String,
    /// As debited, fee included.
    pub amount: Amount,
    pub fee: Amount,
    pub status: TransferStatus,
    pub txid: Option<String>,
    /// When it was requested (ms).
    pub time_ms: i64,
}

/// One row of the deposit history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DepositRecord {
    pub id: Option<String>,
    pub asset: String,
    pub chain: String,
    pub address: String,
    /// As credited.
    pub amount: Amount,
    pub status: TransferStatus,
    pub txid: Option<String>,
    pub time_ms: i64,
}

/// One venue's wallet API: endpoints and parsers (implemented in each venue's folder).
pub trait WalletApi: Send + Sync {
    /// The calls whose answers together describe every asset's networks.
    fn networks(&self) -> Vec<Call>;
    /// Those answers, in the order of [`WalletApi::networks`].
    fn parse_networks(&self, answers: &[Value]) -> Result<Vec<NetworkInfo>, String>;
    fn deposit_address(&self, asset: &str, chain: &str) -> Call;
    /// The address on `chain` in the answer, if it has one.
    fn parse_deposit_address(
        &self,
        v: &Value,
        asset: &str,
        chain: &str,
    ) -> Result<Option<DepositAddress>, String>;
    fn withdraw(&self, req: &WithdrawRequest) -> Call;
    /// The venue's id of the accepted withdrawal.
    fn parse_withdraw_ack(&self, v: &Value) -> Result<String, String>;
    /// The withdrawal history of `asset` since `since_ms`.
    fn withdrawals(&self, asset: &str, since_ms: i64) -> Call;
    fn parse_withdrawals(&self, v: &Value) -> Result<Vec<WithdrawalRecord>, String>;
    fn deposits(&self, asset: &str, since_ms: i64) -> Call;
    fn parse_deposits(&self, v: &Value) -> Result<Vec<DepositRecord>, String>;
}

/// The wallet side of one venue's client.
#[derive(Clone)]
pub struct Wallet {
    client: VenueClient,
    api: &'static dyn WalletApi,
}

impl Wallet {
    pub fn new(client: VenueClient) -> Wallet {
        let api = crate::venues::adapter_for(client.venue()).wallet();
        Wallet { client, api }
    }

    pub fn client(&self) -> &VenueClient {
        &self.client
    }

    fn malformed(&self, op: &'static str) -> impl Fn(String) -> ExecError + '_ {
        move |m| ExecError::new(self.client.venue(), op, ErrorClass::Malformed, m)
    }

    /// Every asset's networks at this venue.
    pub async fn networks(&self) -> Result<Vec<NetworkInfo>, ExecError> {
        let mut answers = Vec::new();
        for c in self.api.networks() {
            answers.push(self.client.execute(&c, Kind::Read).await?);
        }
        self.api
            .parse_networks(&answers)
            .map_err(self.malformed("networks"))
    }

    /// The account's deposit address for `asset` on `chain`.
    ///
    /// # Errors
    /// The venue's error, or `InvalidOrder` when it lists no address on that chain.
    pub async fn deposit_address(
        &self,
        asset: &str,
        chain: &str,
    ) -> Result<DepositAddress, ExecError> {
        let v = self
            .client
            .execute(&self.api.deposit_address(asset, chain), Kind::Read)
            .await?;
        self.api
            .parse_deposit_address(&v, asset, chain)
            .map_err(self.malformed("deposit_address"))?
            .ok_or_else(|| {
                ExecError::new(
                    self.client.venue(),
                    "deposit_address",
                    ErrorClass::InvalidOrder,
                    format!("no {asset} deposit address on {chain}"),
                )
            })
    }

    /// Sends one withdrawal, once: the venue's id when accepted. A timeout or a broken
    /// answer is not retried; resolve it with [`Wallet::find_withdrawal`].
    pub async fn withdraw(&self, req: &WithdrawRequest) -> Result<String, ExecError> {
        let v = self
            .client
            .execute(&self.api.withdraw(req), Kind::Place)
            .await?;
        self.api.parse_withdraw_ack(&v).map_err(|m| {
            ExecError::new(
                self.client.venue(),
                "withdraw",
                ErrorClass::UnknownOutcome,
                m,
            )
        })
    }

    /// The withdrawal history of `asset` since `since_ms`.
    pub async fn withdrawals(
        &self,
        asset: &str,
        since_ms: i64,
    ) -> Result<Vec<WithdrawalRecord>, ExecError> {
        let v = self
            .client
            .execute(&self.api.withdrawals(asset, since_ms), Kind::Read)
            .await?;
        self.api
            .parse_withdrawals(&v)
            .map_err(self.malformed("withdrawals"))
    }

    /// The withdrawal with this client id (or, where the venue reports no client id, its
    /// venue id `venue_id`), if the history has it.
    pub async fn find_withdrawal(
        &self,
        asset: &str,
        client_id: &str,
        venue_id: Option<&str>,
        since_ms: i64,
    ) -> Result<Option<WithdrawalRecord>, ExecError> {
        Ok(self
            .withdrawals(asset, since_ms)
            .await?
            .into_iter()
            .find(|w| w.client_id.as_deref() == Some(client_id) || Some(w.id.as_str()) == venue_id))
    }

    /// The deposit history of `asset` since `since_ms`.
    pub async fn deposits(
        &self,
        asset: &str,
        since_ms: i64,
    ) -> Result<Vec<DepositRecord>, ExecError> {
        let v = self
            .client
            .execute(&self.api.deposits(asset, since_ms), Kind::Read)
            .await?;
        self.api
            .parse_deposits(&v)
            .map_err(self.malformed("deposits"))
    }
}
