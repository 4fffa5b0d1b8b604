//! Symbol restrictions and read-only keys: each venue lists them in its own fields and
//! refuses what they forbid with its real code (MEXC 30051 / 10007 / 700007, Gate
//! `trade_status`, `buy_start`, READ_ONLY); unknown symbols are not listed when the
//! simulator is told to list only its own.

use arb_core::Venue;
use arb_sim::gate::sign::gate_rest_sign;
use arb_sim::mexc::sign::mexc_sign;
use arb_sim::{SimConfig, Simulator};
use serde_json::Value;

fn quiet() -> SimConfig {
    let listed = ["BTC/USDT", "KAS/USDT", "PEPE/USDT", "TON/USDT"];
    SimConfig {
        symbols: listed.iter().map(|s| s.to_string()).collect(),
        market_paused: true,
        ..SimConfig::default()
    }
}

async fn mexc_post(sim: &Simulator, query: &str) -> (u16, Value) {
    let t = sim.trader(Venue::MEXC).clone();
    let q = format!("{query}&timestamp={}", arb_core::time::now_ms());
    let sig = mexc_sign(&t.api_secret, &q);
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/v3/order?{q}&signature={sig}",
            sim.endpoints().mexc_rest
        ))
        .header("X-MEXC-APIKEY", &t.api_key)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn mexc_get(sim: &Simulator, path: &str) -> Value {
    let t = sim.trader(Venue::MEXC).clone();
    let q = format!("timestamp={}", arb_core::time::now_ms());
    let sig = mexc_sign(&t.api_secret, &q);
    reqwest::Client::new()
        .get(format!(
            "{}{path}?{q}&signature={sig}",
            sim.endpoints().mexc_rest
        ))
        .header("X-MEXC-APIKEY", &t.api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn gate_order(sim: &Simulator, body: &str) -> (u16, Value) {
    let t = sim.trader(Venue::GATE).clone();
    let ts = (arb_core::time::now_ms() / 1000).to_string();
    let sign = gate_rest_sign(
        &t.api_secret,
        "POST",
        "/api/v4/spot/orders",
        "",
        body.as_bytes(),
        &ts,
    );
    let r = reqwest::Client::new()
        .post(format!("{}/spot/orders", sim.endpoints().gate_rest))
        .header("KEY", &t.api_key)
        .header("Timestamp", &ts)
        .header("SIGN", sign)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn public(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restricted_symbols_are_listed_and_refused_with_the_real_codes() {
    let sim = Simulator::start(quiet()).await.unwrap();
    let ep = sim.endpoints().clone();
    let info = public(format!("{}/api/v3/exchangeInfo", ep.mexc_rest)).await;
    let sym = |name: &str| {
        info["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["symbol"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not listed"))
    };
    let kas = sym("KASUSDT");
    assert!(!kas["orderTypes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "MARKET"));
    assert_eq!(kas["quoteOrderQtyMarketAllowed"], false);
    assert_eq!(sym("PEPEUSDT")["isSpotTradingAllowed"], false);
    assert_eq!(sym("BTCUSDT")["isSpotTradingAllowed"], true);

    let (status, body) = mexc_post(&sim, "symbol=KASUSDT&side=BUY&type=MARKET&quantity=100").await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(30051)),
        "{body}"
    );
    assert_eq!(body["msg"], "api market order is disabled");
    // A limit order on the same symbol is fine (it rests far below the market).
    let (status, body) = mexc_post(
        &sim,
        "symbol=KASUSDT&side=BUY&type=LIMIT&quantity=100&price=0.05",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = mexc_post(
        &sim,
        "symbol=PEPEUSDT&side=BUY&type=LIMIT&quantity=1000000&price=0.000005",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(10007)),
        "{body}"
    );

    let pairs = public(format!("{}/spot/currency_pairs", ep.gate_rest)).await;
    let ton = pairs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "TON_USDT")
        .cloned()
        .unwrap();
    let now_s = arb_core::time::now_ms() / 1000;
    assert!(ton["buy_start"].as_i64().unwrap() > now_s, "{ton}");
    assert_eq!(ton["trade_status"], "tradable");
    let (status, body) = gate_order(
        &sim,
        r#"{"currency_pair":"TON_USDT","side":"buy","amount":"1","price":"4"}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["label"], "INVALID_CURRENCY_PAIR");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_key_reads_but_cannot_trade() {
    let sim = Simulator::start(SimConfig {
        read_only_keys: vec!["mexc".into(), "gateio".into()],
        ..quiet()
    })
    .await
    .unwrap();
    let account = mexc_get(&sim, "/api/v3/account").await;
    assert_eq!(account["canTrade"], false, "{account}");
    assert!(account["balances"]
        .as_array()
        .is_some_and(|b| !b.is_empty()));
    let (status, body) = mexc_post(
        &sim,
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=1000",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (403, Some(700007)),
        "{body}"
    );
    let (status, body) = gate_order(
        &sim,
        r#"{"currency_pair":"BTC_USDT","side":"buy","amount":"0.001","price":"1000"}"#,
    )
    .await;
    assert_eq!(
        (status, body["label"].as_str()),
        (403, Some("READ_ONLY")),
        "{body}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_its_own_symbols_when_told_not_to_invent() {
    let sim = Simulator::start(SimConfig {
        symbols: vec!["FOO/BAR".into(), "BTC/USDT".into()],
        invent_symbols: false,
        ..quiet()
    })
    .await
    .unwrap();
    let info = public(format!("{}/api/v3/exchangeInfo", sim.endpoints().mexc_rest)).await;
    let names: Vec<&str> = info["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["BTCUSDT"]);
    sim.shutdown().await;
    // A restriction a venue cannot list is a config error naming it.
    let bad = SimConfig {
        symbols: vec!["KAS/USDT".into()],
        restricted: vec![arb_sim::spec::RestrictedSymbol {
            symbol: "KAS/USDT".into(),
            venue: "gateio".into(),
            restriction: arb_sim::spec::Restriction::NoMarket,
        }],
        ..quiet()
    };
    let e = Simulator::start(bad).await.err().unwrap().to_string();
    assert!(e.contains("gateio") && e.contains("NoMarket"), "{e}");
}
