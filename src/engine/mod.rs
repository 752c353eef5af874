//! The engine: every call into libav (ffmpeg-next), and the only module allowed `unsafe`.
//!
//! For now it probes uploads (what is this file, how big, how long, which codecs); the
//! transformation pipeline (Plan → decode → filter → encode → sink) grows here next. Work is
//! blocking and CPU-bound, so callers run it on `spawn_blocking`.

mod probe;

pub use probe::{AudioTrack, MediaInfo, MediaKind, VideoTrack, probe};

use crate::error::ErrorKind;

/// Why libav could not do what was asked, named by step.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("libav could not be initialised")]
    Init(#[source] ffmpeg_next::Error),
    #[error("not a media file that can be read ({0})")]
    OpenInput(#[source] ffmpeg_next::Error),
    #[error("the file holds no video or audio stream")]
    NoMediaStreams,
    #[error("the media data is truncated or corrupt ({0})")]
    Corrupt(#[source] ffmpeg_next::Error),
    #[error("the media data is truncated: stream {stream} holds {read} of its {expected} packets")]
    Truncated {
        stream: usize,
        read: i64,
        expected: i64,
    },
    #[error("no frame of the {0} stream could be decoded")]
    Undecodable(&'static str),
    #[error("the engine task failed: {0}")]
    Task(String),
}

impl EngineError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Init(_) | EngineError::Task(_) => ErrorKind::Internal,
            _ => ErrorKind::BadInput,
        }
    }
}

/// Initialises libav once per process and keeps its log quiet (errors only).
pub fn init() -> Result<(), EngineError> {
    ffmpeg_next::init().map_err(EngineError::Init)?;
    ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    Ok(())
}
