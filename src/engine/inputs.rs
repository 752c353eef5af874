//! Demuxing and decoding a plan's inputs into the filter graph's buffer sources.
//!
//! Each input keeps its own demuxer and decoders; frames go to the graph's `[i:v]`/`[i:a]`
//! sources with their best-effort timestamps. Undecodable packets are skipped, as the CLI does.

use ff::{codec, decoder, format, frame, media};
use ffmpeg_next as ff;

use super::EngineError;
use super::colour::ToSrgb;
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
    /// Frames decoded before the graph existed (a picture's first), pushed first.
    pub primed: Vec<frame::Video>,
    /// Converts a picture's frames to sRGB (when the plan asks and its profile is not sRGB).
    pub colour: Option<ToSrgb>,
}

/// Opens a file for demuxing. Pictures skip `avformat_find_stream_info`, which would decode
/// the whole picture only to learn its size and pixel format; [`prime`] learns them from
/// the first real decode instead.
fn demuxer(input: &Input) -> Result<format::context::Input, EngineError> {
    if !input.picture {
        return format::input(&input.path).map_err(EngineError::OpenInput);
    }
    let path = std::ffi::CString::new(input.path.as_str())
        .map_err(|_| EngineError::OpenInput(ff::Error::InvalidData))?;
    let mut ctx = std::ptr::null_mut();
    // SAFETY: `ctx` starts null as avformat_open_input requires; on success it points to a
    // context we own, handed to `Input::wrap`, which closes it on drop. On failure libav
    // frees what it allocated and leaves `ctx` null.
    unsafe {
        match ff::ffi::avformat_open_input(
            &mut ctx,
            path.as_ptr(),
            std::ptr::null(),
            std::ptr::null_mut(),
        ) {
            0 => Ok(format::context::Input::wrap(ctx)),
            e => Err(EngineError::OpenInput(ff::Error::from(e))),
        }
    }
}

/// Decodes a picture's first frame so its decoder knows the size and pixel format the
/// graph's buffer source needs.
fn prime(opened: &mut Opened) -> Result<(), EngineError> {
    let Some(stream) = opened.video.as_ref().map(|f| f.stream) else {
        return Ok(());
    };
    while opened.primed.is_empty() {
        let mut packet = ff::Packet::empty();
        let frames = match packet.read(&mut opened.demuxer) {
            Ok(()) if packet.stream() != stream => continue,
            Ok(()) => decode(opened, Some(&packet), stream),
            Err(ff::Error::Eof) => {
                // The run loop meets the end again and closes the sources then.
                let flushed = decode(opened, None, stream);
                if let Decoded::Video(f) = flushed {
                    opened.primed = f;
                }
                return if opened.primed.is_empty() {
                    Err(EngineError::Undecodable("video"))
                } else {
                    Ok(())
                };
            }
            Err(e) => return Err(EngineError::Corrupt(e)),
        };
        if let Decoded::Video(f) = frames {
            opened.primed = f;
        }
    }
    Ok(())
}

fn threaded(ctx: &mut codec::context::Context) {
    ctx.set_threading(codec::threading::Config {
        kind: codec::threading::Type::Frame,
        count: 0,
        ..Default::default()
    });
}

pub(super) fn open(index: usize, input: &Input) -> Result<Opened, EngineError> {
    let mut demuxer = demuxer(input)?;
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
        let mut options = ff::Dictionary::new();
        if input.shrink > 0 {
            // JPEG's decoder can skip detail: 1/2, 1/4 or 1/8 size (the plan caps it at 3).
            options.set("lowres", &input.shrink.min(3).to_string());
        }
        let codec = decoder::find(s.parameters().id())
            .ok_or(EngineError::Decoder(ff::Error::DecoderNotFound))?;
        let mut d = ctx
            .decoder()
            .open_as_with(codec, options)
            .and_then(|o| o.video())
            .map_err(EngineError::Decoder)?;
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
    let mut opened = Opened {
        demuxer,
        video,
        audio,
        done: false,
        primed: Vec::new(),
        colour: None,
    };
    if input.picture {
        prime(&mut opened)?;
        if input.to_srgb {
            opened.colour = opened.primed.first().and_then(ToSrgb::for_frame);
            let primed = std::mem::take(&mut opened.primed);
            opened.primed = in_srgb(opened.colour.as_mut(), primed);
        }
    }
    Ok(opened)
}

/// Frames converted by `colour` when there is one (a frame that fails to convert is dropped:
/// the graph expects the converted format).
fn in_srgb(colour: Option<&mut ToSrgb>, frames: Vec<frame::Video>) -> Vec<frame::Video> {
    let Some(colour) = colour else {
        return frames;
    };
    frames
        .iter()
        .filter_map(|f| match colour.convert(f) {
            Ok(converted) => Some(converted),
            Err(e) => {
                tracing::warn!(error = %e, "a frame could not be converted to sRGB");
                None
            }
        })
        .collect()
}

/// `buffer` arguments for a video feed (in `converted` pixels when frames are converted).
pub(super) fn video_source_args(
    f: &Feed<decoder::Video>,
    converted: Option<ff::format::Pixel>,
) -> String {
    let d = &f.decoder;
    let sar = d.aspect_ratio();
    let (sn, sd) = if sar.numerator() > 0 && sar.denominator() > 0 {
        (sar.numerator(), sar.denominator())
    } else {
        (1, 1)
    };
    let pix: ff::ffi::AVPixelFormat = converted.unwrap_or(d.format()).into();
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
        return Decoded::Video(in_srgb(input.colour.as_mut(), frames));
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
