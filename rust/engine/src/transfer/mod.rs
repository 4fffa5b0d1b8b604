//! Moving inventory between venues: [`plan`] picks the network and says whether a move
//! pays, [`guard`] holds the safety rules (off by default, a separate withdrawal
//! switch, an address allowlist, a per-asset daily cap, healthy venues), [`run`] sends a
//! transfer exactly once through the venues' wallet APIs and follows it, journaled
//! through its states (`journal/transfers.rs`), across restarts.

pub mod guard;
pub mod plan;
pub mod run;

pub use guard::{Policy, Proposed, Refusal};
pub use plan::{choose, pays, PlanError, Route};
pub use run::{follow, send, Planned};
