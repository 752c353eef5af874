//! Layers on video: image and video overlays (`overlay`), text (`drawtext` with a bundled
//! font) and spliced clips (`concat`). Placement comes from the layer's apply component.

use super::chain::{Builder, Params, Stream, num};
use super::geometry::anchor;
use super::{PlanError, layer_key};
use crate::url::values::{Color, Flag, Gravity, Offset, Time};
use crate::url::{Layer, LayerSource};

/// When a layer shows, in seconds of the base: `so_`/`eo_`/`du_` of its placement.
fn window(p: &Params, base_duration: f64) -> Option<(f64, f64)> {
    if p.so.is_none() && p.eo.is_none() && p.du.is_none() {
        return None;
    }
    let start = p.so.map_or(0.0, |t| t.seconds(base_duration));
    let end = match (p.eo, p.du) {
        (Some(e), _) => e.seconds(base_duration),
        (None, Some(d)) => start + d.seconds(base_duration),
        (None, None) => base_duration,
    };
    Some((start, end.max(start)))
}

/// `l_subtitles:`: the file's cues burnt into the picture (libass), at the base's times.
fn subtitles(base: &mut Stream, path: &str, font: Option<&(String, u32)>) -> Result<(), PlanError> {
    let Some(v) = base.video.as_mut() else {
        return Ok(());
    };
    // Kino names its blob files; anything else would need escaping in the graph.
    if !path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
    {
        return Err(PlanError::Unsupported(
            "the subtitles file's path cannot be put in a filter graph".into(),
        ));
    }
    let mut filter = format!("subtitles=filename={path}");
    if let Some((name, size)) = font {
        let name: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
        filter.push_str(&format!(":force_style='FontName={name}\\,FontSize={size}'"));
    }
    v.push(filter);
    Ok(())
}

/// A position expression: `(free)*anchor ± offset`, offsets pointing away from the edge.
fn position(free: &str, anchor: f64, offset: f64) -> String {
    let off = if anchor == 1.0 { -offset } else { offset };
    let sign = if off < 0.0 { '-' } else { '+' };
    format!("({free})*{}{sign}{}", num(anchor), num(off.abs()))
}

fn offset_px(o: Option<Offset>, of: u32) -> f64 {
    match o {
        Some(Offset::Pixels(n)) => f64::from(n),
        Some(Offset::Fraction(f)) => f * f64::from(of),
        None => 0.0,
    }
}

impl Builder<'_> {
    pub(super) fn layer(&mut self, base: &mut Stream, layer: &Layer) -> Result<(), PlanError> {
        let placement = Params::of(&layer.placement)?;
        if let LayerSource::Text { .. } = &layer.source {
            return self.text(base, layer, &placement);
        }
        let key = layer_key(&layer.source).unwrap_or_default();
        let source = self.ctx.layers.get(&key).cloned().ok_or_else(|| {
            PlanError::MissingLayer(
                key.split_once(':')
                    .map_or(key.clone(), |(_, id)| id.to_string()),
            )
        })?;
        // A transition only joins clips: its layer is spliced, fl_splice or not.
        if layer.has_flag(&Flag::Splice) || layer.transition.is_some() {
            return self.splice(base, layer, &source, &placement);
        }
        match &layer.source {
            LayerSource::Audio { .. } => {
                return self.audio_layer(base, &key, &source, &placement);
            }
            LayerSource::Subtitles { font, .. } => {
                return subtitles(base, &source.path, font.as_ref());
            }
            _ => {}
        }
        if base.video.is_none() {
            return Ok(());
        }
        self.zero_base(base);
        let mut l = self.open(&source, false, true);
        if l.video.is_none() {
            return Err(PlanError::Invalid(format!(
                "layer {key} has no picture to overlay"
            )));
        }
        for (i, c) in layer.chain.iter().enumerate() {
            let mut c = c.clone();
            if layer.has_flag(&Flag::Relative) {
                relative_to(&mut c, base.w, base.h);
            }
            self.component(&mut l, &c, i == 0)?;
        }
        let still = source.media.duration <= 0.0;
        let window = window(&placement, base.duration);
        let mut lv = l.video.take().unwrap_or_else(unreachable_track);
        if !still {
            self.zero_base_track(&mut lv, l.at_source);
            if let Some((start, _)) = window {
                lv.push(format!("setpts=PTS+{}/TB", num(start)));
            }
        }
        let (x, y) = self.overlay_position(base, &placement);
        let mut filter = format!(
            "overlay=x={x}:y={y}:eof_action={}",
            if still { "repeat" } else { "pass" }
        );
        if let Some((a, b)) = window {
            filter.push_str(&format!(":enable='between(t,{},{})'", num(a), num(b)));
        }
        let (bl, ll) = {
            let mut bv = base.video.take().unwrap_or_else(unreachable_track);
            (self.flush(&mut bv), self.flush(&mut lv))
        };
        let under = layer.underlay;
        let inputs = if under { [ll, bl] } else { [bl, ll] };
        let mut joined = self.join(&inputs, &filter, false);
        joined.push("setsar=1");
        base.video = Some(joined);
        Ok(())
    }

    /// Where an overlay goes: `x`/`y` expressions from the apply component's gravity (a face
    /// when it asks for one) and offsets.
    fn overlay_position(&self, base: &Stream, placement: &Params) -> (String, String) {
        let gravity = placement.gravity.unwrap_or(Gravity::Center);
        match self.face_box(gravity).filter(|_| base.whole_frame) {
            // Centred on the face (or faces), nudged by x_/y_.
            Some(f) => (
                format!(
                    "{}-w/2+{}",
                    num((f.x + f.w / 2.0) * f64::from(base.w)),
                    num(offset_px(placement.x, base.w))
                ),
                format!(
                    "{}-h/2+{}",
                    num((f.y + f.h / 2.0) * f64::from(base.h)),
                    num(offset_px(placement.y, base.h))
                ),
            ),
            None => {
                let (ax, ay) = anchor(gravity);
                (
                    position("W-w", ax, offset_px(placement.x, base.w)),
                    position("H-h", ay, offset_px(placement.y, base.h)),
                )
            }
        }
    }

    /// `l_audio:<id>`: the asset's sound mixed into the base's (or, for a silent base, its
    /// sound), from `so_` for `du_` or to `eo_` of the apply component; the base's length.
    fn audio_layer(
        &mut self,
        base: &mut Stream,
        key: &str,
        source: &super::Source,
        placement: &Params,
    ) -> Result<(), PlanError> {
        if base.audio.is_none() && base.video.is_none() {
            return Ok(());
        }
        self.zero_base(base);
        let mut l = self.open(source, true, true);
        self.drop_track(&mut l, false);
        let Some(mut la) = l.audio.take() else {
            return Err(PlanError::Invalid(format!(
                "layer {key} has no sound to mix in"
            )));
        };
        self.zero_base_track(&mut la, l.at_source);
        if let Some((start, end)) = window(placement, base.duration) {
            la.push(format!("atrim=duration={}", num(end - start)));
            la.push(format!(
                "adelay=delays={}:all=1",
                (start * 1000.0).round() as u64
            ));
        }
        la.push(format!(
            "aresample={},aformat=channel_layouts=stereo",
            base.sample_rate
        ));
        let layer = self.flush(&mut la);
        base.audio = Some(match base.audio.take() {
            Some(mut own) => {
                let own = self.flush(&mut own);
                self.join(
                    &[own, layer],
                    "amix=inputs=2:duration=first:dropout_transition=0:normalize=0",
                    true,
                )
            }
            None => {
                let mut t = self.join(&[layer], "apad", true);
                t.push(format!("atrim=duration={}", num(base.duration)));
                t
            }
        });
        Ok(())
    }

    fn zero_base_track(&mut self, t: &mut super::chain::Track, at_source: bool) {
        if at_source {
            t.push(if t.audio {
                "asetpts=PTS-STARTPTS"
            } else {
                "setpts=PTS-STARTPTS"
            });
        }
    }

    /// `l_text:Font_size[_bold]:text` drawn on the base with `drawtext`.
    fn text(
        &mut self,
        base: &mut Stream,
        layer: &Layer,
        placement: &Params,
    ) -> Result<(), PlanError> {
        let LayerSource::Text {
            font,
            size,
            bold,
            italic,
            text,
        } = &layer.source
        else {
            return Ok(());
        };
        let mut color = Color {
            r: 0,
            g: 0,
            b: 0,
            a: 255,
        };
        let mut box_color = None;
        for c in &layer.chain {
            let p = Params::of(c)?;
            if let Some(co) = p.color {
                color = co;
            }
            if let Some(crate::url::values::Background::Color(b)) = p.background {
                box_color = Some(b);
            }
        }
        self.zero_base(base);
        let duration = base.duration;
        let Some(v) = base.video.as_mut() else {
            return Ok(());
        };
        let (ax, ay) = anchor(placement.gravity.unwrap_or(Gravity::Center));
        let x = position("w-tw", ax, offset_px(placement.x, base.w));
        let y = position("h-th", ay, offset_px(placement.y, base.h));
        let mut args = vec![
            format!(
                "fontfile={}",
                font_file(&self.ctx.font_dir, font, *bold, *italic)
            ),
            format!("text={}", escape_option(text)),
            format!("fontsize={size}"),
            format!("fontcolor={}", color.to_ffmpeg()),
            format!("x={x}"),
            format!("y={y}"),
            "expansion=none".into(),
        ];
        if let Some(b) = box_color {
            args.push(format!("box=1:boxcolor={}:boxborderw=4", b.to_ffmpeg()));
        }
        if let Some((a, b)) = window(placement, duration) {
            args.push(format!("enable=between(t\\,{}\\,{})", num(a), num(b)));
        }
        v.push(format!("drawtext={}", escape_graph(&args.join(":"))));
        Ok(())
    }

    /// The labels of the two sound tracks to join for a splice (silence for a clip without
    /// sound), when the base has sound.
    fn splice_audio(&mut self, base: &mut Stream, l: &mut Stream) -> Option<(String, String)> {
        let norm = "aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,asettb=AVTB";
        let mut ba = base.audio.take()?;
        ba.push(norm);
        let la = match l.audio.take() {
            Some(mut la) => {
                la.push(norm);
                self.flush(&mut la)
            }
            None => {
                let silence = self.label("a");
                self.chains.push(format!(
                    "anullsrc=r=48000:cl=stereo,atrim=duration={},{norm}[{silence}]",
                    num(l.duration)
                ));
                silence
            }
        };
        Some((self.flush(&mut ba), la))
    }

    /// `fl_splice`: the layer clip after the base (or before it with `so_0`), scaled to fit.
    fn splice(
        &mut self,
        base: &mut Stream,
        layer: &Layer,
        source: &super::Source,
        placement: &Params,
    ) -> Result<(), PlanError> {
        if base.image && base.duration <= 0.0 {
            return Err(PlanError::Unsupported(
                "fl_splice appends to a video or an animation, not to a still picture".into(),
            ));
        }
        self.zero_base(base);
        let with_audio = base.audio.is_some();
        let mut l = self.open(source, with_audio, true);
        for (i, c) in layer.chain.iter().enumerate() {
            self.component(&mut l, c, i == 0)?;
        }
        self.zero_base(&mut l);
        let (Some(mut bv), Some(mut lv)) = (base.video.take(), l.video.take()) else {
            return Err(PlanError::Invalid(
                "fl_splice needs video in both clips".into(),
            ));
        };
        let (w, h, fps) = (base.w, base.h, base.fps);
        let fit = format!(
            "scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={},format=yuv420p,settb=AVTB",
            num(fps)
        );
        lv.push(fit);
        cut_spliced(
            &mut l,
            &mut lv,
            layer,
            placement,
            source.media.image,
            base.duration,
        );
        bv.push(format!(
            "setsar=1,fps={},format=yuv420p,settb=AVTB",
            num(fps)
        ));
        let audio = self.splice_audio(base, &mut l);
        let (bvl, lvl) = (self.flush(&mut bv), self.flush(&mut lv));
        let prepend = matches!(placement.so, Some(Time::Seconds(s)) if s == 0.0);
        let order = |a: String, b: String| if prepend { [b, a] } else { [a, b] };
        let [v1, v2] = order(bvl, lvl);
        let audio = audio.map(|(ba, la)| order(ba, la));
        let durations = if prepend {
            [l.duration, base.duration]
        } else {
            [base.duration, l.duration]
        };
        let (vo, ao, overlap) = match &layer.transition {
            Some(matte) => self.transition(matte, [v1, v2], audio, durations, base)?,
            None => {
                let (vo, ao) = (self.label("v"), self.label("a"));
                let has_audio = audio.is_some();
                self.chains.push(match audio {
                    Some([a1, a2]) => {
                        format!("[{v1}][{a1}][{v2}][{a2}]concat=n=2:v=1:a=1[{vo}][{ao}]")
                    }
                    None => format!("[{v1}][{v2}]concat=n=2:v=1:a=0[{vo}]"),
                });
                (vo, has_audio.then_some(ao), 0.0)
            }
        };
        base.video = Some(super::chain::Track {
            label: vo,
            pending: vec![],
            untouched: false,
            audio: false,
        });
        if let Some(ao) = ao {
            base.audio = Some(super::chain::Track {
                label: ao,
                pending: vec![],
                untouched: false,
                audio: true,
            });
        }
        base.duration += l.duration - overlap;
        Ok(())
    }

    /// `e_transition`: the end of the first clip and the start of the second overlap for the
    /// matte clip's length (at most each clip's length less one frame); where the matte is
    /// white the second clip shows, where it is black the first, grey mixes them. The sound
    /// crossfades over the same time. Returns the joined labels and the overlap in seconds.
    fn transition(
        &mut self,
        matte: &LayerSource,
        [v1, v2]: [String; 2],
        audio: Option<[String; 2]>,
        [d1, d2]: [f64; 2],
        base: &Stream,
    ) -> Result<(String, Option<String>, f64), PlanError> {
        let key = layer_key(matte).unwrap_or_default();
        let source = self.ctx.layers.get(&key).cloned().ok_or_else(|| {
            PlanError::MissingLayer(
                key.split_once(':')
                    .map_or(key.clone(), |(_, id)| id.to_string()),
            )
        })?;
        let frame = 1.0 / base.fps.max(1.0);
        let overlap = source.media.duration.min(d1 - frame).min(d2 - frame);
        if source.media.image || overlap < frame {
            return Err(PlanError::Invalid(format!(
                "the transition needs a matte video and two clips longer than it \
                 ({} s and {} s)",
                num(d1),
                num(d2)
            )));
        }
        let mut m = self.open(&source, false, true);
        self.zero_base(&mut m);
        let mut mv = m
            .video
            .take()
            .ok_or_else(|| PlanError::Invalid(format!("the transition {key} has no picture")))?;
        let (w, h, fps, at) = (base.w, base.h, num(base.fps), num(d1 - overlap));
        mv.push(format!(
            "scale={w}:{h},setsar=1,fps={fps},format=gray,format=gbrp,trim=duration={},setpts=PTS-STARTPTS,settb=AVTB",
            num(overlap)
        ));
        let ml = self.flush(&mut mv);
        let [h1, t1, h2, t2, fh, ft, sh, sr, mixed, vo]: [String; 10] =
            std::array::from_fn(|_| self.label("v"));
        self.chains.extend([
            format!("[{v1}]split=2[{h1}][{t1}]"),
            format!("[{h1}]trim=end={at},setpts=PTS-STARTPTS[{fh}]"),
            format!("[{t1}]trim=start={at},setpts=PTS-STARTPTS,format=gbrp[{ft}]"),
            format!("[{v2}]split=2[{h2}][{t2}]"),
            format!(
                "[{h2}]trim=end={},setpts=PTS-STARTPTS,format=gbrp[{sh}]",
                num(overlap)
            ),
            format!(
                "[{t2}]trim=start={},setpts=PTS-STARTPTS[{sr}]",
                num(overlap)
            ),
            format!(
                "[{ft}][{sh}][{ml}]maskedmerge,trim=duration={},format=yuv420p,settb=AVTB[{mixed}]",
                num(overlap)
            ),
            format!("[{fh}][{mixed}][{sr}]concat=n=3:v=1:a=0[{vo}]"),
        ]);
        let ao = audio.map(|[a1, a2]| {
            let ao = self.label("a");
            self.chains.push(format!(
                "[{a1}][{a2}]acrossfade=d={}:c1=tri:c2=tri[{ao}]",
                num(overlap)
            ));
            ao
        });
        Ok((vo, ao, overlap))
    }
}

/// How long a spliced clip plays: a picture's frames repeat without end, so it shows for its
/// `du_` (default 1 s); a video is cut by a `du_` on the layer's ends
/// (`l_video:dog,fl_splice,du_5`).
fn cut_spliced(
    l: &mut Stream,
    lv: &mut super::chain::Track,
    layer: &Layer,
    placement: &Params,
    picture: bool,
    base_duration: f64,
) {
    let cut = if picture {
        Some(spliced_picture_seconds(layer, placement, base_duration))
    } else {
        placement
            .du
            .map(|t| t.seconds(l.duration))
            .filter(|d| *d > 0.0 && *d < l.duration)
    };
    let Some(seconds) = cut else {
        return;
    };
    l.duration = seconds;
    lv.push(format!(
        "trim=duration={},setpts=PTS-STARTPTS",
        num(seconds)
    ));
    if let Some(a) = l.audio.as_mut().filter(|_| !picture) {
        a.push(format!(
            "atrim=duration={},asetpts=PTS-STARTPTS",
            num(seconds)
        ));
    }
}

/// How long a spliced picture shows: the `du_` of its own transformation or of its apply
/// component, else one second.
fn spliced_picture_seconds(layer: &Layer, placement: &Params, base_duration: f64) -> f64 {
    let own = layer
        .chain
        .iter()
        .flat_map(|c| &c.params)
        .find_map(|p| match &p.value {
            crate::url::Value::Duration(t) => Some(*t),
            _ => None,
        });
    own.or(placement.du)
        .map_or(1.0, |t| t.seconds(base_duration))
        .clamp(0.04, 3600.0)
}

fn unreachable_track() -> super::chain::Track {
    super::chain::Track {
        label: "0:v".into(),
        pending: vec![],
        untouched: true,
        audio: false,
    }
}

/// `w_0.25,fl_relative`: fractions of the base, not of the layer.
fn relative_to(c: &mut crate::url::Component, w: u32, h: u32) {
    use crate::url::Value;
    use crate::url::values::Size;
    for p in &mut c.params {
        match &mut p.value {
            Value::Width(Size::Fraction(f)) => {
                p.value = Value::Width(Size::Pixels((*f * f64::from(w)).round() as u32))
            }
            Value::Height(Size::Fraction(f)) => {
                p.value = Value::Height(Size::Pixels((*f * f64::from(h)).round() as u32))
            }
            _ => {}
        }
    }
}

/// A bundled DejaVu face for a CSS-ish family name.
pub(super) fn font_file(dir: &str, family: &str, bold: bool, italic: bool) -> String {
    let f = family.to_ascii_lowercase();
    let (stem, slant) = if f.contains("times")
        || f.contains("serif") && !f.contains("sans")
        || f.contains("georgia")
    {
        ("DejaVuSerif", "Italic")
    } else if f.contains("courier") || f.contains("mono") {
        ("DejaVuSansMono", "Oblique")
    } else {
        ("DejaVuSans", "Oblique")
    };
    let style = match (bold, italic) {
        (true, true) => format!("-Bold{slant}"),
        (true, false) => "-Bold".to_string(),
        (false, true) => format!("-{slant}"),
        (false, false) => String::new(),
    };
    format!("{dir}/{stem}{style}.ttf")
}

/// Escapes a filter option value (`\`, `'`, `:`).
pub(super) fn escape_option(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '\\' | '\'' | ':') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Escapes filter arguments for the graph parser (`\`, `'`, `[`, `]`, `,`, `;`).
pub(super) fn escape_graph(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '\\' | '\'' | '[' | ']' | ',' | ';') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}
