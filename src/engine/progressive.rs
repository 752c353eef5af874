//! Progressive JPEG (`fl_progressive`): libav's JPEG encoder writes baseline only, so the
//! graph's one RGB frame is encoded by the `jpeg-encoder` crate instead (what libav lacks).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use ff::frame;
use ffmpeg_next as ff;

use super::EngineError;
use super::run::{RunStats, pick_input, prepare, read_one};
use crate::plan::Plan;

/// Runs a plan whose video ends as one `rgb24` frame, and writes it as a progressive JPEG.
pub(super) fn run<W: Write>(
    plan: &Plan,
    mut sink: W,
    cancel: &AtomicBool,
) -> Result<RunStats, EngineError> {
    let (mut opened, mut graph) = prepare(plan)?;
    let quality = plan
        .video
        .as_ref()
        .and_then(|v| v.options.iter().find(|(k, _)| k == "quality"))
        .and_then(|(_, q)| q.parse::<u8>().ok())
        .unwrap_or(80);
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(EngineError::Cancelled);
        }
        let mut picture = frame::Video::empty();
        let got = graph
            .get("vout")
            .map(|mut ctx| ctx.sink().frame(&mut picture).is_ok());
        if got == Some(true) {
            encode(&picture, quality, &mut sink)?;
            return Ok(RunStats {
                video_frames: 1,
                audio_frames: 0,
            });
        }
        let Some(next) = pick_input(&mut graph, &opened) else {
            return Err(EngineError::Undecodable("video"));
        };
        read_one(&mut graph, &mut opened[next])?;
    }
}

fn encode<W: Write>(picture: &frame::Video, quality: u8, sink: &mut W) -> Result<(), EngineError> {
    let (w, h) = (picture.width() as usize, picture.height() as usize);
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        return Err(EngineError::JpegEncoder(format!(
            "{w}x{h} is too big for JPEG"
        )));
    };
    let stride = picture.stride(0);
    let data = picture.data(0);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for row in 0..h {
        let start = row * stride;
        rgb.extend_from_slice(data.get(start..start + w * 3).unwrap_or_default());
    }
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.set_progressive(true);
    encoder
        .encode(&rgb, w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| EngineError::JpegEncoder(e.to_string()))?;
    sink.write_all(&out).map_err(|e| {
        EngineError::Write(ff::Error::Other {
            errno: e.raw_os_error().unwrap_or(ff::ffi::EIO),
        })
    })
}
