//! Simulated wallets, venue-free: the networks each asset moves on (withdrawal fee,
//! minimum and maximum, whether deposits and withdrawals are open, how long a transfer
//! takes), a deposit address per venue, account and network, and every withdrawal and
//! deposit. A withdrawal to another simulated venue's deposit address is credited there,
//! minus its fee, after a seeded delay ([`run`] settles transfers); any other address is
//! outside the simulation and is only debited. `mexc/capital.rs` and `gate/wallet.rs`
//! speak the venues' wallet APIs over this.
//!
//! Money is exact: amounts are `i128` mantissas at [`BAL_SCALE`], as balances are.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use arb_core::fixed::format_scaled;
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::faults::{FaultKind, Hook};
use crate::spec::{parse_bal, BAL_SCALE};
use crate::state::{Shared, VenueState};
use crate::SimError;

/// One network an asset can be moved on, as configured (the same on every instance).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The chain's code in both venues' APIs (MEXC `netWork`, Gate `chain`): "TRX", "ETH".
    pub chain: String,
    /// Its display name (MEXC `network`, Gate `name_en`): "Tron(TRC20)".
    pub name: String,
    /// Decimal strings in the asset: the fee a withdrawal pays (deducted from its
    /// amount), and the smallest and largest amount one withdrawal may have.
    pub withdraw_fee: String,
    pub withdraw_min: String,
    pub withdraw_max: String,
    #[serde(default = "open")]
    pub deposit_enabled: bool,
    #[serde(default = "open")]
    pub withdraw_enabled: bool,
    /// Seconds from acceptance until the other venue credits it, drawn uniformly from
    /// `[min_delay_s, max_delay_s]` with the simulator's seed.
    pub min_delay_s: f64,
    pub max_delay_s: f64,
}

fn open() -> bool {
    true
}

/// The `wallet` section of [`crate::SimConfig`].
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalletConfig {
    /// Asset -> its networks, the first being the asset's default.
    pub networks: BTreeMap<String, Vec<NetworkConfig>>,
}

impl Default for WalletConfig {
    fn default() -> Self {
        let net =
            |chain: &str, name: &str, fee: &str, min: &str, delay: (f64, f64)| NetworkConfig {
                chain: chain.into(),
                name: name.into(),
                withdraw_fee: fee.into(),
                withdraw_min: min.into(),
                withdraw_max: "10000000".into(),
                deposit_enabled: true,
                withdraw_enabled: true,
                min_delay_s: delay.0,
                max_delay_s: delay.1,
            };
        let mut networks = BTreeMap::new();
        networks.insert(
            "USDT".to_string(),
            vec![
                net("TRX", "Tron(TRC20)", "1", "10", (2.0, 4.0)),
                net("BSC", "BNB Smart Chain(BEP20)", "0.3", "10", (1.0, 3.0)),
                net("ETH", "Ethereum(ERC20)", "4", "20", (6.0, 10.0)),
            ],
        );
        networks.insert(
            "BTC".into(),
            vec![net("BTC", "Bitcoin(BTC)", "0.0002", "0.001", (4.0, 8.0))],
        );
        networks.insert(
            "ETH".into(),
            vec![net("ETH", "Ethereum(ERC20)", "0.002", "0.01", (3.0, 6.0))],
        );
        networks.insert(
            "SOL".into(),
            vec![net("SOL", "Solana(SOL)", "0.01", "0.1", (1.0, 2.0))],
        );
        networks.insert(
            "XRP".into(),
            vec![net("XRP", "Ripple(XRP)", "0.25", "20", (1.0, 2.0))],
        );
        WalletConfig { networks }
    }
}

/// A configured network, parsed.
#[derive(Clone, Debug)]
pub struct Network {
    pub chain: String,
    pub name: String,
    pub fee: i128,
    pub min: i128,
    pub max: i128,
    pub deposit_enabled: bool,
    pub withdraw_enabled: bool,
    pub min_delay_ms: u64,
    pub max_delay_ms: u64,
}

impl Network {
    fn parse(asset: &str, c: &NetworkConfig) -> Result<Network, SimError> {
        let at = |what: &str, v: &str, e: String| {
            SimError::Config(format!(
                "wallet.networks.{asset}.{}.{what} = {v:?}: {e}",
                c.chain
            ))
        };
        let amount = |what: &str, v: &str| {
            parse_bal(v)
                .map_err(|e| at(what, v, e.to_string()))
                .and_then(|m| {
                    if m < 0 {
                        Err(at(what, v, "negative".into()))
                    } else {
                        Ok(m)
                    }
                })
        };
        let (fee, min, max) = (
            amount("withdraw_fee", &c.withdraw_fee)?,
            amount("withdraw_min", &c.withdraw_min)?,
            amount("withdraw_max", &c.withdraw_max)?,
        );
        let delay_ok = |s: f64| s.is_finite() && (0.0..=86_400.0).contains(&s);
        if !(delay_ok(c.min_delay_s) && delay_ok(c.max_delay_s) && c.min_delay_s <= c.max_delay_s) {
            return Err(at(
                "min_delay_s/max_delay_s",
                &format!("{}..{}", c.min_delay_s, c.max_delay_s),
                "want 0 <= min <= max <= 86400".into(),
            ));
        }
        Ok(Network {
            chain: c.chain.to_ascii_uppercase(),
            name: c.name.clone(),
            fee,
            min,
            max,
            deposit_enabled: c.deposit_enabled,
            withdraw_enabled: c.withdraw_enabled,
            min_delay_ms: (c.min_delay_s * 1000.0) as u64,
            max_delay_ms: (c.max_delay_s * 1000.0) as u64,
        })
    }

    /// Whether it takes something matching `s`: its chain code or its display name.
    pub fn is(&self, s: &str) -> bool {
        self.chain.eq_ignore_ascii_case(s) || self.name.eq_ignore_ascii_case(s)
    }
}

/// Where a withdrawal is on its way (the venues word each in their own statuses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Accepted and debited; not on chain yet.
    Processing,
    /// Broadcast (it has a txid); the receiving venue shows a pending deposit.
    OnChain,
    /// Done: credited at the receiving venue (or left the simulation).
    Credited,
}

/// One withdrawal of one account.
#[derive(Clone, Debug, Serialize)]
pub struct Withdrawal {
    /// The simulator's sequence number (venues format it as their ids).
    pub seq: u64,
    /// The venue instance it left (its index in `Shared::venues`) and account.
    pub venue: usize,
    pub account: u32,
    /// The client withdrawal id (MEXC `withdrawOrderId`, Gate `withdraw_order_id`).
    pub client_id: String,
    pub remark: String,
    pub asset: String,
    pub chain: String,
    pub address: String,
    pub memo: String,
    /// Debited, fee included; the receiver gets `amount - fee`.
    pub amount: i128,
    pub fee: i128,
    pub phase: Phase,
    /// Set once on chain.
    pub txid: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    onchain_ms: i64,
    credit_ms: i64,
    /// The simulated venue and account that owns the address, if any.
    dest: Option<(usize, u32)>,
}

/// One deposit of one account (made by a withdrawal between simulated venues).
#[derive(Clone, Debug, Serialize)]
pub struct Deposit {
    pub seq: u64,
    pub venue: usize,
    pub account: u32,
    pub asset: String,
    pub chain: String,
    pub address: String,
    /// What is credited (the withdrawal's amount less its fee).
    pub amount: i128,
    pub txid: String,
    pub credited: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// The withdrawal that made it.
    pub withdrawal: u64,
}

/// Why a withdrawal is refused (each venue words it in its own error format).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    #[error("unknown currency {asset}")]
    UnknownAsset { asset: String },
    #[error("{asset} has no network {chain}")]
    UnknownNetwork { asset: String, chain: String },
    #[error("{asset} withdrawals on {chain} are suspended")]
    WithdrawSuspended { asset: String, chain: String },
    #[error("invalid amount {amount:?}")]
    BadAmount { amount: String },
    #[error("{asset} withdrawal on {chain} below the minimum {min}")]
    BelowMinimum {
        asset: String,
        chain: String,
        min: String,
    },
    #[error("{asset} withdrawal on {chain} above the maximum {max}")]
    AboveMaximum {
        asset: String,
        chain: String,
        max: String,
    },
    #[error("invalid address {address:?}")]
    BadAddress { address: String },
    #[error("insufficient {asset} balance")]
    InsufficientBalance { asset: String },
    #[error("duplicate client withdrawal id {client_id:?}")]
    DuplicateClientId { client_id: String },
}

/// A withdrawal as a venue's handler parsed it.
pub struct WithdrawRequest<'a> {
    pub asset: &'a str,
    /// `None`: the asset's default (first) network.
    pub chain: Option<&'a str>,
    pub address: &'a str,
    pub memo: &'a str,
    /// A decimal string.
    pub amount: &'a str,
    pub client_id: &'a str,
    pub remark: &'a str,
}

#[derive(Default)]
struct Book {
    withdrawals: Vec<Withdrawal>,
    deposits: Vec<Deposit>,
    next_seq: u64,
}

/// Every instance's wallets: the networks, the deposit addresses and the transfers.
pub struct Wallets {
    networks: BTreeMap<String, Vec<Network>>,
    /// Deposit address -> (venue index, account, chain).
    owners: HashMap<String, (usize, u32, String)>,
    /// (venue index, account, chain) -> deposit address.
    addresses: BTreeMap<(usize, u32, String), String>,
    book: Mutex<Book>,
    seed: u64,
}

impl Wallets {
    /// Parses the config and gives each `(venue index, venue name, account)` a deposit
    /// address on every chain.
    ///
    /// # Errors
    /// A malformed amount or delay in the config.
    pub fn new(
        cfg: &WalletConfig,
        seed: u64,
        accounts: &[(usize, &str, u32)],
    ) -> Result<Wallets, SimError> {
        let mut networks = BTreeMap::new();
        for (asset, list) in &cfg.networks {
            let asset = asset.to_ascii_uppercase();
            let parsed = list
                .iter()
                .map(|c| Network::parse(&asset, c))
                .collect::<Result<Vec<_>, _>>()?;
            networks.insert(asset, parsed);
        }
        let mut chains: Vec<&str> = networks
            .values()
            .flatten()
            .map(|n| n.chain.as_str())
            .collect();
        chains.sort_unstable();
        chains.dedup();
        let (mut owners, mut addresses) = (HashMap::new(), BTreeMap::new());
        for &(venue, name, account) in accounts {
            for chain in &chains {
                let address = address_for(seed, name, account, chain);
                owners.insert(address.clone(), (venue, account, chain.to_string()));
                addresses.insert((venue, account, chain.to_string()), address);
            }
        }
        Ok(Wallets {
            networks,
            owners,
            addresses,
            book: Mutex::new(Book::default()),
            seed,
        })
    }

    /// Every asset with networks, and its networks (default first).
    pub fn assets(&self) -> &BTreeMap<String, Vec<Network>> {
        &self.networks
    }

    /// The networks of `asset` (upper-cased), if it has any.
    pub fn networks(&self, asset: &str) -> Option<&[Network]> {
        self.networks
            .get(&asset.to_ascii_uppercase())
            .map(Vec::as_slice)
    }

    /// The assets a venue lists: its symbols' bases and quotes, then the wallets' other
    /// assets.
    pub fn listed(vs: &VenueState) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let symbols = vs.specs.iter().flat_map(|s| [&s.base, &s.quote]);
        for a in symbols.chain(vs.wallets().assets().keys()) {
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
        out
    }

    /// `account`'s deposit address on `chain` at venue `venue`.
    pub fn address(&self, venue: usize, account: u32, chain: &str) -> Option<&str> {
        self.addresses
            .get(&(venue, account, chain.to_ascii_uppercase()))
            .map(String::as_str)
    }

    /// Whether deposits (`deposit`) or withdrawals of `asset` on `net` are open at `vs`:
    /// configured open and no `network_suspended` fault in force there.
    pub fn is_open(vs: &VenueState, asset: &str, net: &Network, deposit: bool) -> bool {
        let configured = if deposit {
            net.deposit_enabled
        } else {
            net.withdraw_enabled
        };
        configured
            && !vs.faults.live(Hook::Wallet).iter().any(|k| {
                matches!(k, FaultKind::NetworkSuspended { asset: a, chain: c }
                    if a.eq_ignore_ascii_case(asset) && c.eq_ignore_ascii_case(&net.chain))
            })
    }

    /// Debits `req.amount` from `account` at `vs` and records the withdrawal; a
    /// withdrawal to another simulated venue's address is credited there by [`run`].
    ///
    /// # Errors
    /// A [`WalletError`]; nothing changed then.
    pub fn withdraw(
        &self,
        vs: &VenueState,
        account: u32,
        req: &WithdrawRequest<'_>,
    ) -> Result<Withdrawal, WalletError> {
        let asset = req.asset.to_ascii_uppercase();
        let nets = self
            .networks(&asset)
            .ok_or_else(|| WalletError::UnknownAsset {
                asset: asset.clone(),
            })?;
        let net = match req.chain {
            Some(c) => {
                nets.iter()
                    .find(|n| n.is(c))
                    .ok_or_else(|| WalletError::UnknownNetwork {
                        asset: asset.clone(),
                        chain: c.to_string(),
                    })?
            }
            None => &nets[0],
        };
        let chain = net.chain.clone();
        if !Self::is_open(vs, &asset, net, false) {
            return Err(WalletError::WithdrawSuspended { asset, chain });
        }
        let amount = parse_bal(req.amount)
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| WalletError::BadAmount {
                amount: req.amount.to_string(),
            })?;
        if amount < net.min || amount <= net.fee {
            let min = format_scaled(net.min.max(net.fee), BAL_SCALE);
            return Err(WalletError::BelowMinimum { asset, chain, min });
        }
        if amount > net.max {
            let max = format_scaled(net.max, BAL_SCALE);
            return Err(WalletError::AboveMaximum { asset, chain, max });
        }
        let own = self.address(vs.index, account, &chain);
        if req.address.trim().is_empty()
            || req.address.contains(char::is_whitespace)
            || own == Some(req.address)
        {
            return Err(WalletError::BadAddress {
                address: req.address.to_string(),
            });
        }
        // The book's lock is held to the end (before the engine's, as in `settle`), so
        // two requests with one client id cannot both pass the duplicate check.
        let mut book = self.book.lock();
        if !req.client_id.is_empty()
            && book.withdrawals.iter().any(|w| {
                w.venue == vs.index && w.account == account && w.client_id == req.client_id
            })
        {
            return Err(WalletError::DuplicateClientId {
                client_id: req.client_id.to_string(),
            });
        }
        let now = arb_core::time::now_ms();
        {
            let mut ex = vs.exchange.lock();
            ex.move_funds(account, &asset, -amount, now).map_err(|_| {
                WalletError::InsufficientBalance {
                    asset: asset.clone(),
                }
            })?;
            vs.publish(&mut ex);
        }
        book.next_seq += 1;
        let seq = book.next_seq;
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let delay = if net.max_delay_ms > net.min_delay_ms {
            rng.random_range(net.min_delay_ms..=net.max_delay_ms)
        } else {
            net.min_delay_ms
        } as i64;
        let dest = self
            .owners
            .get(req.address)
            .filter(|(_, _, c)| *c == chain)
            .map(|(v, a, _)| (*v, *a));
        let w = Withdrawal {
            seq,
            venue: vs.index,
            account,
            client_id: req.client_id.to_string(),
            remark: req.remark.to_string(),
            asset,
            chain,
            address: req.address.to_string(),
            memo: req.memo.to_string(),
            amount,
            fee: net.fee,
            phase: Phase::Processing,
            txid: String::new(),
            created_ms: now,
            updated_ms: now,
            onchain_ms: now + delay * 3 / 10,
            credit_ms: now + delay,
            dest,
        };
        book.withdrawals.push(w.clone());
        Ok(w)
    }

    /// The withdrawals of `account` at venue `venue`, oldest first.
    pub fn withdrawals(&self, venue: usize, account: u32) -> Vec<Withdrawal> {
        let book = self.book.lock();
        book.withdrawals
            .iter()
            .filter(|w| w.venue == venue && w.account == account)
            .cloned()
            .collect()
    }

    /// The deposits of `account` at venue `venue`, oldest first.
    pub fn deposits(&self, venue: usize, account: u32) -> Vec<Deposit> {
        let book = self.book.lock();
        book.deposits
            .iter()
            .filter(|d| d.venue == venue && d.account == account)
            .cloned()
            .collect()
    }

    /// Moves every transfer whose time has come: on chain (a pending deposit appears at
    /// the receiver), then credited, unless deposits of that network are closed at the
    /// receiver, in which case it waits there until they reopen.
    pub fn settle(&self, shared: &Shared, now: i64) {
        let mut book = self.book.lock();
        let Book {
            withdrawals,
            deposits,
            next_seq,
        } = &mut *book;
        for w in withdrawals.iter_mut() {
            if w.phase == Phase::Processing && now >= w.onchain_ms {
                w.phase = Phase::OnChain;
                w.txid = hash_hex(&format!("tx|{}|{}", self.seed, w.seq));
                w.updated_ms = now;
                if let Some((venue, account)) = w.dest {
                    *next_seq += 1;
                    deposits.push(Deposit {
                        seq: *next_seq,
                        venue,
                        account,
                        asset: w.asset.clone(),
                        chain: w.chain.clone(),
                        address: w.address.clone(),
                        amount: w.amount - w.fee,
                        txid: w.txid.clone(),
                        credited: false,
                        created_ms: now,
                        updated_ms: now,
                        withdrawal: w.seq,
                    });
                }
            }
            if w.phase != Phase::OnChain || now < w.credit_ms {
                continue;
            }
            let Some((venue, account)) = w.dest else {
                w.phase = Phase::Credited;
                w.updated_ms = now;
                continue;
            };
            let to = shared.venue_at(venue);
            let open = self
                .networks(&w.asset)
                .and_then(|ns| ns.iter().find(|n| n.chain == w.chain))
                .is_some_and(|n| Self::is_open(to, &w.asset, n, true));
            if !open {
                continue;
            }
            {
                let mut ex = to.exchange.lock();
                // A credit cannot fail: only a debit checks the balance.
                let _ = ex.move_funds(account, &w.asset, w.amount - w.fee, now);
                to.publish(&mut ex);
            }
            w.phase = Phase::Credited;
            w.updated_ms = now;
            if let Some(d) = deposits.iter_mut().find(|d| d.withdrawal == w.seq) {
                d.credited = true;
                d.updated_ms = now;
            }
        }
    }

    /// Ground truth: every withdrawal, deposit and deposit address, by venue name.
    pub fn json(&self, shared: &Shared) -> serde_json::Value {
        let name = |i: usize| shared.venue_at(i).name.clone();
        let amount = |m: i128| format_scaled(m, BAL_SCALE);
        let book = self.book.lock();
        let withdrawals: Vec<serde_json::Value> = book
            .withdrawals
            .iter()
            .map(|w| {
                serde_json::json!({
                    "seq": w.seq, "venue": name(w.venue), "client_id": w.client_id,
                    "asset": w.asset, "chain": w.chain, "address": w.address,
                    "amount": amount(w.amount), "fee": amount(w.fee), "phase": w.phase,
                    "txid": w.txid, "created_ms": w.created_ms,
                    "to": w.dest.map(|(v, _)| name(v)),
                })
            })
            .collect();
        let deposits: Vec<serde_json::Value> = book
            .deposits
            .iter()
            .map(|d| {
                serde_json::json!({
                    "seq": d.seq, "venue": name(d.venue), "asset": d.asset, "chain": d.chain,
                    "address": d.address, "amount": amount(d.amount), "txid": d.txid,
                    "credited": d.credited, "withdrawal": d.withdrawal,
                })
            })
            .collect();
        let mut addresses = serde_json::Map::new();
        for ((venue, account, chain), address) in &self.addresses {
            let vs = shared.venue_at(*venue);
            if *account != vs.trader_account {
                continue;
            }
            let entry = addresses
                .entry(vs.name.clone())
                .or_insert_with(|| serde_json::json!({}));
            for (asset, nets) in &self.networks {
                if nets.iter().any(|n| &n.chain == chain) {
                    entry[asset][chain] = serde_json::json!(address);
                }
            }
        }
        serde_json::json!({
            "withdrawals": withdrawals,
            "deposits": deposits,
            "addresses": addresses,
        })
    }
}

/// The deterministic deposit address of an account on a chain at a venue.
fn address_for(seed: u64, venue: &str, account: u32, chain: &str) -> String {
    let h = hash_hex(&format!("addr|{seed}|{venue}|{account}|{chain}"));
    format!("sim{}{}", chain.to_ascii_lowercase(), &h[..30])
}

/// SHA-256 of `s` as hex (ids, txids, addresses).
pub fn hash_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Settles transfers every 20 ms until shutdown (the market may be paused; transfers go on).
pub async fn run(shared: std::sync::Arc<Shared>, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => shared.wallets.settle(&shared, arb_core::time::now_ms()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimConfig;

    fn req<'a>(address: &'a str, amount: &'a str, client_id: &'a str) -> WithdrawRequest<'a> {
        WithdrawRequest {
            asset: "usdt",
            chain: Some("TRX"),
            address,
            memo: "",
            amount,
            client_id,
            remark: "",
        }
    }

    fn free(shared: &Shared, venue: usize, asset: &str) -> i128 {
        let vs = shared.venue_at(venue);
        let ex = vs.exchange.lock();
        ex.accounts[vs.trader_account as usize].balances[asset].free
    }

    #[test]
    fn a_transfer_is_debited_then_credited_minus_its_fee_exactly_once() {
        let shared = Shared::new(SimConfig::default()).unwrap();
        let w = &shared.wallets;
        let (a, b) = (shared.venue_at(0), shared.venue_at(1));
        let to = w.address(1, b.trader_account, "TRX").unwrap().to_string();
        let start = free(&shared, 0, "USDT");
        let sent = w
            .withdraw(a, a.trader_account, &req(&to, "12.5", "c1"))
            .unwrap();
        assert_eq!(free(&shared, 0, "USDT"), start - parse_bal("12.5").unwrap());
        assert_eq!(
            w.withdraw(a, a.trader_account, &req(&to, "12.5", "c1"))
                .unwrap_err(),
            WalletError::DuplicateClientId {
                client_id: "c1".into()
            }
        );
        w.settle(&shared, sent.onchain_ms);
        let deps = w.deposits(1, b.trader_account);
        assert_eq!(deps.len(), 1);
        assert!(!deps[0].credited);
        w.settle(&shared, sent.credit_ms);
        w.settle(&shared, sent.credit_ms + 1);
        assert_eq!(
            free(&shared, 1, "USDT"),
            start + parse_bal("11.5").unwrap(),
            "credited once, less the 1 USDT fee"
        );
        assert_eq!(w.withdrawals(0, a.trader_account)[0].phase, Phase::Credited);
    }

    #[test]
    fn refusals_name_the_asset_and_network_and_change_nothing() {
        let shared = Shared::new(SimConfig::default()).unwrap();
        let w = &shared.wallets;
        let a = shared.venue_at(0);
        let own = w.address(0, a.trader_account, "TRX").unwrap().to_string();
        let e = |r: Result<Withdrawal, WalletError>| r.unwrap_err().to_string();
        assert_eq!(
            e(w.withdraw(a, a.trader_account, &req("x1", "5", ""))),
            "USDT withdrawal on TRX below the minimum 10"
        );
        assert_eq!(
            e(w.withdraw(a, a.trader_account, &req(&own, "50", ""))),
            format!("invalid address {own:?}")
        );
        let mut r = req("x1", "50", "");
        r.chain = Some("SOL");
        assert_eq!(
            e(w.withdraw(a, a.trader_account, &r)),
            "USDT has no network SOL"
        );
        assert!(w.withdrawals(0, a.trader_account).is_empty());
    }
}
