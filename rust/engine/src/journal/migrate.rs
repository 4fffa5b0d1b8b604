//! The journal's schema version and the migration of older journals to it.
//!
//! Schema 1 named the two venues in its layout: `spreads` had the columns `mexc_bid,
//! mexc_ask, gate_bid, gate_ask` and `meta` the keys `mexc_rest` / `gateio_rest`. A
//! journal without a `schema` key (or without `meta` at all) is schema 1 too: the
//! oldest ones. Schema 2 is venue-generic: one `spreads` row per venue per sample and
//! `rest.<venue>` meta keys. An older journal is migrated at open in one transaction
//! (all or nothing), losing nothing; a newer one is refused, never written.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

/// The schema this engine writes.
pub const SCHEMA_VERSION: u32 = 2;

/// Schema 1's venue-named meta keys and their schema-2 names (the fixture of what
/// exists on users' disks: it never grows).
const V1_META_KEYS: [(&str, &str); 2] =
    [("mexc_rest", "rest.mexc"), ("gateio_rest", "rest.gateio")];

/// Schema 1's spreads columns: (venue name, bid column, ask column).
const V1_SPREAD_COLUMNS: [(&str, &str, &str); 2] = [
    ("mexc", "mexc_bid", "mexc_ask"),
    ("gateio", "gate_bid", "gate_ask"),
];

/// The meta key holding a venue's REST base URL.
pub fn rest_key(venue: &str) -> String {
    format!("rest.{venue}")
}

fn has_table(c: &Connection, table: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

fn has_column(c: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut q = c.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = q
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names.iter().any(|n| n == column))
}

/// The version an existing journal says it has: `None` for a new (empty) database,
/// `Some(Err(text))` for a `schema` value that is not a version number.
pub fn version(c: &Connection) -> rusqlite::Result<Option<Result<u32, String>>> {
    if !has_table(c, "transactions")? {
        return Ok(None);
    }
    if !has_table(c, "meta")? {
        return Ok(Some(Ok(1)));
    }
    let v: Option<String> = c
        .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(Some(match v {
        None => Ok(1),
        Some(s) => s.trim().parse::<u32>().map_err(|_| s),
    }))
}

/// Schema 1's meta as schema 2 names it, so an old journal is compared with this
/// engine before anything in it is rewritten.
pub fn upgrade_meta_keys(found: &mut HashMap<String, String>) {
    for (old, new) in V1_META_KEYS {
        if !found.contains_key(new) {
            if let Some(v) = found.remove(old) {
                found.insert(new.to_string(), v);
            }
        }
    }
}

/// Migrates a journal older than [`SCHEMA_VERSION`] in one transaction; a current one
/// is left as it is (so running it again changes nothing). `schema` is the current
/// DDL (every table `IF NOT EXISTS`).
pub fn to_current(c: &mut Connection, schema: &str) -> rusqlite::Result<()> {
    match version(c)? {
        Some(Ok(v)) if v < SCHEMA_VERSION => {}
        _ => return Ok(()),
    }
    let txn = c.transaction()?;
    let old_spreads = has_table(&txn, "spreads")? && has_column(&txn, "spreads", "mexc_bid")?;
    if old_spreads {
        txn.execute_batch("ALTER TABLE spreads RENAME TO spreads_v1")?;
    }
    txn.execute_batch(schema)?; // the new spreads (and meta, for the oldest journals)
    if old_spreads {
        // One row per venue that had a quote, in the old rows' order; a venue with
        // neither side is dropped for that row only.
        let per_venue: Vec<String> = V1_SPREAD_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, (venue, bid, ask))| {
                format!(
                    "SELECT rowid AS r, {i} AS o, t_ms, symbol, '{venue}' AS venue, \
                     {bid} AS bid, {ask} AS ask FROM spreads_v1 \
                     WHERE {bid} IS NOT NULL OR {ask} IS NOT NULL"
                )
            })
            .collect();
        txn.execute_batch(&format!(
            "INSERT INTO spreads (t_ms, symbol, venue, bid, ask) \
             SELECT t_ms, symbol, venue, bid, ask FROM ({}) ORDER BY r, o; \
             DROP TABLE spreads_v1;",
            per_venue.join(" UNION ALL ")
        ))?;
    }
    for (old, new) in V1_META_KEYS {
        txn.execute("UPDATE meta SET key = ?2 WHERE key = ?1", [old, new])?;
    }
    txn.execute(
        "INSERT INTO meta (key, value) VALUES ('schema', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [SCHEMA_VERSION.to_string()],
    )?;
    txn.commit()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use rusqlite::Connection;

    use super::SCHEMA_VERSION;
    use crate::journal::tests::{meta, temp};
    use crate::journal::{Dec, Journal, JournalError, JournalRecord, SpreadQuote, SpreadSample};

    /// Schema 1 as the engine wrote it (the fixture of what exists on users' disks,
    /// shared with the Python readers' tests).
    const V1_DDL: &str = include_str!("../../../../tests/fixtures/journal_schema_1.sql");

    /// Every old row but the spreads: the migration must leave these as they are.
    const V1_ROWS: &str = "
        INSERT INTO meta VALUES ('schema', '1'), ('mode', 'sim'), ('instance', 'arb'),
            ('mexc_rest', 'http://127.0.0.1:1'), ('gateio_rest', 'http://127.0.0.1:2/api/v4');
        INSERT INTO opportunities VALUES (1, 10, 'BTC/USDT', 'mexc', 'gateio', '0.5', '50',
            '51', '100', '102', '12.5', 3, NULL, 'taken', 7);
        INSERT INTO transactions VALUES (7, 'BTC/USDT', 'mexc', 'gateio', '0.5', '1', 10, 20,
            'success', '0.5', '0.5', '0.9', '0.1', '0', 150, NULL);
        INSERT INTO orders VALUES ('arb7-b', 7, 'buy', 'mexc', 'BTC/USDT', 'buy', 'market',
            NULL, '0.5', NULL, '42', 'filled', '0.5', 1, 2, 3, NULL, NULL);
        INSERT INTO fills VALUES ('mexc', 't1', 'arb7-b', '42', 7, 'BTC/USDT', 'buy', '100',
            '0.5', '50', '0.05', 'USDT', 0, 11, 12);
        INSERT INTO events VALUES (30, 'recovery', 'nothing to do');
    ";

    /// Old spreads rows: both venues, one venue, one side of one venue, neither.
    const V1_SPREADS: &str = "
        INSERT INTO spreads VALUES (100, 'BTC/USDT', '100.1', '100.2', '100.3', '100.4');
        INSERT INTO spreads VALUES (100, 'ETH/USDT', NULL, NULL, '2000.5', '2000.6');
        INSERT INTO spreads VALUES (200, 'BTC/USDT', '100.5', NULL, NULL, NULL);
        INSERT INTO spreads VALUES (300, 'BTC/USDT', NULL, NULL, NULL, NULL);
        INSERT INTO spreads VALUES (400, 'BTC/USDT', '101', '101.1', NULL, NULL);
    ";

    /// A schema-1 journal holding `rows`.
    fn v1_journal(name: &str, rows: &[&str]) -> PathBuf {
        let path = temp(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let c = Connection::open(&path).unwrap();
        c.execute_batch(V1_DDL).unwrap();
        for sql in rows {
            c.execute_batch(sql).unwrap();
        }
        path
    }

    type SpreadRow = (i64, String, String, Option<String>, Option<String>);

    fn spreads(c: &Connection) -> Vec<SpreadRow> {
        let mut q = c
            .prepare("SELECT t_ms, symbol, venue, bid, ask FROM spreads ORDER BY rowid")
            .unwrap();
        q.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    fn row(t: i64, sym: &str, venue: &str, bid: Option<&str>, ask: Option<&str>) -> SpreadRow {
        (
            t,
            sym.into(),
            venue.into(),
            bid.map(Into::into),
            ask.map(Into::into),
        )
    }

    /// Every table but spreads, as text, for comparing before and after.
    fn dump(c: &Connection) -> Vec<String> {
        let mut out = Vec::new();
        for table in ["opportunities", "transactions", "orders", "fills", "events"] {
            let mut q = c
                .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
                .unwrap();
            let n = q.column_count();
            let rows = q
                .query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            r.get::<_, rusqlite::types::Value>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap();
            for r in rows {
                out.push(format!("{table}: {}", r.unwrap().join(", ")));
            }
        }
        out
    }

    fn meta_rows(c: &Connection) -> Vec<(String, String)> {
        let mut q = c
            .prepare("SELECT key, value FROM meta ORDER BY key")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn migrated_spreads() -> Vec<SpreadRow> {
        vec![
            row(100, "BTC/USDT", "mexc", Some("100.1"), Some("100.2")),
            row(100, "BTC/USDT", "gateio", Some("100.3"), Some("100.4")),
            row(100, "ETH/USDT", "gateio", Some("2000.5"), Some("2000.6")),
            row(200, "BTC/USDT", "mexc", Some("100.5"), None),
            row(400, "BTC/USDT", "mexc", Some("101"), Some("101.1")),
        ]
    }

    #[test]
    fn a_schema_1_journal_is_migrated_at_open_losing_nothing() {
        let path = v1_journal("migrate-v1", &[V1_ROWS, V1_SPREADS]);
        let before = dump(&Connection::open(&path).unwrap());

        let j = Journal::open(&path, &meta("sim")).unwrap();
        // The migrated journal takes new samples in the new shape.
        j.send(JournalRecord::Spread(Box::new(SpreadSample {
            t_ms: 500,
            symbol: "BTC/USDT".into(),
            quotes: vec![SpreadQuote {
                venue: "gateio",
                bid: Dec::new(1015, 1),
                ask: Dec::new(1016, 1),
            }],
        })));
        j.flush();
        drop(j);

        let c = Connection::open(&path).unwrap();
        let mut want = migrated_spreads();
        want.push(row(500, "BTC/USDT", "gateio", Some("101.5"), Some("101.6")));
        assert_eq!(spreads(&c), want);
        assert_eq!(dump(&c), before, "nothing but spreads and meta changes");
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            meta_rows(&c),
            vec![
                kv("instance", "arb"),
                kv("mode", "sim"),
                kv("rest.gateio", "http://127.0.0.1:2/api/v4"),
                kv("rest.mexc", "http://127.0.0.1:1"),
                kv("schema", &SCHEMA_VERSION.to_string()),
            ]
        );
        let old_table: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'spreads_v1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old_table, 0);
        drop(c);

        // Opening again changes nothing (the migration is idempotent).
        drop(Journal::open(&path, &meta("sim")).unwrap());
        let c = Connection::open(&path).unwrap();
        assert_eq!(spreads(&c), want);
        assert_eq!(dump(&c), before);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_schema_1_journal_of_another_run_is_refused_and_left_untouched() {
        let path = v1_journal("migrate-foreign", &[V1_ROWS, V1_SPREADS]);
        let mut other = meta("sim");
        other.rest[0].1 = "https://api.mexc.com".into();
        let e = Journal::open(&path, &other).err().unwrap().to_string();
        assert!(
            e.contains("rest.mexc is http://127.0.0.1:1 there but https://api.mexc.com here"),
            "{e}"
        );
        let c = Connection::open(&path).unwrap();
        let old: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM spreads WHERE mexc_bid IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old, 3, "the old spreads are still in the old shape");
        drop(c);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn the_oldest_journal_without_meta_is_migrated_by_a_simulator_run() {
        let path = v1_journal("migrate-nometa", &[V1_SPREADS, "DROP TABLE meta"]);
        // Refused live, as before the migration existed (and left as it is).
        let e = Journal::open(&path, &meta("live"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("no meta table"), "{e}");
        drop(Journal::open(&path, &meta("sim")).unwrap());
        let c = Connection::open(&path).unwrap();
        assert_eq!(spreads(&c), migrated_spreads());
        let schema: String = c
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(schema, SCHEMA_VERSION.to_string());
        drop(c);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_journal_with_a_newer_schema_is_refused_and_not_written() {
        let path = temp("migrate-newer");
        drop(Journal::open(&path, &meta("sim")).unwrap());
        let set = |v: &str| {
            Connection::open(&path)
                .unwrap()
                .execute("UPDATE meta SET value = ?1 WHERE key = 'schema'", [v])
                .unwrap();
        };
        set("3");
        let err = Journal::open(&path, &meta("sim")).err().unwrap();
        assert!(matches!(err, JournalError::Schema { .. }), "{err:?}");
        let e = err.to_string();
        assert!(
            e.contains("schema is version 3") && e.contains("versions up to 2"),
            "{e}"
        );
        let schema: String = Connection::open(&path)
            .unwrap()
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(schema, "3", "never silently rewritten");
        set("two");
        let e = Journal::open(&path, &meta("sim"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("schema is version \"two\""), "{e}");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
