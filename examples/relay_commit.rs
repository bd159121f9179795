//! Times `relay`'s commit stage alone, without a broker: BATCHES batches of SIZE realistic
//! pushes (the envelopes of `benches/relay_vs_pipeline.sh`) committed one after another into
//! a target, as the relay's committer does. Prints one line: `target pushes seconds
//! pushes_per_s ms_per_batch`. Not part of the tool.
//!
//!   relay_commit sqlite:/tmp/x.db [BATCHES] [SIZE]
//!   relay_commit postgres://postgres@127.0.0.1:5432/postgres [BATCHES] [SIZE]

use std::sync::Arc;
use std::time::Instant;

use sensoro_mqtt::push::PushReader;
use sensoro_mqtt::relay::postgres::PostgresTarget;
use sensoro_mqtt::relay::sqlite::SqliteTarget;
use sensoro_mqtt::relay::{Record, RecordReader, Target};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(to) = args.first() else {
        eprintln!("usage: relay_commit sqlite:PATH|postgres://URL [BATCHES] [SIZE]");
        std::process::exit(2);
    };
    let batches: usize = args.get(1).map_or(Ok(100), |s| s.parse())?;
    let size: usize = args.get(2).map_or(Ok(1000), |s| s.parse())?;
    let mut target: Box<dyn Target> = match to.strip_prefix("sqlite:") {
        Some(path) => Box::new(SqliteTarget::open(std::path::Path::new(path))?),
        None => Box::new(PostgresTarget::open(to).await?.0),
    };
    let mut reader = RecordReader::new(PushReader::new(None, None, true));
    // A small xorshift: the same pushes every run, random-looking msgIds.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut all: Vec<Vec<Arc<Record>>> = Vec::with_capacity(batches);
    for b in 0..batches {
        let mut batch = Vec::with_capacity(size);
        for i in 0..size {
            let n = b * size + i;
            let text = format!(
                r#"{{"appId":"foobar","sn":"0117C9{:04X}","type":"text","deviceType":"node","createdTime":{},"msgId":"{:016x}{:08x}","data":{{"battery":{},"interval":300,"temperature":{:.1},"lonlat":[116.{:014},39.{:014}]}}}}"#,
                next() % 200,
                1_732_400_000_000u64 + n as u64,
                next(),
                next() as u32,
                next() % 100,
                (next() % 500) as f64 / 10.0 - 10.0,
                next() % 100_000_000_000_000,
                next() % 100_000_000_000_000,
            );
            let record = reader
                .read(text.as_bytes())
                .map_err(|e| format!("not a push: {}", e.error))?;
            batch.push(Arc::new(record));
        }
        all.push(batch);
    }
    let started = Instant::now();
    for batch in &all {
        target.commit(batch).await?;
    }
    let took = started.elapsed().as_secs_f64();
    let pushes = batches * size;
    println!(
        "{} {pushes} {took:.3} {:.0} {:.2}",
        target.name(),
        pushes as f64 / took,
        took * 1000.0 / batches as f64
    );
    Ok(())
}
