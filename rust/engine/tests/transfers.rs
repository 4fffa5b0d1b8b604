//! Transfers against the simulator's wallets: planned over the venues' real network
//! lists, sent exactly once with the journal written first, followed to `credited`;
//! a lost answer resolved from the history (one withdrawal); a network suspended after
//! planning refused with its name and re-planned onto another network; a transfer left
//! in flight by a dead process followed to completion from the journal alone.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arb_core::Venue;
use arb_engine::journal::{read_transfers, Journal, JournalMeta, TransferState};
use arb_engine::transfer::{choose, follow, send, Planned};
use arb_exec::{Amount, Secret, VenueClient, VenueConfig, Wallet};
use arb_sim::{FaultKind, FaultSpec, SimConfig, Simulator};

fn a(s: &str) -> Amount {
    Amount::parse(s).unwrap()
}

fn wallet(sim: &Simulator, venue: Venue) -> Wallet {
    let e = sim
        .endpoints()
        .venues
        .iter()
        .find(|v| v.venue == venue)
        .unwrap()
        .clone();
    let t = sim.trader(venue);
    let mut c = VenueConfig::new(
        venue,
        e.rest,
        e.ws,
        t.api_key.clone(),
        Secret::new(t.api_secret.clone()),
    );
    c.request_timeout_ms = 1_500;
    Wallet::new(VenueClient::new(c).unwrap())
}

fn journal(dir: &std::path::Path) -> Arc<Journal> {
    let meta = JournalMeta {
        mode: "sim".into(),
        instance: "arb".into(),
        rest: Vec::new(),
        session: None,
    };
    Arc::new(Journal::open(dir.join("journal.sqlite"), &meta).unwrap())
}

fn usdt(sim: &Simulator, venue: Venue) -> String {
    sim.balances(venue, &sim.trader(venue).api_key)["USDT"]
        .0
        .clone()
}

async fn plan(from: &Wallet, to: &Wallet, amount: &str, id: &str) -> Planned {
    let (src, dst) = (from.networks().await.unwrap(), to.networks().await.unwrap());
    let exp = BTreeMap::from([("TRX".to_string(), 60_000), ("BSC".to_string(), 60_000)]);
    let r = choose(
        "USDT",
        a(amount),
        (from.client().venue().as_str(), &src),
        (to.client().venue().as_str(), &dst),
        &exp,
    )
    .unwrap();
    let address = to.deposit_address("USDT", &r.chain).await.unwrap().address;
    Planned {
        client_id: id.into(),
        asset: "USDT".into(),
        from: from.client().venue().as_str().into(),
        to: to.client().venue().as_str().into(),
        chain: r.chain,
        address,
        amount: a(amount),
        fee: r.fee,
        expected_ms: r.expected_ms,
    }
}

async fn until_final(
    j: &Arc<Journal>,
    from: &Wallet,
    to: &Wallet,
    rec: &mut arb_engine::journal::TransferRecord,
) {
    for _ in 0..400 {
        follow(j, from, to, rec).await;
        if rec.state.is_final() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("transfer {} never finished: {:?}", rec.client_id, rec.state);
}

fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("arb-transfers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn quiet() -> Simulator {
    Simulator::start(SimConfig {
        market_paused: true,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_is_journaled_first_sent_once_and_credited_exactly() {
    let sim = quiet().await;
    let dir = temp("ok");
    let j = journal(&dir);
    let (from, to) = (wallet(&sim, Venue::MEXC), wallet(&sim, Venue::GATE));
    let p = plan(&from, &to, "100", "arb_t1").await;
    // BSC costs 0.3 against TRX's 1: the cheaper network.
    assert_eq!((p.chain.as_str(), p.fee), ("BSC", a("0.3")));
    let mut rec = send(&j, &from, &p).await;
    assert_eq!(rec.state, TransferState::Accepted);
    until_final(&j, &from, &to, &mut rec).await;
    assert_eq!(rec.state, TransferState::Credited);
    assert_eq!(usdt(&sim, Venue::MEXC), "99900");
    assert_eq!(usdt(&sim, Venue::GATE), "100099.7");
    let rows = read_transfers(&dir.join("journal.sqlite")).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].state, rows[0].amount_text(), rows[0].fee),
        (TransferState::Credited, "100".to_string(), rec.fee)
    );
    assert!(rows[0].txid.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_means_exactly_one_withdrawal() {
    let sim = quiet().await;
    let dir = temp("lost");
    let j = journal(&dir);
    let (from, to) = (wallet(&sim, Venue::GATE), wallet(&sim, Venue::MEXC));
    let p = plan(&from, &to, "40", "arb_t2").await;
    sim.inject_fault(FaultSpec {
        venue: Venue::GATE,
        symbol: None,
        kind: FaultKind::WithdrawApplyThenTimeout,
        count: Some(1),
        duration_ms: None,
    })
    .unwrap();
    let mut rec = send(&j, &from, &p).await;
    assert_eq!(rec.state, TransferState::Accepted, "{:?}", rec.detail);
    until_final(&j, &from, &to, &mut rec).await;
    let truth = sim.wallets();
    assert_eq!(truth["withdrawals"].as_array().unwrap().len(), 1);
    assert_eq!(usdt(&sim, Venue::GATE), "99960");
    assert_eq!(usdt(&sim, Venue::MEXC), "100039.7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_suspended_after_planning_is_refused_then_replanned() {
    let sim = quiet().await;
    let dir = temp("suspended");
    let j = journal(&dir);
    let (from, to) = (wallet(&sim, Venue::MEXC), wallet(&sim, Venue::GATE));
    let p = plan(&from, &to, "50", "arb_t3").await;
    assert_eq!(p.chain, "BSC");
    sim.inject_fault(FaultSpec {
        venue: Venue::MEXC,
        symbol: None,
        kind: FaultKind::NetworkSuspended {
            asset: "USDT".into(),
            chain: "BSC".into(),
        },
        count: None,
        duration_ms: None,
    })
    .unwrap();
    let rec = send(&j, &from, &p).await;
    assert_eq!(rec.state, TransferState::Failed);
    let why = rec.detail.clone().unwrap();
    assert!(
        why.contains("USDT withdrawals on BSC are suspended"),
        "{why}"
    );
    assert_eq!(usdt(&sim, Venue::MEXC), "100000", "nothing left");
    let again = plan(&from, &to, "50", "arb_t4").await;
    assert_eq!(again.chain, "TRX", "the next cheapest open network");
    let mut rec = send(&j, &from, &again).await;
    until_final(&j, &from, &to, &mut rec).await;
    assert_eq!(usdt(&sim, Venue::GATE), "100049");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_in_flight_when_the_process_dies_is_followed_from_the_journal() {
    let sim = quiet().await;
    let dir = temp("restart");
    {
        // The first process: journals, sends, and dies before following it.
        let j = journal(&dir);
        let (from, to) = (wallet(&sim, Venue::MEXC), wallet(&sim, Venue::GATE));
        let p = plan(&from, &to, "30", "arb_t5").await;
        let rec = send(&j, &from, &p).await;
        assert_eq!(rec.state, TransferState::Accepted);
    }
    // The next one reads the journal and follows every unfinished transfer.
    let j = journal(&dir);
    let (from, to) = (wallet(&sim, Venue::MEXC), wallet(&sim, Venue::GATE));
    let open: Vec<_> = read_transfers(&dir.join("journal.sqlite"))
        .unwrap()
        .into_iter()
        .filter(|t| !t.state.is_final())
        .collect();
    assert_eq!(open.len(), 1);
    let mut rec = open[0].clone();
    until_final(&j, &from, &to, &mut rec).await;
    assert_eq!(rec.state, TransferState::Credited);
    assert_eq!(usdt(&sim, Venue::GATE), "100029.7");
    assert_eq!(sim.wallets()["withdrawals"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_journaled_but_never_sent_is_failed_not_resent() {
    let sim = quiet().await;
    let dir = temp("unsent");
    let j = journal(&dir);
    let (from, to) = (wallet(&sim, Venue::MEXC), wallet(&sim, Venue::GATE));
    let now = arb_core::time::now_ms();
    // What a process killed between the journal write and the send leaves behind.
    let mut rec = arb_engine::journal::TransferRecord {
        client_id: "arb_t6".into(),
        asset: "USDT".into(),
        from_venue: "mexc".into(),
        to_venue: "gateio".into(),
        chain: "TRX".into(),
        address: "simtrx0".into(),
        amount: arb_engine::journal::Dec::new(30, 0),
        fee: arb_engine::journal::Dec::new(1, 0),
        state: TransferState::Requested,
        venue_id: None,
        txid: None,
        requested_ms: now,
        updated_ms: now,
        expected_ms: now + 60_000,
        detail: None,
    };
    follow(&j, &from, &to, &mut rec).await;
    assert_eq!(rec.state, TransferState::Failed);
    assert!(sim.wallets()["withdrawals"].as_array().unwrap().is_empty());
    assert_eq!(usdt(&sim, Venue::MEXC), "100000");
}
