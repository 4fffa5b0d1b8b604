//! Sending and following one transfer, exactly once. The record is journaled (and
//! committed) as `requested` before the withdrawal is sent; an answer that never comes
//! is resolved from the source venue's withdrawal history by the client withdrawal id,
//! never by sending again. [`follow`] moves a transfer on from what the venues report
//! (accepted, on chain, credited at the destination by its txid, or failed) and is what
//! recovery runs on every unfinished transfer after a restart (`journal::read_transfers`). A transfer still
//! unfinished past its expected time is reported as overdue (a critical log line, a
//! journal event and the `transfers_overdue_total` counter).

use std::sync::Arc;
use std::time::Duration;

use arb_core::ErrorClass;
use arb_exec::{Amount, ExecError, TransferStatus, Wallet, WithdrawRequest};

use crate::journal::{Dec, Journal, JournalRecord, TransferRecord, TransferState};

/// Scale of the decimals journaled for transfers.
const SCALE: u32 = 18;

/// How often, and how far apart, the history is asked about a withdrawal whose answer
/// was lost before it counts as never having reached the venue.
const ABSENT_CHECKS: u32 = 2;
const ABSENT_SPACING: Duration = Duration::from_millis(1_000);

/// A planned transfer, ready to send.
#[derive(Clone, Debug)]
pub struct Planned {
    pub client_id: String,
    pub asset: String,
    pub from: String,
    pub to: String,
    pub chain: String,
    /// The destination's deposit address, already checked against the allowlist.
    pub address: String,
    pub amount: Amount,
    pub fee: Amount,
    pub expected_ms: u64,
}

fn dec(a: Amount) -> Dec {
    Dec::new(a.mantissa(), SCALE)
}

/// Writes `rec` and waits until it is committed.
async fn journal_now(journal: &Arc<Journal>, rec: &TransferRecord) {
    journal.send(JournalRecord::Transfer(Box::new(rec.clone())));
    let j = journal.clone();
    let _ = tokio::task::spawn_blocking(move || j.flush()).await;
}

fn set(rec: &mut TransferRecord, state: TransferState, detail: Option<String>) {
    rec.state = state;
    rec.updated_ms = arb_core::time::now_ms();
    if detail.is_some() {
        rec.detail = detail;
    }
}

/// Whether the venue's answer refused the withdrawal (nothing was applied): a 4xx that
/// is not a rate limit, or a refusal class.
fn refused(e: &ExecError) -> bool {
    matches!(
        e.class,
        ErrorClass::InvalidOrder
            | ErrorClass::InsufficientFunds
            | ErrorClass::Authentication
            | ErrorClass::SymbolNotTradable
    ) || e
        .http_status
        .is_some_and(|s| (400..500).contains(&s) && s != 429)
}

/// Journals `p` as requested, sends it once and resolves a lost answer from the
/// history. The record as it stands after the send: `accepted`, `failed` (refused: the
/// venue's reason in `detail`), or still `requested` when the venue could not be asked;
/// [`follow`] takes it from there.
pub async fn send(journal: &Arc<Journal>, from: &Wallet, p: &Planned) -> TransferRecord {
    let now = arb_core::time::now_ms();
    let mut rec = TransferRecord {
        client_id: p.client_id.clone(),
        asset: p.asset.clone(),
        from_venue: p.from.clone(),
        to_venue: p.to.clone(),
        chain: p.chain.clone(),
        address: p.address.clone(),
        amount: dec(p.amount),
        fee: dec(p.fee),
        state: TransferState::Requested,
        venue_id: None,
        txid: None,
        requested_ms: now,
        updated_ms: now,
        expected_ms: now + p.expected_ms as i64,
        detail: None,
    };
    journal_now(journal, &rec).await;
    let req = WithdrawRequest {
        asset: p.asset.clone(),
        chain: p.chain.clone(),
        address: p.address.clone(),
        memo: None,
        amount: p.amount,
        client_id: p.client_id.clone(),
    };
    match from.withdraw(&req).await {
        Ok(id) => {
            rec.venue_id = Some(id);
            set(&mut rec, TransferState::Accepted, None);
        }
        Err(e) if refused(&e) => set(&mut rec, TransferState::Failed, Some(e.to_string())),
        Err(e) => {
            rec.detail = Some(format!("outcome unknown: {e}"));
            resolve(from, &mut rec).await;
        }
    }
    journal_now(journal, &rec).await;
    rec
}

/// A `requested` transfer: the history by client id says whether it reached the venue.
/// Absent from it [`ABSENT_CHECKS`] times, spaced out, it never did: failed, nothing
/// left (its id is never used again). The history unreachable: still `requested`.
async fn resolve(from: &Wallet, rec: &mut TransferRecord) {
    let since = rec.requested_ms - 60_000;
    for check in 0..ABSENT_CHECKS {
        if check > 0 {
            tokio::time::sleep(ABSENT_SPACING).await;
        }
        match from
            .find_withdrawal(&rec.asset, &rec.client_id, None, since)
            .await
        {
            Ok(Some(w)) => {
                rec.venue_id = Some(w.id);
                set(rec, TransferState::Accepted, None);
                return;
            }
            Ok(None) => {}
            Err(_) => return,
        }
    }
    set(
        rec,
        TransferState::Failed,
        Some("never reached the venue (absent from its withdrawal history)".into()),
    );
}

/// Moves `rec` on by what the venues report now; journals any change. Returns whether it
/// is overdue (unfinished past its expected time; the alert is raised once per call).
pub async fn follow(
    journal: &Arc<Journal>,
    from: &Wallet,
    to: &Wallet,
    rec: &mut TransferRecord,
) -> bool {
    let before = (rec.state, rec.txid.clone());
    if rec.state == TransferState::Requested {
        resolve(from, rec).await;
    }
    let since = rec.requested_ms - 60_000;
    if matches!(rec.state, TransferState::Accepted | TransferState::OnChain) {
        if let Ok(Some(w)) = from
            .find_withdrawal(&rec.asset, &rec.client_id, rec.venue_id.as_deref(), since)
            .await
        {
            match w.status {
                TransferStatus::Failed => set(
                    rec,
                    TransferState::Failed,
                    Some(format!("{} reports the withdrawal failed", rec.from_venue)),
                ),
                _ if w.txid.is_some() => {
                    rec.txid = w.txid;
                    if rec.state == TransferState::Accepted {
                        set(rec, TransferState::OnChain, None);
                    }
                }
                _ => {}
            }
        }
    }
    if rec.state == TransferState::OnChain {
        if let Ok(deps) = to.deposits(&rec.asset, since).await {
            let credited = deps.iter().any(|d| {
                d.txid.is_some() && d.txid == rec.txid && d.status == TransferStatus::Done
            });
            if credited {
                set(rec, TransferState::Credited, None);
            }
        }
    }
    if (rec.state, rec.txid.clone()) != before {
        journal_now(journal, rec).await;
    }
    let overdue = !rec.state.is_final() && arb_core::time::now_ms() > rec.expected_ms;
    if overdue {
        let why = format!(
            "transfer {} of {} {} from {} to {} on {} is past its expected time ({})",
            rec.client_id,
            rec.amount_text(),
            rec.asset,
            rec.from_venue,
            rec.to_venue,
            rec.chain,
            rec.state.as_str()
        );
        arb_telemetry::log_text(
            arb_telemetry::Level::Critical,
            "arb_engine",
            why.clone(),
            [],
        );
        arb_telemetry::metrics::counter("transfers_overdue_total", &[("asset", &rec.asset)]).inc();
        journal.send(JournalRecord::Event {
            t_ms: arb_core::time::now_ms(),
            kind: "transfer_overdue",
            detail: why,
        });
    }
    overdue
}

impl TransferRecord {
    /// The amount as a decimal string.
    pub fn amount_text(&self) -> String {
        arb_core::fixed::format_scaled(self.amount.m, self.amount.scale)
    }
}
