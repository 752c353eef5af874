//! `e_` effects on video and audio: volume, speed, reverse, boomerang, loop, fade, blur,
//! noise and grayscale, as libavfilter filters. Effects that hold the whole clip in memory
//! (reverse, boomerang, loop) are refused past a size budget with a message saying what to do.

use super::PlanError;
use super::chain::{Builder, Stream, num};
use crate::url::values::{Color, Effect, PictureEffect, Volume};

/// `e_make_transparent`: pixels near `key` (tolerance 0–100) become transparent.
fn make_transparent(s: &mut Stream, key: Color, tolerance: u32) {
    if let Some(v) = s.video.as_mut() {
        v.push(format!(
            "format=rgba,colorkey=0x{:02x}{:02x}{:02x}:{}:0.05",
            key.r,
            key.g,
            key.b,
            num((f64::from(tolerance) / 100.0).max(0.01))
        ));
        s.alpha = true;
    }
}

/// `e_preview`: `segments` evenly spaced pieces of the video, `duration` seconds in all
/// (each at least `min_segment`), played one after another. A video no longer than the
/// preview is kept whole.
fn preview(s: &mut Stream, duration: f64, segments: u32, min_segment: f64) {
    let total = s.duration;
    if total <= duration || total <= 0.0 {
        return;
    }
    let n = segments
        .min((duration / min_segment).floor().max(1.0) as u32)
        .max(1);
    let piece = duration / f64::from(n);
    let spacing = if n > 1 {
        (total - piece) / f64::from(n - 1)
    } else {
        0.0
    };
    let ranges: Vec<String> = (0..n)
        .map(|i| {
            let start = if n > 1 {
                spacing * f64::from(i)
            } else {
                (total - piece) / 2.0
            };
            format!("between(t\\,{}\\,{})", num(start), num(start + piece))
        })
        .collect();
    let keep = ranges.join("+");
    if let Some(v) = s.video.as_mut() {
        // Frames renumbered at the stream's rate (the source may not announce one).
        v.push(format!(
            "select={keep},setpts=N/({}*TB)",
            num(s.fps.max(1.0))
        ));
    }
    if let Some(a) = s.audio.as_mut() {
        a.push(format!("aselect={keep},asetpts=N/SR/TB"));
    }
    s.duration = piece * f64::from(n);
}

/// Decoded frames an in-memory effect may hold (about 1.5 GB of 4:2:0 pixels).
const MEMORY_BUDGET: f64 = 1.5e9;

impl Builder<'_> {
    /// A bar along the bottom, `width` pixels high, that grows with playback.
    fn progress_bar(&mut self, s: &mut Stream, color: Color, width: u32) {
        let Some(mut v) = s.video.take() else { return };
        let main = self.flush(&mut v);
        let bar = self.label("v");
        let height = width.min(s.h.max(1));
        self.chains.push(format!(
            "color=c={}:s={}x{height}:r={}[{bar}]",
            Color { a: 255, ..color }.to_ffmpeg(),
            s.w,
            num(s.fps.max(1.0))
        ));
        s.video = Some(self.join(
            &[main, bar],
            &format!(
                "overlay=x=-w+w*t/{}:y=H-h:shortest=1",
                num(s.duration.max(0.001))
            ),
            false,
        ));
    }

    pub(super) fn effect(
        &mut self,
        s: &mut Stream,
        e: Effect,
        color: Option<Color>,
    ) -> Result<(), PlanError> {
        self.zero_base(s);
        match e {
            Effect::Volume(Volume::Mute) => self.drop_track(s, true),
            Effect::Volume(Volume::Percent(p)) => {
                if let Some(a) = s.audio.as_mut() {
                    a.push(format!("volume={}", num((1.0 + p / 100.0).max(0.0))));
                }
            }
            Effect::Volume(Volume::Decibels(db)) => {
                if let Some(a) = s.audio.as_mut() {
                    a.push(format!("volume={}dB", num(db)));
                }
            }
            Effect::Accelerate(p) => accelerate(s, 1.0 + p / 100.0),
            Effect::Reverse => {
                in_memory(s, "e_reverse")?;
                if let Some(v) = s.video.as_mut() {
                    v.push("reverse");
                }
                if let Some(a) = s.audio.as_mut() {
                    a.push("areverse");
                }
            }
            Effect::Boomerang => self.boomerang(s)?,
            Effect::Loop(n) => looped(s, n)?,
            Effect::Fade(ms) => fade(s, ms),
            Effect::Blur(n) => {
                if let Some(v) = s.video.as_mut() {
                    v.push(format!("gblur=sigma={}", num(f64::from(n) / 20.0)));
                }
            }
            Effect::Noise(n) => {
                if let Some(v) = s.video.as_mut() {
                    v.push(format!("noise=alls={n}:allf=t"));
                }
            }
            Effect::Picture(effect, strength) => {
                let filters = picture(effect, strength, s, color);
                if let Some(v) = s.video.as_mut() {
                    v.push(filters);
                }
            }
            Effect::Trim(_) => self.trim_border(s)?,
            Effect::MakeTransparent(tolerance) => {
                let key = color.or(self.ctx.edge_color).unwrap_or(Color::WHITE);
                make_transparent(s, key, tolerance);
            }
            Effect::Deshake(px) => {
                if let Some(v) = s.video.as_mut() {
                    v.push(format!("deshake=rx={px}:ry={px}"));
                }
            }
            Effect::Preview {
                duration,
                segments,
                min_segment,
            } => preview(s, duration, segments, min_segment),
            Effect::ProgressBar { color, width } => self.progress_bar(s, color, width),
            Effect::BlurFaces(n) => self.hide_faces(s, None, n)?,
            Effect::PixelateFaces(n) => self.hide_faces(s, Some(n), 0)?,
            Effect::Transition => {
                return Err(PlanError::Invalid(
                    "e_transition goes with an l_video: layer inside a spliced layer \
                     (fl_splice,l_video:<clip>/e_transition,l_video:<matte>/fl_layer_apply/fl_layer_apply)"
                        .into(),
                ));
            }
            Effect::NotOnVideo(name) => {
                return Err(PlanError::Unsupported(format!(
                    "effect e_{} is not supported yet",
                    name.name()
                )));
            }
            Effect::Grayscale => {
                if let Some(v) = s.video.as_mut() {
                    v.push("hue=s=0");
                }
            }
        }
        Ok(())
    }
}

impl Builder<'_> {
    /// Forward, then backward (video only).
    fn boomerang(&mut self, s: &mut Stream) -> Result<(), PlanError> {
        in_memory(s, "e_boomerang")?;
        self.drop_track(s, true);
        if let Some(mut v) = s.video.take() {
            let halves = self.split(&mut v, 2);
            let back = self.label("v");
            self.chains.push(format!("[{}]reverse[{back}]", halves[1]));
            let joined = self.join(&[halves[0].clone(), back], "concat=n=2:v=1:a=0", false);
            s.video = Some(joined);
        }
        s.duration *= 2.0;
        Ok(())
    }
}

/// The clip `n` more times.
fn looped(s: &mut Stream, n: u32) -> Result<(), PlanError> {
    in_memory(s, "e_loop")?;
    let frames = (s.duration * s.fps).ceil().max(1.0) as u64;
    if frames > 32_767 {
        return Err(PlanError::TooLarge(format!(
            "e_loop repeats at most 32767 frames and the clip has {frames}; trim it first"
        )));
    }
    if let Some(v) = s.video.as_mut() {
        v.push(format!("loop=loop={n}:size={frames}:start=0"));
    }
    if let Some(a) = s.audio.as_mut() {
        let samples = (s.duration * f64::from(s.sample_rate)).ceil() as u64;
        a.push(format!("aloop=loop={n}:size={samples}:start=0"));
        a.push("asetpts=N/SR/TB");
    }
    s.duration *= f64::from(n + 1);
    Ok(())
}

/// The filters of a colour, tone or detail effect of `strength` (Cloudinary's scale).
/// Filters that keep an alpha channel are chosen, so transparent pictures stay transparent.
fn picture(e: PictureEffect, strength: i32, s: &Stream, color: Option<Color>) -> String {
    let k = f64::from(strength) / 100.0;
    match e {
        PictureEffect::Sepia => {
            // The classic sepia matrix, mixed with the identity by strength.
            let m = |id: f64, sepia: f64| num(id * (1.0 - k) + sepia * k);
            format!(
                "colorchannelmixer=rr={}:rg={}:rb={}:gr={}:gg={}:gb={}:br={}:bg={}:bb={}",
                m(1.0, 0.393),
                m(0.0, 0.769),
                m(0.0, 0.189),
                m(0.0, 0.349),
                m(1.0, 0.686),
                m(0.0, 0.168),
                m(0.0, 0.272),
                m(0.0, 0.534),
                m(1.0, 0.131)
            )
        }
        PictureEffect::Brightness => format!("eq=brightness={}", num((k * 0.4).clamp(-1.0, 1.0))),
        PictureEffect::Contrast => format!("eq=contrast={}", num((1.0 + k).clamp(0.0, 2.0))),
        PictureEffect::Saturation => format!("eq=saturation={}", num((1.0 + k).clamp(0.0, 3.0))),
        PictureEffect::Gamma => format!("eq=gamma={}", num((1.0 + k).clamp(0.1, 10.0))),
        PictureEffect::Negate => "negate".into(),
        PictureEffect::Vignette => format!("vignette=angle={}", num(0.2 + k * 0.8)),
        PictureEffect::Colorize => {
            let c = color.unwrap_or(Color::GRAY);
            let ch = |v: u8| num(f64::from(v) * k);
            format!(
                "lutrgb=r=val*{0}+{1}:g=val*{0}+{2}:b=val*{0}+{3}",
                num(1.0 - k),
                ch(c.r),
                ch(c.g),
                ch(c.b)
            )
        }
        PictureEffect::Sharpen => format!("unsharp=5:5:{}", num((k * 1.5).min(5.0))),
        PictureEffect::Pixelate => {
            let n = u32::try_from(strength.max(1)).unwrap_or(1);
            let (w, h) = ((s.w / n).max(1), (s.h / n).max(1));
            format!(
                "scale={w}:{h}:flags=area,scale={}:{}:flags=neighbor",
                s.w, s.h
            )
        }
        PictureEffect::Blackwhite => {
            let t = (k * 255.0).round();
            format!(
                "hue=s=0,lutrgb=r=if(gt(val\\,{t})\\,255\\,0):g=if(gt(val\\,{t})\\,255\\,0):b=if(gt(val\\,{t})\\,255\\,0)"
            )
        }
    }
}

/// Speed change by `factor` (0.5..2): timestamps scaled, frame rate kept, audio tempo changed.
fn accelerate(s: &mut Stream, factor: f64) {
    if (factor - 1.0).abs() < 1e-6 {
        return;
    }
    if let Some(v) = s.video.as_mut() {
        v.push(format!("setpts={}*PTS", num(1.0 / factor)));
        v.push(format!("fps={}", num(s.fps)));
    }
    if let Some(a) = s.audio.as_mut() {
        a.push(format!("atempo={}", num(factor)));
    }
    s.duration /= factor;
}

fn fade(s: &mut Stream, ms: i64) {
    let d = (ms.unsigned_abs() as f64 / 1000.0).min(s.duration);
    let (kind, start) = if ms > 0 {
        ("in", 0.0)
    } else {
        ("out", (s.duration - d).max(0.0))
    };
    if let Some(v) = s.video.as_mut() {
        v.push(format!("fade=t={kind}:st={}:d={}", num(start), num(d)));
    }
    if let Some(a) = s.audio.as_mut() {
        a.push(format!("afade=t={kind}:st={}:d={}", num(start), num(d)));
    }
}

/// Refuses effects that would hold more decoded frames than the budget.
fn in_memory(s: &Stream, what: &str) -> Result<(), PlanError> {
    let frames = s.duration * s.fps;
    let bytes = f64::from(s.w) * f64::from(s.h) * 1.5 * frames;
    if bytes > MEMORY_BUDGET {
        return Err(PlanError::TooLarge(format!(
            "{what} keeps the whole clip in memory (about {} MB, over the {} MB budget); trim it (du_) or scale it down first",
            (bytes / 1e6).round(),
            (MEMORY_BUDGET / 1e6).round()
        )));
    }
    Ok(())
}
