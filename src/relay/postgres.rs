//! `--to postgres://…`: the same table in PostgreSQL. `push` keeps the exact bytes in a `json`
//! column (`jsonb` would reorder keys and drop duplicates), `data` is `jsonb` for queries.
//! A batch is one binary `COPY` into the table, rows in msgId order: PostgreSQL's cheapest
//! way in (about half the server time of an `INSERT`). `COPY` knows no `ON CONFLICT`, so a
//! batch holding a msgId already stored (a redelivery after a crash, or another relay
//! writing the same pushes) fails as a whole and is written again as one multi-row
//! `INSERT … SELECT FROM unnest(…) ON CONFLICT (msg_id) DO NOTHING`; the next
//! [`CONFLICT_SPELL`] batches go that way too before `COPY` is tried again, so relays that
//! share a database do not pay for a failed `COPY` on every batch. Both take their row locks
//! in msgId order, so relays writing the same pushes never deadlock: each push is stored
//! once, whoever writes it first.
//!
//! The connection is opened again when lost; authentication and schema errors are final
//! (exit 7); a row PostgreSQL refuses as data (e.g. `\u0000`, which `jsonb` cannot hold) is
//! rejected alone and goes to the dead letter.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use futures_util::future::join_all;
use futures_util::SinkExt as _;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, Statement};

use super::{redact_url, target_failed, CommitFuture, Record, Target, Verdict};
use crate::error::{Error, Result};

const SCHEMA: &str = r#"CREATE TABLE IF NOT EXISTS pushes (
    msg_id       text COLLATE "C" PRIMARY KEY,
    app_id       text,
    sn           text,
    device_type  text,
    type         text,
    created_time text,
    received_at  timestamptz NOT NULL,
    data         jsonb,
    push         json NOT NULL
)"#;

const INSERT: &str = r#"INSERT INTO pushes
    (msg_id, app_id, sn, device_type, type, created_time, received_at, data, push)
    SELECT m, a, s, d, t, c, r, x::jsonb, p::json
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::timestamptz[], $8::text[], $9::text[]) AS u(m, a, s, d, t, c, r, x, p)
    ORDER BY m COLLATE "C"
    ON CONFLICT (msg_id) DO NOTHING"#;

const COPY: &str = "COPY pushes
    (msg_id, app_id, sn, device_type, type, created_time, received_at, data, push)
    FROM STDIN (FORMAT binary)";

/// How many batches go through `INSERT … ON CONFLICT` after a `COPY` met a stored msgId.
pub const CONFLICT_SPELL: u32 = 64;

/// Connections a batch is spread over, so that PostgreSQL works on it with more than one
/// backend (one core each).
pub const LINKS: usize = 2;

/// The fewest rows worth a connection of their own.
const ROWS_PER_LINK: usize = 128;

/// A PostgreSQL database.
pub struct PostgresTarget {
    name: String,
    links: Vec<Link>,
}

/// One connection and how it writes.
struct Link {
    url: Arc<str>,
    /// The connection and its prepared statements.
    client: Option<Prepared>,
    /// Batches left to insert with `ON CONFLICT` before `COPY` is tried again.
    conflicts: u32,
    /// The server refused `COPY` where `INSERT` works (row-level security, a view with
    /// triggers): `INSERT` from then on.
    copy_refused: bool,
}

/// An open connection with its statements prepared.
struct Prepared {
    client: Client,
    insert: Statement,
    copy: Statement,
}

/// What a PostgreSQL error means for the relay.
enum Class {
    /// Wrong password, missing table column, …: stop (exit 7).
    Fatal,
    /// The row itself is refused: dead letter.
    Data,
    /// Down, busy, deadlock, connection lost: try again.
    Transient,
}

impl PostgresTarget {
    /// Connects and creates the table if missing. A database that cannot be reached yet is
    /// not final: the first commits retry (up to `--give-up`).
    ///
    /// # Errors
    ///
    /// Exit 7 on an authentication or schema error.
    pub async fn open(url: &str) -> Result<(PostgresTarget, Option<String>)> {
        let url: Arc<str> = Arc::from(url);
        let mut target = PostgresTarget {
            name: redact_url(&url),
            links: (0..LINKS)
                .map(|_| Link {
                    url: Arc::clone(&url),
                    client: None,
                    conflicts: 0,
                    copy_refused: false,
                })
                .collect(),
        };
        // Unreachable is not final: commits wait for the database. It is worth a warning
        // only when no connection could be opened.
        let mut unreachable = None;
        let mut opened = 0;
        for i in 0..target.links.len() {
            match target.links[i].connect().await {
                Ok(()) => opened += 1,
                Err(err) => match classify(&err) {
                    Class::Transient => unreachable = Some(err),
                    _ => return Err(target.fatal(&err)),
                },
            }
        }
        let warning = unreachable.filter(|_| opened == 0).map(|err| {
            format!(
                "target {}: not reachable yet ({}); pushes wait until it is",
                target.name,
                describe(&err)
            )
        });
        Ok((target, warning))
    }

    fn fatal(&self, err: &tokio_postgres::Error) -> Error {
        let error = target_failed(&self.name, describe(err));
        match err.code().map(SqlState::code) {
            Some(code) if code.starts_with("28") => error.with_hint(
                "check the user and password in the URL (or PGPASSWORD-style settings in it)",
            ),
            Some("42501") => error.with_hint(
                "the role in the URL needs INSERT and SELECT on table pushes (and CREATE on \
                 the schema for the relay to create it)",
            ),
            Some(code) if code.starts_with("42") => error.with_hint(
                "the table 'pushes' exists with other columns: use another database or schema",
            ),
            _ => error,
        }
    }
}

impl Link {
    async fn connect(&mut self) -> Result<(), tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls).await?;
        tokio::spawn(async move {
            // Errors surface on the client as a closed connection; nothing to do here.
            let _ = connection.await;
        });
        if let Err(err) = client.batch_execute(SCHEMA).await {
            // Two relays creating the table at the same moment: one of them loses the race.
            let raced = err.code().is_some_and(|c| {
                *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::DUPLICATE_TABLE
            });
            // A role that may write to the table but not create tables: fine once it exists.
            let made_by_others = err.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE)
                && client
                    .query_one("SELECT to_regclass('pushes') IS NOT NULL", &[])
                    .await?
                    .get::<_, bool>(0);
            if !raced && !made_by_others {
                return Err(err);
            }
        }
        let insert = client.prepare(INSERT).await?;
        let copy = client.prepare(COPY).await?;
        self.client = Some(Prepared {
            client,
            insert,
            copy,
        });
        Ok(())
    }

    /// The open connection, opened again when it was lost.
    async fn client(&mut self) -> Result<&Prepared, tokio_postgres::Error> {
        if self.client.as_ref().is_none_or(|p| p.client.is_closed()) {
            self.client = None;
            self.connect().await?;
        }
        match self.client.as_ref() {
            Some(prepared) => Ok(prepared),
            None => unreachable!("connect() sets the client or fails"),
        }
    }

    /// Writes `rows` with one binary `COPY` (in its own transaction: all rows or none), sent
    /// in pieces as they are encoded.
    async fn copy(&mut self, rows: &[&Record]) -> Result<u64, tokio_postgres::Error> {
        let prepared = self.client().await?;
        let started = prepared
            .client
            .copy_in::<_, bytes::Bytes>(&prepared.copy)
            .await;
        let sink = match started {
            Ok(sink) => sink,
            Err(err) => {
                // After a COPY refused at its start (row-level security, say), tokio-postgres
                // finds the connection out of step and closes it: what comes next gets a new
                // one.
                self.client = None;
                return Err(err);
            }
        };
        futures_util::pin_mut!(sink);
        let mut out = BytesMut::with_capacity(COPY_PIECE + 64 * 1024);
        copy_header(&mut out);
        for record in rows {
            copy_row(&mut out, record);
            if out.len() >= COPY_PIECE {
                sink.send(out.split().freeze()).await?;
            }
        }
        out.put_i16(-1);
        sink.send(out.freeze()).await?;
        sink.finish().await
    }

    /// Writes `rows` with `INSERT … ON CONFLICT (msg_id) DO NOTHING`: what is stored already
    /// stays as it is.
    async fn insert(
        &mut self,
        rows: &[&Record],
        with_data: bool,
    ) -> Result<u64, tokio_postgres::Error> {
        let Prepared {
            client,
            insert: statement,
            ..
        } = self.client().await?;
        let column = |f: fn(&Record) -> Option<&str>| -> Vec<Option<&str>> {
            rows.iter().map(|r| f(r)).collect()
        };
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        let received: Vec<std::time::SystemTime> =
            rows.iter().map(|r| r.received_at.into()).collect();
        let data: Vec<Option<&str>> = rows
            .iter()
            .map(|r| r.data().filter(|_| with_data))
            .collect();
        let pushes: Vec<&str> = rows.iter().map(|r| r.json.as_str()).collect();
        client
            .execute(
                statement,
                &[
                    &keys,
                    &column(|r| r.app_id.as_deref()),
                    &column(|r| r.sn.as_deref()),
                    &column(|r| r.device_type.as_deref()),
                    &column(|r| r.kind.as_deref()),
                    &column(|r| r.created_time.as_deref()),
                    &received,
                    &data,
                    &pushes,
                ],
            )
            .await
    }

    /// Stores `rows` (in msgId order, no msgId twice): by `COPY`, or by
    /// `INSERT … ON CONFLICT` when one of them is stored already or was lately, or when the
    /// server refuses `COPY` for this table.
    async fn store(&mut self, rows: &[&Record]) -> Result<u64, tokio_postgres::Error> {
        if self.conflicts > 0 {
            self.conflicts -= 1;
            return self.insert(rows, true).await;
        }
        if self.copy_refused || !fits_copy(rows) {
            // A field too long for COPY's lengths goes the INSERT way, to be refused there.
            return self.insert(rows, true).await;
        }
        match self.copy(rows).await {
            Err(err) if err.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                self.conflicts = CONFLICT_SPELL;
                self.insert(rows, true).await
            }
            Err(err) if insert_may_do(&err) => {
                let inserted = self.insert(rows, true).await?;
                self.copy_refused = true;
                Ok(inserted)
            }
            outcome => outcome,
        }
    }

    /// Commits `rows`: a verdict per row, or the error that is final.
    async fn commit(&mut self, rows: &[&Record]) -> Result<Vec<Verdict>, tokio_postgres::Error> {
        match self.store(rows).await {
            Ok(_) => Ok(vec![Verdict::Committed; rows.len()]),
            Err(err) => match classify(&err) {
                Class::Fatal => Err(err),
                Class::Data => self.find_refused(rows).await,
                Class::Transient => {
                    self.forget_if_lost(&err);
                    Ok(Verdict::all_retry(rows.len(), &describe(&err)))
                }
            },
        }
    }

    fn forget_if_lost(&mut self, err: &tokio_postgres::Error) {
        if err.is_closed() || err.code().is_none() {
            self.client = None;
        }
    }

    /// The rows were refused as data: halves are inserted until the rows at fault are alone
    /// (a few statements for a bad row among thousands, not one per row). A row whose `data`
    /// `jsonb` cannot hold (`\u0000`, say) is stored with `data` NULL: the push itself is
    /// kept, exactly, in `push`. A connection lost meanwhile leaves the rest to be retried.
    async fn find_refused(
        &mut self,
        rows: &[&Record],
    ) -> Result<Vec<Verdict>, tokio_postgres::Error> {
        let mut verdicts: Vec<Option<Verdict>> = vec![None; rows.len()];
        // Ranges still to try, the first on top.
        let mut todo: Vec<std::ops::Range<usize>> = Vec::new();
        todo.push(0..rows.len());
        while let Some(range) = todo.pop() {
            let part = &rows[range.clone()];
            let mut outcome = self.insert(part, true).await;
            let refused = outcome
                .as_ref()
                .is_err_and(|e| matches!(classify(e), Class::Data));
            if refused && part.len() > 1 {
                let middle = range.start + part.len() / 2;
                todo.push(middle..range.end);
                todo.push(range.start..middle);
                continue;
            }
            if refused {
                outcome = self.insert(part, false).await;
            }
            let verdict = match outcome {
                Ok(_) => Verdict::Committed,
                Err(err) => match classify(&err) {
                    Class::Data => Verdict::Rejected {
                        reason: format!("PostgreSQL refused the row: {}", describe(&err)),
                        status: None,
                    },
                    Class::Transient => {
                        self.forget_if_lost(&err);
                        let retry = Verdict::Retry(describe(&err));
                        for slot in verdicts.iter_mut().filter(|v| v.is_none()) {
                            *slot = Some(retry.clone());
                        }
                        break;
                    }
                    Class::Fatal => return Err(err),
                },
            };
            for slot in &mut verdicts[range] {
                *slot = Some(verdict.clone());
            }
        }
        Ok(verdicts
            .into_iter()
            .map(|v| v.unwrap_or_else(|| Verdict::Retry("not tried".to_owned())))
            .collect())
    }
}

impl Target for PostgresTarget {
    fn name(&self) -> &str {
        &self.name
    }

    /// Sorts the batch by msgId and cuts it into runs of neighbouring msgIds, one per
    /// connection that is open, committed side by side. Every transaction takes its row
    /// locks in msgId order, so no two of them (of this relay or another) can wait on each
    /// other in a circle. A msgId twice in the batch is written once; its copies get the
    /// first one's verdict.
    fn commit<'a>(&'a mut self, batch: &'a [Arc<Record>]) -> CommitFuture<'a> {
        Box::pin(async move {
            let mut order: Vec<usize> = (0..batch.len()).collect();
            order.sort_by(|&a, &b| batch[a].key.as_bytes().cmp(batch[b].key.as_bytes()));
            let mut unique: Vec<usize> = Vec::with_capacity(order.len());
            let mut copies: Vec<(usize, usize)> = Vec::new();
            for i in order {
                match unique.last() {
                    Some(&kept) if batch[kept].key == batch[i].key => copies.push((i, kept)),
                    _ => unique.push(i),
                }
            }
            // The connections that are open (or open again now): a link that cannot connect
            // (the server's connection limit, say) leaves its share to the others.
            let mut open = Vec::with_capacity(self.links.len());
            let mut down = None;
            for i in 0..self.links.len() {
                match self.links[i].client().await {
                    Ok(_) => open.push(i),
                    Err(err) => match classify(&err) {
                        Class::Transient => down = Some(err),
                        _ => return Err(self.fatal(&err)),
                    },
                }
            }
            if open.is_empty() {
                let reason = down.map_or_else(|| "no connection".to_owned(), |e| describe(&e));
                return Ok(Verdict::all_retry(batch.len(), &reason));
            }
            let parts = unique.len().div_ceil(ROWS_PER_LINK).clamp(1, open.len());
            let per_part = unique.len().div_ceil(parts).max(1);
            let runs: Vec<&[usize]> = unique.chunks(per_part).collect();
            let commits = self
                .links
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| open.contains(i))
                .map(|(_, link)| link)
                .zip(&runs)
                .map(|(link, run)| async move {
                    let rows: Vec<&Record> = run.iter().map(|&i| batch[i].as_ref()).collect();
                    link.commit(&rows).await
                });
            let results = join_all(commits).await;
            let mut verdicts = vec![Verdict::Committed; batch.len()];
            for (run, result) in runs.iter().zip(results) {
                let run_verdicts = result.map_err(|err| self.fatal(&err))?;
                for (&i, verdict) in run.iter().zip(run_verdicts) {
                    verdicts[i] = verdict;
                }
            }
            for (copy, kept) in copies {
                verdicts[copy] = verdicts[kept].clone();
            }
            Ok(verdicts)
        })
    }
}

/// How much of a `COPY` is encoded before it is sent: the server starts on the first rows
/// while the next are encoded.
const COPY_PIECE: usize = 128 * 1024;

/// 2000-01-01T00:00:00Z, PostgreSQL's epoch, in microseconds since 1970.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// The start of PostgreSQL's binary `COPY` format: signature, flags, no header extension.
fn copy_header(out: &mut BytesMut) {
    out.put_slice(b"PGCOPY\n\xff\r\n\0");
    out.put_i32(0);
    out.put_i32(0);
}

/// Every field of `records` fits `COPY`'s 32-bit lengths (pushes are far smaller: at most
/// `--max-payload`, 255 MiB).
fn fits_copy(records: &[&Record]) -> bool {
    records
        .iter()
        .all(|r| i32::try_from(r.json.len() + 1).is_ok())
}

/// One row in the binary `COPY` format. Its fields fit (see [`fits_copy`]): each is at most
/// the push's length.
fn copy_row(out: &mut BytesMut, record: &Record) {
    /// The version byte of `jsonb`'s binary form, followed by the JSON text.
    const JSONB_VERSION: u8 = 1;
    let length = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let text = |out: &mut BytesMut, value: Option<&str>| match value {
        Some(value) => {
            out.put_i32(length(value.len()));
            out.put_slice(value.as_bytes());
        }
        None => out.put_i32(-1),
    };
    out.put_i16(9);
    text(out, Some(&record.key));
    text(out, record.app_id.as_deref());
    text(out, record.sn.as_deref());
    text(out, record.device_type.as_deref());
    text(out, record.kind.as_deref());
    text(out, record.created_time.as_deref());
    out.put_i32(8);
    out.put_i64(record.received_at.timestamp_micros() - PG_EPOCH_MICROS);
    match record.data() {
        Some(data) => {
            out.put_i32(length(data.len() + 1));
            out.put_u8(JSONB_VERSION);
            out.put_slice(data.as_bytes());
        }
        None => out.put_i32(-1),
    }
    text(out, Some(&record.json));
}

/// A `COPY` refused for a reason that an `INSERT` of the same rows may not meet: row-level
/// security (`COPY FROM not supported`), a view with `INSTEAD OF` triggers. Not a lost
/// connection, a busy server, refused data, a stored msgId or a bad password.
fn insert_may_do(err: &tokio_postgres::Error) -> bool {
    let Some(code) = err.code().map(SqlState::code) else {
        return false;
    };
    !matches!(
        &code[..2],
        "08" | "22" | "23" | "28" | "3D" | "40" | "53" | "57" | "58"
    )
}

fn classify(err: &tokio_postgres::Error) -> Class {
    let Some(code) = err.code().map(SqlState::code) else {
        return Class::Transient;
    };
    match &code[..2] {
        "28" | "42" | "3D" | "3F" => Class::Fatal,
        "22" => Class::Data,
        _ => Class::Transient,
    }
}

/// The server's message (with its SQLSTATE), or the connection error.
fn describe(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(inner) = source {
                text.push_str(&format!(": {inner}"));
                source = inner.source();
            }
            text
        }
    }
}
