//! The safety rules every transfer passes before anything is sent, pure: transfers and
//! the withdrawal permission are two separate switches, both off by default; the
//! destination address must be on the allowlist (an address a venue answered with is
//! used only when it matches); a per-asset cap on what leaves in a UTC day; and both
//! venues healthy. Each refusal names the asset, the venues and the network.

use std::collections::{BTreeMap, BTreeSet};

use arb_exec::Amount;

/// The configured rules (`transfers:` in the configuration).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Transfers at all (off by default).
    pub enabled: bool,
    /// The withdrawal permission, separately (off by default): with transfers on and
    /// this off, transfers are planned and reported but nothing is withdrawn.
    pub withdrawals: bool,
    /// (venue, asset, chain) -> the addresses deposits may go to there.
    pub allowlist: BTreeMap<(String, String, String), BTreeSet<String>>,
    /// Asset -> the most that may leave in one UTC day (no entry: nothing may).
    pub daily_cap: BTreeMap<String, Amount>,
}

/// A transfer about to be sent, as the guard judges it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposed<'a> {
    pub asset: &'a str,
    pub chain: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    /// The destination venue's deposit address as it answered.
    pub address: &'a str,
    pub amount: Amount,
}

/// Why a transfer is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("transfers are off (transfers.enabled): {asset} from {from} to {to} not moved")]
    Disabled {
        asset: String,
        from: String,
        to: String,
    },
    #[error("withdrawals are not permitted (transfers.withdrawals): {asset} from {from} on {chain} not sent")]
    WithdrawalsOff {
        asset: String,
        from: String,
        chain: String,
    },
    #[error("{to}'s {asset} deposit address on {chain} {address:?} is not on the allowlist")]
    NotAllowlisted {
        asset: String,
        to: String,
        chain: String,
        address: String,
    },
    #[error("{asset} {amount} from {from} on {chain} is over the daily cap {cap} ({sent} already sent today)")]
    OverDailyCap {
        asset: String,
        from: String,
        chain: String,
        amount: String,
        cap: String,
        sent: String,
    },
    #[error("{venue} is unhealthy: no {asset} transfer from {from} to {to} on {chain}")]
    Unhealthy {
        venue: String,
        asset: String,
        from: String,
        to: String,
        chain: String,
    },
}

impl Policy {
    /// Adds the simulator's own deposit addresses (they are allowlisted automatically):
    /// `venue -> asset -> chain -> address`.
    pub fn allow_all(
        &mut self,
        addresses: &BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    ) {
        for (venue, assets) in addresses {
            for (asset, chains) in assets {
                for (chain, address) in chains {
                    self.allowlist
                        .entry((venue.clone(), asset.clone(), chain.clone()))
                        .or_default()
                        .insert(address.clone());
                }
            }
        }
    }

    /// Checks one transfer: `sent_today` is what already left for `p.asset` today,
    /// `healthy(venue)` the venues' health.
    ///
    /// # Errors
    /// The first rule it breaks (boxed: a refusal is rare and carries its names).
    pub fn check(
        &self,
        p: &Proposed<'_>,
        sent_today: Amount,
        healthy: impl Fn(&str) -> bool,
    ) -> Result<(), Box<Refusal>> {
        let s = |x: &str| x.to_string();
        if !self.enabled {
            return Err(Box::new(Refusal::Disabled {
                asset: s(p.asset),
                from: s(p.from),
                to: s(p.to),
            }));
        }
        if !self.withdrawals {
            return Err(Box::new(Refusal::WithdrawalsOff {
                asset: s(p.asset),
                from: s(p.from),
                chain: s(p.chain),
            }));
        }
        let key = (s(p.to), s(p.asset), s(p.chain));
        if !self
            .allowlist
            .get(&key)
            .is_some_and(|a| a.contains(p.address))
        {
            return Err(Box::new(Refusal::NotAllowlisted {
                asset: s(p.asset),
                to: s(p.to),
                chain: s(p.chain),
                address: s(p.address),
            }));
        }
        let cap = self.daily_cap.get(p.asset).copied().unwrap_or_default();
        let total = sent_today.checked_add(p.amount);
        if total.is_none_or(|t| t > cap) {
            return Err(Box::new(Refusal::OverDailyCap {
                asset: s(p.asset),
                from: s(p.from),
                chain: s(p.chain),
                amount: p.amount.to_string(),
                cap: cap.to_string(),
                sent: sent_today.to_string(),
            }));
        }
        for venue in [p.from, p.to] {
            if !healthy(venue) {
                return Err(Box::new(Refusal::Unhealthy {
                    venue: s(venue),
                    asset: s(p.asset),
                    from: s(p.from),
                    to: s(p.to),
                    chain: s(p.chain),
                }));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Amount {
        Amount::parse(s).unwrap()
    }

    fn policy() -> Policy {
        let mut p = Policy {
            enabled: true,
            withdrawals: true,
            ..Policy::default()
        };
        p.allowlist.insert(
            ("gateio".into(), "USDT".into(), "TRX".into()),
            BTreeSet::from(["Tgood".to_string()]),
        );
        p.daily_cap.insert("USDT".into(), a("1000"));
        p
    }

    fn proposed(address: &str, amount: &str) -> Proposed<'static> {
        Proposed {
            asset: "USDT",
            chain: "TRX",
            from: "mexc",
            to: "gateio",
            address: Box::leak(address.to_string().into_boxed_str()),
            amount: a(amount),
        }
    }

    #[test]
    fn off_by_default_and_each_switch_refuses_on_its_own() {
        let e = Policy::default().check(&proposed("Tgood", "10"), Amount::ZERO, |_| true);
        assert!(matches!(e.map_err(|b| *b), Err(Refusal::Disabled { .. })));
        let mut p = policy();
        p.withdrawals = false;
        let e = p.check(&proposed("Tgood", "10"), Amount::ZERO, |_| true);
        assert_eq!(
            e.unwrap_err().to_string(),
            "withdrawals are not permitted (transfers.withdrawals): USDT from mexc on TRX not sent"
        );
    }

    #[test]
    fn allowlist_cap_and_health_are_named() {
        let p = policy();
        assert_eq!(
            p.check(&proposed("Tgood", "600"), a("400"), |_| true),
            Ok(())
        );
        assert_eq!(
            p.check(&proposed("Tevil", "10"), Amount::ZERO, |_| true)
                .unwrap_err()
                .to_string(),
            "gateio's USDT deposit address on TRX \"Tevil\" is not on the allowlist"
        );
        assert_eq!(
            p.check(&proposed("Tgood", "600.01"), a("400"), |_| true)
                .unwrap_err()
                .to_string(),
            "USDT 600.01 from mexc on TRX is over the daily cap 1000 (400 already sent today)"
        );
        assert_eq!(
            p.check(&proposed("Tgood", "10"), Amount::ZERO, |v| v != "gateio")
                .unwrap_err()
                .to_string(),
            "gateio is unhealthy: no USDT transfer from mexc to gateio on TRX"
        );
    }
}
