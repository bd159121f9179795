//! Live replay input: stdin, a FIFO or a device, read line by line as the lines arrive.
//!
//! A blocking reader runs on its own thread (tokio's stdin would hold the runtime at
//! shutdown) and hands complete lines to the replay task through a small bounded channel, so
//! memory stays bounded whatever the input: a line longer than the limit
//! ([`super::config::MAX_REPLAY_LINE`] for the emulator) is
//! skipped up to its newline (reported once), never buffered; at most [`READ_AHEAD`] lines
//! wait for the task. The thread ends at the input's end, at a read error, or once the
//! emulator has stopped listening. It never panics on input.

use std::io::{BufRead, BufReader, ErrorKind};
use std::path::PathBuf;

use tokio::sync::mpsc;

/// Lines read ahead of the replay task.
const READ_AHEAD: usize = 16;

/// What the reader thread hands to the replay task.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// A complete line (without its newline), numbered from 1.
    Line { number: usize, bytes: Vec<u8> },
    /// Line `number` was longer than the limit and skipped.
    TooLong { number: usize },
    /// The input could not be opened or read; nothing more comes.
    Failed(String),
}

/// Where a live replay reads from.
#[derive(Debug)]
pub(crate) enum Origin {
    Stdin,
    /// Opened on the reader thread: opening a FIFO blocks until a writer comes.
    Path(PathBuf),
}

/// Starts the reader thread; the receiver yields its lines until the input ends.
pub(crate) fn spawn(origin: Origin, max_line: usize) -> mpsc::Receiver<Input> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let thread = std::thread::Builder::new()
        .name("emulate-replay".to_owned())
        .spawn(move || match origin {
            Origin::Stdin => read_lines(std::io::stdin().lock(), max_line, &tx),
            Origin::Path(path) => match std::fs::File::open(&path) {
                Ok(file) => read_lines(BufReader::with_capacity(64 * 1024, file), max_line, &tx),
                Err(err) => {
                    let detail = format!("cannot open {}: {err}", path.display());
                    let _ = tx.blocking_send(Input::Failed(detail));
                }
            },
        });
    if let Err(err) = thread {
        // The closure (and its sender) is gone: report through a fresh channel.
        let (tx, rx) = mpsc::channel(1);
        let _ = tx.try_send(Input::Failed(format!("cannot start the reader: {err}")));
        return rx;
    }
    rx
}

/// Reads `reader` line by line into `tx`, holding at most `max_line` bytes of a line.
pub(crate) fn read_lines(mut reader: impl BufRead, max_line: usize, tx: &mpsc::Sender<Input>) {
    let mut line = Vec::new();
    let mut number = 1;
    let mut skipping = false;
    loop {
        if tx.is_closed() {
            return;
        }
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => {
                let _ = tx.blocking_send(Input::Failed(format!("read failed: {err}")));
                return;
            }
        };
        if chunk.is_empty() {
            if !skipping && !line.is_empty() {
                let _ = tx.blocking_send(Input::Line {
                    number,
                    bytes: line,
                });
            }
            return;
        }
        let newline = chunk.iter().position(|&b| b == b'\n');
        let take = newline.unwrap_or(chunk.len());
        if !skipping {
            if line.len() + take > max_line {
                skipping = true;
                line = Vec::new();
                if tx.blocking_send(Input::TooLong { number }).is_err() {
                    return;
                }
            } else {
                line.extend_from_slice(&chunk[..take]);
            }
        }
        reader.consume(take + usize::from(newline.is_some()));
        if newline.is_some() {
            if !skipping {
                let bytes = std::mem::take(&mut line);
                if tx.blocking_send(Input::Line { number, bytes }).is_err() {
                    return;
                }
            }
            skipping = false;
            number += 1;
        }
    }
}

/// A reader of `bytes` for tests and for in-memory input.
#[cfg(test)]
fn collect(bytes: &[u8], max_line: usize) -> Vec<Input> {
    let (tx, mut rx) = mpsc::channel(1024);
    read_lines(BufReader::with_capacity(4, bytes), max_line, &tx);
    drop(tx);
    let mut all = Vec::new();
    while let Ok(input) = rx.try_recv() {
        all.push(input);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn line(number: usize, text: &str) -> Input {
        Input::Line {
            number,
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn lines_are_split_across_small_reads_and_numbered() {
        assert_eq!(
            collect(b"first line\n\nthird\nlast without newline", 100),
            vec![
                line(1, "first line"),
                line(2, ""),
                line(3, "third"),
                line(4, "last without newline")
            ]
        );
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_up_to_its_newline() {
        let input = format!("ok\n{}\nafter\n", "x".repeat(50));
        assert_eq!(
            collect(input.as_bytes(), 10),
            vec![
                line(1, "ok"),
                Input::TooLong { number: 2 },
                line(3, "after")
            ]
        );
        // Exactly at the limit is fine.
        assert_eq!(collect(b"0123456789\n", 10), vec![line(1, "0123456789")]);
    }

    #[test]
    fn an_endless_line_is_reported_once_and_never_buffered() {
        let endless = std::io::repeat(b'0').take(5 * 1024 * 1024);
        let (tx, mut rx) = mpsc::channel(4);
        read_lines(BufReader::new(endless), 1024, &tx);
        assert_eq!(rx.try_recv().ok(), Some(Input::TooLong { number: 1 }));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn the_reader_stops_when_nobody_listens() {
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        // Would never end if it did not notice.
        read_lines(BufReader::new(std::io::repeat(b'\n')), 10, &tx);
    }
}
