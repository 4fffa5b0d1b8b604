//! Choosing how to move an asset between two venues, pure: the network both venues
//! offer with withdrawals open at the source and deposits open at the destination, whose
//! minimum and maximum admit the amount, cheapest first, then fastest (expected time per
//! chain from the configuration); and whether the move pays: its fee against the edge it
//! lets the engine earn.

use std::collections::BTreeMap;

use arb_exec::{Amount, NetworkInfo};

/// The network picked for a transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub asset: String,
    pub chain: String,
    /// Paid out of the amount (the destination receives `amount - fee`).
    pub fee: Amount,
    /// How long the transfer is expected to take (ms): past it an alert is raised.
    pub expected_ms: u64,
}

/// Why no network can carry the transfer; every case names the asset, the venues and
/// (where one is concerned) the network.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{asset}: no network common to {from} and {to}")]
    NoCommonNetwork {
        asset: String,
        from: String,
        to: String,
    },
    #[error("{asset} from {from} to {to}: every common network is closed ({closed})")]
    AllClosed {
        asset: String,
        from: String,
        to: String,
        /// `chain: why` for each, comma separated.
        closed: String,
    },
    #[error(
        "{asset} {amount} from {from} to {to}: outside every open network's limits ({limits})"
    )]
    OutsideLimits {
        asset: String,
        amount: String,
        from: String,
        to: String,
        limits: String,
    },
}

/// Expected transfer time when the configuration names none for a chain (ms).
pub const DEFAULT_EXPECTED_MS: u64 = 30 * 60 * 1000;

/// Picks the network for moving `amount` of `asset` from the venue `from` (its networks
/// `from_nets`) to `to` (`to_nets`). `expected_ms`: chain -> expected time.
///
/// # Errors
/// [`PlanError`] when no common, open network admits the amount.
pub fn choose(
    asset: &str,
    amount: Amount,
    (from, from_nets): (&str, &[NetworkInfo]),
    (to, to_nets): (&str, &[NetworkInfo]),
    expected_ms: &BTreeMap<String, u64>,
) -> Result<Route, PlanError> {
    let asset = asset.to_ascii_uppercase();
    let common: Vec<(&NetworkInfo, &NetworkInfo)> = from_nets
        .iter()
        .filter(|n| n.asset == asset)
        .filter_map(|s| {
            to_nets
                .iter()
                .find(|d| d.asset == asset && d.chain == s.chain)
                .map(|d| (s, d))
        })
        .collect();
    let names = || (asset.clone(), from.to_string(), to.to_string());
    if common.is_empty() {
        let (asset, from, to) = names();
        return Err(PlanError::NoCommonNetwork { asset, from, to });
    }
    let mut closed = Vec::new();
    let mut limits = Vec::new();
    let mut best: Option<Route> = None;
    for (s, d) in common {
        if !s.withdraw_open || !d.deposit_open {
            let why = match (s.withdraw_open, d.deposit_open) {
                (false, false) => format!("withdrawals at {from} and deposits at {to}"),
                (false, true) => format!("withdrawals at {from}"),
                _ => format!("deposits at {to}"),
            };
            closed.push(format!("{}: {why} suspended", s.chain));
            continue;
        }
        if amount < s.withdraw_min
            || amount <= s.withdraw_fee
            || s.withdraw_max.is_some_and(|m| amount > m)
        {
            let max = s.withdraw_max.map_or("none".into(), |m| m.to_string());
            limits.push(format!(
                "{}: min {}, max {max}, fee {}",
                s.chain, s.withdraw_min, s.withdraw_fee
            ));
            continue;
        }
        let route = Route {
            asset: asset.clone(),
            chain: s.chain.clone(),
            fee: s.withdraw_fee,
            expected_ms: expected_ms
                .get(&s.chain)
                .copied()
                .unwrap_or(DEFAULT_EXPECTED_MS),
        };
        let better = best
            .as_ref()
            .is_none_or(|b| (route.fee, route.expected_ms) < (b.fee, b.expected_ms));
        if better {
            best = Some(route);
        }
    }
    if let Some(r) = best {
        return Ok(r);
    }
    let (asset, from, to) = names();
    if limits.is_empty() {
        Err(PlanError::AllClosed {
            asset,
            from,
            to,
            closed: closed.join(", "),
        })
    } else {
        Err(PlanError::OutsideLimits {
            asset,
            amount: amount.to_string(),
            from,
            to,
            limits: limits.join("; "),
        })
    }
}

/// Whether a transfer whose fee is worth `fee_value` (in the quote asset) is worth
/// making for an expected edge of `edge_value`: at most `max_share` of it.
pub fn pays(fee_value: Amount, edge_value: Amount, max_share: Amount) -> bool {
    match edge_value.checked_mul(max_share) {
        Some(allowed) => !edge_value.is_negative() && fee_value <= allowed,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Amount {
        Amount::parse(s).unwrap()
    }

    fn net(chain: &str, fee: &str, min: &str, open: (bool, bool)) -> NetworkInfo {
        NetworkInfo {
            asset: "USDT".into(),
            chain: chain.into(),
            deposit_open: open.0,
            withdraw_open: open.1,
            withdraw_fee: a(fee),
            withdraw_min: a(min),
            withdraw_max: Some(a("100000")),
        }
    }

    #[test]
    fn cheapest_open_common_network_then_fastest() {
        let src = [
            net("ETH", "4", "20", (true, true)),
            net("TRX", "1", "10", (true, true)),
            net("BSC", "1", "10", (true, true)),
            net("SOL", "0.1", "1", (true, true)),
        ];
        let dst = [
            net("TRX", "1", "10", (true, true)),
            net("BSC", "0.3", "10", (true, true)),
            net("ETH", "4", "20", (true, true)),
        ];
        let exp = BTreeMap::from([("TRX".to_string(), 60_000), ("BSC".to_string(), 30_000)]);
        let r = choose("usdt", a("50"), ("mexc", &src), ("gateio", &dst), &exp).unwrap();
        // SOL is cheapest but not at the destination; TRX and BSC cost 1 at the source:
        // BSC is expected sooner.
        assert_eq!(
            (r.chain.as_str(), r.fee, r.expected_ms),
            ("BSC", a("1"), 30_000)
        );
    }

    #[test]
    fn a_suspended_network_leads_to_another_or_a_named_refusal() {
        let src = [
            net("TRX", "1", "10", (true, false)),
            net("ETH", "4", "20", (true, true)),
        ];
        let dst = [
            net("TRX", "1", "10", (true, true)),
            net("ETH", "4", "20", (true, true)),
        ];
        let r = choose(
            "USDT",
            a("50"),
            ("mexc", &src),
            ("gateio", &dst),
            &BTreeMap::new(),
        );
        assert_eq!(r.unwrap().chain, "ETH");
        let dst = [
            net("TRX", "1", "10", (true, true)),
            net("ETH", "4", "20", (false, true)),
        ];
        let e = choose(
            "USDT",
            a("50"),
            ("mexc", &src),
            ("gateio", &dst),
            &BTreeMap::new(),
        );
        assert_eq!(
            e.unwrap_err().to_string(),
            "USDT from mexc to gateio: every common network is closed (TRX: withdrawals at \
             mexc suspended, ETH: deposits at gateio suspended)"
        );
    }

    #[test]
    fn no_common_network_and_limits_are_named() {
        let src = [net("TRX", "1", "10", (true, true))];
        let dst = [net("ETH", "4", "20", (true, true))];
        let e = choose(
            "USDT",
            a("50"),
            ("mexc", &src),
            ("gateio", &dst),
            &BTreeMap::new(),
        );
        assert_eq!(
            e.unwrap_err().to_string(),
            "USDT: no network common to mexc and gateio"
        );
        let e = choose(
            "USDT",
            a("5"),
            ("mexc", &src),
            ("gateio", &src),
            &BTreeMap::new(),
        );
        assert_eq!(
            e.unwrap_err().to_string(),
            "USDT 5 from mexc to gateio: outside every open network's limits (TRX: min 10, max \
             100000, fee 1)"
        );
    }

    #[test]
    fn a_transfer_pays_when_its_fee_is_within_the_share_of_the_edge() {
        assert!(pays(a("1"), a("10"), a("0.1")));
        assert!(!pays(a("1.01"), a("10"), a("0.1")));
        assert!(!pays(a("0"), a("-1"), a("0.5")));
    }
}
