//! The GStreamer side of a live session: the publisher's bytes (FLV from RTMP, MPEG-TS from
//! SRT) are demuxed and parsed into H.264 access units and AAC frames; lower renditions are
//! decoded once and encoded by x264 at each rung's size and bit rate. Everything encoded comes
//! back to Rust through app sinks, where the packagers cut parts and segments.
//!
//! The top rendition is the publisher's own video when it fits the profile's top rung (no
//! re-encoding, no quality loss). Encoders are told to make an IDR exactly where the source
//! has a keyframe (a force-key-unit event from a pad probe), so segments start at the same
//! instants in every rendition and players switch between them cleanly.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;

use super::packager::{AudioFrame, VideoFrame};
use crate::streaming::fmp4::{AudioTrack, VideoTrack};

/// How the publisher's bytes are packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// RTMP's FLV tags.
    Flv,
    /// SRT's MPEG-TS.
    MpegTs,
}

/// What comes out of the pipelines, in order per source, into the conductor's channel.
#[derive(Debug)]
pub enum Output {
    /// The source's video, with its track shape (every sample carries it; cheap to clone).
    SourceVideo(VideoFrame, Shape),
    SourceAudio(AudioFrame, AudioTrack),
    /// A transcoded rendition's video.
    Encoded(usize, VideoFrame, Shape),
    /// A sink saw the end of its stream.
    SourceVideoEnd,
    SourceAudioEnd,
    EncodedEnd(usize),
    /// A pipeline failed (bad data, an element error); its sinks will see no more.
    Failed(String),
}

/// A video track's shape, as its caps say.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub track: VideoTrack,
    pub frame_rate: f64,
}

/// One rung the transcoder makes.
#[derive(Debug, Clone, Copy)]
pub struct Rung {
    pub rendition: usize,
    pub width: u32,
    pub height: u32,
    pub bps: u64,
}

/// Makes sure GStreamer is initialised (once per process).
pub fn init() -> Result<(), String> {
    gst::init().map_err(|e| format!("GStreamer: {e}"))
}

/// The ingest pipeline: publisher bytes in, source video and audio out.
#[derive(Debug)]
pub struct Source {
    pipeline: gst::Pipeline,
    input: gst_app::AppSrc,
    /// Whether the demuxer found an AAC track (else no audio end will come).
    pub has_audio: Arc<AtomicBool>,
}

impl Source {
    pub fn start(container: Container, out: Sender<Output>) -> Result<Source, String> {
        let (caps, demux) = match container {
            Container::Flv => ("video/x-flv", "flvdemux"),
            Container::MpegTs => ("video/mpegts,systemstream=true", "tsdemux"),
        };
        let description = format!(
            "appsrc name=input is-live=true format=bytes caps={caps} ! {demux} name=demux \
             queue name=vq max-size-time=0 max-size-buffers=0 max-size-bytes=0 ! h264parse ! \
             video/x-h264,stream-format=avc,alignment=au ! appsink name=video sync=false \
             queue name=aq max-size-time=0 max-size-buffers=0 max-size-bytes=0 ! aacparse ! \
             audio/mpeg,stream-format=raw ! appsink name=audio sync=false"
        );
        let pipeline = launch(&description)?;
        let input = by_name::<gst_app::AppSrc>(&pipeline, "input")?;
        let demux = by_name::<gst::Element>(&pipeline, "demux")?;
        let vq = by_name::<gst::Element>(&pipeline, "vq")?;
        let aq = by_name::<gst::Element>(&pipeline, "aq")?;
        let has_audio = Arc::new(AtomicBool::new(false));
        let weak = pipeline.downgrade();
        let audio_flag = has_audio.clone();
        demux.connect_pad_added(move |_, pad| {
            let Some(pipeline) = weak.upgrade() else {
                return;
            };
            link_demuxed(&pipeline, pad, &vq, &aq, &audio_flag);
        });

        let video_out = out.clone();
        let video_end = out.clone();
        by_name::<gst_app::AppSink>(&pipeline, "video")?.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let Some((frame, shape)) = video_of(&sample) {
                        video_out
                            .send(Output::SourceVideo(frame, shape))
                            .map_err(|_| gst::FlowError::Flushing)?;
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .eos(move |_| {
                    let _ = video_end.send(Output::SourceVideoEnd);
                })
                .build(),
        );
        let audio_out = out.clone();
        let audio_end = out.clone();
        by_name::<gst_app::AppSink>(&pipeline, "audio")?.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let Some((frame, track)) = audio_of(&sample) {
                        audio_out
                            .send(Output::SourceAudio(frame, track))
                            .map_err(|_| gst::FlowError::Flushing)?;
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .eos(move |_| {
                    let _ = audio_end.send(Output::SourceAudioEnd);
                })
                .build(),
        );
        watch_errors(&pipeline, out);
        play(&pipeline)?;
        Ok(Source {
            pipeline,
            input,
            has_audio,
        })
    }

    /// Hands the publisher's bytes to the demuxer.
    pub fn push(&self, bytes: Vec<u8>) -> bool {
        self.input
            .push_buffer(gst::Buffer::from_mut_slice(bytes))
            .is_ok()
    }

    /// No more bytes: the end flows through to every sink.
    pub fn finish(&self) {
        let _ = self.input.end_of_stream();
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Links a new demuxer pad to the video or audio branch, or to nowhere.
fn link_demuxed(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    vq: &gst::Element,
    aq: &gst::Element,
    has_audio: &AtomicBool,
) {
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let name = caps
        .structure(0)
        .map(|s| s.name().to_string())
        .unwrap_or_default();
    let aac = caps.structure(0).is_some_and(|s| {
        s.name() == "audio/mpeg" && s.get::<i32>("mpegversion").is_ok_and(|v| v == 2 || v == 4)
    });
    let target = if name == "video/x-h264" {
        vq.static_pad("sink").filter(|p| !p.is_linked())
    } else if aac {
        aq.static_pad("sink").filter(|p| !p.is_linked())
    } else {
        None
    };
    let linked = target.is_some_and(|sink| pad.link(&sink).is_ok());
    if linked {
        if aac {
            has_audio.store(true, Ordering::SeqCst);
        }
        return;
    }
    tracing::warn!(caps = %name, "live: a track Kino does not carry (H.264 and AAC only) is dropped");
    if let Ok(sink) = gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .build()
        && pipeline.add(&sink).is_ok()
    {
        let _ = sink.sync_state_with_parent();
        if let Some(sink_pad) = sink.static_pad("sink") {
            let _ = pad.link(&sink_pad);
        }
    }
}

/// The transcoder: the source's H.264 decoded once, scaled and encoded for each rung.
#[derive(Debug)]
pub struct Transcoder {
    pipeline: gst::Pipeline,
    input: gst_app::AppSrc,
}

impl Transcoder {
    /// Starts encoders for `rungs`; `keyframes` holds the source keyframes' timestamps (ns),
    /// where each encoder makes an IDR.
    pub fn start(
        source: &Shape,
        rungs: &[Rung],
        keyframes: &Arc<Mutex<BTreeSet<u64>>>,
        out: &Sender<Output>,
    ) -> Result<Transcoder, String> {
        let mut description = String::from(
            // Encoders that fall behind lose frames rather than queue them without end.
            "appsrc name=input is-live=true format=time max-time=2000000000 \
             leaky-type=downstream ! h264parse ! avdec_h264 ! videoconvert ! tee name=t",
        );
        for rung in rungs {
            let kbps = (rung.bps / 1000).max(100);
            let i = rung.rendition;
            description.push_str(&format!(
                " t. ! queue max-size-time=2000000000 max-size-buffers=0 max-size-bytes=0 \
                 leaky=downstream ! videoscale ! \
                 video/x-raw,width={},height={},pixel-aspect-ratio=1/1 ! \
                 x264enc name=enc{i} speed-preset=veryfast tune=zerolatency bitrate={kbps} \
                 vbv-buf-capacity=1000 key-int-max=100000 option-string=scenecut=0 ! \
                 video/x-h264,profile=main ! h264parse ! \
                 video/x-h264,stream-format=avc,alignment=au ! appsink name=out{i} sync=false",
                rung.width, rung.height,
            ));
        }
        let pipeline = launch(&description)?;
        let input = by_name::<gst_app::AppSrc>(&pipeline, "input")?;
        let caps = gst::Caps::builder("video/x-h264")
            .field("stream-format", "avc")
            .field("alignment", "au")
            .field("width", i32::try_from(source.track.width).unwrap_or(0))
            .field("height", i32::try_from(source.track.height).unwrap_or(0))
            .field(
                "codec_data",
                gst::Buffer::from_slice(source.track.avcc.clone()),
            )
            .build();
        input.set_caps(Some(&caps));
        for rung in rungs {
            let i = rung.rendition;
            let encoder = by_name::<gst::Element>(&pipeline, &format!("enc{i}"))?;
            force_keyframes_at(&encoder, keyframes.clone());
            let samples = out.clone();
            let end = out.clone();
            by_name::<gst_app::AppSink>(&pipeline, &format!("out{i}"))?.set_callbacks(
                gst_app::AppSinkCallbacks::builder()
                    .new_sample(move |sink| {
                        let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                        if let Some((frame, shape)) = video_of(&sample) {
                            samples
                                .send(Output::Encoded(i, frame, shape))
                                .map_err(|_| gst::FlowError::Flushing)?;
                        }
                        Ok(gst::FlowSuccess::Ok)
                    })
                    .eos(move |_| {
                        let _ = end.send(Output::EncodedEnd(i));
                    })
                    .build(),
            );
        }
        watch_errors(&pipeline, out.clone());
        play(&pipeline)?;
        Ok(Transcoder { pipeline, input })
    }

    /// Feeds one source access unit (with its timestamps and keyframe flag).
    pub fn push(&self, frame: &VideoFrame) -> bool {
        let mut buffer = gst::Buffer::from_slice(frame.data.clone());
        if let Some(b) = buffer.get_mut() {
            b.set_pts(clock(frame.pts));
            b.set_dts(clock(frame.dts));
            if !frame.keyframe {
                b.set_flags(gst::BufferFlags::DELTA_UNIT);
            }
        }
        self.input.push_buffer(buffer).is_ok()
    }

    pub fn finish(&self) {
        let _ = self.input.end_of_stream();
    }
}

impl Drop for Transcoder {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Makes `encoder` produce an IDR for each frame whose timestamp is in `keyframes`.
fn force_keyframes_at(encoder: &gst::Element, keyframes: Arc<Mutex<BTreeSet<u64>>>) {
    let Some(pad) = encoder.static_pad("sink") else {
        return;
    };
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let Some(pts) = info.buffer().and_then(|b| b.pts()) else {
            return gst::PadProbeReturn::Ok;
        };
        let is_key = keyframes
            .lock()
            .map(|k| k.contains(&pts.nseconds()))
            .unwrap_or(false);
        if is_key {
            // No running time: "the next frame", which is this one (x264enc shifts its
            // frames' running times by 1000 h, so a real time would be taken as past).
            let event = gst_video::DownstreamForceKeyUnitEvent::builder()
                .timestamp(pts)
                .running_time(gst::ClockTime::NONE)
                .all_headers(true)
                .build();
            let _ = pad.send_event(event);
        }
        gst::PadProbeReturn::Ok
    });
}

/// Posts pipeline errors to the conductor.
fn watch_errors(pipeline: &gst::Pipeline, out: Sender<Output>) {
    let Some(bus) = pipeline.bus() else {
        return;
    };
    bus.set_sync_handler(move |_, message| {
        if let gst::MessageView::Error(e) = message.view() {
            let _ = out.send(Output::Failed(format!(
                "{}: {}",
                e.src().map(|s| s.name().to_string()).unwrap_or_default(),
                e.error()
            )));
        }
        gst::BusSyncReply::Drop
    });
}

fn launch(description: &str) -> Result<gst::Pipeline, String> {
    gst::parse::launch(description)
        .map_err(|e| format!("building the live pipeline: {e}"))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "the live pipeline is not a pipeline".to_string())
}

fn by_name<T: IsA<gst::Element>>(pipeline: &gst::Pipeline, name: &str) -> Result<T, String> {
    pipeline
        .by_name(name)
        .and_then(|e| e.downcast::<T>().ok())
        .ok_or_else(|| format!("the live pipeline has no {name}"))
}

fn play(pipeline: &gst::Pipeline) -> Result<(), String> {
    pipeline
        .set_state(gst::State::Playing)
        .map(|_| ())
        .map_err(|e| format!("starting the live pipeline: {e}"))
}

fn clock(ns: i64) -> Option<gst::ClockTime> {
    u64::try_from(ns).ok().map(gst::ClockTime::from_nseconds)
}

fn bytes_of(buffer: &gst::BufferRef) -> Option<Bytes> {
    let map = buffer.map_readable().ok()?;
    Some(Bytes::copy_from_slice(map.as_slice()))
}

fn codec_data(caps: &gst::CapsRef) -> Option<Vec<u8>> {
    let buffer = caps.structure(0)?.get::<gst::Buffer>("codec_data").ok()?;
    let map = buffer.map_readable().ok()?;
    Some(map.as_slice().to_vec())
}

/// An access unit and its track's shape from an app sink sample.
fn video_of(sample: &gst::Sample) -> Option<(VideoFrame, Shape)> {
    let buffer = sample.buffer()?;
    let caps = sample.caps()?;
    let s = caps.structure(0)?;
    let width = u32::try_from(s.get::<i32>("width").ok()?).ok()?;
    let height = u32::try_from(s.get::<i32>("height").ok()?).ok()?;
    let frame_rate = s
        .get::<gst::Fraction>("framerate")
        .ok()
        .filter(|f| f.denom() > 0)
        .map_or(0.0, |f| f64::from(f.numer()) / f64::from(f.denom()));
    let pts = buffer.pts().or(buffer.dts())?.nseconds();
    let dts = buffer
        .dts()
        .unwrap_or(gst::ClockTime::from_nseconds(pts))
        .nseconds();
    let frame = VideoFrame {
        data: bytes_of(buffer)?,
        dts: i64::try_from(dts).ok()?,
        pts: i64::try_from(pts).ok()?,
        keyframe: !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT),
    };
    let shape = Shape {
        track: VideoTrack {
            width,
            height,
            avcc: codec_data(caps)?,
        },
        frame_rate,
    };
    Some((frame, shape))
}

/// An AAC frame and its track's shape from an app sink sample.
fn audio_of(sample: &gst::Sample) -> Option<(AudioFrame, AudioTrack)> {
    let buffer = sample.buffer()?;
    let caps = sample.caps()?;
    let s = caps.structure(0)?;
    let track = AudioTrack {
        sample_rate: u32::try_from(s.get::<i32>("rate").ok()?).ok()?,
        channels: u32::try_from(s.get::<i32>("channels").unwrap_or(2)).unwrap_or(2),
        config: codec_data(caps)?,
    };
    let frame = AudioFrame {
        data: bytes_of(buffer)?,
        pts: i64::try_from(buffer.pts()?.nseconds()).ok()?,
    };
    Some((frame, track))
}
