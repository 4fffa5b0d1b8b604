//! The logging macros write through the process-wide logger. One test per concern in
//! one function: the global logger is process state, shared by every test in a binary.

use arb_core::Venue;
use arb_telemetry::backend::Memory;
use arb_telemetry::{
    arb_critical, arb_debug, arb_error, arb_info, arb_trace, arb_warn, global, install, Level,
    LogConfig, Overflow, Registry, Value,
};

#[test]
fn macros_reach_the_installed_logger_with_typed_fields_and_level_filtering() {
    let mem = Memory::new();
    install(LogConfig {
        level: Level::Debug,
        console: None,
        overflow: Overflow::Block,
        extra: vec![Box::new(mem.clone())],
        registry: Registry::new(),
        ..LogConfig::default()
    })
    .unwrap();
    let symbol = String::from("BTC_USDT");
    arb_trace!("t", "hidden");
    arb_debug!("arb_market::mexc", "depth", levels = 20u32);
    arb_info!(
        "arb_market::mexc",
        "book resynced",
        venue = Venue::MEXC,
        symbol = Value::inline(&symbol),
        update_id = 123_456_789u64,
        spread_bps = 1.25,
        crossed = false,
        delta = -7i64,
    );
    arb_warn!("t", "w");
    arb_error!("t", "e", class = arb_core::ErrorClass::Timeout);
    arb_critical!("t", "c");
    arb_telemetry::log_text(
        Level::Warn,
        "arb_market",
        format!("gap at update {} (expected {})", 10, 9),
        [arb_telemetry::Field::new("venue", Venue::GATE)],
    );
    global().flush();

    let lines: Vec<serde_json::Value> = mem
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let levels: Vec<&str> = lines.iter().map(|v| v["level"].as_str().unwrap()).collect();
    assert_eq!(
        levels,
        ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "WARNING"]
    );
    assert_eq!(lines[5]["msg"], "gap at update 10 (expected 9)");
    assert_eq!(lines[5]["fields"]["venue"], "gateio");
    let info = &lines[1];
    assert_eq!(info["target"], "arb_market::mexc");
    assert_eq!(info["msg"], "book resynced");
    assert_eq!(info["fields"]["venue"], "mexc");
    assert_eq!(info["fields"]["symbol"], "BTC_USDT");
    assert_eq!(info["fields"]["update_id"], 123_456_789u64);
    assert_eq!(info["fields"]["spread_bps"], 1.25);
    assert_eq!(info["fields"]["crossed"], false);
    assert_eq!(info["fields"]["delta"], -7);
    assert_eq!(lines[3]["fields"]["class"], "timeout");
    // Rust call sites stamp CPU ticks; the writer must have turned them into wall time.
    let now = arb_core::time::now_ns();
    for l in &lines {
        let ts = l["ts_ns"].as_i64().unwrap();
        assert!((now - ts).abs() < 60_000_000_000, "{ts} vs {now}");
        assert!(l["ts"].as_str().unwrap().starts_with("20"));
    }

    // Reinstalling switches producers to the new logger and drains the old one.
    let second = Memory::new();
    install(LogConfig {
        console: None,
        extra: vec![Box::new(second.clone())],
        registry: Registry::new(),
        ..LogConfig::default()
    })
    .unwrap();
    arb_info!("t", "after reinstall");
    arb_telemetry::shutdown_global();
    assert_eq!(mem.len(), 6);
    assert_eq!(second.len(), 1);
}
