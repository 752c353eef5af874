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
    let map = add_streams(&input, &mut output, false)?;
    let mut options = Dictionary::new();
    options.set("movflags", "+faststart");
    output
        .write_header_with(options)
        .map_err(EngineError::Output)?;
    copy_packets(&mut input, &map, &mut output, false)?;
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
        // Another container: its own codec tags (MP4's `avc1` means nothing in MPEG-TS).
        let map = add_streams(&input, &mut output, true)?;
        opened.push((input, map));
    }
    output.write_header().map_err(EngineError::Output)?;
    for (input, map) in &mut opened {
        copy_packets(input, map, &mut output, true)?;
    }
    output.write_trailer().map_err(EngineError::Write)?;
    Ok(())
}

/// Adds a copy of each stream of `input` to `output`; the map from input stream to output
/// stream and the input's time base. `clear_tags` lets the muxer choose codec tags.
fn add_streams(
    input: &format::context::Input,
    output: &mut format::context::Output,
    clear_tags: bool,
) -> Result<Vec<Option<(usize, ff::Rational)>>, EngineError> {
    let mut map = vec![None; input.nb_streams() as usize];
    for stream in input.streams() {
        let mut out = output
            .add_stream(ff::encoder::find(ff::codec::Id::None))
            .map_err(EngineError::Output)?;
        out.set_parameters(stream.parameters());
        if clear_tags {
            // SAFETY: the stream was just added to `output` and has codec parameters.
            unsafe { (*(*out.as_mut_ptr()).codecpar).codec_tag = 0 };
        }
        out.set_time_base(stream.time_base());
        map[stream.index()] = Some((out.index(), stream.time_base()));
    }
    Ok(map)
}

/// Copies every packet of `input` to its stream in `output` (`map`: input stream → output
/// stream and time base); `skip_negative` leaves out packets before zero.
fn copy_packets(
    input: &mut format::context::Input,
    map: &[Option<(usize, ff::Rational)>],
    output: &mut format::context::Output,
    skip_negative: bool,
) -> Result<(), EngineError> {
    loop {
        let mut packet = ff::Packet::empty();
        match packet.read(input) {
            Ok(()) => {}
            Err(ff::Error::Eof) => return Ok(()),
            Err(e) => return Err(EngineError::Corrupt(e)),
        }
        let Some((index, tb)) = map.get(packet.stream()).copied().flatten() else {
            continue;
        };
        if skip_negative && packet.pts().is_some_and(|p| p < 0) {
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
            .write_interleaved(output)
            .map_err(EngineError::Write)?;
    }
}
