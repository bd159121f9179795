//! The sink: a thread that writes rendered output to stdout (and a copy to a file) and says
//! when each chunk is safely out.
//!
//! It exists so that a slow or stuck reader of stdout (a paused `| less`, a full pipe) never
//! stops the command from hearing a signal: the command hands chunks over and goes on, and
//! learns asynchronously which chunks were written and flushed — that is when a QoS 1 push
//! may be acknowledged. At most [`Sink::CAPACITY`] chunks are in flight; the caller stops
//! reading input while the sink is full, so memory stays bounded.
//!
//! It knows nothing of MQTT: a chunk carries an opaque tag the caller gets back.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc as std_mpsc;

use tokio::sync::mpsc;

/// Bytes for stdout and for the file, with the caller's tag.
#[derive(Debug, Default)]
pub struct Chunk<T> {
    /// For stdout.
    pub out: Vec<u8>,
    /// For the `--output` file (ignored without one).
    pub file: Vec<u8>,
    /// The caller's, returned with the chunk.
    pub tag: T,
}

/// A chunk back from the sink, with how writing it went. Its buffers can be reused.
#[derive(Debug)]
pub struct Written<T> {
    /// The chunk as handed over.
    pub chunk: Chunk<T>,
    /// Both writes done and flushed, or the first error.
    pub result: io::Result<()>,
}

/// The writer thread and the ends of its channels.
pub struct Sink<T> {
    to_writer: Option<std_mpsc::SyncSender<Chunk<T>>>,
    written: mpsc::UnboundedReceiver<Written<T>>,
    in_flight: usize,
}

impl<T: Send + 'static> Sink<T> {
    /// Chunks in flight at most: one being written, one waiting.
    pub const CAPACITY: usize = 2;

    /// Starts the writer thread over `out` (and `file`).
    ///
    /// # Errors
    ///
    /// The thread could not be started.
    pub fn start<W: Write + Send + 'static>(out: W, file: Option<File>) -> io::Result<Self> {
        let (to_writer, chunks) = std_mpsc::sync_channel::<Chunk<T>>(Self::CAPACITY);
        let (done, written) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("output".into())
            .spawn(move || write_chunks(out, file, &chunks, &done))?;
        Ok(Sink {
            to_writer: Some(to_writer),
            written,
            in_flight: 0,
        })
    }

    /// Chunks handed over and not yet back.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// True when another chunk can be handed over without waiting.
    #[must_use]
    pub fn has_room(&self) -> bool {
        self.in_flight < Self::CAPACITY
    }

    /// Hands a chunk over. Call only with [`Sink::has_room`]; it never blocks then.
    ///
    /// # Errors
    ///
    /// The writer thread is gone (it stopped after an error it already reported).
    pub fn send(&mut self, chunk: Chunk<T>) -> io::Result<()> {
        let sent = self
            .to_writer
            .as_ref()
            .is_some_and(|tx| tx.send(chunk).is_ok());
        if sent {
            self.in_flight += 1;
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the output writer stopped",
            ))
        }
    }

    /// The next chunk back (cancel-safe); `None` when nothing is in flight.
    pub async fn written(&mut self) -> Option<Written<T>> {
        if self.in_flight == 0 {
            return None;
        }
        let written = self.written.recv().await?;
        self.in_flight -= 1;
        Some(written)
    }
}

fn write_chunks<T>(
    mut out: impl Write,
    mut file: Option<File>,
    chunks: &std_mpsc::Receiver<Chunk<T>>,
    done: &mpsc::UnboundedSender<Written<T>>,
) {
    while let Ok(chunk) = chunks.recv() {
        let mut result = write_flushed(&mut out, &chunk.out);
        if let (Ok(()), Some(file)) = (&result, file.as_mut()) {
            result = write_flushed(file, &chunk.file);
        }
        let failed = result.is_err();
        if done.send(Written { chunk, result }).is_err() || failed {
            return;
        }
    }
}

fn write_flushed(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    if !bytes.is_empty() {
        out.write_all(bytes)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    }

    #[test]
    fn chunks_are_written_in_order_and_come_back_with_their_tags() {
        let out = Shared::default();
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("copy");
        let file = File::create(&path).expect("file");
        let mut sink = Sink::start(out.clone(), Some(file)).expect("start");
        runtime().block_on(async {
            for n in 0..5u32 {
                while !sink.has_room() {
                    let back = sink.written().await.expect("a chunk in flight");
                    back.result.expect("written");
                }
                let chunk = Chunk {
                    out: format!("{n}\n").into_bytes(),
                    file: format!("f{n}\n").into_bytes(),
                    tag: n,
                };
                sink.send(chunk).expect("send");
            }
            let mut tags = Vec::new();
            while let Some(back) = sink.written().await {
                tags.push(back.chunk.tag);
            }
            assert!(tags.ends_with(&[4]), "{tags:?}");
        });
        assert_eq!(out.0.lock().expect("lock").as_slice(), b"0\n1\n2\n3\n4\n");
        assert_eq!(std::fs::read(&path).expect("read"), b"f0\nf1\nf2\nf3\nf4\n");
    }

    #[test]
    fn a_closed_pipe_is_reported_and_the_writer_stops() {
        let mut sink: Sink<()> = Sink::start(Closed, None).expect("start");
        runtime().block_on(async {
            sink.send(Chunk {
                out: b"x".to_vec(),
                ..Chunk::default()
            })
            .expect("send");
            let back = sink.written().await.expect("back");
            let err = back.result.expect_err("broken pipe");
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
            assert!(sink.written().await.is_none(), "nothing else in flight");
        });
    }
}
