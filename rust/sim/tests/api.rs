//! The Rust API other crates test against: start on OS-chosen loopback ports, REST
//! snapshots consistent with the truth, signed orders visible in the ground truth,
//! faults, shutdown.

use arb_core::fixed::parse_scaled;
use arb_core::Venue;
use arb_sim::mexc::sign::mexc_sign;
use arb_sim::{FaultKind, FaultSpec, SimConfig, Simulator};

fn quiet() -> SimConfig {
    SimConfig {
        symbols: vec!["BTC/USDT".into(), "ETH/USDT".into()],
        market_paused: true,
        ..SimConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_snapshot_matches_truth_and_orders_reach_ground_truth() {
    let sim = Simulator::start(quiet()).await.expect("simulator starts");
    let ep = sim.endpoints().clone();
    assert!(ep.mexc_rest.starts_with("http://127.0.0.1:"));
    assert!(ep.gate_ws.ends_with("/ws/v4/"));
    let http = reqwest::Client::new();

    let depth: serde_json::Value = http
        .get(format!(
            "{}/api/v3/depth?symbol=BTCUSDT&limit=5",
            ep.mexc_rest
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let truth = sim.truth_book(Venue::MEXC, "BTCUSDT", 5).unwrap();
    assert_eq!(depth["lastUpdateId"], truth.version);
    assert_eq!(depth["bids"][0][0], truth.bids[0].0.as_str());
    assert_eq!(depth["asks"][4][1], truth.asks[4].1.as_str());

    // A signed limit buy 10 % under the best bid rests and locks its quote.
    let t = sim.trader(Venue::MEXC).clone();
    assert!(format!("{t:?}").contains("***") && !format!("{t:?}").contains(&t.api_secret));
    let bid: f64 = truth.bids[0].0.parse().unwrap();
    let price = format!("{:.2}", bid * 0.9);
    let query = format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price={price}&timestamp={}",
        arb_core::time::now_ms()
    );
    let sig = mexc_sign(&t.api_secret, &query);
    let r = http
        .post(format!(
            "{}/api/v3/order?{query}&signature={sig}",
            ep.mexc_rest
        ))
        .header("X-MEXC-APIKEY", &t.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let orders = sim.orders(Venue::MEXC, &t.api_key);
    assert_eq!(orders.len(), 1);
    let p = parse_scaled(&price, 2).unwrap();
    assert_eq!(orders[0].status, "new");
    assert_eq!(parse_scaled(&orders[0].price, 2).unwrap(), p);
    // Locked quote = price * 0.01 exactly (4 decimals).
    let usdt = &sim.balances(Venue::MEXC, &t.api_key)["USDT"];
    assert_eq!(parse_scaled(&usdt.1, 4).unwrap(), p);

    // A fault from Rust: the next REST request gets a 503 with MEXC's body.
    sim.inject_fault(FaultSpec {
        venue: Venue::MEXC,
        symbol: None,
        kind: FaultKind::RestStatus { status: 503 },
        count: Some(1),
        duration_ms: None,
    })
    .unwrap();
    let r = http
        .get(format!("{}/api/v3/ping", ep.mexc_rest))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], 503);
    assert_eq!(sim.faults()[0]["fired"], 1);
    assert!(sim.truth_book(Venue::GATE, "BTC_USDT", 1).is_some());
    assert!(sim.truth_book(Venue::GATE, "BTCUSDT", 1).is_none());
    sim.shutdown().await;
}
