//! One live session: from a publisher's first accepted byte to the end of its recording.
//!
//! The ingest connection pushes bytes into the session's [`Source`] pipeline. A conductor
//! thread receives what the pipelines produce, decides the ladder when the first video frame
//! shows the source's size, drives one [`Packager`] per rendition, publishes their parts into
//! the [`Broadcast`] and writes the top rendition to the recording file. A session ends once:
//! the publisher leaves, input stops for the idle timeout, the runtime cap is reached, or the
//! API idles or deletes the stream; then the pipelines drain, playlists get `EXT-X-ENDLIST`
//! and the recording is handed over.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::broadcast::{Broadcast, Shape};
use super::packager::{AudioFrame, Event, Packager, Timing};
use super::pipeline::{Output, Rung, Source, Transcoder};
use crate::plan::Media;
use crate::streaming::fmp4::AudioTrack;
use crate::streaming::ladder;
use crate::url::Transformation;

/// After the end is asked for, the pipelines get this long to drain.
const DRAIN: Duration = Duration::from_secs(5);
/// A stream with no H.264 picture by then is ended: there is nothing to play.
const FIRST_VIDEO: Duration = Duration::from_secs(15);
/// Audio frames kept while waiting for the first video frame (about 10 s of AAC at 48 kHz).
const EARLY_AUDIO_FRAMES: usize = 480;

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The live session of one stream.
#[derive(Debug)]
pub struct Session {
    pub stream_id: String,
    pub cloud: String,
    pub broadcast: Arc<Broadcast>,
    source: Mutex<Option<Source>>,
    last_input_ms: AtomicI64,
    pub started_ms: i64,
    ending: AtomicBool,
    /// Set to the reason once the session ends; the ingest connection closes on it.
    stop: watch::Sender<Option<String>>,
}

impl Session {
    pub fn new(
        stream_id: String,
        cloud: String,
        broadcast: Arc<Broadcast>,
        source: Source,
    ) -> Session {
        let (stop, _) = watch::channel(None);
        let now = now_ms();
        Session {
            stream_id,
            cloud,
            broadcast,
            source: Mutex::new(Some(source)),
            last_input_ms: AtomicI64::new(now),
            started_ms: now,
            ending: AtomicBool::new(false),
            stop,
        }
    }

    /// Bytes from the publisher. False once the session is ending (the connection closes).
    pub fn push(&self, bytes: Vec<u8>) -> bool {
        if self.ending.load(Ordering::SeqCst) {
            return false;
        }
        self.last_input_ms.store(now_ms(), Ordering::SeqCst);
        let source = self.source.lock().unwrap_or_else(|p| p.into_inner());
        source.as_ref().is_some_and(|s| s.push(bytes))
    }

    /// Milliseconds since the publisher last sent anything.
    pub fn idle_ms(&self) -> i64 {
        now_ms() - self.last_input_ms.load(Ordering::SeqCst)
    }

    /// Ends the session (once): no more input; the pipelines drain.
    pub fn end(&self, reason: &str) {
        if self.ending.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::info!(stream = self.stream_id, reason, "live session ending");
        if let Some(source) = self
            .source
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            source.finish();
        }
        self.stop.send_replace(Some(reason.to_string()));
    }

    pub fn is_ending(&self) -> bool {
        self.ending.load(Ordering::SeqCst)
    }

    /// Resolves with the reason once the session ends.
    pub fn stopped(&self) -> watch::Receiver<Option<String>> {
        self.stop.subscribe()
    }

    /// Drops the pipelines (after the conductor is done with them).
    pub fn release(&self) {
        self.source.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// The source as the ladder sees it (the facts a probe would give a file).
fn live_media(source: &super::pipeline::Shape, has_audio: bool) -> Media {
    Media {
        width: source.track.width,
        height: source.track.height,
        fps: source.frame_rate,
        has_video: true,
        has_audio,
        ..Media::file()
    }
}

/// What the conductor needs to know about the session it runs.
#[derive(Debug)]
pub struct Conducting {
    pub session: Arc<Session>,
    pub representations: Vec<Transformation>,
    pub timing: Timing,
    pub recording: PathBuf,
    pub has_audio: Arc<AtomicBool>,
}

/// What a finished session left.
#[derive(Debug)]
pub struct Finished {
    /// The top rendition as one fragmented MP4, when anything was recorded.
    pub recording: Option<PathBuf>,
    pub seconds: f64,
    pub error: Option<String>,
}

/// The conductor's state: the ladder (once decided), its packagers and transcoder.
struct Conductor {
    job: Conducting,
    out: std::sync::mpsc::Sender<Output>,
    ladder: Option<Ladder>,
    /// Audio that came before the ladder was decided.
    early_audio: Vec<(AudioFrame, AudioTrack)>,
    keyframes: Arc<Mutex<BTreeSet<u64>>>,
    recording: Option<std::io::BufWriter<std::fs::File>>,
    recorded_seconds: f64,
    source_video_done: bool,
    source_audio_done: bool,
    error: Option<String>,
}

struct Ladder {
    packagers: Vec<Packager>,
    passthrough: bool,
    transcoder: Option<Transcoder>,
    encoders_done: Vec<bool>,
}

/// Runs on its own thread until the session's pipelines are drained.
pub fn conduct(
    job: Conducting,
    out: std::sync::mpsc::Sender<Output>,
    rx: &Receiver<Output>,
) -> Finished {
    let mut c = Conductor {
        job,
        out,
        ladder: None,
        early_audio: Vec::new(),
        keyframes: Arc::new(Mutex::new(BTreeSet::new())),
        recording: None,
        recorded_seconds: 0.0,
        source_video_done: false,
        source_audio_done: false,
        error: None,
    };
    let mut ending_since: Option<Instant> = None;
    let started = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(output) => c.handle(output),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if c.ladder.is_none() && started.elapsed() > FIRST_VIDEO && !c.job.session.is_ending() {
            c.error
                .get_or_insert_with(|| "no H.264 video in the stream".into());
            c.job.session.end("no H.264 video in the stream");
        }
        if c.done() {
            break;
        }
        if c.job.session.is_ending() {
            let since = *ending_since.get_or_insert_with(Instant::now);
            if since.elapsed() > DRAIN {
                tracing::warn!(
                    stream = c.job.session.stream_id,
                    "live pipelines did not drain in time"
                );
                break;
            }
        }
    }
    c.finish()
}

impl Conductor {
    fn handle(&mut self, output: Output) {
        match output {
            Output::SourceVideo(frame, shape) => {
                if self.ladder.is_none() {
                    self.decide(&shape);
                }
                if frame.keyframe
                    && let Ok(mut k) = self.keyframes.lock()
                {
                    let pts = u64::try_from(frame.pts).unwrap_or(0);
                    k.insert(pts);
                    // Forget keyframes the encoders are long past.
                    while k.len() > 64 {
                        k.pop_first();
                    }
                }
                let Some(ladder) = self.ladder.as_mut() else {
                    return;
                };
                if let Some(t) = &ladder.transcoder {
                    t.push(&frame);
                }
                if ladder.passthrough {
                    ladder.packagers[0].set_video(shape.track);
                    let events = ladder.packagers[0].push_video(frame);
                    self.publish(0, events);
                }
            }
            Output::SourceAudio(frame, track) => match self.ladder.as_mut() {
                None => {
                    // Before any video: keep the last few seconds only.
                    if self.early_audio.len() >= EARLY_AUDIO_FRAMES {
                        self.early_audio.remove(0);
                    }
                    self.early_audio.push((frame, track));
                }
                Some(_) => self.audio(&frame, &track),
            },
            Output::Encoded(i, frame, shape) => {
                if let Some(p) = self.ladder.as_mut().and_then(|l| l.packagers.get_mut(i)) {
                    p.set_video(shape.track);
                    let events = p.push_video(frame);
                    self.publish(i, events);
                }
            }
            Output::SourceVideoEnd => {
                self.source_video_done = true;
                if let Some(t) = self.ladder.as_ref().and_then(|l| l.transcoder.as_ref()) {
                    t.finish();
                }
            }
            Output::SourceAudioEnd => self.source_audio_done = true,
            Output::EncodedEnd(i) => {
                if let Some(d) = self
                    .ladder
                    .as_mut()
                    .and_then(|l| l.encoders_done.get_mut(i))
                {
                    *d = true;
                }
            }
            Output::Failed(message) => {
                tracing::warn!(
                    stream = self.job.session.stream_id,
                    error = message,
                    "live pipeline failed"
                );
                self.error.get_or_insert(message);
                self.job.session.end("the stream could not be read");
                self.source_video_done = true;
                self.source_audio_done = true;
                if let Some(l) = self.ladder.as_mut() {
                    l.encoders_done.iter_mut().for_each(|d| *d = true);
                }
            }
        }
    }

    fn audio(&mut self, frame: &AudioFrame, track: &AudioTrack) {
        let count = self.ladder.as_ref().map_or(0, |l| l.packagers.len());
        for i in 0..count {
            let Some(p) = self.ladder.as_mut().and_then(|l| l.packagers.get_mut(i)) else {
                continue;
            };
            let mut events = p.set_audio(track.clone());
            p.push_audio(frame.clone());
            if events.is_empty() {
                continue;
            }
            events.shrink_to_fit();
            self.publish(i, events);
        }
    }

    /// The ladder for this source: the profile's renditions at the source's size; the top one
    /// is the source itself when it fits the top rung.
    fn decide(&mut self, source: &super::pipeline::Shape) {
        let media = live_media(source, self.job.has_audio.load(Ordering::SeqCst));
        let renditions = ladder::renditions(&self.job.representations, &media);
        let passthrough = renditions
            .first()
            .is_none_or(|r| (r.width, r.height) == (source.track.width, source.track.height));
        let count = renditions.len().max(1);
        self.job.session.broadcast.configure(count);
        let mut rungs = Vec::new();
        for (i, r) in renditions.iter().enumerate() {
            let is_source = passthrough && i == 0;
            if !is_source {
                rungs.push(Rung {
                    rendition: i,
                    width: r.width,
                    height: r.height,
                    bps: r.video_bps,
                });
            }
            self.job.session.broadcast.set_shape(
                i,
                Shape {
                    width: r.width,
                    height: r.height,
                    codecs: String::new(),
                    frame_rate: source.frame_rate,
                    nominal_bps: r.video_bps + ladder::AUDIO_BPS,
                    measured: is_source,
                },
            );
        }
        let transcoder = if rungs.is_empty() {
            None
        } else {
            match Transcoder::start(source, &rungs, &self.keyframes, &self.out) {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::warn!(
                        error = e,
                        "live transcoder did not start; the source alone is served"
                    );
                    self.source_only(source);
                    return;
                }
            }
        };
        let mut encoders_done = vec![true; count];
        if transcoder.is_some() {
            for r in &rungs {
                encoders_done[r.rendition] = false;
            }
        }
        tracing::info!(
            stream = self.job.session.stream_id,
            width = source.track.width,
            height = source.track.height,
            renditions = count,
            passthrough,
            "live ladder"
        );
        self.ladder = Some(Ladder {
            packagers: (0..count).map(|_| Packager::new(self.job.timing)).collect(),
            passthrough,
            transcoder,
            encoders_done,
        });
        for (frame, track) in std::mem::take(&mut self.early_audio) {
            self.audio(&frame, &track);
        }
    }

    /// The ladder is the source alone, passed through (when no encoder can run).
    fn source_only(&mut self, source: &super::pipeline::Shape) {
        let broadcast = &self.job.session.broadcast;
        broadcast.configure(1);
        broadcast.set_shape(
            0,
            Shape {
                width: source.track.width,
                height: source.track.height,
                codecs: String::new(),
                frame_rate: source.frame_rate,
                nominal_bps: 2_000_000,
                measured: true,
            },
        );
        self.ladder = Some(Ladder {
            packagers: vec![Packager::new(self.job.timing)],
            passthrough: true,
            transcoder: None,
            encoders_done: vec![true],
        });
        for (frame, track) in std::mem::take(&mut self.early_audio) {
            self.audio(&frame, &track);
        }
    }

    fn done(&self) -> bool {
        let audio_done = self.source_audio_done || !self.job.has_audio.load(Ordering::SeqCst);
        let encoders_done = self
            .ladder
            .as_ref()
            .is_none_or(|l| l.encoders_done.iter().all(|d| *d));
        self.source_video_done && audio_done && encoders_done
    }

    /// Hands a packager's events to the broadcast (and the top rendition's to the recording).
    fn publish(&mut self, rendition: usize, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        if rendition == 0 {
            self.record(&events);
        }
        for e in &events {
            if let Event::Init { codecs, .. } = e {
                self.job.session.broadcast.set_codecs(rendition, codecs);
            }
        }
        self.job.session.broadcast.apply(rendition, events);
    }

    fn record(&mut self, events: &[Event]) {
        for e in events {
            let bytes = match e {
                Event::Init { bytes, .. } => {
                    match std::fs::File::create(&self.job.recording) {
                        Ok(f) => self.recording = Some(std::io::BufWriter::new(f)),
                        Err(err) => {
                            tracing::warn!(error = %err, "live recording could not be created");
                        }
                    }
                    bytes
                }
                Event::Part {
                    bytes, duration, ..
                } => {
                    self.recorded_seconds += duration;
                    bytes
                }
                Event::SegmentEnd => continue,
            };
            // Flushed part by part: a crash leaves whole fragments, which start-up recovers.
            if let Some(w) = self.recording.as_mut()
                && let Err(err) = w.write_all(bytes).and_then(|()| w.flush())
            {
                tracing::warn!(error = %err, "live recording stopped");
                self.recording = None;
            }
        }
    }

    fn finish(mut self) -> Finished {
        if let Some(mut ladder) = self.ladder.take() {
            for i in 0..ladder.packagers.len() {
                let events = ladder.packagers[i].finish();
                self.publish(i, events);
            }
            drop(ladder.transcoder.take());
            // The end is announced when the next part would have come, not with the last
            // part: hls.js (1.7) never loads a part it first sees in a playlist that
            // already has `EXT-X-ENDLIST`, and stalls just before the end.
            std::thread::sleep(Duration::from_secs_f64(self.job.timing.part));
        }
        self.job.session.broadcast.end();
        let recording = self.recording.take().and_then(|mut w| match w.flush() {
            Ok(()) => Some(self.job.recording.clone()),
            Err(e) => {
                tracing::warn!(error = %e, "live recording could not be finished");
                None
            }
        });
        Finished {
            recording: recording.filter(|_| self.recorded_seconds > 0.0),
            seconds: self.recorded_seconds,
            error: self.error,
        }
    }
}
