//! The durable journal: every acted-on opportunity, order, fill and transaction outcome.
//!
//! SQLite in WAL mode is the embedded default. The hot path only sends a
//! [`JournalRecord`] down a channel (no formatting, no I/O); a dedicated writer thread
//! formats decimals and writes batches, one SQL transaction per batch. The writer runs
//! `synchronous=FULL` (the WAL is synced at every commit; the cost is the writer
//! thread's, never the hot path's), so a committed batch survives a power loss too.
//!
//! An order's intent is [staged](Journal::stage) before the order is sent: pushed into a
//! second channel the writer never blocks on, so nobody is woken (no syscall, no lock
//! on the send path); the writer drains it at its next wake-up, at most [`STAGE_POLL`]
//! later, always before the records sent after them.
//!
//! Every journal has a `meta` table written at creation: the schema version, the mode
//! (`sim` / `live`), each venue's REST base URL (`rest.<venue>`), the engine instance
//! (client-id prefix) and, for a simulator session, its name. [`Journal::open`] refuses
//! a journal whose meta does not match the engine opening it, so crash recovery never
//! acts at one venue on what another venue (or the simulator, or another instance) did.
//!
//! The schema uses only portable types (`TEXT` decimals, `BIGINT` times, composite
//! primary keys) and `INSERT ... ON CONFLICT ... DO UPDATE/NOTHING`, which PostgreSQL
//! accepts unchanged. Decimals are stored as exact strings, never floats. Rows name
//! venues by their configuration name (`mexc`, `gateio`), never by column; an older
//! journal is migrated at open (`journal/migrate.rs`; SQLite only, like the writer).

mod migrate;
pub mod transfers;

pub use migrate::SCHEMA_VERSION;
pub use transfers::{read_transfers, TransferRecord, TransferState};

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use arb_core::fixed::format_scaled;
use parking_lot::Mutex;
use rusqlite::{params, Connection};

/// An exact decimal in transit to the journal: `m / 10^scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Dec {
    pub m: i128,
    pub scale: u32,
}

impl Dec {
    pub const fn new(m: i128, scale: u32) -> Self {
        Self { m, scale }
    }
    fn text(self) -> String {
        format_scaled(self.m, self.scale)
    }
}

/// The schema, portable between SQLite and PostgreSQL.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS opportunities (
    id             BIGINT PRIMARY KEY,
    t_ms           BIGINT NOT NULL,
    symbol         TEXT   NOT NULL,
    buy_venue      TEXT   NOT NULL,
    sell_venue     TEXT   NOT NULL,
    qty            TEXT   NOT NULL,
    buy_cost       TEXT   NOT NULL,
    sell_proceeds  TEXT   NOT NULL,
    best_ask       TEXT   NOT NULL,
    best_bid       TEXT   NOT NULL,
    edge_bps       TEXT   NOT NULL,
    book_age_ms    BIGINT NOT NULL,
    balance_age_ms BIGINT,
    decision       TEXT   NOT NULL,
    tx_id          BIGINT
);
CREATE TABLE IF NOT EXISTS transactions (
    tx_id            BIGINT PRIMARY KEY,
    symbol           TEXT   NOT NULL,
    buy_venue        TEXT   NOT NULL,
    sell_venue       TEXT   NOT NULL,
    qty              TEXT   NOT NULL,
    expected_pnl     TEXT   NOT NULL,
    started_ms       BIGINT NOT NULL,
    finished_ms      BIGINT,
    outcome          TEXT,
    bought_qty       TEXT,
    sold_qty         TEXT,
    realized_pnl     TEXT,
    fees_quote       TEXT,
    residual_base    TEXT,
    tick_to_trade_us BIGINT,
    detail           TEXT
);
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT   PRIMARY KEY,
    tx_id           BIGINT NOT NULL,
    leg             TEXT   NOT NULL,
    venue           TEXT   NOT NULL,
    symbol          TEXT   NOT NULL,
    side            TEXT   NOT NULL,
    kind            TEXT   NOT NULL,
    price           TEXT,
    qty             TEXT,
    quote_qty       TEXT,
    venue_order_id  TEXT,
    status          TEXT   NOT NULL,
    filled_qty      TEXT,
    request_us      BIGINT NOT NULL,
    ack_us          BIGINT,
    final_us        BIGINT,
    error_class     TEXT,
    error           TEXT
);
CREATE TABLE IF NOT EXISTS fills (
    venue           TEXT   NOT NULL,
    trade_id        TEXT   NOT NULL,
    client_order_id TEXT   NOT NULL,
    venue_order_id  TEXT   NOT NULL,
    tx_id           BIGINT,
    symbol          TEXT   NOT NULL,
    side            TEXT   NOT NULL,
    price           TEXT   NOT NULL,
    qty             TEXT   NOT NULL,
    quote_qty       TEXT   NOT NULL,
    fee             TEXT   NOT NULL,
    fee_asset       TEXT   NOT NULL,
    is_maker        BIGINT NOT NULL,
    t_ms            BIGINT NOT NULL,
    recv_us         BIGINT NOT NULL,
    PRIMARY KEY (venue, trade_id)
);
CREATE TABLE IF NOT EXISTS spreads (
    t_ms   BIGINT NOT NULL,
    symbol TEXT   NOT NULL,
    venue  TEXT   NOT NULL,
    bid    TEXT,
    ask    TEXT
);
CREATE TABLE IF NOT EXISTS events (
    t_ms   BIGINT NOT NULL,
    kind   TEXT   NOT NULL,
    detail TEXT   NOT NULL
);
CREATE INDEX IF NOT EXISTS fills_by_order ON fills (client_order_id);
CREATE INDEX IF NOT EXISTS orders_by_tx ON orders (tx_id);
"#;

/// One opportunity the engine acted on (taken or refused after pricing).
#[derive(Clone, Debug)]
pub struct OpportunityRecord {
    pub id: u64,
    pub t_ms: i64,
    pub symbol: Arc<str>,
    pub buy_venue: &'static str,
    pub sell_venue: &'static str,
    pub qty: Dec,
    pub buy_cost: Dec,
    pub sell_proceeds: Dec,
    pub best_ask: Dec,
    pub best_bid: Dec,
    /// Edge in parts per 10^8 (written as basis points).
    pub edge: i64,
    pub book_age_ms: i64,
    pub balance_age_ms: Option<i64>,
    pub decision: String,
    pub tx_id: Option<u64>,
}

/// A transaction started.
#[derive(Clone, Debug)]
pub struct TxStart {
    pub tx_id: u64,
    pub symbol: Arc<str>,
    pub buy_venue: &'static str,
    pub sell_venue: &'static str,
    pub qty: Dec,
    pub expected_pnl: Dec,
    pub started_ms: i64,
}

/// A transaction's outcome.
#[derive(Clone, Debug)]
pub struct TxFinish {
    pub tx_id: u64,
    pub finished_ms: i64,
    pub outcome: &'static str,
    pub bought_qty: Dec,
    pub sold_qty: Dec,
    pub realized_pnl: Dec,
    pub fees_quote: Dec,
    pub residual_base: Dec,
    pub tick_to_trade_us: Option<i64>,
    pub detail: String,
}

/// New figures for a transaction that had already finished, from all its fills (a
/// fill the journal missed, adopted by recovery). Its outcome and finish time stay;
/// the note is appended to its detail.
#[derive(Clone, Debug)]
pub struct TxAmend {
    pub tx_id: u64,
    pub bought_qty: Dec,
    pub sold_qty: Dec,
    pub realized_pnl: Dec,
    pub fees_quote: Dec,
    pub residual_base: Dec,
    pub note: String,
}

/// An order's current state (upserted on every change).
#[derive(Clone, Debug)]
pub struct OrderRecord {
    pub client_order_id: String,
    pub tx_id: u64,
    pub leg: &'static str,
    pub venue: &'static str,
    pub symbol: Arc<str>,
    pub side: &'static str,
    pub kind: &'static str,
    pub price: Option<Dec>,
    pub qty: Option<Dec>,
    pub quote_qty: Option<Dec>,
    pub venue_order_id: Option<String>,
    pub status: &'static str,
    pub filled_qty: Option<Dec>,
    pub request_us: i64,
    pub ack_us: Option<i64>,
    pub final_us: Option<i64>,
    pub error_class: Option<&'static str>,
    pub error: Option<String>,
}

/// One fill (inserted once; duplicates by (venue, trade_id) are ignored).
#[derive(Clone, Debug)]
pub struct FillRecord {
    pub venue: &'static str,
    pub trade_id: String,
    pub client_order_id: String,
    pub venue_order_id: String,
    pub tx_id: Option<u64>,
    pub symbol: Arc<str>,
    pub side: &'static str,
    pub price: String,
    pub qty: String,
    pub quote_qty: String,
    pub fee: String,
    pub fee_asset: String,
    pub is_maker: bool,
    pub t_ms: i64,
    pub recv_us: i64,
}

/// The venues' best bid and ask for one symbol at one time: one quote per venue whose
/// book is valid (a venue without one is absent).
#[derive(Clone, Debug)]
pub struct SpreadSample {
    pub t_ms: i64,
    pub symbol: Arc<str>,
    pub quotes: Vec<SpreadQuote>,
}

/// One venue's best bid and ask in a [`SpreadSample`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpreadQuote {
    pub venue: &'static str,
    pub bid: Dec,
    pub ask: Dec,
}

/// What the hot path sends to the writer.
#[derive(Clone, Debug)]
pub enum JournalRecord {
    Opportunity(Box<OpportunityRecord>),
    TxStart(Box<TxStart>),
    TxFinish(Box<TxFinish>),
    TxAmend(Box<TxAmend>),
    Order(Box<OrderRecord>),
    Fill(Box<FillRecord>),
    Event {
        t_ms: i64,
        kind: &'static str,
        detail: String,
    },
    /// A periodic sample of the venues' best prices for one symbol (for the report).
    Spread(Box<SpreadSample>),
    /// A transfer between venues, at each change of its state (`journal/transfers.rs`).
    Transfer(Box<TransferRecord>),
    /// Reply on the channel once everything sent before it is committed.
    Flush(mpsc::SyncSender<()>),
    /// As `Flush`, and the write-ahead log moved into the journal file before the reply.
    Checkpoint(mpsc::SyncSender<()>),
}

/// Errors opening the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("journal {path}: cannot create its directory: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The journal belongs to another mode, venue or instance (or says nothing).
    #[error("journal {path}: {REFUSED}: {why}")]
    Foreign { path: PathBuf, why: String },
    /// A newer engine wrote the journal: this one would not know what its rows mean.
    #[error(
        "journal {path}: {REFUSED}: its schema is version {found}, but this engine knows \
         versions up to {known} (a newer engine wrote it). Run that engine, or point \
         journal.path at another journal"
    )]
    Schema {
        path: PathBuf,
        found: String,
        known: u32,
    },
}

/// The words every "not this engine's journal" error carries (the CLI exits 2 on them).
pub const REFUSED: &str = "refusing to use it for this engine";

/// What a journal belongs to, written into its `meta` table at creation and checked
/// at every later open. No secrets: URLs and names only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalMeta {
    /// `sim` or `live`.
    pub mode: String,
    /// The client-id prefix naming the engine instance.
    pub instance: String,
    /// Each venue's configuration name (`mexc`, `gateio`) and REST base URL.
    pub rest: Vec<(String, String)>,
    /// The simulator session (informative; not compared: the URLs already differ).
    pub session: Option<String>,
}

impl JournalMeta {
    fn rows(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("schema".to_string(), SCHEMA_VERSION.to_string()),
            ("mode".to_string(), self.mode.clone()),
            ("instance".to_string(), self.instance.clone()),
        ];
        v.extend(
            self.rest
                .iter()
                .map(|(venue, url)| (migrate::rest_key(venue), url.clone())),
        );
        if let Some(s) = &self.session {
            v.push(("session".to_string(), s.clone()));
        }
        v
    }

    /// Why a journal with `found` meta is not ours, if it is not.
    fn mismatch(&self, found: &std::collections::HashMap<String, String>) -> Option<String> {
        let norm = |s: &str| s.trim_end_matches('/').to_string();
        let mut want: Vec<(String, Option<String>)> = vec![
            ("mode".into(), Some(self.mode.clone())),
            ("instance".into(), Some(self.instance.clone())),
        ];
        want.extend(
            self.rest
                .iter()
                .map(|(venue, url)| (migrate::rest_key(venue), Some(norm(url)))),
        );
        // A venue the journal has and this engine does not: its transactions there
        // could not be recovered here.
        let mut theirs: Vec<&String> = found
            .keys()
            .filter(|k| k.starts_with(&migrate::rest_key("")))
            .filter(|k| !want.iter().any(|(w, _)| w == *k))
            .collect();
        theirs.sort();
        want.extend(theirs.into_iter().map(|k| (k.clone(), None)));
        let diffs: Vec<String> = want
            .iter()
            .filter_map(|(k, v)| {
                let got = found.get(k).map(|g| norm(g));
                (got != *v).then(|| {
                    format!(
                        "{k} is {} there but {} here",
                        got.as_deref().unwrap_or("missing"),
                        v.as_deref().unwrap_or("missing")
                    )
                })
            })
            .collect();
        (!diffs.is_empty()).then(|| {
            format!(
                "it belongs to another run ({}); recovering from it would act at these venues \
                 on what happened elsewhere. Point journal.path at this engine's own journal \
                 or move this file aside",
                diffs.join(", ")
            )
        })
    }
}

/// How long staged records may wait for the writer when nothing else wakes it.
pub const STAGE_POLL: Duration = Duration::from_millis(20);

/// Handle to the journal writer thread. Dropping it flushes and joins the writer.
pub struct Journal {
    tx: Sender<JournalRecord>,
    /// Staged records: a second channel the writer never waits on, so a send on it has
    /// nobody to wake (no syscall) and takes no lock.
    staged: Sender<JournalRecord>,
    writer: Mutex<Option<JoinHandle<()>>>,
    errors: Arc<std::sync::atomic::AtomicU64>,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` for the engine `meta` describes
    /// and starts the writer thread. A new journal gets `meta`; an existing one must
    /// carry the same mode, instance and venue URLs. One without meta (written by an
    /// older version) is refused in live mode and adopted in simulator mode. Once it is
    /// found to be ours, an older schema is migrated (`journal/migrate.rs`); a newer one is
    /// refused before anything is compared or written.
    ///
    /// # Errors
    /// The database cannot be created or its schema applied, or it is another run's.
    pub fn open(path: impl AsRef<Path>, meta: &JournalMeta) -> Result<Self, JournalError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| JournalError::Dir {
                path: path.clone(),
                source,
            })?;
        }
        let sq = |source| JournalError::Sqlite {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(sq)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;",
        )
        .map_err(sq)?;
        match migrate::version(&conn).map_err(sq)? {
            Some(Ok(v)) if v <= SCHEMA_VERSION => {}
            None => {}
            Some(found) => {
                return Err(JournalError::Schema {
                    path: path.clone(),
                    found: found.map_or_else(|text| format!("{text:?}"), |v| v.to_string()),
                    known: SCHEMA_VERSION,
                })
            }
        }
        // Compared before anything is rewritten: another run's journal stays untouched.
        check_meta(&conn, &path, meta)?;
        migrate::to_current(&mut conn, SCHEMA).map_err(sq)?;
        conn.execute_batch(SCHEMA).map_err(sq)?;
        conn.execute_batch(transfers::SCHEMA).map_err(sq)?;
        for (k, v) in meta.rows() {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![k, v],
            )
            .map_err(sq)?;
        }
        let (tx, rx) = mpsc::channel();
        let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let errs = errors.clone();
        let (staged, staged_rx) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("arbhybrid-journal".into())
            .spawn(move || write_loop(conn, rx, staged_rx, errs))
            .map_err(|source| JournalError::Dir {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            tx,
            staged,
            writer: Mutex::new(Some(writer)),
            errors,
        })
    }

    /// Queues a record without waking the writer: no syscall, for the send path. The
    /// writer takes it within [`STAGE_POLL`], before anything sent after it.
    pub fn stage(&self, rec: JournalRecord) {
        if self.staged.send(rec).is_err() {
            self.errors
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Queues a record; never blocks and never fails on the hot path (a closed journal
    /// drops the record and counts it as an error).
    pub fn send(&self, rec: JournalRecord) {
        if self.tx.send(rec).is_err() {
            self.errors
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Records written unsuccessfully (SQL errors or sends after close).
    pub fn errors(&self) -> u64 {
        self.errors.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits until everything queued so far is committed.
    pub fn flush(&self) {
        let (ack, done) = mpsc::sync_channel(1);
        if self.tx.send(JournalRecord::Flush(ack)).is_ok() {
            let _ = done.recv();
        }
    }

    /// Waits until everything queued so far is committed, then moves the write-ahead log
    /// into the journal file, so the file alone (copied, mailed) holds the whole run.
    pub fn checkpoint(&self) {
        let (ack, done) = mpsc::sync_channel(1);
        if self.tx.send(JournalRecord::Checkpoint(ack)).is_ok() {
            let _ = done.recv();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.flush();
        // Replace our sender so the writer sees a closed channel and exits.
        let (dead, _) = mpsc::channel();
        self.tx = dead;
        if let Some(h) = self.writer.lock().take() {
            let _ = h.join();
        }
    }
}

/// Refuses a journal that is not this engine's (see [`Journal::open`]).
fn check_meta(conn: &Connection, path: &Path, meta: &JournalMeta) -> Result<(), JournalError> {
    let sq = |source| JournalError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let has = |table: &str| -> Result<bool, JournalError> {
        conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(sq)
    };
    if !has("transactions")? {
        return Ok(()); // a new journal: meta is written now
    }
    if !has("meta")? {
        if meta.mode == "sim" {
            return Ok(());
        }
        return Err(JournalError::Foreign {
            path: path.to_path_buf(),
            why: "it has no meta table (an older version wrote it), so nothing says it is \
                  this account's live journal rather than a simulator session's. If it is \
                  a simulator journal, leave it; if it is this instance's live journal, \
                  finish with it by hand (its unfinished transactions: SELECT * FROM \
                  transactions WHERE outcome IS NULL) and move it aside: the next live run \
                  starts a new journal there"
                .into(),
        });
    }
    let mut q = conn.prepare("SELECT key, value FROM meta").map_err(sq)?;
    let mut found: std::collections::HashMap<String, String> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sq)?
        .collect::<Result<_, _>>()
        .map_err(sq)?;
    migrate::upgrade_meta_keys(&mut found);
    match meta.mismatch(&found) {
        Some(why) => Err(JournalError::Foreign {
            path: path.to_path_buf(),
            why,
        }),
        None => Ok(()),
    }
}

fn write_loop(
    mut conn: Connection,
    rx: Receiver<JournalRecord>,
    staged: Receiver<JournalRecord>,
    errors: Arc<std::sync::atomic::AtomicU64>,
) {
    let mut batch = Vec::with_capacity(256);
    let mut closed = false;
    while !closed {
        let first = match rx.recv_timeout(STAGE_POLL) {
            Ok(r) => Some(r),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                closed = true;
                None
            }
        };
        // Staged records first: each was staged before anything sent about its order.
        batch.extend(staged.try_iter());
        if let Some(first) = first {
            batch.push(first);
            while batch.len() < 1024 {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
        }
        if batch.is_empty() {
            continue;
        }
        let mut flushes = Vec::new();
        let mut checkpoint = false;
        let result = (|| -> rusqlite::Result<()> {
            let txn = conn.transaction()?;
            for rec in batch.drain(..) {
                match rec {
                    JournalRecord::Flush(ack) => {
                        flushes.push(ack);
                        continue;
                    }
                    JournalRecord::Checkpoint(ack) => {
                        checkpoint = true;
                        flushes.push(ack);
                        continue;
                    }
                    _ => {}
                }
                if let Err(e) = write_one(&txn, &rec) {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    eprintln!("arbhybrid journal: failed to write {}: {e}", rec_kind(&rec));
                }
            }
            txn.commit()
        })();
        if let Err(e) = result {
            errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            eprintln!("arbhybrid journal: batch commit failed: {e}");
        }
        batch.clear();
        if checkpoint {
            checkpoint_wal(&conn, &errors);
        }
        for ack in flushes {
            let _ = ack.send(());
        }
    }
    // SQLite checkpoints by itself only when the last connection closes; a reader still
    // open (a status request, a report) would leave the run in the `-wal` file.
    checkpoint_wal(&conn, &errors);
}

/// Moves the write-ahead log into the journal file and empties it (`TRUNCATE`), so the
/// file alone holds everything committed.
fn checkpoint_wal(conn: &Connection, errors: &std::sync::atomic::AtomicU64) {
    // One row: (busy, log pages, checkpointed pages); busy = 1 when a reader kept it
    // from finishing.
    let res = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    });
    match res {
        Ok(0) => {}
        Ok(_) => eprintln!("arbhybrid journal: checkpoint incomplete (a reader was busy)"),
        Err(e) => {
            errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            eprintln!("arbhybrid journal: checkpoint failed: {e}");
        }
    }
}

/// A transaction the journal saw start but not finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnfinishedTx {
    pub tx_id: u64,
    pub symbol: String,
    pub buy_venue: String,
    pub sell_venue: String,
    pub started_ms: i64,
}

/// What crash recovery needs from the journal.
#[derive(Clone, Debug, Default)]
pub struct JournalState {
    pub unfinished: Vec<UnfinishedTx>,
    /// Every (venue, trade id) already journaled.
    pub fills: std::collections::HashSet<(String, String)>,
    /// Start of the newest transaction, if any.
    pub last_started_ms: Option<i64>,
    /// Orders whose last journaled state is not final (their intent is journaled before
    /// the send, so a crash can leave them `pending_new` whatever became of them).
    pub in_flight: Vec<InFlightOrder>,
}

/// An order the journal last saw in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlightOrder {
    pub client_order_id: String,
    pub tx_id: u64,
    pub venue: String,
    pub symbol: String,
    /// When it was requested (ms, from the journaled intent), if the row says.
    pub request_ms: Option<i64>,
}

/// The order statuses that are not final (`arb_exec::lifecycle::OrderStatus`).
const IN_FLIGHT: &str = "('pending_new', 'unknown', 'open', 'partially_filled')";

/// One transaction as the journal holds it (for recovery: its fills, the client ids
/// of its orders, and its figures if it finished).
#[derive(Clone, Debug, Default)]
pub struct JournaledTx {
    /// `None`: unfinished (or never journaled).
    pub outcome: Option<String>,
    pub bought_qty: Option<String>,
    pub sold_qty: Option<String>,
    pub realized_pnl: Option<String>,
    pub fees_quote: Option<String>,
    pub residual_base: Option<String>,
    pub fills: Vec<JournaledFill>,
    /// Client ids of its orders and fills.
    pub client_ids: Vec<String>,
}

/// A fill as the journal holds it (exact decimal strings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournaledFill {
    pub client_order_id: String,
    pub venue: String,
    pub trade_id: String,
    pub side: String,
    pub price: String,
    pub qty: String,
    pub quote_qty: String,
    pub fee: String,
    pub fee_asset: String,
}

/// Reads the journal's state (a separate read-only connection: WAL allows it while the
/// writer runs). A journal that does not exist yet is empty.
///
/// # Errors
/// The file exists but cannot be read as a journal.
pub fn read_state(path: &Path) -> Result<JournalState, JournalError> {
    if !path.exists() {
        return Ok(JournalState::default());
    }
    let sq = |source| JournalError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let c = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sq)?;
    let mut st = JournalState::default();
    let mut q = c
        .prepare("SELECT tx_id, symbol, buy_venue, sell_venue, started_ms FROM transactions WHERE outcome IS NULL")
        .map_err(sq)?;
    st.unfinished = q
        .query_map([], |r| {
            Ok(UnfinishedTx {
                tx_id: r.get::<_, i64>(0)? as u64,
                symbol: r.get(1)?,
                buy_venue: r.get(2)?,
                sell_venue: r.get(3)?,
                started_ms: r.get(4)?,
            })
        })
        .map_err(sq)?
        .collect::<Result<_, _>>()
        .map_err(sq)?;
    let mut q = c.prepare("SELECT venue, trade_id FROM fills").map_err(sq)?;
    st.fills = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sq)?
        .collect::<Result<_, _>>()
        .map_err(sq)?;
    st.last_started_ms = c
        .query_row("SELECT MAX(started_ms) FROM transactions", [], |r| r.get(0))
        .map_err(sq)?;
    let mut q = c
        .prepare(&format!(
            "SELECT client_order_id, tx_id, venue, symbol, request_us FROM orders \
             WHERE status IN {IN_FLIGHT}"
        ))
        .map_err(sq)?;
    st.in_flight = q
        .query_map([], |r| {
            Ok(InFlightOrder {
                client_order_id: r.get(0)?,
                tx_id: r.get::<_, i64>(1)? as u64,
                venue: r.get(2)?,
                symbol: r.get(3)?,
                request_ms: r
                    .get::<_, Option<i64>>(4)?
                    .filter(|us| *us > 0)
                    .map(|us| us / 1000),
            })
        })
        .map_err(sq)?
        .collect::<Result<_, _>>()
        .map_err(sq)?;
    Ok(st)
}

/// Everything the journal has about transaction `tx_id` (empty when it has nothing).
///
/// # Errors
/// The file exists but cannot be read as a journal.
pub fn read_tx(path: &Path, tx_id: u64) -> Result<JournaledTx, JournalError> {
    let mut t = JournaledTx::default();
    if !path.exists() {
        return Ok(t);
    }
    let sq = |source| JournalError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let c = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sq)?;
    let id = tx_id as i64;
    let row = c.query_row(
        "SELECT outcome, bought_qty, sold_qty, realized_pnl, fees_quote, residual_base \
         FROM transactions WHERE tx_id = ?1",
        [id],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        },
    );
    match row {
        Ok(r) => {
            (
                t.outcome,
                t.bought_qty,
                t.sold_qty,
                t.realized_pnl,
                t.fees_quote,
                t.residual_base,
            ) = r;
        }
        Err(rusqlite::Error::QueryReturnedNoRows) => {}
        Err(e) => return Err(sq(e)),
    }
    let mut q = c
        .prepare(
            "SELECT client_order_id, venue, trade_id, side, price, qty, quote_qty, fee, fee_asset \
             FROM fills WHERE tx_id = ?1",
        )
        .map_err(sq)?;
    t.fills = q
        .query_map([id], |r| {
            Ok(JournaledFill {
                client_order_id: r.get(0)?,
                venue: r.get(1)?,
                trade_id: r.get(2)?,
                side: r.get(3)?,
                price: r.get(4)?,
                qty: r.get(5)?,
                quote_qty: r.get(6)?,
                fee: r.get(7)?,
                fee_asset: r.get(8)?,
            })
        })
        .map_err(sq)?
        .collect::<Result<_, _>>()
        .map_err(sq)?;
    let mut q = c
        .prepare("SELECT client_order_id FROM orders WHERE tx_id = ?1")
        .map_err(sq)?;
    t.client_ids = q
        .query_map([id], |r| r.get(0))
        .map_err(sq)?
        .collect::<Result<_, _>>()
        .map_err(sq)?;
    t.client_ids
        .extend(t.fills.iter().map(|f| f.client_order_id.clone()));
    Ok(t)
}

fn rec_kind(r: &JournalRecord) -> &'static str {
    match r {
        JournalRecord::Opportunity(_) => "opportunity",
        JournalRecord::TxStart(_) => "transaction start",
        JournalRecord::TxFinish(_) => "transaction outcome",
        JournalRecord::TxAmend(_) => "transaction amendment",
        JournalRecord::Order(_) => "order",
        JournalRecord::Fill(_) => "fill",
        JournalRecord::Event { .. } => "event",
        JournalRecord::Spread(_) => "spread sample",
        JournalRecord::Transfer(_) => "transfer",
        JournalRecord::Flush(_) => "flush",
        JournalRecord::Checkpoint(_) => "checkpoint",
    }
}

fn opt(d: Option<Dec>) -> Option<String> {
    d.map(Dec::text)
}

fn write_one(c: &Connection, rec: &JournalRecord) -> rusqlite::Result<()> {
    match rec {
        JournalRecord::Transfer(t) => transfers::write(c, t)?,
        JournalRecord::Opportunity(o) => {
            c.prepare_cached(
                "INSERT INTO opportunities (id, t_ms, symbol, buy_venue, sell_venue, qty, buy_cost, \
                 sell_proceeds, best_ask, best_bid, edge_bps, book_age_ms, balance_age_ms, decision, tx_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
                 ON CONFLICT (id) DO UPDATE SET decision = excluded.decision, tx_id = excluded.tx_id, \
                 balance_age_ms = excluded.balance_age_ms",
            )?
            .execute(params![
                o.id as i64,
                o.t_ms,
                &*o.symbol,
                o.buy_venue,
                o.sell_venue,
                o.qty.text(),
                o.buy_cost.text(),
                o.sell_proceeds.text(),
                o.best_ask.text(),
                o.best_bid.text(),
                format_scaled(o.edge as i128, 4),
                o.book_age_ms,
                o.balance_age_ms,
                o.decision,
                o.tx_id.map(|t| t as i64),
            ])?;
        }
        JournalRecord::TxStart(t) => {
            c.prepare_cached(
                "INSERT INTO transactions (tx_id, symbol, buy_venue, sell_venue, qty, expected_pnl, started_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (tx_id) DO NOTHING",
            )?
            .execute(params![
                t.tx_id as i64,
                &*t.symbol,
                t.buy_venue,
                t.sell_venue,
                t.qty.text(),
                t.expected_pnl.text(),
                t.started_ms
            ])?;
        }
        JournalRecord::TxFinish(t) => {
            c.prepare_cached(
                "UPDATE transactions SET finished_ms = ?2, outcome = ?3, bought_qty = ?4, sold_qty = ?5, \
                 realized_pnl = ?6, fees_quote = ?7, residual_base = ?8, tick_to_trade_us = ?9, detail = ?10 \
                 WHERE tx_id = ?1 AND outcome IS NULL",
            )?
            .execute(params![
                t.tx_id as i64,
                t.finished_ms,
                t.outcome,
                t.bought_qty.text(),
                t.sold_qty.text(),
                t.realized_pnl.text(),
                t.fees_quote.text(),
                t.residual_base.text(),
                t.tick_to_trade_us,
                t.detail
            ])?;
        }
        JournalRecord::TxAmend(t) => {
            // Only a finished transaction is amended (an unfinished one gets TxFinish).
            c.prepare_cached(
                "UPDATE transactions SET bought_qty = ?2, sold_qty = ?3, realized_pnl = ?4, \
                 fees_quote = ?5, residual_base = ?6, detail = COALESCE(detail || '; ', '') || ?7 \
                 WHERE tx_id = ?1 AND outcome IS NOT NULL",
            )?
            .execute(params![
                t.tx_id as i64,
                t.bought_qty.text(),
                t.sold_qty.text(),
                t.realized_pnl.text(),
                t.fees_quote.text(),
                t.residual_base.text(),
                t.note
            ])?;
        }
        JournalRecord::Order(o) => {
            c.prepare_cached(
                "INSERT INTO orders (client_order_id, tx_id, leg, venue, symbol, side, kind, price, qty, \
                 quote_qty, venue_order_id, status, filled_qty, request_us, ack_us, final_us, error_class, error) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
                 ON CONFLICT (client_order_id) DO UPDATE SET \
                 venue_order_id = COALESCE(excluded.venue_order_id, orders.venue_order_id), \
                 status = excluded.status, \
                 filled_qty = COALESCE(excluded.filled_qty, orders.filled_qty), \
                 ack_us = COALESCE(orders.ack_us, excluded.ack_us), \
                 final_us = COALESCE(excluded.final_us, orders.final_us), \
                 error_class = COALESCE(excluded.error_class, orders.error_class), \
                 error = COALESCE(excluded.error, orders.error)",
            )?
            .execute(params![
                o.client_order_id,
                o.tx_id as i64,
                o.leg,
                o.venue,
                &*o.symbol,
                o.side,
                o.kind,
                opt(o.price),
                opt(o.qty),
                opt(o.quote_qty),
                o.venue_order_id,
                o.status,
                opt(o.filled_qty),
                o.request_us,
                o.ack_us,
                o.final_us,
                o.error_class,
                o.error
            ])?;
        }
        JournalRecord::Fill(f) => {
            c.prepare_cached(
                "INSERT INTO fills (venue, trade_id, client_order_id, venue_order_id, tx_id, symbol, side, \
                 price, qty, quote_qty, fee, fee_asset, is_maker, t_ms, recv_us) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
                 ON CONFLICT (venue, trade_id) DO NOTHING",
            )?
            .execute(params![
                f.venue,
                f.trade_id,
                f.client_order_id,
                f.venue_order_id,
                f.tx_id.map(|t| t as i64),
                &*f.symbol,
                f.side,
                f.price,
                f.qty,
                f.quote_qty,
                f.fee,
                f.fee_asset,
                f.is_maker as i64,
                f.t_ms,
                f.recv_us
            ])?;
        }
        JournalRecord::Event { t_ms, kind, detail } => {
            c.prepare_cached("INSERT INTO events (t_ms, kind, detail) VALUES (?1, ?2, ?3)")?
                .execute(params![t_ms, kind, detail])?;
        }
        JournalRecord::Spread(sp) => {
            let mut q = c.prepare_cached(
                "INSERT INTO spreads (t_ms, symbol, venue, bid, ask) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for quote in &sp.quotes {
                q.execute(params![
                    sp.t_ms,
                    &*sp.symbol,
                    quote.venue,
                    quote.bid.text(),
                    quote.ask.text()
                ])?;
            }
        }
        JournalRecord::Flush(_) | JournalRecord::Checkpoint(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(id: &str) -> JournalRecord {
        JournalRecord::Fill(Box::new(FillRecord {
            venue: "mexc",
            trade_id: id.into(),
            client_order_id: "arb1-b".into(),
            venue_order_id: "42".into(),
            tx_id: Some(1),
            symbol: "BTC/USDT".into(),
            side: "buy",
            price: "100.5".into(),
            qty: "0.25".into(),
            quote_qty: "25.125".into(),
            fee: "0.0125".into(),
            fee_asset: "USDT".into(),
            is_maker: false,
            t_ms: 1,
            recv_us: 2,
        }))
    }

    fn order(status: &'static str, venue_id: Option<&str>, filled: Option<Dec>) -> JournalRecord {
        JournalRecord::Order(Box::new(OrderRecord {
            client_order_id: "arb1-b".into(),
            tx_id: 1,
            leg: "buy",
            venue: "mexc",
            symbol: "BTC/USDT".into(),
            side: "buy",
            kind: "market",
            price: None,
            qty: Some(Dec::new(25, 2)),
            quote_qty: None,
            venue_order_id: venue_id.map(String::from),
            status,
            filled_qty: filled,
            request_us: 10,
            ack_us: venue_id.map(|_| 20),
            final_us: None,
            error_class: None,
            error: None,
        }))
    }

    pub(super) fn meta(mode: &str) -> JournalMeta {
        JournalMeta {
            mode: mode.into(),
            instance: "arb".into(),
            rest: vec![
                ("mexc".into(), "http://127.0.0.1:1".into()),
                ("gateio".into(), "http://127.0.0.1:2/api/v4".into()),
            ],
            session: None,
        }
    }

    pub(super) fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("arb-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("j.sqlite")
    }

    #[test]
    fn meta_is_written_at_creation_and_checked_at_every_open() {
        let path = temp("meta");
        drop(Journal::open(&path, &meta("live")).unwrap());
        let c = Connection::open(&path).unwrap();
        let mode: String = c
            .query_row("SELECT value FROM meta WHERE key = 'mode'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(mode, "live");
        drop(c);
        // The same engine again (a trailing slash is the same URL): accepted.
        let mut again = meta("live");
        again.rest[1].1.push('/');
        drop(Journal::open(&path, &again).unwrap());
        // Another mode, instance or venue: refused, naming the difference.
        let other = |f: &dyn Fn(&mut JournalMeta)| {
            let mut m = meta("live");
            f(&mut m);
            Journal::open(&path, &m).err().expect("refused").to_string()
        };
        let e = other(&|m| m.mode = "sim".into());
        assert!(
            e.contains(REFUSED) && e.contains("mode is live there but sim here"),
            "{e}"
        );
        let e = other(&|m| m.instance = "arb2".into());
        assert!(e.contains("instance is arb there but arb2 here"), "{e}");
        let e = other(&|m| m.rest[0].1 = "https://api.mexc.com".into());
        assert!(
            e.contains("rest.mexc is http://127.0.0.1:1 there but https://api.mexc.com here"),
            "{e}"
        );
        // A venue more or fewer than the journal's: refused too.
        let e = other(&|m| m.rest.push(("kraken".into(), "http://127.0.0.1:3".into())));
        assert!(e.contains("rest.kraken is missing there"), "{e}");
        let e = other(&|m| {
            m.rest.pop();
        });
        assert!(
            e.contains("rest.gateio is http://127.0.0.1:2/api/v4 there but missing here"),
            "{e}"
        );
        // A journal without meta (older version): refused live, adopted by a simulator run.
        Connection::open(&path)
            .unwrap()
            .execute_batch("DROP TABLE meta")
            .unwrap();
        let e = Journal::open(&path, &meta("live"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("no meta table"), "{e}");
        drop(Journal::open(&path, &meta("sim")).unwrap());
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    /// `sql` (one integer) on a copy of the journal file alone: no `-wal`, no `-shm`.
    fn in_file_alone(path: &Path, sql: &str) -> rusqlite::Result<i64> {
        let copy = path.with_extension("copy");
        std::fs::copy(path, &copy).unwrap();
        let n = Connection::open(&copy)?.query_row(sql, [], |r| r.get(0));
        std::fs::remove_file(&copy).unwrap();
        n
    }

    #[test]
    fn the_file_alone_holds_everything_after_a_checkpoint_and_after_close() {
        let path = temp("checkpoint");
        let j = Journal::open(&path, &meta("sim")).unwrap();
        // A reader still open (a status request, a report) keeps SQLite from
        // checkpointing by itself when the writer's connection closes.
        let reader =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        j.send(order("filled", Some("42"), Some(Dec::new(25, 2))));
        j.checkpoint(); // as the engine's shutdown does; the journal stays open after it
        let orders = in_file_alone(&path, "SELECT COUNT(*) FROM orders");
        assert_eq!(orders.as_ref().ok(), Some(&1), "{orders:?}");
        j.send(fill("t1"));
        drop(j);
        let fills = in_file_alone(&path, "SELECT COUNT(*) FROM fills");
        assert_eq!(fills.as_ref().ok(), Some(&1), "{fills:?}");
        drop(reader);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn staged_records_are_written_without_a_send_and_before_later_ones() {
        let path = temp("stage");
        let j = Journal::open(&path, &meta("sim")).unwrap();
        j.stage(order("pending_new", None, None));
        // Nothing sent: the writer finds the staged record by itself.
        let c = Connection::open(&path).unwrap();
        let count = || -> i64 {
            c.query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0))
                .unwrap()
        };
        while count() == 0 {
            std::thread::sleep(STAGE_POLL);
        }
        // Staged then sent: the later upsert wins.
        j.stage(order("pending_new", None, None));
        j.send(order("filled", Some("42"), Some(Dec::new(25, 2))));
        j.flush();
        let status: String = c
            .query_row("SELECT status FROM orders", [], |r| r.get(0))
            .unwrap();
        assert_eq!(status, "filled");
        drop(j);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn writes_dedupes_and_upserts_durably() {
        let dir = std::env::temp_dir().join(format!("arb-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("j.sqlite");
        {
            let j = Journal::open(&path, &meta("sim")).unwrap();
            j.send(order("pending_new", None, None));
            j.send(order("filled", Some("42"), Some(Dec::new(25, 2))));
            j.send(fill("t1"));
            j.send(fill("t1")); // duplicate: ignored
            j.send(fill("t2"));
            j.flush();
            assert_eq!(j.errors(), 0);
        }
        let c = Connection::open(&path).unwrap();
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM fills", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        let (status, vid, filled, ack): (String, String, String, i64) = c
            .query_row(
                "SELECT status, venue_order_id, filled_qty, ack_us FROM orders WHERE client_order_id = 'arb1-b'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            (status.as_str(), vid.as_str(), filled.as_str(), ack),
            ("filled", "42", "0.25", 20)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unwritable_path_is_a_clear_error() {
        let err = Journal::open("/proc/definitely/not/here.sqlite", &meta("live"))
            .err()
            .unwrap();
        assert!(err
            .to_string()
            .starts_with("journal /proc/definitely/not/here.sqlite"));
    }
}
