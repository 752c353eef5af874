//! The graph builder: walks the steps, keeps track of each stream's label, size, rate and
//! duration, and writes libavfilter chains. Components apply their parameters in a fixed
//! order: trim, frame rate, rotation, geometry (with background), effect, corners.

use super::geometry::{self, Request};
use super::output::{self, OutputKind, Settings};
use super::stills::Corners;
use super::{Context, Input, Plan, PlanError, Source, orientation};
use crate::url::values::{
    Angle, Background, Color, Flag, Fps, Gravity, Offset, Radius, Sampling, Size, Time,
};
use crate::url::{Component, Step, Value};

/// A track being built: the label of its last emitted pad and filters not yet emitted.
#[derive(Debug, Clone)]
pub(super) struct Track {
    pub(super) label: String,
    pub(super) pending: Vec<String>,
    /// Still the input's own pad (`0:a`): nothing was emitted for it yet.
    pub(super) untouched: bool,
    pub(super) audio: bool,
}

impl Track {
    fn new(label: String, audio: bool) -> Track {
        Track {
            label,
            pending: Vec::new(),
            untouched: true,
            audio,
        }
    }
    pub(super) fn push(&mut self, filter: impl Into<String>) {
        self.pending.push(filter.into());
    }
}

/// The state of one stream (the base, or a layer) while its chain is built.
#[derive(Debug, Clone)]
pub(super) struct Stream {
    pub(super) input: usize,
    pub(super) video: Option<Track>,
    pub(super) audio: Option<Track>,
    pub(super) w: u32,
    pub(super) h: u32,
    pub(super) fps: f64,
    pub(super) duration: f64,
    pub(super) sample_rate: u32,
    /// Timestamps are still the source's own: a trim can become an input seek.
    pub(super) at_source: bool,
    pub(super) is_layer: bool,
    /// The picture still shows the whole (upright) source frame, only scaled: the base's
    /// focus map still applies.
    pub(super) whole_frame: bool,
    /// The stream comes from an image file (pictures: white padding, transparent corners).
    pub(super) image: bool,
    /// The pixels may be transparent (kept in formats with alpha, flattened otherwise).
    pub(super) alpha: bool,
    /// The rounded outline given by the last `r_` (a border follows it).
    pub(super) corners: Option<Corners>,
}

pub(super) struct Builder<'a> {
    pub(super) ctx: &'a Context,
    pub(super) inputs: Vec<Input>,
    pub(super) chains: Vec<String>,
    next: usize,
    pub(super) kind: OutputKind,
    pub(super) settings: Settings,
    /// `a_ignore`: show the base as stored, ignoring its orientation.
    as_stored: bool,
    /// What transparency is laid on for formats without alpha: the last `b_` colour given,
    /// else white.
    pub(super) backdrop: Color,
}

/// The share of the interest a `c_fill_pad` crop must keep; below it, it pads instead.
const FILL_PAD_KEEPS: f64 = 0.85;

pub(super) fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.into()
    }
}

impl<'a> Builder<'a> {
    pub(super) fn new(ctx: &'a Context) -> Builder<'a> {
        Builder {
            ctx,
            inputs: Vec::new(),
            chains: Vec::new(),
            next: 0,
            kind: OutputKind::Video,
            settings: Settings::default(),
            as_stored: false,
            backdrop: Color::WHITE,
        }
    }

    pub(super) fn label(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    /// Emits the track's pending filters as one chain and returns its output label.
    pub(super) fn flush(&mut self, track: &mut Track) -> String {
        if !track.pending.is_empty() {
            let out = self.label(if track.audio { "a" } else { "v" });
            self.chains.push(format!(
                "[{}]{}[{out}]",
                track.label,
                track.pending.join(",")
            ));
            track.pending.clear();
            track.label = out;
            track.untouched = false;
        }
        track.label.clone()
    }

    /// Emits the track's pending filters followed by a split into `n` labels.
    pub(super) fn split(&mut self, track: &mut Track, n: usize) -> Vec<String> {
        let prefix = if track.audio { "a" } else { "v" };
        track.push(format!("{}split={n}", if track.audio { "a" } else { "" }));
        let outs: Vec<String> = (0..n).map(|_| self.label(prefix)).collect();
        let pads: String = outs.iter().map(|l| format!("[{l}]")).collect();
        self.chains.push(format!(
            "[{}]{}{pads}",
            track.label,
            track.pending.join(",")
        ));
        track.pending.clear();
        track.untouched = false;
        outs
    }

    /// Emits a chain with several inputs and one output, which becomes a new track.
    pub(super) fn join(&mut self, inputs: &[String], filter: &str, audio: bool) -> Track {
        let out = self.label(if audio { "a" } else { "v" });
        let ins: String = inputs.iter().map(|l| format!("[{l}]")).collect();
        self.chains.push(format!("{ins}{filter}[{out}]"));
        Track {
            label: out,
            pending: Vec::new(),
            untouched: false,
            audio,
        }
    }

    /// Ends a track nobody uses: its input pad is not read, or its chain goes to a null sink.
    pub(super) fn drop_track(&mut self, stream: &mut Stream, audio: bool) {
        let track = if audio {
            stream.audio.take()
        } else {
            stream.video.take()
        };
        let Some(mut track) = track else { return };
        if track.untouched {
            let input = &mut self.inputs[stream.input];
            if audio {
                input.audio = false
            } else {
                input.video = false
            }
            return;
        }
        track.pending.clear();
        let label = self.flush(&mut track);
        let sink = if audio { "anullsink" } else { "nullsink" };
        self.chains.push(format!("[{label}]{sink}"));
    }

    /// Adds an input and returns its stream, rotated upright.
    pub(super) fn open(&mut self, source: &Source, audio: bool, is_layer: bool) -> Stream {
        let i = self.inputs.len();
        let m = &source.media;
        self.inputs.push(Input {
            path: source.path.clone(),
            seek: None,
            shrink: 0,
            picture: m.image,
            to_srgb: false,
            video: m.has_video,
            audio: m.has_audio && audio,
        });
        let mut video = m.has_video.then(|| Track::new(format!("{i}:v"), false));
        let (mut w, mut h) = (m.width, m.height);
        if self.as_stored && !is_layer {
            if orientation::swaps_axes(m.orientation) {
                (w, h) = (h, w);
            }
        } else if let (Some(v), Some(upright)) =
            (video.as_mut(), orientation::filters(m.orientation))
        {
            v.push(upright);
        }
        Stream {
            input: i,
            video,
            audio: (m.has_audio && audio).then(|| Track::new(format!("{i}:a"), true)),
            w: w.max(1),
            h: h.max(1),
            fps: if m.fps > 0.0 { m.fps } else { 25.0 },
            duration: m.duration.max(0.0),
            sample_rate: m.sample_rate.max(1),
            at_source: true,
            is_layer,
            whole_frame: true,
            image: m.image,
            alpha: m.alpha,
            corners: None,
        }
    }

    pub(super) fn build(mut self, steps: &[Step], extension: &str) -> Result<Plan, PlanError> {
        let base_media = &self.ctx.base.media;
        let one_page = steps.iter().any(|s| match s {
            Step::Apply(c) => c.params.iter().any(|p| matches!(p.value, Value::Page(_))),
            Step::Layer(_) => false,
        });
        let animated = steps.iter().any(|s| match s {
            Step::Apply(c) => c.has_flag(&Flag::Animated) || c.has_flag(&Flag::Awebp),
            Step::Layer(_) => false,
        }) || (base_media.image && base_media.duration > 0.0 && !one_page);
        let format = output::format_of(extension, animated)?;
        self.kind = format.kind;
        self.settings = settings(steps);
        if super::waveform::wanted(steps) {
            return self.waveform(steps, &format, extension);
        }
        // A poster (`.jpg`) of a streamed video carries `sp_` along; other outputs cannot.
        let streamed = steps.iter().any(|s| match s {
            Step::Apply(c) => c
                .params
                .iter()
                .any(|p| matches!(p.value, Value::StreamingProfile(_))),
            Step::Layer(_) => false,
        });
        if streamed && format.kind != OutputKind::Frame {
            return Err(PlanError::Invalid(
                "Streaming profile not supported for non-streaming formats".into(),
            ));
        }
        self.settings = settings(steps);
        let lossy = steps.iter().any(|s| match s {
            Step::Apply(c) => c.has_flag(&Flag::Lossy),
            Step::Layer(_) => false,
        });
        self.settings.lossless = self.ctx.base.media.lossless && !lossy;
        self.as_stored = steps.iter().any(|s| match s {
            Step::Apply(c) => c
                .params
                .iter()
                .any(|p| matches!(&p.value, Value::Angle(a) if a.contains(&Angle::Ignore))),
            Step::Layer(_) => false,
        });
        let base_src = self.ctx.base.clone();
        let wants_audio = matches!(self.kind, OutputKind::Video | OutputKind::Audio);
        let mut base = self.open(&base_src, wants_audio, false);
        if base.video.is_none() && matches!(self.kind, OutputKind::Frame | OutputKind::Animation) {
            return Err(PlanError::Invalid(format!(
                "the media has no video stream to make a .{extension} from"
            )));
        }
        if self.kind == OutputKind::Audio {
            self.drop_track(&mut base, false);
        }
        self.shrink_on_load(&mut base, steps);
        let mut first = true;
        for step in steps {
            match step {
                Step::Apply(c) => self.component(&mut base, c, first)?,
                Step::Layer(l) => self.layer(&mut base, l)?,
            }
            first = false;
        }
        if self.kind == OutputKind::Frame && first && !base.image {
            // No component at all: the default frame is the middle of the video.
            self.component(&mut base, &Component::default(), true)?;
        }
        if self.kind == OutputKind::Frame && base.image && base.duration > 0.0 {
            // A still of an animation without pg_: its first frame.
            self.page(&mut base, 1)?;
        }
        self.finish(base, &format, extension)
    }

    /// Applies one component to a stream.
    pub(super) fn component(
        &mut self,
        s: &mut Stream,
        c: &Component,
        first: bool,
    ) -> Result<(), PlanError> {
        let p = Params::of(c)?;
        let frame_time = self.kind == OutputKind::Frame && first && !s.is_layer;
        if s.image {
            // Pictures: a page, not a time (see `build` for the default).
            if let Some(n) = p.page {
                self.page(s, n)?;
            }
        } else if frame_time {
            // The start offset picks the frame; the default is the middle.
            self.frame_at(s, p.so.unwrap_or(Time::Auto))?;
        } else if p.so.is_some() || p.eo.is_some() || p.du.is_some() {
            self.trim(s, p.so, p.eo, p.du)?;
        }
        if let Some(fps) = p.fps {
            self.frame_rate(s, fps);
        }
        match (p.background, s.is_layer, self.ctx.edge_color) {
            (Some(Background::Color(c)), false, _) | (Some(Background::Auto), false, Some(c)) => {
                self.backdrop = c;
            }
            _ => {}
        }
        for a in &p.angles {
            let angle = match a {
                Angle::AutoRight | Angle::AutoLeft => match self.auto_turn(s, &p, *a) {
                    Some(turn) => turn,
                    None => continue,
                },
                other => *other,
            };
            self.rotate(s, angle);
        }
        self.geometry(s, &p)?;
        if let Some(e) = p.effect {
            self.effect(s, e, p.color)?;
        }
        if let Some(r) = &p.radius {
            if s.image {
                self.transparent_corners(s, r)?;
            } else {
                self.corners(s, r, p.background)?;
            }
        }
        if let Some(b) = p.border {
            self.border(s, b)?;
        }
        if let (Some(o), Some(v)) = (p.opacity, s.video.as_mut()) {
            // A layer is blended by its overlay; the base becomes see-through (laid on the
            // backdrop by `finish` when the format has no alpha).
            let fmt = if s.image && !s.is_layer {
                "rgba"
            } else {
                "yuva420p"
            };
            v.push(format!(
                "format={fmt},colorchannelmixer=aa={}",
                num(f64::from(o) / 100.0)
            ));
            if !s.is_layer {
                s.alpha = true;
            }
        }
        Ok(())
    }

    /// `a_auto_right` / `a_auto_left`: a quarter turn (clockwise / counter-clockwise) when the
    /// requested shape (`w_`×`h_` or `ar_` of the same component) is landscape and the picture
    /// portrait, or the other way round; nothing otherwise.
    fn auto_turn(&self, s: &Stream, p: &Params, a: Angle) -> Option<Angle> {
        let req = request(s, p);
        let wanted = req.aspect_ratio.or(match (req.width, req.height) {
            (Some(w), Some(h)) if h > 0.0 => Some(w / h),
            _ => None,
        })?;
        let mismatch = (wanted > 1.0 && s.h > s.w) || (wanted < 1.0 && s.w > s.h);
        mismatch.then_some(Angle::Degrees(if a == Angle::AutoRight {
            90.0
        } else {
            270.0
        }))
    }

    /// Makes timestamps start at zero before the first filter that is not a trim.
    pub(super) fn zero_base(&mut self, s: &mut Stream) {
        if s.at_source {
            s.at_source = false;
            if let Some(v) = s.video.as_mut() {
                v.push("setpts=PTS-STARTPTS");
            }
            if let Some(a) = s.audio.as_mut() {
                a.push("asetpts=PTS-STARTPTS");
            }
        }
    }

    fn trim(
        &mut self,
        s: &mut Stream,
        so: Option<Time>,
        eo: Option<Time>,
        du: Option<Time>,
    ) -> Result<(), PlanError> {
        let d = s.duration;
        let start = so.map_or(0.0, |t| t.seconds(d));
        if start >= d && so.is_some() {
            return Err(PlanError::Invalid(format!(
                "so_ ({}s) is past the end of the media ({}s)",
                num(start),
                num(d)
            )));
        }
        let end = match (eo, du) {
            (Some(e), _) => e.seconds(d),
            (None, Some(du)) => start + du.seconds(d),
            (None, None) => d,
        }
        .min(d);
        if end <= start {
            return Err(PlanError::Invalid(format!(
                "the clip would be empty: it ends ({}s) before it starts ({}s)",
                num(end),
                num(start)
            )));
        }
        if s.at_source && start > 0.0 {
            self.inputs[s.input].seek = Some(start);
        }
        let (a, b) = (num(start), num(end));
        if let Some(v) = s.video.as_mut() {
            v.push(format!("trim=start={a}:end={b}"));
            v.push("setpts=PTS-STARTPTS");
        }
        if let Some(au) = s.audio.as_mut() {
            au.push(format!("atrim=start={a}:end={b}"));
            au.push("asetpts=PTS-STARTPTS");
        }
        s.at_source = false;
        s.duration = end - start;
        Ok(())
    }

    fn frame_at(&mut self, s: &mut Stream, t: Time) -> Result<(), PlanError> {
        let d = s.duration;
        let at = t.seconds(d);
        if d > 0.0 && at >= d && !matches!(t, Time::Auto) {
            return Err(PlanError::Invalid(format!(
                "so_ ({}s) is past the end of the media ({}s)",
                num(at),
                num(d)
            )));
        }
        // Keep at least one frame after the chosen time.
        let at = at.min((d - 1.0 / s.fps).max(0.0));
        if at > 0.0 {
            self.inputs[s.input].seek = Some(at);
            if let Some(v) = s.video.as_mut() {
                v.push(format!("trim=start={}", num(at)));
            }
        }
        self.zero_base(s);
        s.at_source = false;
        Ok(())
    }

    fn frame_rate(&mut self, s: &mut Stream, fps: Fps) {
        let target = match fps {
            Fps::Exact(f) => f,
            Fps::Range(lo, hi) => s.fps.max(lo.unwrap_or(0.0)).min(hi.unwrap_or(f64::MAX)),
        };
        if (target - s.fps).abs() > 0.001 || matches!(fps, Fps::Exact(_)) {
            self.zero_base(s);
            if let Some(v) = s.video.as_mut() {
                v.push(format!("fps={}", num(target)));
            }
            s.fps = target;
        }
    }

    fn rotate(&mut self, s: &mut Stream, a: Angle) {
        let Some(v) = s.video.as_mut() else { return };
        if !matches!(a, Angle::Degrees(d) if d.round() as i64 % 360 == 0) {
            s.whole_frame = false;
        }
        match a {
            Angle::HFlip => v.push("hflip"),
            Angle::VFlip => v.push("vflip"),
            Angle::Degrees(d) => match (d.round() as i64).rem_euclid(360) {
                0 => {}
                90 => {
                    v.push("transpose=clock");
                    (s.w, s.h) = (s.h, s.w);
                }
                180 => v.push("hflip,vflip"),
                270 => {
                    v.push("transpose=cclock");
                    (s.w, s.h) = (s.h, s.w);
                }
                deg => {
                    let rad = (deg as f64).to_radians();
                    let (w, h) = (f64::from(s.w), f64::from(s.h));
                    let bw = (w * rad.cos().abs() + h * rad.sin().abs()).round();
                    let bh = (w * rad.sin().abs() + h * rad.cos().abs()).round();
                    let (bw, bh) = (geometry::dim(bw, true), geometry::dim(bh, true));
                    v.push(format!("rotate={}:ow={bw}:oh={bh}:c=black", num(rad)));
                    (s.w, s.h) = (bw, bh);
                }
            },
            Angle::AutoRight | Angle::AutoLeft | Angle::Ignore => {}
        }
    }

    fn geometry(&mut self, s: &mut Stream, p: &Params) -> Result<(), PlanError> {
        if p.width.is_none() && p.height.is_none() && p.aspect_ratio.is_none() {
            return Ok(());
        }
        if s.video.is_none() {
            return Ok(());
        }
        let mut req = request(s, p);
        if req.crop == Some(crate::url::values::Crop::FillPad) {
            req.crop = Some(self.fill_or_pad(s, &req));
        }
        let even = self.kind != OutputKind::Frame;
        let mut r = geometry::resolve((s.w, s.h), &req, even);
        self.place_by_content(&mut r, s, &req, p.zoom, even);
        let max = self.ctx.max_dimension;
        if r.out.0 > max
            || r.out.1 > max
            || r.scale.is_some_and(|(w, h)| w > max * 2 || h > max * 2)
        {
            return Err(PlanError::TooLarge(format!(
                "the output would be {}x{}, over the maximum of {max} pixels a side",
                r.out.0, r.out.1
            )));
        }
        self.zero_base(s);
        s.whole_frame &= r.crop.is_none() && r.pad.is_none();
        s.corners = None;
        match (r.pad, p.background) {
            (
                Some(pad),
                Some(Background::Blurred {
                    intensity,
                    brightness,
                }),
            ) => {
                self.blurred_pad(s, r.scale.unwrap_or((s.w, s.h)), pad, intensity, brightness);
            }
            (pad, bg) => {
                let Some(v) = s.video.as_mut() else {
                    return Ok(());
                };
                if let Some((w, h)) = r.scale {
                    v.push(format!("scale={w}:{h}"));
                }
                if let Some(c) = r.crop {
                    v.push(format!("crop={}:{}:{}:{}", c.w, c.h, c.x, c.y));
                }
                if let Some(pad) = pad {
                    let color = match (bg, self.ctx.edge_color) {
                        (Some(Background::Color(c)), _) => c,
                        (Some(Background::Auto), Some(c)) => c,
                        _ if s.image => Color::WHITE,
                        _ => Color::BLACK,
                    };
                    if color.a < 255 {
                        v.push("format=rgba");
                        s.alpha = true;
                    }
                    v.push(format!(
                        "pad={}:{}:{}:{}:color={}",
                        pad.w,
                        pad.h,
                        pad.x,
                        pad.y,
                        color.to_ffmpeg()
                    ));
                }
                v.push("setsar=1");
            }
        }
        (s.w, s.h) = r.out;
        Ok(())
    }

    /// Padding filled with a blurred, darkened or brightened copy of the picture.
    /// `g_auto` and `g_face`/`g_faces`: moves the crop to the interest or the faces (and
    /// `c_thumb` frames the face), while the picture is still the whole analysed frame.
    /// `c_fill_pad`: a fill when the window it keeps holds (nearly) all the interest `g_auto`
    /// found, else a pad that loses nothing. Without `g_auto` (or both sides) it is a pad.
    fn fill_or_pad(&self, s: &Stream, req: &Request) -> crate::url::values::Crop {
        use crate::url::values::Crop;
        let (Some(map), Some(tw), Some(th), Gravity::Auto) =
            (&self.ctx.focus, req.width, req.height, req.gravity)
        else {
            return Crop::Pad;
        };
        if !s.whole_frame || s.is_layer || tw <= 0.0 || th <= 0.0 {
            return Crop::Pad;
        }
        let (sw, sh) = (f64::from(s.w), f64::from(s.h));
        let cover = (tw / sw).max(th / sh);
        let (wf, hf) = ((tw / cover / sw).min(1.0), (th / cover / sh).min(1.0));
        if map.share(wf, hf) >= FILL_PAD_KEEPS {
            Crop::Fill
        } else {
            Crop::Pad
        }
    }

    fn place_by_content(
        &self,
        r: &mut geometry::Resize,
        s: &Stream,
        req: &Request,
        zoom: Option<f64>,
        even: bool,
    ) {
        let analysed = s.whole_frame && !s.is_layer;
        match (req.gravity, self.face_box(req.gravity)) {
            (Gravity::Auto, _) if analysed => {
                if let Some(map) = &self.ctx.focus {
                    geometry::refocus(r, (s.w, s.h), |w, h| map.best_window(w, h));
                }
            }
            (Gravity::Face | Gravity::Faces, Some(face)) if analysed => {
                let (fw, fh) = (f64::from(s.w), f64::from(s.h));
                if req.crop == Some(crate::url::values::Crop::Thumb) {
                    let t = match (req.width, req.height) {
                        (Some(w), Some(h)) => (w, h),
                        _ => (f64::from(r.out.0), f64::from(r.out.1)),
                    };
                    let face_px = (face.x * fw, face.y * fh, face.w * fw, face.h * fh);
                    *r = geometry::thumb((s.w, s.h), t, face_px, zoom.unwrap_or(1.0), even);
                } else {
                    let centre = (face.x + face.w / 2.0, face.y + face.h / 2.0);
                    geometry::refocus(r, (s.w, s.h), |_, _| centre);
                }
            }
            _ => {}
        }
    }

    fn blurred_pad(
        &mut self,
        s: &mut Stream,
        content: (u32, u32),
        pad: geometry::Rect,
        intensity: u32,
        brightness: i32,
    ) {
        let Some(mut v) = s.video.take() else { return };
        v.push(format!(
            "scale={}:{}:force_original_aspect_ratio=increase",
            pad.w, pad.h
        ));
        let halves = self.split(&mut v, 2);
        let (bg, fg) = (halves[0].clone(), halves[1].clone());
        let mut blur = format!(
            "crop={}:{},gblur=sigma={}",
            pad.w,
            pad.h,
            num(f64::from(intensity) / 20.0)
        );
        if brightness != 0 {
            blur.push_str(&format!(
                ",eq=brightness={}",
                num(f64::from(brightness) / 100.0)
            ));
        }
        let bg_out = self.label("v");
        self.chains.push(format!("[{bg}]{blur}[{bg_out}]"));
        let fg_out = self.label("v");
        self.chains
            .push(format!("[{fg}]scale={}:{}[{fg_out}]", content.0, content.1));
        let mut joined = self.join(
            &[bg_out, fg_out],
            &format!("overlay={}:{}", pad.x, pad.y),
            false,
        );
        joined.push("setsar=1");
        s.video = Some(joined);
    }

    fn corners(
        &mut self,
        s: &mut Stream,
        r: &Radius,
        bg: Option<Background>,
    ) -> Result<(), PlanError> {
        let Some(v) = s.video.as_mut() else {
            return Ok(());
        };
        let color = match bg {
            Some(Background::Color(c)) => c,
            _ => Color::BLACK,
        };
        let (y, u, w) = yuv(color);
        let outside = match r {
            Radius::Max => "gt(pow((X/SW-W/2)/(W/2),2)+pow((Y/SH-H/2)/(H/2),2),1)".to_string(),
            Radius::Pixels(values) => {
                let first = values.first().copied().unwrap_or(0);
                if values.iter().any(|x| *x != first) {
                    return Err(PlanError::Unsupported(
                        "r_ with different radii per corner is not supported on video".into(),
                    ));
                }
                let rr = first.min(s.w / 2).min(s.h / 2);
                if rr == 0 {
                    return Ok(());
                }
                format!(
                    "gt(pow(max(max({rr}-X/SW,X/SW-(W-{rr})),0),2)+pow(max(max({rr}-Y/SH,Y/SH-(H-{rr})),0),2),{})",
                    rr * rr
                )
            }
        };
        let o = outside;
        let args =
            format!("lum=if({o},{y},lum(X,Y)):cb=if({o},{u},cb(X,Y)):cr=if({o},{w},cr(X,Y))");
        v.push(format!("format=yuv420p,geq={}", args.replace(',', "\\,")));
        Ok(())
    }

    pub(super) fn finish(
        mut self,
        mut base: Stream,
        format: &output::Format,
        extension: &str,
    ) -> Result<Plan, PlanError> {
        let keeps_alpha = format.alpha || output::video_alpha(format, &self.settings);
        if base.alpha && !keeps_alpha {
            let backdrop = self.backdrop;
            self.flatten(&mut base, backdrop);
        }
        if format.extension == "ico" && (base.w > 256 || base.h > 256) {
            return Err(PlanError::Invalid(format!(
                "an .ico is at most 256x256 and this one would be {}x{}; add c_limit,w_256,h_256",
                base.w, base.h
            )));
        }
        let video_enc = output::video_encoding(format, &self.settings, base.fps, base.alpha)?;
        let audio_enc = output::audio_encoding(format, &self.settings)?;
        if video_enc.is_none() {
            self.drop_track(&mut base, false);
        }
        if audio_enc.is_none() {
            self.drop_track(&mut base, true);
        }
        if format.kind == OutputKind::Audio && base.audio.is_none() {
            return Err(PlanError::Invalid(format!(
                "the media has no audio track to make a .{extension} from"
            )));
        }
        let mut max_frames = None;
        let video = match (base.video.take(), video_enc) {
            (Some(mut v), Some(enc)) => {
                match format.kind {
                    OutputKind::Frame => max_frames = Some(1),
                    OutputKind::Animation => self.animation(&mut v, &mut base)?,
                    _ => {}
                }
                if format.kind == OutputKind::Video {
                    even_sides(&mut v, &mut base, &enc.pix_fmt);
                }
                if enc.pix_fmt == "pal8" {
                    let halves = self.split(&mut v, 2);
                    let pal = self.label("v");
                    self.chains
                        .push(format!("[{}]palettegen=stats_mode=diff[{pal}]", halves[0]));
                    self.chains.push(format!(
                        "[{}][{pal}]paletteuse=dither=bayer:bayer_scale=5[vout]",
                        halves[1]
                    ));
                } else {
                    v.push(format!("format={}", enc.pix_fmt));
                    let label = self.flush(&mut v);
                    self.chains.push(format!("[{label}]null[vout]"));
                }
                Some(enc)
            }
            (None, _) => None,
            (Some(v), None) => {
                base.video = Some(v);
                self.drop_track(&mut base, false);
                None
            }
        };
        let audio = self.finish_audio(&mut base, audio_enc);
        if video.is_none() && audio.is_none() {
            return Err(PlanError::Invalid(
                "the output would have no video and no audio".into(),
            ));
        }
        self.colour_managed(format.extension);
        Ok(Plan {
            inputs: self.inputs,
            graph: self.chains.join(";"),
            video,
            audio,
            muxer: format.muxer.to_string(),
            muxer_options: output::muxer_options(format),
            max_frames,
            kind: format.kind,
            extension: format.extension.to_string(),
            duration: base.duration,
            fps: base.fps,
            segments: None,
        })
    }

    /// Pictures are converted to sRGB for outputs that cannot carry their colour profile.
    fn colour_managed(&mut self, extension: &str) {
        let to_srgb = !super::keeps_colour_profile(extension);
        for input in self.inputs.iter_mut().filter(|i| i.picture) {
            input.to_srgb = to_srgb;
        }
    }

    /// Ends the audio track in the encoder's sample format and rate at `[aout]`.
    fn finish_audio(
        &mut self,
        base: &mut Stream,
        enc: Option<output::AudioEncoding>,
    ) -> Option<output::AudioEncoding> {
        let (mut a, enc) = (base.audio.take()?, enc?);
        if let Some(rate) = enc.sample_rate.or(self.settings.audio_frequency) {
            a.push(format!("aresample={rate}"));
        }
        let layouts = if self.settings.mono {
            "mono"
        } else {
            "stereo|mono"
        };
        a.push(format!(
            "aformat=sample_fmts={}:channel_layouts={layouts}",
            enc.sample_fmts
        ));
        let label = self.flush(&mut a);
        self.chains.push(format!("[{label}]anull[aout]"));
        Some(enc)
    }

    /// Frame sampling (`vs_`) and delay (`dl_`) for animated images.
    fn animation(&mut self, v: &mut Track, s: &mut Stream) -> Result<(), PlanError> {
        let d = s.duration.max(0.01);
        let rate = match self.settings.sampling {
            Some(Sampling::Frames(n)) => f64::from(n) / d,
            Some(Sampling::Every(sec)) => 1.0 / sec,
            // An animated picture keeps its own frames and timing.
            None if s.image => {
                if s.at_source {
                    v.push("setpts=PTS-STARTPTS");
                }
                return Ok(());
            }
            None => s.fps.min(10.0),
        };
        let frames = (rate * d).ceil();
        if frames > 2000.0 {
            return Err(PlanError::TooLarge(format!(
                "an animation of {frames} frames is over the limit of 2000; use vs_ or trim"
            )));
        }
        if s.at_source {
            v.push("setpts=PTS-STARTPTS");
        }
        v.push(format!("fps={}", num(rate)));
        if let Some(dl) = self.settings.delay {
            v.push(format!(
                "settb=1/1000,setpts=N*{}/TB",
                num(f64::from(dl) / 1000.0)
            ));
        }
        s.fps = rate;
        Ok(())
    }
}

/// BT.601 limited-range Y, Cb, Cr of a colour.
fn yuv(c: Color) -> (u8, u8, u8) {
    let (r, g, b) = (f64::from(c.r), f64::from(c.g), f64::from(c.b));
    let y = 16.0 + 0.257 * r + 0.504 * g + 0.098 * b;
    let u = 128.0 - 0.148 * r - 0.291 * g + 0.439 * b;
    let v = 128.0 + 0.439 * r - 0.368 * g - 0.071 * b;
    (y.round() as u8, u.round() as u8, v.round() as u8)
}

/// The crop/resize request of a component, in pixels of the stream it applies to.
pub(super) fn request(s: &Stream, p: &Params) -> Request {
    let dpr = p.dpr.unwrap_or(1.0);
    let px = |size: Option<Size>, of: u32| {
        size.map(|z| match z {
            Size::Pixels(n) => f64::from(n) * dpr,
            Size::Fraction(f) => f * f64::from(of),
        })
    };
    let off = |o: Option<Offset>, of: u32| {
        o.map(|o| match o {
            Offset::Pixels(n) => f64::from(n),
            Offset::Fraction(f) => f * f64::from(of),
        })
    };
    // c_auto and c_auto_pad are fill and fill_pad where the interest is.
    use crate::url::values::Crop;
    let (crop, gravity) = match p.crop {
        Some(Crop::Auto) => (Some(Crop::Fill), p.gravity.unwrap_or(Gravity::Auto)),
        Some(Crop::AutoPad) => (Some(Crop::FillPad), p.gravity.unwrap_or(Gravity::Auto)),
        other => (other, p.gravity.unwrap_or(Gravity::Center)),
    };
    Request {
        width: px(p.width, s.w),
        height: px(p.height, s.h),
        aspect_ratio: p.aspect_ratio,
        crop,
        gravity,
        x: off(p.x, s.w),
        y: off(p.y, s.h),
    }
}

/// 4:2:0 video needs even sides: an odd source that nothing resized (a format change, an
/// effect, a crop clamped to the source) loses its last column or row.
fn even_sides(v: &mut Track, base: &mut Stream, pix_fmt: &str) {
    let subsampled = pix_fmt.starts_with("yuv420") || pix_fmt == "nv12";
    if subsampled && (base.w % 2 == 1 || base.h % 2 == 1) {
        v.push(format!("crop={}:{}:0:0", base.w & !1, base.h & !1));
        base.w &= !1;
        base.h &= !1;
    }
}

/// The parameters of one component, by meaning (the last of a key wins).
#[derive(Debug, Default)]
pub(super) struct Params {
    pub(super) width: Option<Size>,
    pub(super) height: Option<Size>,
    pub(super) aspect_ratio: Option<f64>,
    pub(super) crop: Option<crate::url::values::Crop>,
    pub(super) gravity: Option<Gravity>,
    pub(super) x: Option<Offset>,
    pub(super) y: Option<Offset>,
    pub(super) background: Option<Background>,
    pub(super) color: Option<Color>,
    pub(super) so: Option<Time>,
    pub(super) eo: Option<Time>,
    pub(super) du: Option<Time>,
    pub(super) fps: Option<Fps>,
    pub(super) angles: Vec<Angle>,
    pub(super) page: Option<u32>,
    pub(super) zoom: Option<f64>,
    pub(super) border: Option<crate::url::values::Border>,
    pub(super) effect: Option<crate::url::values::Effect>,
    pub(super) radius: Option<Radius>,
    pub(super) opacity: Option<u8>,
    pub(super) dpr: Option<f64>,
}

impl Params {
    pub(super) fn of(c: &Component) -> Result<Params, PlanError> {
        let mut p = Params::default();
        for param in &c.params {
            match &param.value {
                Value::Width(v) => p.width = Some(*v),
                Value::Height(v) => p.height = Some(*v),
                Value::AspectRatio(v) => p.aspect_ratio = Some(*v),
                Value::Crop(v) => p.crop = Some(*v),
                Value::Gravity(v) => p.gravity = Some(*v),
                Value::X(v) => p.x = Some(*v),
                Value::Y(v) => p.y = Some(*v),
                Value::Background(v) => p.background = Some(*v),
                Value::Color(v) => p.color = Some(*v),
                Value::StartOffset(v) => p.so = Some(*v),
                Value::EndOffset(v) => p.eo = Some(*v),
                Value::Duration(v) => p.du = Some(*v),
                Value::Fps(v) => p.fps = Some(*v),
                Value::Angle(v) => p.angles.clone_from(v),
                Value::Effect(v) => p.effect = Some(*v),
                Value::Radius(v) => p.radius = Some(v.clone()),
                Value::Opacity(v) => p.opacity = Some(*v),
                Value::Dpr(v) => p.dpr = Some(*v),
                Value::Page(v) => p.page = Some(*v),
                Value::Zoom(v) => p.zoom = Some(*v),
                Value::Border(v) => p.border = Some(*v),
                // Checked against the output format by the builder; a frame ignores it.
                Value::StreamingProfile(_) => {}
                Value::Named(_) | Value::Layer(_) | Value::Underlay(_) => {
                    return Err(PlanError::Invalid(format!(
                        "{} cannot be used here",
                        param.text
                    )));
                }
                // Output settings (gathered once for the whole plan) and image-only parameters.
                _ => {}
            }
        }
        Ok(p)
    }
}

/// Output settings of the whole transformation (outside layers); the last of each wins.
fn settings(steps: &[Step]) -> Settings {
    let mut s = Settings::default();
    for c in steps.iter().filter_map(|st| match st {
        Step::Apply(c) => Some(c),
        Step::Layer(_) => None,
    }) {
        for p in &c.params {
            match &p.value {
                Value::VideoCodec(v) => s.video_codec = Some(v.clone()),
                Value::AudioCodec(v) => s.audio_codec = Some(*v),
                Value::BitRate(v) => s.bit_rate = Some(*v),
                Value::Quality(v) => s.quality = Some(*v),
                Value::KeyframeInterval(v) => s.keyframe_interval = Some(*v),
                Value::AudioFrequency(v) => s.audio_frequency = *v,
                Value::Flags(f) if f.contains(&Flag::Mono) => s.mono = true,
                Value::VideoSampling(v) => s.sampling = Some(*v),
                Value::Delay(v) => s.delay = Some(*v),
                Value::Flags(f) if f.contains(&Flag::Progressive) => s.progressive = true,
                _ => {}
            }
        }
    }
    s
}
