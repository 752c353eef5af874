//! One transformation in flight: the engine writes into a staging file, and every request for
//! the same output reads that file as it grows (so all of them get the same bytes, and the
//! first bytes leave as soon as the muxer writes them).
//!
//! Readers share an open descriptor and read with `pread`, so the file can be renamed into the
//! store while they still read. When the last reader leaves before the end, the run is
//! cancelled.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::Stream;
use md5::{Digest, Md5};
use tokio::sync::watch;

use crate::error::ErrorKind;

/// How far a flight has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Running,
    /// The output is complete and stored (the stored file may be a faststart rewrite).
    Done,
    Failed {
        kind: ErrorKind,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub written: u64,
    pub state: State,
}

/// A running transformation that requests can follow.
#[derive(Debug)]
pub struct Flight {
    pub path: PathBuf,
    reader: Arc<File>,
    progress: watch::Sender<Progress>,
    followers: AtomicUsize,
    pub cancel: Arc<AtomicBool>,
    hasher: Arc<Mutex<(Md5, u64)>>,
    /// The most bytes the output may have; writing more fails and sets `over_limit`.
    pub max_bytes: u64,
    over_limit: AtomicBool,
}

impl Flight {
    /// Creates the staging file and returns the flight and the writer the engine writes into,
    /// which refuses to write more than `max_bytes`.
    pub fn create(path: PathBuf, max_bytes: u64) -> io::Result<(Arc<Flight>, FlightWriter)> {
        let file = File::options().write(true).create_new(true).open(&path)?;
        let reader = Arc::new(File::open(&path)?);
        let (progress, _) = watch::channel(Progress {
            written: 0,
            state: State::Running,
        });
        let hasher = Arc::new(Mutex::new((Md5::new(), 0)));
        let flight = Arc::new(Flight {
            path,
            reader,
            progress,
            followers: AtomicUsize::new(0),
            cancel: Arc::new(AtomicBool::new(false)),
            hasher: hasher.clone(),
            max_bytes,
            over_limit: AtomicBool::new(false),
        });
        let writer = FlightWriter {
            file,
            flight: flight.clone(),
            hasher,
        };
        Ok((flight, writer))
    }

    /// The output outgrew `max_bytes` (and the run was stopped for it).
    pub fn over_limit(&self) -> bool {
        self.over_limit.load(Ordering::Relaxed)
    }

    pub fn finish(&self, state: State) {
        self.progress.send_modify(|p| p.state = state);
    }

    /// Size and MD5 of everything written.
    pub fn digest(&self) -> (u64, String) {
        match self.hasher.lock() {
            Ok(h) => (h.1, hex::encode(h.0.clone().finalize())),
            Err(_) => (0, String::new()),
        }
    }

    /// The MD5 state of everything written (for the staged file's etag).
    pub fn hasher(&self) -> Md5 {
        self.hasher.lock().map(|h| h.0.clone()).unwrap_or_default()
    }

    /// A new reader of this flight's bytes.
    pub fn follow(self: &Arc<Flight>) -> Follower {
        self.followers.fetch_add(1, Ordering::SeqCst);
        Follower {
            flight: self.clone(),
            progress: self.progress.subscribe(),
            offset: 0,
        }
    }

    /// Waits until the first bytes are written or the flight ends; `Err` when it failed first.
    pub async fn started(&self) -> Result<(), (ErrorKind, String)> {
        let mut rx = self.progress.subscribe();
        loop {
            let p = rx.borrow_and_update().clone();
            match p.state {
                State::Failed { kind, message } => return Err((kind, message)),
                State::Done => return Ok(()),
                State::Running if p.written > 0 => return Ok(()),
                State::Running => {}
            }
            if rx.changed().await.is_err() {
                return Err((ErrorKind::Internal, "the transformation stopped".into()));
            }
        }
    }
}

/// The engine's sink: appends to the staging file, hashes, and wakes readers.
#[derive(Debug)]
pub struct FlightWriter {
    file: File,
    flight: Arc<Flight>,
    hasher: Arc<Mutex<(Md5, u64)>>,
}

impl FlightWriter {
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_all()
    }
}

impl Write for FlightWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.flight.cancel.load(Ordering::Relaxed) {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if let Ok(mut h) = self.hasher.lock() {
            if h.1 + buf.len() as u64 > self.flight.max_bytes {
                self.flight.over_limit.store(true, Ordering::Relaxed);
                return Err(io::Error::other("the output outgrew its limit"));
            }
            self.file.write_all(buf)?;
            h.0.update(buf);
            h.1 += buf.len() as u64;
        }
        self.flight
            .progress
            .send_modify(|p| p.written += buf.len() as u64);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One request reading a flight from the start.
#[derive(Debug)]
pub struct Follower {
    flight: Arc<Flight>,
    progress: watch::Receiver<Progress>,
    offset: u64,
}

impl Drop for Follower {
    fn drop(&mut self) {
        let left = self.flight.followers.fetch_sub(1, Ordering::SeqCst) - 1;
        let running = matches!(self.progress.borrow().state, State::Running);
        if left == 0 && running {
            self.flight.cancel.store(true, Ordering::Relaxed);
        }
    }
}

const CHUNK: u64 = 256 * 1024;

impl Follower {
    pub fn flight(&self) -> &Arc<Flight> {
        &self.flight
    }

    async fn next_chunk(&mut self) -> Option<io::Result<Bytes>> {
        loop {
            let p = self.progress.borrow_and_update().clone();
            if self.offset < p.written {
                let len = (p.written - self.offset).min(CHUNK) as usize;
                let file = self.flight.reader.clone();
                let at = self.offset;
                let read = tokio::task::spawn_blocking(move || {
                    let mut buf = vec![0; len];
                    file.read_exact_at(&mut buf, at).map(|()| buf)
                })
                .await
                .unwrap_or_else(|e| Err(io::Error::other(e)));
                return Some(read.map(|buf| {
                    self.offset += buf.len() as u64;
                    Bytes::from(buf)
                }));
            }
            match p.state {
                State::Done => return None,
                State::Failed { message, .. } => return Some(Err(io::Error::other(message))),
                State::Running => {
                    if self.progress.changed().await.is_err() {
                        return Some(Err(io::Error::other("the transformation stopped")));
                    }
                }
            }
        }
    }

    /// The bytes as a stream for an HTTP body; an error mid-way aborts the response.
    pub fn into_stream(self) -> impl Stream<Item = io::Result<Bytes>> + Send {
        futures::stream::unfold(self, |mut f| async move {
            let chunk = f.next_chunk().await?;
            Some((chunk, f))
        })
    }
}
