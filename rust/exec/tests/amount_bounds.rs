//! Venue amounts beyond `arb_exec::amount::MAX_PARSED` (10^18 units) end to end: a
//! balance the simulator really holds and sends, read by each venue's real REST
//! parser, is a malformed answer naming the field and the value (it used to parse,
//! and two such values summed overflowed `i128`).

mod common;

use arb_core::{ErrorClass, Venue};
use arb_sim::{SimConfig, Simulator};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_balance_beyond_the_bound_is_a_malformed_answer_naming_field_and_value() {
    let mut cfg = SimConfig {
        market_paused: true,
        ..SimConfig::default()
    };
    // 10^19 BTC: within what the simulator holds, ten times the parse bound.
    let huge = "10000000000000000000";
    cfg.trader_balances.insert("BTC".into(), huge.into());
    let sim = Simulator::start(cfg).await.expect("simulator starts");
    for (venue, field) in [(Venue::MEXC, "free"), (Venue::GATE, "available")] {
        let e = client(&sim, venue).balances().await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::Malformed, "{venue}: {e}");
        let text = e.to_string();
        assert!(
            text.contains(&format!(
                "field {field:?}: invalid decimal {huge:?}: magnitude beyond the bound of 10^18 units"
            )),
            "{venue}: {text}"
        );
    }
    // At the bound itself the balance is read exactly.
    let mut cfg = SimConfig {
        market_paused: true,
        ..SimConfig::default()
    };
    cfg.trader_balances
        .insert("BTC".into(), "1000000000000000000".into());
    let sim = Simulator::start(cfg).await.expect("simulator starts");
    for venue in [Venue::MEXC, Venue::GATE] {
        let bal = client(&sim, venue).balances().await.unwrap();
        let btc = bal.iter().find(|b| b.asset == "BTC").expect("BTC listed");
        assert_eq!(btc.free, arb_exec::amount::MAX_PARSED, "{venue}");
    }
}
