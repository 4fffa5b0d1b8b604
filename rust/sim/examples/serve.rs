//! Runs the simulator standalone from Rust (no Python): prints one JSON line with the
//! endpoints and test keys, then serves until Ctrl-C. Config JSON may be given as the
//! first argument. `cargo run --profile ci -p arb-sim --example serve -- '{"seed": 1}'`

use arb_core::Venue;
use arb_sim::{SimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg: SimConfig = match std::env::args().nth(1) {
        Some(s) => serde_json::from_str(&s)?,
        None => SimConfig::default(),
    };
    let sim = Simulator::start(cfg).await?;
    let mut v = serde_json::to_value(sim.endpoints())?;
    for venue in [Venue::MEXC, Venue::GATE] {
        let t = sim.trader(venue);
        v["accounts"][venue.as_str()] =
            serde_json::json!({"api_key": t.api_key, "api_secret": t.api_secret});
    }
    println!("{v}");
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
