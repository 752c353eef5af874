//! Encoders and the muxer: opened from the plan and from what the graph's sinks deliver, writing
//! into any `Write` (a channel, a file, stdout) through custom AVIO.

use std::io::{Cursor, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, PoisonError};

use ff::{Dictionary, codec, encoder, format};
use ffmpeg_next as ff;

use super::EngineError;
use crate::plan::{AudioEncoding, Plan, VideoEncoding};

/// What a buffersink hands out, read once the graph is configured.
#[derive(Debug, Clone, Copy)]
pub(super) struct VideoSinkInfo {
    pub width: u32,
    pub height: u32,
    pub format: ff::format::Pixel,
    pub time_base: ff::Rational,
    pub frame_rate: ff::Rational,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct AudioSinkInfo {
    pub rate: u32,
    pub format: ff::format::Sample,
    pub layout: ff::ChannelLayout,
    pub time_base: ff::Rational,
}

/// An opened encoder and the output stream it writes to.
pub(super) struct Encoded<E> {
    pub encoder: E,
    pub stream: usize,
    pub time_base: ff::Rational,
    /// Packet duration to set when the encoder leaves it at zero (libav 5.1 does for video).
    pub frame_duration: i64,
}

fn options(pairs: &[(String, String)]) -> Dictionary<'static> {
    let mut d = Dictionary::new();
    for (k, v) in pairs {
        d.set(k, v);
    }
    d.set("threads", "auto");
    d
}

fn find(name: &str) -> Result<ff::Codec, EngineError> {
    encoder::find_by_name(name).ok_or_else(|| EngineError::MissingEncoder(name.to_string()))
}

/// An in-memory file for muxers that seek back to patch headers (AVIF, ICO). Only pictures
/// use them, so holding the output in memory is cheap; the caller copies it out at the end.
#[derive(Debug, Clone, Default)]
pub(super) struct MemoryFile(Arc<Mutex<Cursor<Vec<u8>>>>);

impl MemoryFile {
    pub(super) fn take(&self) -> Vec<u8> {
        let mut cursor = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(cursor.get_mut())
    }
}

impl Write for MemoryFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for MemoryFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .seek(to)
    }
}

/// Creates a muxer writing into memory it can seek in.
pub(super) fn seekable_muxer(
    plan: &Plan,
    file: MemoryFile,
) -> Result<format::context::Output, EngineError> {
    let io = format::context::StreamIo::from_write_seek(file).map_err(EngineError::Output)?;
    format::output_to_stream(io, None, Some(&plan.muxer)).map_err(EngineError::Output)
}

/// Creates the muxer writing into `sink`.
pub(super) fn muxer<W: Write + Send + 'static>(
    plan: &Plan,
    sink: W,
) -> Result<format::context::Output, EngineError> {
    let io = format::context::StreamIo::from_write(sink).map_err(EngineError::Output)?;
    format::output_to_stream(io, None, Some(&plan.muxer)).map_err(EngineError::Output)
}

pub(super) fn video(
    octx: &mut format::context::Output,
    plan: &VideoEncoding,
    sink: VideoSinkInfo,
    fallback_fps: f64,
) -> Result<Encoded<encoder::Video>, EngineError> {
    let codec = find(&plan.encoder)?;
    let global = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);
    let mut enc = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(EngineError::Encoder)?;
    let fps = if sink.frame_rate.numerator() > 0 && sink.frame_rate.denominator() > 0 {
        sink.frame_rate
    } else {
        ff::Rational::new((fallback_fps.max(1.0) * 1000.0).round() as i32, 1000)
    };
    enc.set_width(sink.width);
    enc.set_height(sink.height);
    enc.set_format(sink.format);
    enc.set_time_base(sink.time_base);
    enc.set_frame_rate(Some(fps));
    enc.set_aspect_ratio(ff::Rational::new(1, 1));
    if let Some(g) = plan.gop {
        enc.set_gop(g);
    }
    if let Some(b) = plan.bit_rate {
        enc.set_bit_rate(b as usize);
    }
    if let Some(m) = plan.max_rate {
        enc.set_max_bit_rate(m as usize);
    }
    if global {
        enc.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    // SAFETY: `enc` owns a live AVCodecContext that is not yet opened; these are plain fields
    // that avcodec_open2 reads.
    unsafe {
        let ctx = enc.as_mut_ptr();
        if let Some(size) = plan.buffer_size {
            (*ctx).rc_buffer_size = size as i32;
            (*ctx).rc_min_rate = size as i64;
        }
        if let Some(q) = plan.global_quality {
            (*ctx).global_quality = q;
            (*ctx).flags |= ff::ffi::AV_CODEC_FLAG_QSCALE as i32;
        }
    }
    let opened = enc
        .open_as_with(codec, options(&plan.options))
        .map_err(EngineError::Encoder)?;
    let mut ost = octx.add_stream(codec).map_err(EngineError::Output)?;
    ost.set_parameters(&opened);
    ost.set_time_base(sink.time_base);
    if let Some(tag) = &plan.codec_tag {
        let b = tag.as_bytes();
        if b.len() == 4 {
            let fourcc = u32::from(b[0])
                | u32::from(b[1]) << 8
                | u32::from(b[2]) << 16
                | u32::from(b[3]) << 24;
            // SAFETY: the stream was just added to `octx` and has codec parameters.
            unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = fourcc };
        }
    }
    let per_frame = f64::from(sink.time_base.denominator())
        / (f64::from(sink.time_base.numerator().max(1)) * f64::from(fps));
    Ok(Encoded {
        encoder: opened,
        stream: ost.index(),
        time_base: sink.time_base,
        frame_duration: per_frame.round().max(1.0) as i64,
    })
}

pub(super) fn audio(
    octx: &mut format::context::Output,
    plan: &AudioEncoding,
    sink: AudioSinkInfo,
) -> Result<Encoded<encoder::Audio>, EngineError> {
    let codec = find(&plan.encoder)?;
    let global = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);
    let mut enc = codec::context::Context::new_with_codec(codec)
        .encoder()
        .audio()
        .map_err(EngineError::Encoder)?;
    enc.set_rate(sink.rate as i32);
    enc.set_channel_layout(sink.layout);
    enc.set_channels(sink.layout.channels());
    enc.set_format(sink.format);
    let time_base = ff::Rational::new(1, sink.rate as i32);
    enc.set_time_base(time_base);
    if let Some(b) = plan.bit_rate {
        enc.set_bit_rate(b as usize);
    }
    if global {
        enc.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let opened = enc
        .open_as_with(codec, options(&plan.options))
        .map_err(EngineError::Encoder)?;
    let mut ost = octx.add_stream(codec).map_err(EngineError::Output)?;
    ost.set_parameters(&opened);
    ost.set_time_base(time_base);
    Ok(Encoded {
        encoder: opened,
        stream: ost.index(),
        time_base,
        frame_duration: 0,
    })
}
