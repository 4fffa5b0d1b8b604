//! The journal's transfers: one row per withdrawal between venues, keyed by its client
//! withdrawal id, written **before** the request is sent (state `requested`) and moved
//! through `accepted`, `on_chain`, `credited` or `failed` as the venues report. A
//! `requested` row after a crash is a withdrawal whose outcome is unknown: recovery asks
//! the venue's history for the id, never sends again.
//!
//! The table is additive (`CREATE TABLE IF NOT EXISTS`): a schema-2 journal gains it at
//! open, and nothing else changes, so the schema version stays.

use std::path::Path;

use rusqlite::{params, Connection};

use super::{Dec, JournalError};

pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS transfers (
    client_id    TEXT   PRIMARY KEY,
    asset        TEXT   NOT NULL,
    from_venue   TEXT   NOT NULL,
    to_venue     TEXT   NOT NULL,
    chain        TEXT   NOT NULL,
    address      TEXT   NOT NULL,
    amount       TEXT   NOT NULL,
    fee          TEXT   NOT NULL,
    state        TEXT   NOT NULL,
    venue_id     TEXT,
    txid         TEXT,
    requested_ms BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL,
    expected_ms  BIGINT NOT NULL,
    detail       TEXT
);
"#;

/// Where a transfer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferState {
    /// Journaled; the withdrawal may or may not have reached the venue.
    Requested,
    /// The source venue accepted it (it has the venue's id).
    Accepted,
    /// Broadcast (it has a txid).
    OnChain,
    /// The destination credited it.
    Credited,
    /// Refused, failed or never sent: nothing left, or the venue returned it.
    Failed,
}

impl TransferState {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferState::Requested => "requested",
            TransferState::Accepted => "accepted",
            TransferState::OnChain => "on_chain",
            TransferState::Credited => "credited",
            TransferState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<TransferState> {
        Some(match s {
            "requested" => TransferState::Requested,
            "accepted" => TransferState::Accepted,
            "on_chain" => TransferState::OnChain,
            "credited" => TransferState::Credited,
            "failed" => TransferState::Failed,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        matches!(self, TransferState::Credited | TransferState::Failed)
    }
}

/// One transfer's row as written (every write replaces the row's changing fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferRecord {
    pub client_id: String,
    pub asset: String,
    pub from_venue: String,
    pub to_venue: String,
    pub chain: String,
    pub address: String,
    /// Debited at the source, fee included.
    pub amount: Dec,
    pub fee: Dec,
    pub state: TransferState,
    pub venue_id: Option<String>,
    pub txid: Option<String>,
    pub requested_ms: i64,
    pub updated_ms: i64,
    /// When it is due (ms): past it, an alert.
    pub expected_ms: i64,
    /// Why it failed, or the latest note.
    pub detail: Option<String>,
}

pub(super) fn write(c: &Connection, t: &TransferRecord) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO transfers (client_id, asset, from_venue, to_venue, chain, address, amount, \
         fee, state, venue_id, txid, requested_ms, updated_ms, expected_ms, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
         ON CONFLICT (client_id) DO UPDATE SET state = excluded.state, \
         venue_id = COALESCE(excluded.venue_id, transfers.venue_id), \
         txid = COALESCE(excluded.txid, transfers.txid), updated_ms = excluded.updated_ms, \
         detail = COALESCE(excluded.detail, transfers.detail)",
    )?
    .execute(params![
        t.client_id,
        t.asset,
        t.from_venue,
        t.to_venue,
        t.chain,
        t.address,
        t.amount.text(),
        t.fee.text(),
        t.state.as_str(),
        t.venue_id,
        t.txid,
        t.requested_ms,
        t.updated_ms,
        t.expected_ms,
        t.detail,
    ])?;
    Ok(())
}

/// A decimal column as written, exact, at scale 18.
fn dec(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Dec> {
    let text: String = r.get(i)?;
    arb_exec::Amount::parse(&text)
        .map(|a| Dec::new(a.mantissa(), 18))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
}

/// Every transfer of the journal at `path`, oldest first (none for a missing file or a
/// journal written before transfers existed).
///
/// # Errors
/// The journal cannot be read.
pub fn read_transfers(path: &Path) -> Result<Vec<TransferRecord>, JournalError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let sq = |source| JournalError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let c = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sq)?;
    let exists: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'transfers'",
            [],
            |r| r.get(0),
        )
        .map_err(sq)?;
    if exists == 0 {
        return Ok(Vec::new());
    }
    let mut q = c
        .prepare(
            "SELECT client_id, asset, from_venue, to_venue, chain, address, amount, fee, state, \
             venue_id, txid, requested_ms, updated_ms, expected_ms, detail FROM transfers \
             ORDER BY requested_ms, client_id",
        )
        .map_err(sq)?;
    let rows = q
        .query_map([], |r| {
            let state: String = r.get(8)?;
            Ok(TransferRecord {
                client_id: r.get(0)?,
                asset: r.get(1)?,
                from_venue: r.get(2)?,
                to_venue: r.get(3)?,
                chain: r.get(4)?,
                address: r.get(5)?,
                amount: dec(r, 6)?,
                fee: dec(r, 7)?,
                // An unknown state is treated as unknown outcome: followed, not resent.
                state: TransferState::parse(&state).unwrap_or(TransferState::Requested),
                venue_id: r.get(9)?,
                txid: r.get(10)?,
                requested_ms: r.get(11)?,
                updated_ms: r.get(12)?,
                expected_ms: r.get(13)?,
                detail: r.get(14)?,
            })
        })
        .map_err(sq)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sq)?;
    Ok(rows)
}
