//! Small grayscale samples of a file's pictures, for the analyses in `focus`, and the colour
//! at a picture's edges (for `b_auto`).
//!
//! For each requested time: seek to the keyframe before it and take that keyframe (decoding
//! on to the exact time would cost up to a whole GOP per sample; analyses do not need the
//! exact frame), and (for motion) the frame `gap` frames later; both shrunk to at most
//! `max_side` pixels a side as 8-bit grey. Rotation metadata is the caller's business.

use ff::{codec, format, frame, media, software::scaling};
use ffmpeg_next as ff;

use super::EngineError;
use crate::focus::Gray;

/// A sampled frame and, when the file had one, the frame `gap` frames after it.
pub type Sample = (Gray, Option<Gray>);

/// Samples the best video stream of `path` at `times` (seconds).
pub fn sample_gray(
    path: &str,
    times: &[f64],
    gap: usize,
    max_side: u32,
) -> Result<Vec<Sample>, EngineError> {
    let (mut input, mut decoder, index) = open_video(path)?;
    let mut samples = Vec::with_capacity(times.len());
    for &t in times {
        let ts = (t * f64::from(ff::ffi::AV_TIME_BASE)) as i64;
        if t > 0.0 && input.seek(ts, ..ts + 1).is_err() {
            continue;
        }
        decoder.flush();
        let frames = decode_after(&mut input, &mut decoder, index, gap)?;
        let mut grays = frames.iter().map(|f| to_gray(f, max_side));
        if let Some(first) = grays.next().transpose()? {
            let later = grays.next_back().transpose()?;
            samples.push((first, later));
        }
    }
    if samples.is_empty() {
        return Err(EngineError::Undecodable("video"));
    }
    Ok(samples)
}

/// A file's best video stream, opened for decoding: the demuxer, the decoder, the index.
fn open_video(
    path: &str,
) -> Result<(format::context::Input, ff::decoder::Video, usize), EngineError> {
    let input = format::input(&path).map_err(EngineError::OpenInput)?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or(EngineError::MissingStream("video"))?;
    let index = stream.index();
    let ctx = codec::context::Context::from_parameters(stream.parameters())
        .map_err(EngineError::Decoder)?;
    let decoder = ctx.decoder().video().map_err(EngineError::Decoder)?;
    Ok((input, decoder, index))
}

/// The first decoded frame, then the one `gap` later.
fn decode_after(
    input: &mut format::context::Input,
    decoder: &mut ff::decoder::Video,
    index: usize,
    gap: usize,
) -> Result<Vec<frame::Video>, EngineError> {
    let mut kept = Vec::new();
    let mut since = 0;
    let mut take = |f: frame::Video, kept: &mut Vec<frame::Video>| {
        if kept.is_empty() {
            kept.push(f);
        } else {
            since += 1;
            if since == gap {
                kept.push(f);
            }
        }
        kept.len() == 2 || (gap == 0 && kept.len() == 1)
    };
    loop {
        let mut packet = ff::Packet::empty();
        let end = match packet.read(input) {
            Ok(()) if packet.stream() != index => continue,
            Ok(()) => {
                // An undecodable packet is skipped, as the CLI does.
                let _ = decoder.send_packet(&packet);
                false
            }
            Err(ff::Error::Eof) => {
                let _ = decoder.send_eof();
                true
            }
            Err(e) => return Err(EngineError::Corrupt(e)),
        };
        let mut f = frame::Video::empty();
        while decoder.receive_frame(&mut f).is_ok() {
            if take(std::mem::replace(&mut f, frame::Video::empty()), &mut kept) {
                return Ok(kept);
            }
        }
        if end {
            return Ok(kept);
        }
    }
}

/// Shrinks a frame to grey with at most `max_side` pixels a side.
fn to_gray(f: &frame::Video, max_side: u32) -> Result<Gray, EngineError> {
    let (w, h) = (f.width().max(1), f.height().max(1));
    let k = f64::from(max_side) / f64::from(w.max(h));
    let (tw, th) = if k < 1.0 {
        (
            ((f64::from(w) * k).round() as u32).max(1),
            ((f64::from(h) * k).round() as u32).max(1),
        )
    } else {
        (w, h)
    };
    let mut scaler = scaling::Context::get(
        f.format(),
        w,
        h,
        ff::format::Pixel::GRAY8,
        tw,
        th,
        scaling::Flags::AREA,
    )
    .map_err(|e| EngineError::Filter("the sample scaler".into(), e))?;
    let mut out = frame::Video::empty();
    scaler
        .run(f, &mut out)
        .map_err(|e| EngineError::Filter("the sample scaler".into(), e))?;
    let stride = out.stride(0);
    let data = out.data(0);
    let (tw, th) = (tw as usize, th as usize);
    let mut pixels = Vec::with_capacity(tw * th);
    for row in 0..th {
        let start = row * stride;
        pixels.extend_from_slice(data.get(start..start + tw).unwrap_or_default());
    }
    Gray::new(tw, th, pixels).ok_or(EngineError::Undecodable("video"))
}

/// The mean colour of the outer edge of the best video stream's picture at `at` seconds
/// (the first frame of a still), as RGB.
pub fn edge_color(path: &str, at: f64) -> Result<[u8; 3], EngineError> {
    let (mut input, mut decoder, index) = open_video(path)?;
    let ts = (at * f64::from(ff::ffi::AV_TIME_BASE)) as i64;
    if at > 0.0 {
        let _ = input.seek(ts, ..ts + 1);
    }
    let frame = decode_after(&mut input, &mut decoder, index, 0)?
        .into_iter()
        .next()
        .ok_or(EngineError::Undecodable("video"))?;
    let (side, ring) = (64u32, 3usize);
    let mut scaler = scaling::Context::get(
        frame.format(),
        frame.width().max(1),
        frame.height().max(1),
        ff::format::Pixel::RGB24,
        side,
        side,
        scaling::Flags::AREA,
    )
    .map_err(|e| EngineError::Filter("the sample scaler".into(), e))?;
    let mut out = frame::Video::empty();
    scaler
        .run(&frame, &mut out)
        .map_err(|e| EngineError::Filter("the sample scaler".into(), e))?;
    let (stride, data, n) = (out.stride(0), out.data(0), side as usize);
    let mut sum = [0u64; 3];
    let mut count = 0u64;
    for y in 0..n {
        for x in 0..n {
            if x >= ring && x < n - ring && y >= ring && y < n - ring {
                continue;
            }
            let at = y * stride + x * 3;
            if let Some(px) = data.get(at..at + 3) {
                for (s, v) in sum.iter_mut().zip(px) {
                    *s += u64::from(*v);
                }
                count += 1;
            }
        }
    }
    let mean = |s: u64| u8::try_from(s / count.max(1)).unwrap_or(u8::MAX);
    Ok([mean(sum[0]), mean(sum[1]), mean(sum[2])])
}
