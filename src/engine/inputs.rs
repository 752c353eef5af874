//! Demuxing and decoding a plan's inputs into the filter graph's buffer sources.
//!
//! Each input keeps its own demuxer and decoders; frames go to the graph's `[i:v]`/`[i:a]`
//! sources with their best-effort timestamps. Undecodable packets are skipped, as the CLI does.

use ff::{codec, decoder, format, frame, media};
use ffmpeg_next as ff;

use super::EngineError;
use crate::plan::Input;

/// A decoder feeding one buffer source.
pub(super) struct Feed<D> {
    pub stream: usize,
    pub decoder: D,
    /// Name of the buffer source in the graph (`0:v`).
    pub source: String,
    pub time_base: ff::Rational,
}

/// One opened input.
pub(super) struct Opened {
    pub demuxer: format::context::Input,
    pub video: Option<Feed<decoder::Video>>,
    pub audio: Option<Feed<decoder::Audio>>,
    pub done: bool,
}

fn threaded(ctx: &mut codec::context::Context) {
    ctx.set_threading(codec::threading::Config {
        kind: codec::threading::Type::Frame,
        count: 0,
        ..Default::default()
    });
}

pub(super) fn open(index: usize, input: &Input) -> Result<Opened, EngineError> {
    let mut demuxer = format::input(&input.path).map_err(EngineError::OpenInput)?;
    let mut video = None;
    let mut audio = None;
    if input.video {
        let s = demuxer
            .streams()
            .best(media::Type::Video)
            .ok_or(EngineError::MissingStream("video"))?;
        let mut ctx = codec::context::Context::from_parameters(s.parameters())
            .map_err(EngineError::Decoder)?;
        threaded(&mut ctx);
        let mut d = ctx.decoder().video().map_err(EngineError::Decoder)?;
        d.set_packet_time_base(s.time_base());
        video = Some(Feed {
            stream: s.index(),
            decoder: d,
            source: format!("{index}:v"),
            time_base: s.time_base(),
        });
    }
    if input.audio {
        let s = demuxer
            .streams()
            .best(media::Type::Audio)
            .ok_or(EngineError::MissingStream("audio"))?;
        let ctx = codec::context::Context::from_parameters(s.parameters())
            .map_err(EngineError::Decoder)?;
        let mut d = ctx.decoder().audio().map_err(EngineError::Decoder)?;
        d.set_packet_time_base(s.time_base());
        audio = Some(Feed {
            stream: s.index(),
            decoder: d,
            source: format!("{index}:a"),
            time_base: s.time_base(),
        });
    }
    if let Some(seconds) = input.seek {
        let ts = (seconds * f64::from(ff::ffi::AV_TIME_BASE)) as i64;
        // Seeking is an optimisation: the graph's trim is exact either way.
        let _ = demuxer.seek(ts, ..ts + 1);
    }
    Ok(Opened {
        demuxer,
        video,
        audio,
        done: false,
    })
}

/// `buffer` arguments for a video feed.
pub(super) fn video_source_args(f: &Feed<decoder::Video>) -> String {
    let d = &f.decoder;
    let sar = d.aspect_ratio();
    let (sn, sd) = if sar.numerator() > 0 && sar.denominator() > 0 {
        (sar.numerator(), sar.denominator())
    } else {
        (1, 1)
    };
    let pix: ff::ffi::AVPixelFormat = d.format().into();
    format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={sn}/{sd}",
        d.width(),
        d.height(),
        pix as i32,
        f.time_base.numerator(),
        f.time_base.denominator().max(1)
    )
}

/// `abuffer` arguments for an audio feed.
pub(super) fn audio_source_args(f: &Feed<decoder::Audio>) -> String {
    let d = &f.decoder;
    let mut layout = d.channel_layout();
    if layout.bits() == 0 {
        layout = ff::ChannelLayout::default(i32::from(d.channels().max(1)));
    }
    format!(
        "time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout=0x{:x}",
        f.time_base.numerator(),
        f.time_base.denominator().max(1),
        d.rate(),
        d.format().name(),
        layout.bits()
    )
}

/// Frames decoded from one packet (or from the flush after the last one).
pub(super) enum Decoded {
    Video(Vec<frame::Video>),
    Audio(Vec<frame::Audio>),
    Nothing,
}

/// Sends a packet (or end of stream, with `None`) to the matching decoder and collects frames.
pub(super) fn decode(input: &mut Opened, packet: Option<&ff::Packet>, stream: usize) -> Decoded {
    if let Some(f) = input.video.as_mut().filter(|f| f.stream == stream) {
        let _ = match packet {
            Some(p) => f.decoder.send_packet(p),
            None => f.decoder.send_eof(),
        };
        let mut frames = Vec::new();
        loop {
            let mut frame = frame::Video::empty();
            if f.decoder.receive_frame(&mut frame).is_err() {
                break;
            }
            let ts = frame.timestamp();
            frame.set_pts(ts);
            frame.set_kind(ff::picture::Type::None);
            frames.push(frame);
        }
        return Decoded::Video(frames);
    }
    if let Some(f) = input.audio.as_mut().filter(|f| f.stream == stream) {
        let _ = match packet {
            Some(p) => f.decoder.send_packet(p),
            None => f.decoder.send_eof(),
        };
        let mut frames = Vec::new();
        loop {
            let mut frame = frame::Audio::empty();
            if f.decoder.receive_frame(&mut frame).is_err() {
                break;
            }
            let ts = frame.timestamp();
            frame.set_pts(ts);
            frames.push(frame);
        }
        return Decoded::Audio(frames);
    }
    Decoded::Nothing
}
