//! Running a plan: inputs → filter graph → encoders → muxer → a `Write`.
//!
//! Output streams as it is made: the muxer writes through custom AVIO into the caller's
//! writer (a channel to an HTTP body, a file, stdout), so fragmented MP4's header leaves at
//! once. When the writer fails (the client went away) or `cancel` is set, the run stops.
//! Inputs are read in the order the graph asks for them (buffer sources' failed requests), so
//! overlays and concatenation never buffer a whole input.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use ff::{Dictionary, Rescale, encoder, filter, format, frame};
use ffmpeg_next as ff;

use super::EngineError;
use super::colour;
use super::inputs::{self, Decoded, Opened};
use super::outputs::{self, AudioSinkInfo, Encoded, VideoSinkInfo};
use crate::plan::merged::sink_names;
use crate::plan::{MergedPlan, Plan};

/// What a run produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    pub video_frames: u64,
    pub audio_frames: u64,
}

struct Output {
    octx: format::context::Output,
    video: Option<Encoded<encoder::Video>>,
    audio: Option<Encoded<encoder::Audio>>,
    stats: RunStats,
    max_frames: Option<u64>,
    video_done: bool,
    audio_done: bool,
    audio_sink_tb: ff::Rational,
    /// The colour profile the first video frame carried (for formats whose encoder drops it).
    icc: Option<Vec<u8>>,
    /// The graph's buffer sinks this output reads (video, audio).
    sinks: (String, String),
    /// Where segment boundaries fall, for a run of streaming segments.
    clock: Option<SegmentClock>,
}

/// Segment boundaries of a run, in seconds from its first frame: where the next IDR is forced
/// and where the next fragment is flushed.
#[derive(Debug, Clone, Copy)]
struct SegmentClock {
    every: f64,
    next_key: f64,
    next_flush: f64,
}

impl SegmentClock {
    /// A frame at `t` must be an IDR (the first at or after a boundary).
    fn key_due(&mut self, t: f64) -> bool {
        if t + 1e-6 < self.next_key {
            return false;
        }
        self.next_key = self.after(t);
        true
    }

    /// A packet at `t` starts a new fragment (the first at or after a boundary).
    fn flush_due(&mut self, t: f64) -> bool {
        if t + 1e-6 < self.next_flush {
            return false;
        }
        self.next_flush = self.after(t);
        true
    }

    fn after(&self, t: f64) -> f64 {
        ((t + 1e-6) / self.every)
            .floor()
            .mul_add(self.every, self.every)
    }
}

/// Seconds of a timestamp in `tb`.
fn seconds(ts: Option<i64>, tb: ff::Rational) -> Option<f64> {
    ts.map(|t| t as f64 * f64::from(tb.numerator()) / f64::from(tb.denominator().max(1)))
}

/// Writes out the fragment the MP4 muxer holds (`frag_custom`), so the next packet starts a
/// new one.
fn flush_fragment(octx: &mut format::context::Output) -> Result<(), EngineError> {
    // SAFETY: `octx` is an open output context whose header was written; a null packet asks
    // the muxer to flush its queued fragment, which libav documents for muxers with
    // AVFMT_ALLOW_FLUSH (mov/mp4).
    let r = unsafe { ff::ffi::av_write_frame(octx.as_mut_ptr(), std::ptr::null_mut()) };
    if r < 0 {
        return Err(EngineError::Write(ff::Error::from(r)));
    }
    Ok(())
}

/// Runs `plan`, writing the encoded output into `sink` (as it is made, unless the muxer must
/// seek back: then all at the end).
pub fn run<W: Write + Send + 'static>(
    plan: &Plan,
    mut sink: W,
    cancel: &AtomicBool,
) -> Result<RunStats, EngineError> {
    if plan
        .video
        .as_ref()
        .is_some_and(|v| v.encoder == crate::plan::output::PROGRESSIVE_JPEG)
    {
        return super::progressive::run(plan, sink, cancel);
    }
    if !plan.streams_output() {
        let file = outputs::MemoryFile::default();
        let (stats, icc) = run_one(plan, outputs::seekable_muxer(plan, file.clone())?, cancel)?;
        let mut bytes = file.take();
        if plan.extension == "webp"
            && let Some(patched) = icc.and_then(|p| crate::header::webp_with_icc(&bytes, &p))
        {
            bytes = patched;
        }
        sink.write_all(&bytes).map_err(|e| {
            EngineError::Write(ff::Error::Other {
                errno: e.raw_os_error().unwrap_or(ff::ffi::EIO),
            })
        })?;
        return Ok(stats);
    }
    run_one(plan, outputs::muxer(plan, sink)?, cancel).map(|(stats, _)| stats)
}

/// Runs several plans over the same inputs as one graph (each input decoded once), writing
/// output `k` into `sinks[k]` as it is made.
pub fn run_merged<W: Write + Send + 'static>(
    merged: &MergedPlan,
    sinks: Vec<W>,
    cancel: &AtomicBool,
) -> Result<Vec<RunStats>, EngineError> {
    let names: Vec<(String, String)> = (0..merged.outputs.len()).map(sink_names).collect();
    let octxs = merged
        .outputs
        .iter()
        .zip(sinks)
        .map(|(plan, sink)| outputs::muxer(plan, sink))
        .collect::<Result<Vec<_>, _>>()?;
    let wanted: Vec<Sink<'_>> = merged
        .outputs
        .iter()
        .zip(&names)
        .map(|(plan, (v, a))| Sink {
            plan,
            video: v,
            audio: a,
        })
        .collect();
    let made = run_outputs(&merged.inputs, &merged.graph, &wanted, octxs, cancel)?;
    Ok(made.into_iter().map(|(stats, _)| stats).collect())
}

/// What an output made, and the colour profile of its pictures.
type Made = (RunStats, Option<Vec<u8>>);

/// One output of a run: its plan's encoders and muxer, fed by the sinks named here.
struct Sink<'a> {
    plan: &'a Plan,
    video: &'a str,
    audio: &'a str,
}

/// Opens the inputs and builds the graph, with primed picture frames already pushed.
pub(super) fn prepare(plan: &Plan) -> Result<(Vec<Opened>, filter::Graph), EngineError> {
    prepare_graph(&plan.inputs, &plan.graph, &[single(plan)])
}

/// The one output of a single plan, fed by `[vout]` and `[aout]`.
fn single(plan: &Plan) -> Sink<'_> {
    Sink {
        plan,
        video: "vout",
        audio: "aout",
    }
}

fn prepare_graph(
    inputs: &[crate::plan::Input],
    graph_text: &str,
    sinks: &[Sink<'_>],
) -> Result<(Vec<Opened>, filter::Graph), EngineError> {
    let mut opened = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| inputs::open(i, input))
        .collect::<Result<Vec<_>, _>>()?;
    let mut graph = build_graph(graph_text, sinks, &opened)?;
    for input in &mut opened {
        let primed = std::mem::take(&mut input.primed);
        if let Some(f) = input.video.as_ref().filter(|_| !primed.is_empty()) {
            let name = f.source.clone();
            add_all(&mut graph, &name, &primed).map_err(|e| EngineError::Filter(name, e))?;
        }
    }
    Ok((opened, graph))
}

/// Runs a plan into a muxer; returns what it made and the colour profile of its pictures.
fn run_one(
    plan: &Plan,
    octx: format::context::Output,
    cancel: &AtomicBool,
) -> Result<Made, EngineError> {
    let mut made = run_outputs(
        &plan.inputs,
        &plan.graph,
        &[single(plan)],
        vec![octx],
        cancel,
    )?;
    made.pop()
        .ok_or(EngineError::Output(ff::Error::InvalidData))
}

/// Decodes the inputs once through the graph and encodes every sink's frames into its muxer.
fn run_outputs(
    inputs: &[crate::plan::Input],
    graph_text: &str,
    sinks: &[Sink<'_>],
    octxs: Vec<format::context::Output>,
    cancel: &AtomicBool,
) -> Result<Vec<Made>, EngineError> {
    let (mut opened, mut graph) = prepare_graph(inputs, graph_text, sinks)?;
    let mut outs = sinks
        .iter()
        .zip(octxs)
        .map(|(sink, octx)| open_output(sink, octx, &mut graph))
        .collect::<Result<Vec<_>, _>>()?;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(EngineError::Cancelled);
        }
        for out in &mut outs {
            drain_sinks(&mut graph, out)?;
        }
        if outs.iter().all(|o| o.video_done && o.audio_done) {
            break;
        }
        let Some(next) = pick_input(&mut graph, &opened) else {
            // Every input is finished and flushed; the sinks have drained.
            break;
        };
        read_one(&mut graph, &mut opened[next])?;
    }
    outs.into_iter()
        .map(|mut out| {
            finish(&mut out)?;
            Ok((out.stats, out.icc))
        })
        .collect()
}

fn build_graph(
    graph_text: &str,
    sinks: &[Sink<'_>],
    opened: &[Opened],
) -> Result<filter::Graph, EngineError> {
    let mut graph = filter::Graph::new();
    let find = |name: &str| filter::find(name).ok_or(EngineError::Graph(ff::Error::FilterNotFound));
    let mut sources = Vec::new();
    for input in opened {
        if let Some(f) = &input.video {
            graph
                .add(
                    &find("buffer")?,
                    &f.source,
                    &inputs::video_source_args(
                        f,
                        input.colour.as_ref().map(colour::ToSrgb::format),
                    ),
                )
                .map_err(EngineError::Graph)?;
            sources.push(f.source.clone());
        }
        if let Some(f) = &input.audio {
            graph
                .add(&find("abuffer")?, &f.source, &inputs::audio_source_args(f))
                .map_err(EngineError::Graph)?;
            sources.push(f.source.clone());
        }
    }
    let mut names = Vec::new();
    for sink in sinks {
        if sink.plan.video.is_some() {
            graph
                .add(&find("buffersink")?, sink.video, "")
                .map_err(EngineError::Graph)?;
            names.push(sink.video);
        }
        if sink.plan.audio.is_some() {
            graph
                .add(&find("abuffersink")?, sink.audio, "")
                .map_err(EngineError::Graph)?;
            names.push(sink.audio);
        }
    }
    let mut parser = filter::graph::Parser::new(&mut graph);
    for s in &sources {
        parser = parser.output(s, 0).map_err(EngineError::Graph)?;
    }
    for s in &names {
        parser = parser.input(s, 0).map_err(EngineError::Graph)?;
    }
    parser.parse(graph_text).map_err(EngineError::Graph)?;
    graph.validate().map_err(EngineError::Graph)?;
    Ok(graph)
}

fn sink_ptr(
    graph: &mut filter::Graph,
    name: &str,
) -> Result<*mut ff::ffi::AVFilterContext, EngineError> {
    let mut ctx = graph
        .get(name)
        .ok_or(EngineError::Graph(ff::Error::FilterNotFound))?;
    // SAFETY: the pointer stays valid as long as `graph`, which outlives every use below.
    Ok(unsafe { ctx.as_mut_ptr() })
}

fn video_sink_info(graph: &mut filter::Graph, name: &str) -> Result<VideoSinkInfo, EngineError> {
    let p = sink_ptr(graph, name)?;
    // SAFETY: `p` is a configured buffersink (the graph was validated); these getters only
    // read its input link. The format is a valid AVPixelFormat value chosen by libav.
    unsafe {
        let fmt: ff::ffi::AVPixelFormat = std::mem::transmute(ff::ffi::av_buffersink_get_format(p));
        Ok(VideoSinkInfo {
            width: ff::ffi::av_buffersink_get_w(p) as u32,
            height: ff::ffi::av_buffersink_get_h(p) as u32,
            format: fmt.into(),
            time_base: ff::ffi::av_buffersink_get_time_base(p).into(),
            frame_rate: ff::ffi::av_buffersink_get_frame_rate(p).into(),
        })
    }
}

fn audio_sink_info(graph: &mut filter::Graph, name: &str) -> Result<AudioSinkInfo, EngineError> {
    let p = sink_ptr(graph, name)?;
    // SAFETY: as for video; the format is a valid AVSampleFormat value chosen by libav.
    unsafe {
        let fmt: ff::ffi::AVSampleFormat =
            std::mem::transmute(ff::ffi::av_buffersink_get_format(p));
        #[allow(deprecated)]
        let bits = ff::ffi::av_buffersink_get_channel_layout(p);
        let channels = ff::ffi::av_buffersink_get_channels(p);
        let layout = if bits == 0 {
            ff::ChannelLayout::default(channels.max(1))
        } else {
            ff::ChannelLayout::from_bits_truncate(bits)
        };
        Ok(AudioSinkInfo {
            rate: ff::ffi::av_buffersink_get_sample_rate(p) as u32,
            format: fmt.into(),
            layout,
            time_base: ff::ffi::av_buffersink_get_time_base(p).into(),
        })
    }
}

fn open_output(
    sink: &Sink<'_>,
    mut octx: format::context::Output,
    graph: &mut filter::Graph,
) -> Result<Output, EngineError> {
    let plan = sink.plan;
    let video = match &plan.video {
        Some(v) => Some(outputs::video(
            &mut octx,
            v,
            video_sink_info(graph, sink.video)?,
            plan.fps,
        )?),
        None => None,
    };
    let mut audio_sink_tb = ff::Rational::new(1, 1);
    let audio = match &plan.audio {
        Some(a) => {
            let info = audio_sink_info(graph, sink.audio)?;
            audio_sink_tb = info.time_base;
            let enc = outputs::audio(&mut octx, a, info)?;
            let fixed = enc.encoder.frame_size();
            let variable = enc.encoder.codec().is_some_and(|c| {
                c.capabilities()
                    .contains(ff::codec::capabilities::Capabilities::VARIABLE_FRAME_SIZE)
            });
            if fixed > 0
                && !variable
                && let Some(mut s) = graph.get(sink.audio)
            {
                s.sink().set_frame_size(fixed);
            }
            Some(enc)
        }
        None => None,
    };
    let mut options = Dictionary::new();
    for (k, v) in &plan.muxer_options {
        options.set(k, v);
    }
    octx.write_header_with(options)
        .map_err(EngineError::Output)?;
    // The muxer may change the stream time bases in write_header; read them back.
    let mut out = Output {
        video_done: video.is_none(),
        audio_done: audio.is_none(),
        video,
        audio,
        octx,
        stats: RunStats::default(),
        max_frames: plan.max_frames,
        audio_sink_tb,
        icc: None,
        sinks: (sink.video.to_string(), sink.audio.to_string()),
        clock: plan.segments.map(|s| SegmentClock {
            every: s.every,
            next_key: 0.0,
            next_flush: s.every,
        }),
    };
    if let Some(v) = out.video.as_mut() {
        v.time_base = v.encoder.time_base();
    }
    Ok(out)
}

/// The input the graph waits for most (ties: the first unfinished one).
pub(super) fn pick_input(graph: &mut filter::Graph, opened: &[Opened]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, input) in opened.iter().enumerate() {
        if input.done {
            continue;
        }
        let mut wanted = 0;
        for name in [
            input.video.as_ref().map(|f| &f.source),
            input.audio.as_ref().map(|f| &f.source),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(mut ctx) = graph.get(name) {
                wanted = wanted.max(ctx.source().failed_requests());
            }
        }
        if best.is_none_or(|(_, w)| wanted > w) {
            best = Some((i, wanted));
        }
    }
    best.map(|(i, _)| i)
}

/// Reads one packet of an input and pushes what it decodes into the graph; at the end of the
/// input, flushes its decoders and closes its sources.
pub(super) fn read_one(graph: &mut filter::Graph, input: &mut Opened) -> Result<(), EngineError> {
    let mut packet = ff::Packet::empty();
    match packet.read(&mut input.demuxer) {
        Ok(()) => {
            let stream = packet.stream();
            push(graph, input, Some(&packet), stream)
        }
        Err(ff::Error::Eof) => close_input(graph, input),
        Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => Ok(()),
        Err(e) => {
            tracing::debug!(error = %e, "demuxing stopped early");
            close_input(graph, input)
        }
    }
}

fn close_input(graph: &mut filter::Graph, input: &mut Opened) -> Result<(), EngineError> {
    let streams: Vec<usize> = [
        input.video.as_ref().map(|f| f.stream),
        input.audio.as_ref().map(|f| f.stream),
    ]
    .into_iter()
    .flatten()
    .collect();
    for s in streams {
        push(graph, input, None, s)?;
    }
    for name in [
        input.video.as_ref().map(|f| f.source.clone()),
        input.audio.as_ref().map(|f| f.source.clone()),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(mut ctx) = graph.get(&name) {
            // A source that the graph already finished with may refuse EOF; that is fine.
            let _ = ctx.source().flush();
        }
    }
    input.done = true;
    Ok(())
}

/// Hands decoded frames to the buffer source `name`.
fn add_all<F: std::ops::Deref<Target = frame::Frame>>(
    graph: &mut filter::Graph,
    name: &str,
    frames: &[F],
) -> Result<(), ff::Error> {
    if let Some(mut ctx) = graph.get(name) {
        for f in frames {
            ctx.source().add(f)?;
        }
    }
    Ok(())
}

fn push(
    graph: &mut filter::Graph,
    input: &mut Opened,
    packet: Option<&ff::Packet>,
    stream: usize,
) -> Result<(), EngineError> {
    let (name, result) = match inputs::decode(input, packet, stream) {
        Decoded::Video(frames) => {
            let name = input
                .video
                .as_ref()
                .map(|f| f.source.clone())
                .unwrap_or_default();
            let r = add_all(graph, &name, &frames);
            (name, r)
        }
        Decoded::Audio(frames) => {
            let name = input
                .audio
                .as_ref()
                .map(|f| f.source.clone())
                .unwrap_or_default();
            let r = add_all(graph, &name, &frames);
            (name, r)
        }
        Decoded::Nothing => return Ok(()),
    };
    match result {
        // The graph no longer wants this stream (a trim ended it): not an error.
        Ok(()) | Err(ff::Error::Eof) => Ok(()),
        Err(e) => Err(EngineError::Filter(name, e)),
    }
}

fn drain_sinks(graph: &mut filter::Graph, out: &mut Output) -> Result<(), EngineError> {
    while !out.video_done {
        let mut frame = frame::Video::empty();
        let got = match graph.get(&out.sinks.0) {
            Some(mut ctx) => ctx.sink().frame(&mut frame),
            None => break,
        };
        match got {
            Ok(()) => {
                if out.stats.video_frames == 0 {
                    out.icc = frame
                        .side_data(ff::frame::side_data::Type::IccProfile)
                        .map(|d| d.data().to_vec());
                }
                encode_video(out, Some(&frame))?;
                out.stats.video_frames += 1;
                if out.max_frames.is_some_and(|m| out.stats.video_frames >= m) {
                    out.video_done = true;
                    // A still frame needs nothing else.
                    out.audio_done = true;
                }
            }
            Err(ff::Error::Eof) => out.video_done = true,
            Err(_) => break,
        }
    }
    while !out.audio_done {
        let mut frame = frame::Audio::empty();
        let got = match graph.get(&out.sinks.1) {
            Some(mut ctx) => ctx.sink().frame(&mut frame),
            None => break,
        };
        match got {
            Ok(()) => {
                encode_audio(out, Some(&mut frame))?;
                out.stats.audio_frames += 1;
            }
            Err(ff::Error::Eof) => out.audio_done = true,
            Err(_) => break,
        }
    }
    Ok(())
}

fn encode_video(out: &mut Output, frame: Option<&frame::Video>) -> Result<(), EngineError> {
    let Some(v) = out.video.as_mut() else {
        return Ok(());
    };
    match frame {
        Some(f) => {
            let due = out
                .clock
                .as_mut()
                .zip(seconds(f.pts(), v.time_base))
                .is_some_and(|(c, t)| c.key_due(t));
            if due {
                let mut key = f.clone();
                key.set_kind(ff::picture::Type::I);
                v.encoder.send_frame(&key)
            } else {
                v.encoder.send_frame(f)
            }
        }
        None => v.encoder.send_eof(),
    }
    .map_err(EngineError::Encoder)?;
    let ost_tb = out
        .octx
        .stream(v.stream)
        .map(|s| s.time_base())
        .unwrap_or(v.time_base);
    let mut packet = ff::Packet::empty();
    while v.encoder.receive_packet(&mut packet).is_ok() {
        packet.set_stream(v.stream);
        if packet.duration() == 0 {
            packet.set_duration(v.frame_duration);
        }
        packet.rescale_ts(v.time_base, ost_tb);
        write_packet(&mut out.octx, out.clock.as_mut(), &packet, ost_tb)?;
    }
    Ok(())
}

/// Hands a packet to the muxer, flushing the fragment before it when it opens a segment.
/// In a run of segments, packets before the run's start are left out: the audio encoder's
/// priming frame would give the first segment a negative start time (players refuse it)
/// and overlap the previous run's last segment.
fn write_packet(
    octx: &mut format::context::Output,
    clock: Option<&mut SegmentClock>,
    packet: &ff::Packet,
    tb: ff::Rational,
) -> Result<(), EngineError> {
    if let Some(c) = clock {
        let t = seconds(packet.pts(), tb);
        if t.is_some_and(|t| t < -1e-6) {
            return Ok(());
        }
        if t.is_some_and(|t| c.flush_due(t)) {
            flush_fragment(octx)?;
        }
    }
    packet.write_interleaved(octx).map_err(EngineError::Write)
}

fn encode_audio(out: &mut Output, frame: Option<&mut frame::Audio>) -> Result<(), EngineError> {
    let Some(a) = out.audio.as_mut() else {
        return Ok(());
    };
    match frame {
        Some(f) => {
            // Sink time base → the encoder's 1/sample_rate.
            if let Some(pts) = f.pts() {
                f.set_pts(Some(pts.rescale(out.audio_sink_tb, a.time_base)));
            }
            a.encoder.send_frame(f)
        }
        None => a.encoder.send_eof(),
    }
    .map_err(EngineError::Encoder)?;
    let ost_tb = out
        .octx
        .stream(a.stream)
        .map(|s| s.time_base())
        .unwrap_or(a.time_base);
    let mut packet = ff::Packet::empty();
    while a.encoder.receive_packet(&mut packet).is_ok() {
        packet.set_stream(a.stream);
        packet.rescale_ts(a.time_base, ost_tb);
        write_packet(&mut out.octx, out.clock.as_mut(), &packet, ost_tb)?;
    }
    Ok(())
}

fn finish(out: &mut Output) -> Result<(), EngineError> {
    encode_video(out, None)?;
    encode_audio(out, None)?;
    out.octx.write_trailer().map_err(EngineError::Write)?;
    Ok(())
}
