//! Rewriting a finished output into a seekable file, so what the cache keeps is complete.
//!
//! Transformed media streams to its first readers while it is made, which a muxer can only
//! do front to back: MP4 as fragments, Matroska/WebM without duration or cues, WAV and FLAC
//! without sizes. What stays in the cache is rewritten once it is complete: a classic MP4 with
//! the `moov` box first (every player and tool reads it, seeking needs no fragment walk), the
//! other containers with what they patch in at the end. This is a stream copy — no decoding —
//! so it costs about one read and one write of the file.

use std::path::Path;

use ff::{Dictionary, format};
use ffmpeg_next as ff;

use super::EngineError;

/// Copies every stream of `src` into the file `dst` as `muxer` (MP4s with the index first).
pub fn remux_seekable(src: &Path, dst: &Path, muxer: &str) -> Result<(), EngineError> {
    let mut input = format::input(&src).map_err(EngineError::OpenInput)?;
    let mut output = format::output_as(&dst, muxer).map_err(EngineError::Output)?;
    let mut map = vec![None; input.nb_streams() as usize];
    for (next, stream) in input.streams().enumerate() {
        let mut out = output
            .add_stream(ff::encoder::find(ff::codec::Id::None))
            .map_err(EngineError::Output)?;
        out.set_parameters(stream.parameters());
        out.set_time_base(stream.time_base());
        map[stream.index()] = Some((next, stream.time_base()));
    }
    let mut options = Dictionary::new();
    options.set("movflags", "+faststart");
    output
        .write_header_with(options)
        .map_err(EngineError::Output)?;
    loop {
        let mut packet = ff::Packet::empty();
        match packet.read(&mut input) {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(e) => return Err(EngineError::Corrupt(e)),
        }
        let Some((index, tb)) = map.get(packet.stream()).copied().flatten() else {
            continue;
        };
        let out_tb = output
            .stream(index)
            .map(|s| s.time_base())
            .ok_or(EngineError::Output(ff::Error::StreamNotFound))?;
        packet.rescale_ts(tb, out_tb);
        packet.set_position(-1);
        packet.set_stream(index);
        packet
            .write_interleaved(&mut output)
            .map_err(EngineError::Write)?;
    }
    output.write_trailer().map_err(EngineError::Write)?;
    Ok(())
}

/// Copies every stream of each of `inputs` into one file `dst` as `muxer`, keeping their
/// timestamps (the pieces of one stream line up with the next ones). Packets before zero
/// (an audio encoder's priming) are left out: MPEG-TS has no negative time.
pub fn remux_many(inputs: &[&Path], dst: &Path, muxer: &str) -> Result<(), EngineError> {
    let mut opened = Vec::with_capacity(inputs.len());
    let mut output = format::output_as(&dst, muxer).map_err(EngineError::Output)?;
    for path in inputs {
        let input = format::input(path).map_err(EngineError::OpenInput)?;
        let mut map = vec![None; input.nb_streams() as usize];
        for stream in input.streams() {
            let mut out = output
                .add_stream(ff::encoder::find(ff::codec::Id::None))
                .map_err(EngineError::Output)?;
            out.set_parameters(stream.parameters());
            // SAFETY: the stream was just added; a zero tag lets the muxer pick its own.
            unsafe { (*(*out.as_mut_ptr()).codecpar).codec_tag = 0 };
            out.set_time_base(stream.time_base());
            map[stream.index()] = Some((out.index(), stream.time_base()));
        }
        opened.push((input, map));
    }
    output.write_header().map_err(EngineError::Output)?;
    for (input, map) in &mut opened {
        loop {
            let mut packet = ff::Packet::empty();
            match packet.read(input) {
                Ok(()) => {}
                Err(ff::Error::Eof) => break,
                Err(e) => return Err(EngineError::Corrupt(e)),
            }
            let Some((index, tb)) = map.get(packet.stream()).copied().flatten() else {
                continue;
            };
            if packet.pts().is_some_and(|p| p < 0) {
                continue;
            }
            let out_tb = output
                .stream(index)
                .map(|s| s.time_base())
                .ok_or(EngineError::Output(ff::Error::StreamNotFound))?;
            packet.rescale_ts(tb, out_tb);
            packet.set_position(-1);
            packet.set_stream(index);
            packet
                .write_interleaved(&mut output)
                .map_err(EngineError::Write)?;
        }
    }
    output.write_trailer().map_err(EngineError::Write)?;
    Ok(())
}
