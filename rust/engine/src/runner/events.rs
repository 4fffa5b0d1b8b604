//! What the engine tells observers (opportunities, transactions, halts) and asks Python
//! (the veto in `veto` mode).

use std::sync::Arc;

use arb_core::time::now_ms;
use arb_core::Venue;
use tokio::sync::oneshot;

use super::Inner;
use crate::journal::JournalRecord;
use crate::risk::KillReason;

/// What Python (or any observer) is told.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// An opportunity passed detection and risk and is being acted on (or refused at
    /// pre-trade).
    Opportunity {
        id: u64,
        symbol: String,
        buy: Venue,
        sell: Venue,
        qty: String,
        edge_bps: String,
        decision: String,
    },
    /// A transaction ended.
    Transaction {
        tx_id: u64,
        symbol: String,
        outcome: String,
        realized_pnl: String,
        fees_quote: String,
        tick_to_trade_us: Option<i64>,
    },
    /// Trading halted by a kill switch.
    Halted { reason: String },
}

/// Receives engine events (the Python bindings forward them to a callback).
pub type EventSink = Arc<dyn Fn(EngineEvent) + Send + Sync>;

/// A trade Python is asked to approve in `veto` mode.
#[derive(Clone, Debug, serde::Serialize)]
pub struct VetoRequest {
    pub symbol: String,
    pub buy: Venue,
    pub sell: Venue,
    pub qty: String,
    pub notional: String,
    pub edge_bps: String,
}

/// Asks Python; the receiver yields the answer (a dropped sender counts as "no"). It may
/// answer before it returns; an answer later than the veto timeout refuses either way.
pub type VetoFn = Arc<dyn Fn(VetoRequest) -> oneshot::Receiver<bool> + Send + Sync>;

impl Inner {
    pub(super) fn emit(&self, ev: EngineEvent) {
        if let Some(sink) = self.events.read().as_ref() {
            sink(ev);
        }
    }

    pub(super) fn halted(&self, k: KillReason) {
        self.journal.send(JournalRecord::Event {
            t_ms: now_ms(),
            kind: "halt",
            detail: k.to_string(),
        });
        self.emit(EngineEvent::Halted {
            reason: k.to_string(),
        });
    }
}
