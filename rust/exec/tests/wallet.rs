//! The wallet clients against the simulator's real wallet endpoints, on both venues:
//! networks with exact fees and minimums, deposit addresses, a withdrawal credited at
//! the other venue minus its fee, both histories, and a withdrawal whose answer is lost:
//! not resent, found in the history by its client withdrawal id.

mod common;

use std::time::Duration;

use arb_core::{ErrorClass, Venue};
use arb_exec::{TransferStatus, Wallet, WithdrawRequest};
use arb_sim::FaultKind;
use common::{amt, client, fault, quiet_sim};

fn other(v: Venue) -> Venue {
    if v == Venue::MEXC {
        Venue::GATE
    } else {
        Venue::MEXC
    }
}

fn req(address: &str, amount: &str, client_id: &str) -> WithdrawRequest {
    WithdrawRequest {
        asset: "USDT".into(),
        chain: "TRX".into(),
        address: address.into(),
        memo: None,
        amount: amt(amount),
        client_id: client_id.into(),
    }
}

#[tokio::test]
async fn networks_addresses_withdrawal_and_histories_on_both_venues() {
    let sim = quiet_sim().await;
    for venue in [Venue::MEXC, Venue::GATE] {
        let (src, dst) = (
            Wallet::new(client(&sim, venue)),
            Wallet::new(client(&sim, other(venue))),
        );
        let nets = src.networks().await.unwrap();
        let trx = nets
            .iter()
            .find(|n| n.asset == "USDT" && n.chain == "TRX")
            .expect("USDT on TRX");
        assert!(trx.deposit_open && trx.withdraw_open, "{venue}");
        assert_eq!(trx.withdraw_fee, amt("1"), "{venue}");
        // MEXC states the chain's minimum; Gate one per currency (the largest of its chains).
        let min = if venue == Venue::MEXC { "10" } else { "20" };
        assert_eq!(trx.withdraw_min, amt(min), "{venue}");

        let to = dst.deposit_address("USDT", "TRX").await.unwrap();
        assert!(to.address.starts_with("simtrx"), "{}", to.address);
        let since = arb_core::time::now_ms() - 1_000;
        let cid = format!("w{}", venue.as_str());
        let id = src
            .withdraw(&req(&to.address, "25.25", &cid))
            .await
            .unwrap();
        let found = src
            .find_withdrawal("USDT", &cid, None, since)
            .await
            .unwrap()
            .expect("in the history");
        assert_eq!(
            (
                found.id.as_str(),
                found.amount,
                found.fee,
                found.chain.as_str()
            ),
            (id.as_str(), amt("25.25"), amt("1"), "TRX")
        );
        let mut credited = None;
        for _ in 0..400 {
            let deps = dst.deposits("USDT", since).await.unwrap();
            if let Some(d) = deps.iter().find(|d| d.status == TransferStatus::Done) {
                credited = Some(d.clone());
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let d = credited.expect("credited at the other venue");
        assert_eq!(d.amount, amt("24.25"), "{venue}: less the fee, exactly");
        let w = src.withdrawals("USDT", since).await.unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].status, TransferStatus::Done);
        assert_eq!(w[0].txid, d.txid, "one transfer, one txid");
    }
}

#[tokio::test]
async fn a_lost_answer_is_not_resent_and_the_history_resolves_it() {
    let sim = quiet_sim().await;
    for venue in [Venue::MEXC, Venue::GATE] {
        let src = Wallet::new(client(&sim, venue));
        let to = Wallet::new(client(&sim, other(venue)))
            .deposit_address("USDT", "TRX")
            .await
            .unwrap();
        sim.inject_fault(fault(venue, FaultKind::WithdrawApplyThenTimeout, Some(1)))
            .unwrap();
        let since = arb_core::time::now_ms() - 1_000;
        let cid = format!("lost{}", venue.as_str());
        let e = src
            .withdraw(&req(&to.address, "30", &cid))
            .await
            .unwrap_err();
        assert!(
            matches!(e.class, ErrorClass::Timeout | ErrorClass::UnknownOutcome),
            "{e}"
        );
        let w = src
            .find_withdrawal("USDT", &cid, None, since)
            .await
            .unwrap()
            .expect("applied");
        assert_eq!(w.amount, amt("30"));
        assert_eq!(src.withdrawals("USDT", since).await.unwrap().len(), 1);
        // Refusals are errors naming the asset and network, and change nothing.
        let e = src
            .withdraw(&req(&to.address, "5", "small"))
            .await
            .unwrap_err();
        assert!(
            e.message
                .contains("USDT withdrawal on TRX below the minimum"),
            "{e}"
        );
        assert_eq!(e.class, ErrorClass::InvalidOrder);
    }
}
