//! Runs the simulator standalone from Rust (no Python): prints one JSON line with the
//! endpoints and test keys, then serves until Ctrl-C. Config JSON may be given as the
//! first argument. `cargo run --profile ci -p arb-sim --example serve -- '{"seed": 1}'`

use arb_sim::{SimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cfg: SimConfig = match std::env::args().nth(1) {
        Some(s) => serde_json::from_str(&s)?,
        None => SimConfig::default(),
    };
    let sim = Simulator::start(cfg).await?;
    let mut v = serde_json::to_value(sim.endpoints())?;
    v["accounts"] = sim.shared().accounts_json();
    println!("{v}");
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
