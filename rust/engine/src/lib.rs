//! arb-engine: the arbitrage workflow on the hot path — detection on every book change,
//! risk limits and kill switches, two-leg execution as one transaction with its own state
//! machine, accounting, and the durable journal.

pub mod accounting;
pub mod balances;
pub mod config;
pub mod convert;
pub mod detect;
pub mod journal;
pub mod recovery;
pub mod risk;
pub mod runner;
pub mod transfer;
pub mod tx;
