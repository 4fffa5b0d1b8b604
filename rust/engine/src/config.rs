//! The engine's configuration as Python hands it over (JSON), and its conversion into the
//! exact integer parameters the hot path uses.
//!
//! Decimals arrive as strings (`"7.5"` bps, `"100"` quote) and are parsed exactly; a bad
//! value is an error naming its key.

use arb_core::fixed::parse_scaled;
use arb_exec::{Amount, VenueConfig};
use arb_market::feed::FeedConfig;
use serde::Deserialize;

use crate::risk::RiskLimits;
use crate::tx::HedgePolicy;

/// How the two legs are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStyle {
    /// The workflow's default: a market-like buy on the cheap venue (an IOC limit at
    /// the worst ask the detection accepted, which fills like a market order bounded
    /// by price and buys exactly the base amount the sell leg sells; on MEXC a
    /// base-sized market order instead when `mexc_buy_order` is `market`) and a limit
    /// sell on the dear venue at the worst bid that still pays.
    MarketLimit,
    /// IOC limits on both legs at the worst prices that still pay.
    IocBoth,
}

/// How the `market_limit` style buys on MEXC (`strategy.mexc_buy_order`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MexcBuyOrder {
    /// An `IMMEDIATE_OR_CANCEL` limit at the worst ask detection priced the trade to
    /// (nothing added: the slippage buffer stays margin, as on Gate's buy leg), so the
    /// leg fills like a market order but never beyond the price the trade paid at.
    #[default]
    IocLimit,
    /// A base-sized `MARKET` order: fills whatever the book holds by then.
    Market,
}

/// Where the balances checked before a trade come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BalanceMode {
    /// Fresh balance calls to the route's two venues at once before every trade (the default).
    Fresh,
    /// Balances pushed by the private streams, with reservations for orders in
    /// flight, reconciled against REST periodically.
    Stream,
}

/// How Python risk rules take part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PythonRiskMode {
    /// Python approves each trade before it is sent.
    Veto,
    /// Python is told; the hot path never waits.
    Notify,
}

/// `strategy:` of the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    pub symbols: Vec<String>,
    pub min_edge_bps: String,
    pub slippage_buffer_bps: String,
    pub trade_notional: String,
    pub order_style: OrderStyle,
    #[serde(default)]
    pub mexc_buy_order: MexcBuyOrder,
    /// Where a venue takes no API market orders for a symbol, the IOC limit sent
    /// instead is priced this far (bps) beyond the price that walks its book to the size.
    #[serde(default = "default_market_fallback_bps")]
    pub market_fallback_bps: String,
    pub hedge_policy: HedgePolicyName,
    pub cooldown_ms: u64,
    pub balance_mode: BalanceMode,
    pub python_risk_mode: PythonRiskMode,
}

fn default_market_fallback_bps() -> String {
    "10".into()
}

/// Serde form of [`HedgePolicy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HedgePolicyName {
    Chase,
    Unwind,
    Hold,
}

impl From<HedgePolicyName> for HedgePolicy {
    fn from(h: HedgePolicyName) -> Self {
        match h {
            HedgePolicyName::Chase => HedgePolicy::Chase,
            HedgePolicyName::Unwind => HedgePolicy::Unwind,
            HedgePolicyName::Hold => HedgePolicy::Hold,
        }
    }
}

/// `risk.kill_switches:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillSwitchConfig {
    pub leg_imbalance_notional: String,
    pub consecutive_hedge_failures: u32,
    pub resyncs_per_minute: u32,
}

/// `risk:` of the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    pub max_position_per_asset: String,
    pub max_total_exposure: String,
    pub max_notional_per_trade: String,
    pub daily_loss_limit: String,
    pub max_open_arbitrages: u32,
    pub max_book_age_ms: u64,
    pub max_balance_age_ms: u64,
    pub kill_switches: KillSwitchConfig,
}

/// Everything the engine needs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    pub strategy: StrategyConfig,
    pub risk: RiskConfig,
    pub feed: FeedConfig,
    /// The venues traded, in order: one client each. The feed serves the same list.
    pub venues: Vec<VenueConfig>,
    pub journal_path: String,
    /// `sim` or `live`: recorded in the journal, which refuses another mode's engine.
    #[serde(default = "sim_mode")]
    pub mode: String,
    /// The simulator session the journal belongs to (recorded, informative).
    #[serde(default)]
    pub session: Option<String>,
    /// 1-6 of `[a-z0-9]`: names this engine instance in client order ids; recovery
    /// touches only orders and fills with exactly this prefix.
    pub client_id_prefix: String,
    /// Send nothing, recovery included (it only reports what it would do).
    #[serde(default)]
    pub dry_run: bool,
    /// How long the resting sell of the `market_limit` style may wait for fills.
    pub sell_deadline_ms: u64,
    /// How often every venue's best prices are sampled into the journal (0 = never).
    pub spread_sample_ms: u64,
    /// Health check period.
    pub health_interval_ms: u64,
    /// Where the hot path runs (its own thread by default).
    #[serde(default)]
    pub hot: crate::runner::HotConfig,
}

fn sim_mode() -> String {
    "sim".into()
}

impl EngineConfig {
    /// The venue list is usable: at least two venues, each once, and the feed serving
    /// exactly the venues the clients trade.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn check_venues(&self) -> Result<(), ConfigError> {
        let names: Vec<&str> = self.venues.iter().map(|v| v.venue.as_str()).collect();
        if names.len() < 2 {
            return Err(bad(
                "exchanges",
                format!(
                    "at least two enabled venues are needed to arbitrage, got {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        }
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(bad("exchanges", format!("venue {n} is configured twice")));
            }
        }
        let fed: Vec<&str> = self.feed.venues.iter().map(|v| v.venue.as_str()).collect();
        if fed != names {
            return Err(bad(
                "feed.venues",
                format!(
                    "the feed serves [{}] but the clients trade [{}]",
                    fed.join(", "),
                    names.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// What the journal records about this engine (no secrets).
    pub fn journal_meta(&self) -> crate::journal::JournalMeta {
        crate::journal::JournalMeta {
            mode: self.mode.clone(),
            instance: self.client_id_prefix.clone(),
            rest: self
                .venues
                .iter()
                .map(|c| (c.venue.as_str().to_string(), c.rest_url.clone()))
                .collect(),
            session: self.session.clone(),
        }
    }
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {why}")]
pub struct ConfigError {
    pub key: String,
    pub why: String,
}

fn bad(key: &str, why: impl std::fmt::Display) -> ConfigError {
    ConfigError {
        key: key.to_string(),
        why: why.to_string(),
    }
}

/// Basis points (up to 4 decimals) as parts per 10^8.
pub fn bps_to_ppb8(key: &str, text: &str) -> Result<u64, ConfigError> {
    parse_scaled(text.trim(), 4).map_err(|e| {
        bad(
            key,
            format!("{text:?} is not a non-negative decimal with at most 4 decimals: {e}"),
        )
    })
}

/// A non-negative amount at the accounting scale (18 decimals).
pub fn amount(key: &str, text: &str) -> Result<i128, ConfigError> {
    let a = Amount::parse(text.trim()).map_err(|e| bad(key, e))?;
    if a.is_negative() {
        return Err(bad(key, format!("{text:?} must not be negative")));
    }
    Ok(a.mantissa())
}

/// The strategy parameters the hot path reads, as exact integers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// Minimum edge plus slippage buffer, parts per 10^8.
    pub threshold: u64,
    pub slippage: u64,
    /// Target buy cost per arbitrage (18 decimals).
    pub trade_notional: i128,
    pub order_style: OrderStyle,
    pub mexc_buy_order: MexcBuyOrder,
    /// `market_fallback_bps`, parts per 10^8.
    pub market_fallback: u64,
    pub hedge_policy: HedgePolicy,
    pub cooldown_ns: i64,
    pub balance_mode: BalanceMode,
    pub python_risk_mode: PythonRiskMode,
    pub max_book_age_ms: u64,
    pub max_balance_age_ms: u64,
}

impl StrategyConfig {
    /// Exact parameters; `risk` supplies the data-age limits.
    ///
    /// # Errors
    /// A value that does not parse, named by its key.
    pub fn params(&self, risk: &RiskConfig) -> Result<Params, ConfigError> {
        let edge = bps_to_ppb8("strategy.min_edge_bps", &self.min_edge_bps)?;
        let slippage = bps_to_ppb8("strategy.slippage_buffer_bps", &self.slippage_buffer_bps)?;
        let trade_notional = amount("strategy.trade_notional", &self.trade_notional)?;
        let market_fallback =
            bps_to_ppb8("strategy.market_fallback_bps", &self.market_fallback_bps)?;
        if trade_notional == 0 {
            return Err(bad("strategy.trade_notional", "must be greater than 0"));
        }
        Ok(Params {
            threshold: edge + slippage,
            slippage,
            trade_notional,
            order_style: self.order_style,
            mexc_buy_order: self.mexc_buy_order,
            market_fallback,
            hedge_policy: self.hedge_policy.into(),
            cooldown_ns: self.cooldown_ms as i64 * 1_000_000,
            balance_mode: self.balance_mode,
            python_risk_mode: self.python_risk_mode,
            max_book_age_ms: risk.max_book_age_ms,
            max_balance_age_ms: risk.max_balance_age_ms,
        })
    }
}

impl RiskConfig {
    /// Exact limits.
    ///
    /// # Errors
    /// A value that does not parse, named by its key.
    pub fn limits(&self) -> Result<RiskLimits, ConfigError> {
        Ok(RiskLimits {
            max_position_per_asset: amount(
                "risk.max_position_per_asset",
                &self.max_position_per_asset,
            )?,
            max_total_exposure: amount("risk.max_total_exposure", &self.max_total_exposure)?,
            max_notional_per_trade: amount(
                "risk.max_notional_per_trade",
                &self.max_notional_per_trade,
            )?,
            daily_loss_limit: amount("risk.daily_loss_limit", &self.daily_loss_limit)?,
            max_open_arbitrages: self.max_open_arbitrages,
            leg_imbalance_notional: amount(
                "risk.kill_switches.leg_imbalance_notional",
                &self.kill_switches.leg_imbalance_notional,
            )?,
            consecutive_hedge_failures: self.kill_switches.consecutive_hedge_failures,
            resyncs_per_minute: self.kill_switches.resyncs_per_minute,
        })
    }
}

// The conversions between mantissas and accounting amounts live in `crate::convert`;
// re-exported here, where they were first published.
pub use crate::convert::{acct_to_scale, scale_to_acct};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_parameters_and_names_bad_keys() {
        assert_eq!(bps_to_ppb8("k", "7.5").unwrap(), 75_000);
        assert_eq!(bps_to_ppb8("k", "0").unwrap(), 0);
        let e = bps_to_ppb8("strategy.min_edge_bps", "1.23456").unwrap_err();
        assert_eq!(e.key, "strategy.min_edge_bps");
        assert_eq!(amount("k", "100").unwrap(), 100 * 10i128.pow(18));
        assert_eq!(
            amount("risk.daily_loss_limit", "-1").unwrap_err().key,
            "risk.daily_loss_limit"
        );
        assert_eq!(
            acct_to_scale(amount("k", "1.5").unwrap(), 10),
            15_000_000_000
        );
        assert_eq!(scale_to_acct(15, 1), amount("k", "1.5").unwrap());
        assert_eq!(acct_to_scale(amount("k", "1").unwrap(), 20), 10i128.pow(20));
    }
}
