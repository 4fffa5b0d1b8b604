//! Any list of venue instances: three of them (`mexc`, a second MEXC `mexc_b`, `gateio`),
//! each a venue of its own (port, protocol, engine, accounts, faults, admin paths), gaps
//! between every ordered pair, and the precise error of each bad list.

use arb_core::fixed::parse_scaled;
use arb_core::{Venue, VenueKind};
use arb_sim::market::Market;
use arb_sim::mexc::sign::mexc_sign;
use arb_sim::{FaultKind, FaultSpec, Shared, SimConfig, SimError, Simulator, VenueConfig};

fn venue(name: &str, kind: &str) -> VenueConfig {
    VenueConfig {
        name: name.into(),
        kind: kind.into(),
        port: 0,
    }
}

fn three() -> SimConfig {
    SimConfig {
        symbols: vec!["BTC/USDT".into(), "ETH/USDT".into()],
        venues: vec![
            venue("mexc", "mexc"),
            venue("mexc_b", "mexc"),
            venue("gateio", "gateio"),
        ],
        market_paused: true,
        ..SimConfig::default()
    }
}

fn mexc_b() -> Venue {
    Venue::register("mexc_b", VenueKind::Mexc).expect("a valid name")
}

/// A signed MEXC limit buy of 0.01 BTC at `price` on the instance at `rest`.
async fn mexc_buy(
    http: &reqwest::Client,
    rest: &str,
    key: &str,
    secret: &str,
    price: &str,
) -> reqwest::Response {
    let query = format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price={price}&timestamp={}",
        arb_core::time::now_ms()
    );
    let sig = mexc_sign(secret, &query);
    http.post(format!("{rest}/api/v3/order?{query}&signature={sig}"))
        .header("X-MEXC-APIKEY", key)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_instance_is_a_venue_of_its_own() {
    let sim = Simulator::start(three()).await.expect("simulator starts");
    let b = mexc_b();
    let ep = sim.endpoints().clone();
    let names: Vec<(&str, VenueKind)> = ep
        .venues
        .iter()
        .map(|v| (v.venue.as_str(), v.kind))
        .collect();
    assert_eq!(
        names,
        [
            ("mexc", VenueKind::Mexc),
            ("mexc_b", VenueKind::Mexc),
            ("gateio", VenueKind::Gate)
        ]
    );
    // The named fields stay the default instances'.
    assert_eq!(
        (ep.mexc_rest.as_str(), ep.mexc_ws.as_str()),
        (ep.venues[0].rest.as_str(), ep.venues[0].ws.as_str())
    );
    assert_eq!(ep.gate_rest, ep.venues[2].rest);
    let (mexc_rest, b_rest, gate_rest) = (&ep.venues[0].rest, &ep.venues[1].rest, &ep.gate_rest);
    assert_ne!(mexc_rest, b_rest);
    assert!(ep.venues[1].ws.ends_with("/ws") && ep.venues[2].ws.ends_with("/ws/v4/"));
    let json = serde_json::to_value(&ep).unwrap();
    assert_eq!(json["venues"][1]["name"], "mexc_b");
    assert_eq!(json["venues"][1]["kind"], "mexc");
    assert_eq!(json["venues"][2]["kind"], "gateio");

    // Each port speaks its own protocol.
    let http = reqwest::Client::new();
    let get = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap() }
    };
    let info: serde_json::Value = get(format!("{b_rest}/api/v3/exchangeInfo"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["symbols"][0]["symbol"], "BTCUSDT");
    let pairs = get(format!("{gate_rest}/spot/currency_pairs")).await;
    assert_eq!(pairs.status(), 200);
    assert_eq!(
        get(format!("{gate_rest}/../api/v3/exchangeInfo"))
            .await
            .status(),
        404
    );

    // Own accounts: keys differ, and one instance's key is unknown at the other.
    let (ta, tb) = (sim.trader(Venue::MEXC).clone(), sim.trader(b).clone());
    assert_eq!(tb.venue, b);
    assert_ne!(ta.api_key, tb.api_key);
    let r = mexc_buy(&http, mexc_rest, &tb.api_key, &tb.api_secret, "1000.00").await;
    assert_eq!(r.status(), 400, "mexc_b's key is not an account at mexc");

    // A signed order on mexc_b is booked in mexc_b's engine only, and locks mexc_b's quote.
    let r = mexc_buy(&http, b_rest, &tb.api_key, &tb.api_secret, "1000.00").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(sim.orders(b, &tb.api_key).len(), 1);
    assert!(sim.orders(Venue::MEXC, &ta.api_key).is_empty());
    let locked = |v: Venue, key: &str| parse_scaled(&sim.balances(v, key)["USDT"].1, 2).unwrap();
    assert_eq!(locked(b, &tb.api_key), 1000);
    assert_eq!(locked(Venue::MEXC, &ta.api_key), 0);
    // The trader starts with `trader_balances` on every instance.
    let g = sim.trader(Venue::GATE).clone();
    let free = |v: Venue, key: &str| sim.balances(v, key)["BTC"].0.clone();
    assert_eq!(free(Venue::GATE, &g.api_key), free(b, &tb.api_key));
    assert_eq!(free(Venue::MEXC, &ta.api_key), free(b, &tb.api_key));
    // Its book is its own (same symbols, another engine).
    assert!(sim.truth_book(b, "BTCUSDT", 5).is_some());
    assert!(sim.shared().lookup("mexc_c").is_err());

    // A fault names one instance: mexc_b's next request gets a 503, mexc's does not.
    sim.inject_fault(FaultSpec {
        venue: b,
        symbol: None,
        kind: FaultKind::RestStatus { status: 503 },
        count: Some(1),
        duration_ms: None,
    })
    .unwrap();
    let ping = |rest: &str| get(format!("{rest}/api/v3/ping"));
    assert_eq!(ping(mexc_rest).await.status(), 200);
    assert_eq!(ping(b_rest).await.status(), 503);
    assert_eq!(ping(b_rest).await.status(), 200);
    let faults = sim.faults();
    assert_eq!(faults.as_array().unwrap().len(), 1);
    assert_eq!(faults[0]["spec"]["venue"], "mexc_b");

    // Admin paths and counters by instance name.
    let admin = &ep.admin;
    let accounts: serde_json::Value = get(format!("{admin}/accounts")).await.json().await.unwrap();
    assert_eq!(accounts["mexc_b"]["api_key"], tb.api_key.as_str());
    assert_eq!(accounts["mexc"]["api_key"], ta.api_key.as_str());
    let orders: serde_json::Value = get(format!("{admin}/orders/mexc_b/{}", tb.api_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orders.as_array().unwrap().len(), 1);
    let missing = get(format!("{admin}/book/mexc_c/BTCUSDT")).await;
    assert_eq!(missing.status(), 404);
    let error: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(
        error["error"],
        "unknown venue \"mexc_c\" (configured: mexc, mexc_b, gateio)"
    );
    let counters = sim.counters();
    assert_eq!(counters["mexc_b"]["orders"], 1);
    assert_eq!(counters["mexc"]["orders"], 0);
    assert_eq!(counters["mexc_b"]["faults"]["fired"], 1);
    assert_eq!(counters["mexc"]["faults"]["injected"], 0);
    sim.shutdown().await;
}

/// Best (bid, ask) of the instance at `index` for symbol 0, at 8 decimals.
fn top(shared: &Shared, index: usize) -> Option<(u64, u64)> {
    let vs = shared.venue_at(index);
    let book = vs.truth_book(&vs.specs[0].venue_symbol, 1)?;
    let p = |s: &str| parse_scaled(s, 8).unwrap();
    Some((p(&book.bids.first()?.0), p(&book.asks.first()?.0)))
}

#[test]
fn gaps_open_between_every_ordered_pair() {
    let shared = Shared::new(SimConfig {
        symbols: vec!["BTC/USDT".into()],
        opportunity_rate_per_min: 600.0,
        market_paused: false,
        ..three()
    })
    .expect("simulator state");
    let n = shared.venues().len();
    let taker = |i: usize| shared.venue_at(i).specs[0].taker_ppm as u128;
    let mut market = Market::new(&shared);
    market.seed_books(&shared);
    // (buy, sell) pairs seen where buying at the ask on one and selling at the bid on the
    // other pays both taker fees.
    let mut seen = std::collections::BTreeSet::new();
    let mut steps = 0u32;
    while seen.len() < n * (n - 1) && steps < 200_000 {
        market.step(&shared);
        steps += 1;
        let tops: Vec<_> = (0..n).map(|i| top(&shared, i)).collect();
        for buy in 0..n {
            for sell in (0..n).filter(|&s| s != buy) {
                let (Some((_, ask)), Some((bid, _))) = (tops[buy], tops[sell]) else {
                    continue;
                };
                let cost = ask as u128 * (1_000_000 + taker(buy));
                let proceeds = bid as u128 * (1_000_000 - taker(sell));
                if proceeds > cost {
                    seen.insert((buy, sell));
                }
            }
        }
    }
    assert_eq!(
        seen.len(),
        n * (n - 1),
        "pairs with a paying gap after {steps} steps: {seen:?}"
    );
    assert!(market.gaps_opened > 0);
}

#[test]
fn each_instance_lags_by_its_own_amount() {
    let shared = Shared::new(three()).expect("simulator state");
    let lags: Vec<i128> = shared.venues().iter().map(|v| v.view_lag).collect();
    // MEXC's adapter lag, a second MEXC one more, Gate's.
    assert_eq!(lags, [2, 3, 4]);
    assert_eq!(shared.venue(mexc_b()).index, 1);
}

fn config_error(cfg: SimConfig) -> String {
    match Shared::new(cfg) {
        Err(SimError::Config(e)) => e,
        Err(e) => panic!("not a config error: {e}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn bad_venue_lists_are_refused_precisely() {
    let with = |venues: Vec<VenueConfig>| SimConfig {
        venues,
        ..SimConfig::default()
    };
    assert_eq!(
        config_error(with(vec![venue("mexc", "mexc"), venue("bin", "binance")])),
        "venues[1] (\"bin\"): unknown venue kind \"binance\" (expected \"mexc\" or \"gateio\")"
    );
    assert_eq!(
        config_error(with(vec![
            venue("mexc_b", "mexc"),
            venue("gateio", "gate"),
            venue("mexc_b", "mexc")
        ])),
        "venues[2] (\"mexc_b\"): venue mexc_b is listed twice"
    );
    // An alias of a kind names its default instance, so it is a duplicate too.
    assert_eq!(
        config_error(with(vec![
            venue("gateio", "gateio"),
            venue("gate", "gateio")
        ])),
        "venues[1] (\"gate\"): venue gateio is listed twice"
    );
    assert_eq!(
        config_error(with(vec![venue("gateio", "mexc")])),
        "venues[0] (\"gateio\"): venue \"gateio\" is already registered as kind gateio, not mexc"
    );
    Venue::register("gate_elsewhere", VenueKind::Gate).unwrap();
    assert_eq!(
        config_error(with(vec![venue("gate_elsewhere", "mexc")])),
        "venues[0] (\"gate_elsewhere\"): venue \"gate_elsewhere\" is already registered as kind gateio, not mexc"
    );
    assert!(config_error(with(vec![venue("Mexc B", "mexc")])).contains("is not valid"));
    assert_eq!(config_error(with(vec![])), "venues is empty");
    let mut ports = with(vec![VenueConfig {
        port: 4001,
        ..venue("mexc", "mexc")
    }]);
    ports.mexc_port = 4002;
    assert_eq!(
        config_error(ports),
        "venues[0] (\"mexc\"): port 4001 disagrees with mexc_port 4002"
    );
    // An unknown field in an entry is a serde error, as everywhere in SimConfig.
    let e = serde_json::from_str::<SimConfig>(
        r#"{"venues": [{"name": "mexc", "kind": "mexc", "prot": 1}]}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown field `prot`"), "{e}");
}

#[test]
fn the_default_list_and_the_old_port_fields() {
    let cfg: SimConfig = serde_json::from_str(r#"{"mexc_port": 4101, "gateio_port": 4102}"#)
        .expect("the old fields still parse");
    let inst = cfg.instances().unwrap();
    let got: Vec<(Venue, VenueKind, u16)> =
        inst.iter().map(|i| (i.venue, i.kind, i.port)).collect();
    assert_eq!(
        got,
        [
            (Venue::MEXC, VenueKind::Mexc, 4101),
            (Venue::GATE, VenueKind::Gate, 4102)
        ]
    );
    let cfg: SimConfig = serde_json::from_str(
        r#"{"venues": [{"name": "mexc_b", "kind": "mexc", "port": 4103}, {"name": "gateio", "kind": "gateio"}], "gateio_port": 4104}"#,
    )
    .unwrap();
    let ports: Vec<(&str, u16)> = cfg
        .instances()
        .unwrap()
        .iter()
        .map(|i| (i.venue.as_str(), i.port))
        .collect();
    assert_eq!(ports, [("mexc_b", 4103), ("gateio", 4104)]);
}
