//! `e_` effects on video and audio: volume, speed, reverse, boomerang, loop, fade, blur,
//! noise and grayscale, as libavfilter filters. Effects that hold the whole clip in memory
//! (reverse, boomerang, loop) are refused past a size budget with a message saying what to do.

use super::PlanError;
use super::chain::{Builder, Stream, num};
use crate::url::values::{Effect, Volume};

/// Decoded frames an in-memory effect may hold (about 1.5 GB of 4:2:0 pixels).
const MEMORY_BUDGET: f64 = 1.5e9;

impl Builder<'_> {
    pub(super) fn effect(&mut self, s: &mut Stream, e: Effect) -> Result<(), PlanError> {
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
            Effect::Boomerang => {
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
            }
            Effect::Loop(n) => {
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
            }
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
            Effect::NotOnVideo(name) => {
                return Err(PlanError::Unsupported(format!(
                    "effect e_{} is not supported on video yet",
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
