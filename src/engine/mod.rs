//! The engine: every call into libav (ffmpeg-next), and the only module allowed `unsafe`.
//!
//! It probes uploads (what is this file, how big, how long, which codecs) and runs plans
//! (inputs → libavfilter graph → encoders → muxer → any `Write`). Work is blocking and
//! CPU-bound, so callers run it on blocking threads behind the transform limit.

mod colour;
mod frames;
mod inputs;
mod outputs;
mod probe;
mod progressive;
mod remux;
mod run;

pub use frames::{Sample, edge_color, sample_gray};
pub use probe::{AudioTrack, MediaInfo, MediaKind, VideoTrack, probe};
pub use remux::{remux_many, remux_seekable};
pub use run::{RunStats, run, run_merged};

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
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("Resolution too large: {width}x{height} is more than the maximum of {max} pixels")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the engine task failed: {0}")]
    Task(String),
    #[error("the input has no {0} stream")]
    MissingStream(&'static str),
    #[error("the decoder could not be opened ({0})")]
    Decoder(#[source] ffmpeg_next::Error),
    #[error("encoder {0} is not available in this libav build")]
    MissingEncoder(String),
    #[error("the encoder failed ({0})")]
    Encoder(#[source] ffmpeg_next::Error),
    #[error("the JPEG encoder failed ({0})")]
    JpegEncoder(String),
    #[error("the filter graph could not be built ({0})")]
    Graph(#[source] ffmpeg_next::Error),
    #[error("filtering {0} failed ({1})")]
    Filter(String, #[source] ffmpeg_next::Error),
    #[error("the output could not be created ({0})")]
    Output(#[source] ffmpeg_next::Error),
    #[error("writing the output failed ({0})")]
    Write(#[source] ffmpeg_next::Error),
    #[error("the transformation was cancelled")]
    Cancelled,
    /// What a `kino worker` process reported, or how it ended (`isolation`).
    #[error("{message}")]
    Isolated { kind: ErrorKind, message: String },
}

impl EngineError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Init(_)
            | EngineError::Task(_)
            | EngineError::MissingEncoder(_)
            | EngineError::Graph(_)
            | EngineError::Encoder(_)
            | EngineError::JpegEncoder(_)
            | EngineError::Output(_)
            | EngineError::Write(_)
            | EngineError::Cancelled => ErrorKind::Internal,
            EngineError::Isolated { kind, .. } => *kind,
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
