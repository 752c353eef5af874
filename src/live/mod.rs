//! Live streams: RTMP and SRT ingest, GStreamer pipelines to a ladder of renditions, and
//! low-latency HLS written by Kino from memory; when a session ends, its recording.
//!
//! One module per protocol, as in MediaMTX: [`rtmp`] and [`srt`] only turn a connection into
//! a stream key and bytes. Everything after that is shared: [`Live::begin`] admits a
//! publisher through the [`Gate`] (the service layer, which knows stream keys and profiles),
//! starts a [`session::Session`] with its pipeline and conductor thread, and watches it for
//! the idle timeout and the runtime cap. Viewers read the session's [`Broadcast`] through the
//! delivery routes; live playlists are served by the node that ingests.

pub mod broadcast;
pub mod packager;
pub mod pipeline;
pub mod rtmp;
pub mod session;
pub mod srt;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use broadcast::{Broadcast, Unavailable};
pub use pipeline::Container;
pub use session::Session;

use crate::url::Transformation;

/// What the service layer says about a stream key a publisher presents.
#[derive(Debug, Clone)]
pub struct Admission {
    pub stream_id: String,
    pub cloud: String,
    /// The streaming profile's representations (the ladder).
    pub representations: Vec<Transformation>,
    pub idle_timeout: Duration,
    pub max_runtime: Duration,
}

/// How a session ended, for the service layer to record.
#[derive(Debug)]
pub struct Ended {
    pub stream_id: String,
    /// `None` for a recording recovered after a restart: the stream's row says.
    pub cloud: Option<String>,
    pub reason: String,
    pub recording: Option<PathBuf>,
    pub seconds: f64,
}

/// The service layer, as the live module sees it: who may publish, and what to do after.
#[async_trait::async_trait]
pub trait Gate: Send + Sync + 'static {
    /// Admits a stream key, or says why not (an unknown key).
    async fn admit(&self, stream_key: &str) -> Result<Admission, String>;
    /// A session started.
    async fn started(&self, session: &Session);
    /// A session ended and drained.
    async fn ended(&self, ended: Ended);
}

/// Settings of live sessions.
#[derive(Debug, Clone)]
pub struct Settings {
    pub part_seconds: f64,
    pub segment_seconds: f64,
    /// Complete segments kept in the playlist window.
    pub window: usize,
    /// Where recordings are written while a session runs.
    pub recording_dir: PathBuf,
}

/// The live sessions of this node; cheap to clone.
#[derive(Debug, Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    /// Running sessions, by stream id.
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    /// The latest broadcast of each stream (kept after the end for the ended playlist).
    broadcasts: Mutex<HashMap<String, Arc<Broadcast>>>,
    /// Where ingest listens (after binding), for the input URIs the API shows.
    rtmp: Mutex<Option<SocketAddr>>,
    srt: Mutex<Option<SocketAddr>>,
    public_host: Mutex<Option<String>>,
    /// Sessions over whose recordings are being stored.
    finishing: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why a publisher was turned away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    UnknownKey(String),
    AlreadyPublishing,
    Failed(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::UnknownKey(why) => write!(f, "{why}"),
            Refused::AlreadyPublishing => {
                f.write_str("another publisher is live on this stream key")
            }
            Refused::Failed(why) => write!(f, "the live pipeline could not start: {why}"),
        }
    }
}

impl Live {
    pub fn new(settings: Settings) -> Result<Live, String> {
        pipeline::init()?;
        std::fs::create_dir_all(&settings.recording_dir).map_err(|e| {
            format!(
                "live recordings dir {}: {e}",
                settings.recording_dir.display()
            )
        })?;
        Ok(Live {
            inner: Arc::new(Inner {
                settings,
                sessions: Mutex::new(HashMap::new()),
                broadcasts: Mutex::new(HashMap::new()),
                rtmp: Mutex::new(None),
                srt: Mutex::new(None),
                public_host: Mutex::new(None),
                finishing: AtomicUsize::new(0),
            }),
        })
    }

    pub fn rtmp_address(&self) -> Option<SocketAddr> {
        *lock(&self.inner.rtmp)
    }

    pub fn srt_address(&self) -> Option<SocketAddr> {
        *lock(&self.inner.srt)
    }

    pub(crate) fn set_rtmp_address(&self, a: SocketAddr) {
        *lock(&self.inner.rtmp) = Some(a);
    }

    pub(crate) fn set_srt_address(&self, a: SocketAddr) {
        *lock(&self.inner.srt) = Some(a);
    }

    pub(crate) fn set_public_host(&self, host: Option<String>) {
        *lock(&self.inner.public_host) = host;
    }

    /// The RTMP URI encoders publish to (`{uri}/{stream_key}`), as the API shows it.
    pub fn rtmp_uri(&self) -> Option<String> {
        let a = self.rtmp_address()?;
        Some(format!("rtmp://{}/streams", self.host_port(a)))
    }

    /// The SRT URI of a stream key.
    pub fn srt_uri(&self, stream_key: &str) -> Option<String> {
        let a = self.srt_address()?;
        Some(format!("srt://{}?streamid={stream_key}", self.host_port(a)))
    }

    fn host_port(&self, a: SocketAddr) -> String {
        match lock(&self.inner.public_host).as_deref() {
            Some(host) => format!("{host}:{}", a.port()),
            None => a.to_string(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// How many sessions run on this node.
    pub fn running(&self) -> usize {
        lock(&self.inner.sessions).len()
    }

    /// The running session of a stream.
    pub fn session(&self, stream_id: &str) -> Option<Arc<Session>> {
        lock(&self.inner.sessions).get(stream_id).cloned()
    }

    /// The latest broadcast of a stream (running or ended).
    pub fn broadcast(&self, stream_id: &str) -> Option<Arc<Broadcast>> {
        lock(&self.inner.broadcasts).get(stream_id).cloned()
    }

    /// Forgets a deleted stream's last broadcast (its ended playlists).
    pub fn forget(&self, stream_id: &str) {
        lock(&self.inner.broadcasts).remove(stream_id);
    }

    /// Ends a stream's running session, if any (the API's idle or delete).
    pub fn stop(&self, stream_id: &str, reason: &str) -> bool {
        match self.session(stream_id) {
            Some(s) => {
                s.end(reason);
                true
            }
            None => false,
        }
    }

    /// Ends every session (shutdown).
    pub fn stop_all(&self) {
        let sessions: Vec<Arc<Session>> = lock(&self.inner.sessions).values().cloned().collect();
        for s in sessions {
            s.end("the server is shutting down");
        }
    }

    /// Admits a publisher of `stream_key` and starts its session.
    pub async fn begin(
        &self,
        gate: &Arc<dyn Gate>,
        stream_key: &str,
        container: Container,
    ) -> Result<Arc<Session>, Refused> {
        let admission = gate.admit(stream_key).await.map_err(Refused::UnknownKey)?;
        if self.session(&admission.stream_id).is_some() {
            return Err(Refused::AlreadyPublishing);
        }
        let settings = &self.inner.settings;
        let (out, rx) = std::sync::mpsc::channel();
        let source = pipeline::Source::start(container, out.clone()).map_err(Refused::Failed)?;
        let has_audio = source.has_audio.clone();
        let broadcast = Broadcast::new(
            session::now_ms(),
            0,
            settings.part_seconds,
            settings.segment_seconds,
            settings.window,
        );
        let session = Arc::new(Session::new(
            admission.stream_id.clone(),
            admission.cloud.clone(),
            broadcast.clone(),
            source,
        ));
        {
            let mut sessions = lock(&self.inner.sessions);
            if sessions.contains_key(&admission.stream_id) {
                return Err(Refused::AlreadyPublishing);
            }
            sessions.insert(admission.stream_id.clone(), session.clone());
        }
        lock(&self.inner.broadcasts).insert(admission.stream_id.clone(), broadcast);
        let recording = settings.recording_dir.join(format!(
            "{}-{}.mp4",
            admission.stream_id, session.started_ms
        ));
        let job = session::Conducting {
            session: session.clone(),
            representations: admission.representations.clone(),
            timing: packager::Timing {
                part: settings.part_seconds,
                segment: settings.segment_seconds,
            },
            recording,
            has_audio,
        };
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name(format!(
                "live-{}",
                &admission.stream_id[..8.min(admission.stream_id.len())]
            ))
            .spawn(move || {
                let finished = session::conduct(job, out, &rx);
                let _ = done_tx.send(finished);
            });
        if let Err(e) = spawned {
            lock(&self.inner.sessions).remove(&admission.stream_id);
            return Err(Refused::Failed(e.to_string()));
        }
        gate.started(&session).await;
        tokio::spawn(watch(
            session.clone(),
            admission.idle_timeout,
            admission.max_runtime,
        ));
        tokio::spawn(self.clone().follow(gate.clone(), session.clone(), done_rx));
        Ok(session)
    }
}

impl Live {
    /// Waits for a session's conductor to finish, then forgets the session and tells the gate.
    async fn follow(
        self,
        gate: Arc<dyn Gate>,
        session: Arc<Session>,
        done: tokio::sync::oneshot::Receiver<session::Finished>,
    ) {
        let finished = done.await.ok();
        let reason = session
            .stopped()
            .borrow()
            .clone()
            .unwrap_or_else(|| "the stream ended".into());
        session.end(&reason);
        // Stopping a pipeline blocks until its threads are done.
        let released = session.clone();
        let _ = tokio::task::spawn_blocking(move || released.release()).await;
        self.inner.finishing.fetch_add(1, Ordering::SeqCst);
        lock(&self.inner.sessions).remove(&session.stream_id);
        let (recording, seconds) = finished.map_or((None, 0.0), |f| (f.recording, f.seconds));
        gate.ended(Ended {
            stream_id: session.stream_id.clone(),
            cloud: Some(session.cloud.clone()),
            reason,
            recording,
            seconds,
        })
        .await;
        self.inner.finishing.fetch_sub(1, Ordering::SeqCst);
    }

    /// Ends every session and waits (up to `within`) until their recordings are stored:
    /// a graceful shutdown loses no recording.
    pub async fn drain(&self, within: Duration) {
        self.stop_all();
        let deadline = tokio::time::Instant::now() + within;
        while (self.running() > 0 || self.inner.finishing.load(Ordering::SeqCst) > 0)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Recordings a killed process left behind (`{stream id}-{start ms}.mp4`), oldest first:
    /// stored as the sessions' recordings at start-up, so a crash loses none.
    pub async fn recover(&self, gate: &Arc<dyn Gate>) {
        let Ok(entries) = std::fs::read_dir(&self.inner.settings.recording_dir) else {
            return;
        };
        let mut found: Vec<(String, PathBuf)> = entries
            .flatten()
            .map(|e| e.path())
            .filter_map(|path| {
                let name = path.file_name()?.to_str()?.to_string();
                if name.ends_with(".seekable.mp4") {
                    // A remux cut short: made again from the recording.
                    let _ = std::fs::remove_file(&path);
                    return None;
                }
                if !name.ends_with(".mp4") {
                    return None;
                }
                let (id, _) = name.split_once('-')?;
                Some((id.to_string(), path))
            })
            .collect();
        found.sort_by(|a, b| a.1.cmp(&b.1));
        for (stream_id, recording) in found {
            tracing::info!(stream = stream_id, file = %recording.display(), "recovering a live recording");
            gate.ended(Ended {
                stream_id,
                cloud: None,
                reason: "recovered after a restart".into(),
                recording: Some(recording),
                seconds: 0.0,
            })
            .await;
        }
    }
}

/// Ends a session that goes quiet for `idle` or runs longer than `max_runtime`.
async fn watch(session: Arc<Session>, idle: Duration, max_runtime: Duration) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let started = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        if session.is_ending() {
            return;
        }
        if session.idle_ms() > i64::try_from(idle.as_millis()).unwrap_or(i64::MAX) {
            session.end("no input for the idle timeout");
            return;
        }
        if started.elapsed() > max_runtime {
            session.end("the maximum runtime was reached");
            return;
        }
    }
}
