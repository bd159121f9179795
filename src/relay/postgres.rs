//! `--to postgres://…`: the same table in PostgreSQL. `push` keeps the exact bytes in a `json`
//! column (`jsonb` would reorder keys and drop duplicates), `data` is `jsonb` for queries.
//! A batch is one multi-row `INSERT … SELECT FROM unnest(…) ON CONFLICT (msg_id) DO NOTHING`,
//! rows in msgId order so that several relays writing the same pushes take their locks in
//! one order and never deadlock: each push is stored once whoever writes it first.
//!
//! The connection is opened again when lost; authentication and schema errors are final
//! (exit 7); a row PostgreSQL refuses as data (e.g. `\u0000`, which `jsonb` cannot hold) is
//! rejected alone and goes to the dead letter.

use std::sync::Arc;

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, Statement};

use super::{redact_url, target_failed, CommitFuture, Record, Target, Verdict};
use crate::error::{Error, Result};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS pushes (
    msg_id       text PRIMARY KEY,
    app_id       text,
    sn           text,
    device_type  text,
    type         text,
    created_time text,
    received_at  timestamptz NOT NULL,
    data         jsonb,
    push         json NOT NULL
)";

const INSERT: &str = "INSERT INTO pushes
    (msg_id, app_id, sn, device_type, type, created_time, received_at, data, push)
    SELECT m, a, s, d, t, c, r::timestamptz, x::jsonb, p::json
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::text[], $8::text[], $9::text[]) AS u(m, a, s, d, t, c, r, x, p)
    ORDER BY m
    ON CONFLICT (msg_id) DO NOTHING";

/// A PostgreSQL database.
pub struct PostgresTarget {
    name: String,
    url: String,
    /// The connection and its prepared insert.
    client: Option<(Client, Statement)>,
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
        let mut target = PostgresTarget {
            name: redact_url(url),
            url: url.to_owned(),
            client: None,
        };
        let warning = match target.connect().await {
            Ok(()) => None,
            Err(err) => match classify(&err) {
                Class::Transient => Some(format!(
                    "target {}: not reachable yet ({}); pushes wait until it is",
                    target.name,
                    describe(&err)
                )),
                _ => return Err(target.fatal(&err)),
            },
        };
        Ok((target, warning))
    }

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
            if !raced {
                return Err(err);
            }
        }
        let statement = client.prepare(INSERT).await?;
        self.client = Some((client, statement));
        Ok(())
    }

    fn fatal(&self, err: &tokio_postgres::Error) -> Error {
        let error = target_failed(&self.name, describe(err));
        match err.code().map(SqlState::code) {
            Some(code) if code.starts_with("28") => error.with_hint(
                "check the user and password in the URL (or PGPASSWORD-style settings in it)",
            ),
            Some(code) if code.starts_with("42") => error.with_hint(
                "the table 'pushes' exists with other columns: use another database or schema",
            ),
            _ => error,
        }
    }

    async fn insert(
        &mut self,
        records: &[Arc<Record>],
        with_data: bool,
    ) -> Result<u64, tokio_postgres::Error> {
        if self.client.as_ref().is_none_or(|(c, _)| c.is_closed()) {
            self.client = None;
            self.connect().await?;
        }
        let Some((client, statement)) = self.client.as_ref() else {
            return Ok(0);
        };
        let column = |f: fn(&Record) -> Option<String>| -> Vec<Option<String>> {
            records.iter().map(|r| f(r)).collect()
        };
        let keys: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
        let received: Vec<String> = records.iter().map(|r| r.received_at_text()).collect();
        let data: Vec<Option<&str>> = records
            .iter()
            .map(|r| r.data().filter(|_| with_data))
            .collect();
        let pushes: Vec<&str> = records.iter().map(|r| r.json.as_str()).collect();
        client
            .execute(
                statement,
                &[
                    &keys,
                    &column(|r| r.app_id.clone()),
                    &column(|r| r.sn.clone()),
                    &column(|r| r.device_type.clone()),
                    &column(|r| r.kind.clone()),
                    &column(|r| r.created_time.clone()),
                    &received,
                    &data,
                    &pushes,
                ],
            )
            .await
    }

    /// The batch was refused as data: insert row by row to find the rows at fault. A row
    /// whose `data` `jsonb` cannot hold (`\u0000`, say) is stored with `data` NULL: the push
    /// itself is kept, exactly, in `push`.
    async fn one_by_one(&mut self, batch: &[Arc<Record>]) -> Result<Vec<Verdict>> {
        let mut verdicts = Vec::with_capacity(batch.len());
        for record in batch {
            let row = std::slice::from_ref(record);
            let mut outcome = self.insert(row, true).await;
            if outcome
                .as_ref()
                .is_err_and(|e| matches!(classify(e), Class::Data))
            {
                outcome = self.insert(row, false).await;
            }
            let verdict = match outcome {
                Ok(_) => Verdict::Committed,
                Err(err) => match classify(&err) {
                    Class::Data => Verdict::Rejected {
                        reason: format!("PostgreSQL refused the row: {}", describe(&err)),
                        status: None,
                    },
                    Class::Transient => Verdict::Retry(describe(&err)),
                    Class::Fatal => return Err(self.fatal(&err)),
                },
            };
            verdicts.push(verdict);
        }
        Ok(verdicts)
    }
}

impl Target for PostgresTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn commit<'a>(&'a mut self, batch: &'a [Arc<Record>]) -> CommitFuture<'a> {
        Box::pin(async move {
            match self.insert(batch, true).await {
                Ok(_) => Ok(vec![Verdict::Committed; batch.len()]),
                Err(err) => match classify(&err) {
                    Class::Fatal => Err(self.fatal(&err)),
                    Class::Data => self.one_by_one(batch).await,
                    Class::Transient => {
                        if err.is_closed() || err.code().is_none() {
                            self.client = None;
                        }
                        Ok(Verdict::all_retry(batch.len(), &describe(&err)))
                    }
                },
            }
        })
    }
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
