//! `--to sqlite:PATH`: the embedded store. One table of pushes keyed by msgId, created when
//! missing; WAL; each batch in one transaction; a duplicate msgId is ignored, so a redelivered
//! push is stored once. A process killed mid-batch leaves no partial batch (the transaction
//! rolls back) and a committed one survives (WAL), so restarting loses nothing.
//!
//! rusqlite is synchronous: each commit runs on the blocking pool.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, ErrorCode};

use super::{target_failed, CommitFuture, Record, Target, Verdict};
use crate::error::{Error, Result};

/// The table every store uses.
pub const TABLE: &str = "pushes";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS pushes (
    msg_id       TEXT PRIMARY KEY,
    app_id       TEXT,
    sn           TEXT,
    device_type  TEXT,
    type         TEXT,
    created_time TEXT,
    received_at  TEXT NOT NULL,
    data         TEXT,
    push         TEXT NOT NULL
)";

const INSERT: &str = "INSERT OR IGNORE INTO pushes
    (msg_id, app_id, sn, device_type, type, created_time, received_at, data, push)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// The page size of a database file the relay creates.
pub const NEW_PAGE_SIZE: i64 = 16384;

/// How much WAL gathers between checkpoints.
const CHECKPOINT_BYTES: i64 = 40 * 1024 * 1024;

/// A SQLite database file.
pub struct SqliteTarget {
    name: String,
    connection: Arc<Mutex<Connection>>,
}

impl SqliteTarget {
    /// Opens (creating if needed) the database and its table.
    ///
    /// # Errors
    ///
    /// Exit 7 when the file cannot be opened or the table does not fit.
    pub fn open(path: &Path) -> Result<SqliteTarget> {
        let name = format!("sqlite:{}", path.display());
        let fail = |err: rusqlite::Error| target_failed(&name, err);
        let connection = Connection::open(path).map_err(fail)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(fail)?;
        // A new file gets 16 KiB pages (SQLite's default is 4 KiB), before WAL mode fixes the
        // page size; an existing file keeps its own. A batch inserts its msgIds at random
        // places in the primary key's index: with bigger pages the index has a quarter of the
        // pages to find, split and write to the WAL on every commit. A 100,000-push drain
        // committed in 0.30-0.37 s instead of 0.52-0.59 s, and 400,000 pushes on, 1.14-1.19 s
        // per 100,000 instead of 1.34-1.39 s.
        connection
            .pragma_update(None, "page_size", NEW_PAGE_SIZE)
            .map_err(fail)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        // In WAL mode NORMAL keeps every committed transaction through a process crash;
        // only a power cut can lose the last ones.
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        // Each commit dirties hundreds of index pages: with SQLite's default 1000-page WAL
        // every commit ran a checkpoint (copy to the database file, fsync), and its 2 MiB page
        // cache re-read the index from the file. Checkpointing every 40 MiB of WAL writes a
        // page dirtied by many batches once, and a 16 MiB cache holds the index's working set:
        // commits about twice as fast. With 16 KiB pages a 64 MiB cache was no faster, 100k or
        // 500k pushes in, and cost 48 MB more. Durability is unchanged (a commit is durable
        // once in the WAL); the WAL file is cut back to 64 MiB after a checkpoint.
        let page_size: i64 = connection
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .map_err(fail)?;
        connection
            .execute_batch(&format!(
                "PRAGMA cache_size = -16384;
                 PRAGMA wal_autocheckpoint = {};
                 PRAGMA journal_size_limit = 67108864;",
                CHECKPOINT_BYTES / page_size.max(512)
            ))
            .map_err(fail)?;
        connection.execute(SCHEMA, []).map_err(fail)?;
        connection
            .prepare(INSERT)
            .map_err(|err| schema_mismatch(&name, path, &err))?;
        Ok(SqliteTarget {
            name,
            connection: Arc::new(Mutex::new(connection)),
        })
    }
}

fn schema_mismatch(name: &str, path: &Path, err: &rusqlite::Error) -> Error {
    target_failed(
        name,
        format!("table '{TABLE}' does not have the relay's columns: {err}"),
    )
    .with_hint(format!(
        "point the relay at a new file, or rename the old table in {}",
        path.display()
    ))
}

impl Target for SqliteTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn commit<'a>(&'a mut self, batch: &'a [Arc<Record>]) -> CommitFuture<'a> {
        let connection = Arc::clone(&self.connection);
        let records: Vec<Arc<Record>> = batch.to_vec();
        let name = self.name.clone();
        Box::pin(async move {
            let n = records.len();
            let outcome = tokio::task::spawn_blocking(move || insert(&connection, &records))
                .await
                .map_err(|err| target_failed(&name, format!("the writer stopped: {err}")))?;
            match outcome {
                Ok(()) => Ok(vec![Verdict::Committed; n]),
                Err(err) if transient(&err) => Ok(Verdict::all_retry(n, &err.to_string())),
                Err(err) => Err(target_failed(&name, err)),
            }
        })
    }
}

fn insert(connection: &Mutex<Connection>, records: &[Arc<Record>]) -> rusqlite::Result<()> {
    let mut connection = connection
        .lock()
        .map_err(|_| rusqlite::Error::InvalidQuery)?;
    let tx = connection.transaction()?;
    {
        let mut statement = tx.prepare_cached(INSERT)?;
        // In key order, each insert lands next to the previous one in the primary key's
        // index, on pages just touched. A stable sort: of two pushes with one msgId the first
        // is stored, as in arrival order.
        let mut sorted: Vec<&Record> = records.iter().map(AsRef::as_ref).collect();
        sorted.sort_by(|a, b| a.key.cmp(&b.key));
        for r in sorted {
            statement.execute(params![
                r.key,
                r.app_id,
                r.sn,
                r.device_type,
                r.kind,
                r.created_time,
                r.received_at_text(),
                r.data(),
                r.json,
            ])?;
        }
    }
    tx.commit()
}

/// Busy, locked, full disk, I/O: worth trying again. Anything else is a schema problem.
fn transient(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::OutOfMemory
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::PushReader;
    use crate::relay::RecordReader;

    fn records(texts: &[&str]) -> Vec<Arc<Record>> {
        let mut reader = RecordReader::new(PushReader::new(None, None, true));
        texts
            .iter()
            .map(|t| Arc::new(reader.read(t.as_bytes()).expect("push")))
            .collect()
    }

    #[tokio::test]
    async fn a_batch_is_stored_once_with_its_exact_bytes() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("p.db");
        let mut target = SqliteTarget::open(&path).expect("open");
        let batch = records(&[
            r#"{"msgId":"a","sn":"1","data":{"t":21.50}}"#,
            r#"{"msgId":"b","sn":"1","data":{"n":12345678901234567890123}}"#,
            r#"{"msgId":"a","sn":"1","data":{"t":21.50}}"#,
        ]);
        let verdicts = target.commit(&batch).await.expect("commit");
        assert_eq!(verdicts, vec![Verdict::Committed; 3]);
        target.commit(&batch[..1]).await.expect("again");
        let db = Connection::open(&path).expect("open");
        let rows: Vec<(String, String, Option<String>)> = db
            .prepare("SELECT msg_id, push, data FROM pushes ORDER BY msg_id")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].1, batch[0].json);
        assert_eq!(
            rows[1].2.as_deref(),
            Some(r#"{"n":12345678901234567890123}"#)
        );
        let mode: String = db
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn of_two_pushes_with_one_msg_id_in_a_batch_the_first_is_stored() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("p.db");
        let mut target = SqliteTarget::open(&path).expect("open");
        let batch = records(&[
            r#"{"msgId":"z","sn":"1","data":{"t":1}}"#,
            r#"{"msgId":"m","sn":"1","data":{"t":2}}"#,
            r#"{"msgId":"z","sn":"1","data":{"t":3}}"#,
            r#"{"msgId":"a","sn":"1","data":{"t":4}}"#,
        ]);
        target.commit(&batch).await.expect("commit");
        let db = Connection::open(&path).expect("open");
        let rows: Vec<(String, String)> = db
            .prepare("SELECT msg_id, push FROM pushes ORDER BY msg_id")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .expect("rows");
        let want: Vec<(String, String)> = [&batch[3], &batch[1], &batch[0]]
            .iter()
            .map(|r| (r.key.clone(), r.json.clone()))
            .collect();
        assert_eq!(rows, want);
    }

    fn pragma(target: &SqliteTarget, name: &str) -> i64 {
        let db = target.connection.lock().expect("connection");
        db.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .expect(name)
    }

    #[test]
    fn a_new_file_gets_big_pages_and_keeps_durability_and_checkpoints_less_often() {
        let dir = tempfile::tempdir().expect("dir");
        let target = SqliteTarget::open(&dir.path().join("p.db")).expect("open");
        assert_eq!(pragma(&target, "page_size"), 16384);
        // NORMAL (1) in WAL: a committed batch survives a process crash; never OFF (0).
        assert_eq!(pragma(&target, "synchronous"), 1);
        // 40 MiB of 16 KiB pages.
        assert_eq!(pragma(&target, "wal_autocheckpoint"), 2560);
        assert_eq!(pragma(&target, "cache_size"), -16384);
        assert_eq!(pragma(&target, "journal_size_limit"), 67_108_864);
    }

    #[test]
    fn an_existing_file_keeps_its_page_size_and_checkpoints_every_40_mib() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("p.db");
        Connection::open(&path)
            .and_then(|db| db.execute_batch("PRAGMA page_size = 4096; CREATE TABLE other (x);"))
            .expect("an existing file");
        let target = SqliteTarget::open(&path).expect("open");
        assert_eq!(pragma(&target, "page_size"), 4096);
        assert_eq!(pragma(&target, "wal_autocheckpoint"), 10240);
    }

    #[test]
    fn a_foreign_table_is_a_schema_error_exit_7() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("p.db");
        Connection::open(&path)
            .and_then(|db| db.execute("CREATE TABLE pushes (id INTEGER)", []))
            .expect("foreign table");
        let err = SqliteTarget::open(&path).err().expect("refused");
        assert_eq!(err.kind(), crate::error::ExitKind::Target);
        assert!(err.message().contains("columns"), "{}", err.message());
    }
}
