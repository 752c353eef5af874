//! Plans: a parsed transformation plus what the probe knows about the media becomes a [`Plan`]
//! — inputs, one libavfilter graph (text), encoder and container settings. Pure data (serde),
//! so `kino worker` can run a plan out of process and benches can hand the same graph to the
//! `ffmpeg` CLI.
//!
//! Pure: no I/O, no libav, no HTTP. The service resolves layer assets and probes first; the
//! engine runs the plan. Graph labels follow the CLI's convention: input `i`'s streams are
//! `[i:v]`/`[i:a]`, the outputs `[vout]`/`[aout]`.

mod chain;
mod effects;
pub mod geometry;
mod layers;
pub mod merged;
pub mod orientation;
pub mod output;
pub mod sequence;
pub mod sprite;
mod stills;
pub mod text_picture;
mod waveform;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use merged::{MergedPlan, merge};
pub use output::{AudioEncoding, OutputKind, VideoEncoding};

use crate::error::ErrorKind;
use crate::url::{LayerSource, Step};

/// What the planner needs to know about one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    pub width: u32,
    pub height: u32,
    /// Seconds (0 for a still image).
    pub duration: f64,
    pub fps: f64,
    pub has_video: bool,
    pub has_audio: bool,
    pub sample_rate: u32,
    /// An image file (a still, or the frames of an animated GIF/WebP), not a video.
    pub image: bool,
    /// The pixels may be transparent.
    pub alpha: bool,
    /// The decoder can decode at 1/2, 1/4 or 1/8 size (JPEG).
    #[serde(default)]
    pub shrinkable: bool,
    /// The picture is stored without loss (PNG, GIF, BMP, TIFF): WebP made from it is too.
    #[serde(default)]
    pub lossless: bool,
    /// How the decoded picture is turned upright, EXIF-numbered (1 = as decoded; see
    /// [`orientation`]). Width and height above are the upright ones.
    pub orientation: u8,
}

impl Media {
    /// A file that is not media (a subtitles file a filter reads whole).
    pub fn file() -> Media {
        Media {
            width: 0,
            height: 0,
            duration: 0.0,
            fps: 0.0,
            has_video: false,
            has_audio: false,
            sample_rate: 0,
            image: false,
            alpha: false,
            shrinkable: false,
            lossless: false,
            orientation: 1,
        }
    }
}

/// An input file and its media.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub path: String,
    pub media: Media,
}

/// Everything a plan is built from besides the transformation.
#[derive(Debug, Clone)]
pub struct Context {
    pub base: Source,
    /// Layer assets by [`layer_key`].
    pub layers: HashMap<String, Source>,
    /// Where the bundled fonts for text layers are.
    pub font_dir: String,
    /// The largest output width or height.
    pub max_dimension: u32,
    /// Where the interest in the base picture is (upright), when `g_auto` asks for it.
    pub focus: Option<crate::focus::Map>,
    /// Faces in the base picture (upright), largest first, when the transformation asks.
    pub faces: Vec<Region>,
    /// What is inside the base picture's solid border, for `e_trim`.
    pub trim: Option<Region>,
    /// The colour at the base picture's edges, for `b_auto`.
    pub edge_color: Option<crate::url::values::Color>,
}

/// A rectangle as fractions of a picture's width and height.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Region {
    /// The smallest region holding all of `regions`.
    pub fn union(regions: &[Region]) -> Option<Region> {
        let first = regions.first()?;
        let (mut x0, mut y0, mut x1, mut y1) =
            (first.x, first.y, first.x + first.w, first.y + first.h);
        for r in regions {
            x0 = x0.min(r.x);
            y0 = y0.min(r.y);
            x1 = x1.max(r.x + r.w);
            y1 = y1.max(r.y + r.h);
        }
        Some(Region {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        })
    }
}

/// The key a layer asset is looked up by (`image:logo`, `video:cat`).
pub fn layer_key(source: &LayerSource) -> Option<String> {
    match source {
        LayerSource::Image { public_id, .. } => Some(format!("image:{public_id}")),
        LayerSource::Video { public_id } => Some(format!("video:{public_id}")),
        LayerSource::Audio { public_id } => Some(format!("audio:{public_id}")),
        LayerSource::Subtitles { public_id, .. } => Some(format!("subtitles:{public_id}")),
        LayerSource::Text { .. } => None,
    }
}

/// Asset layers the steps refer to (splice transitions included), as (resource type, public
/// id, key).
pub fn layer_assets(steps: &[Step]) -> Vec<(&'static str, String, String)> {
    steps
        .iter()
        .flat_map(|s| match s {
            Step::Layer(l) => [Some(&l.source), l.transition.as_ref()],
            Step::Apply(_) => [None, None],
        })
        .flatten()
        .filter_map(|source| match source {
            LayerSource::Image { public_id, .. } => {
                Some(("image", public_id.clone(), layer_key(source)?))
            }
            // Sound comes from video assets (audio uploads are video resources).
            LayerSource::Video { public_id } | LayerSource::Audio { public_id } => {
                Some(("video", public_id.clone(), layer_key(source)?))
            }
            LayerSource::Subtitles { public_id, .. } => {
                Some(("raw", public_id.clone(), layer_key(source)?))
            }
            LayerSource::Text { .. } => None,
        })
        .collect()
}

/// One input of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    pub path: String,
    /// Seconds to seek to before decoding (the nearest earlier keyframe).
    pub seek: Option<f64>,
    /// Whether the graph reads `[i:v]` / `[i:a]`.
    pub video: bool,
    pub audio: bool,
    /// Decode at 1/2^n size (JPEG's shrink-on-load: the IDCT skips the detail a small
    /// output would throw away). 0 decodes at full size.
    #[serde(default)]
    pub shrink: u8,
    /// A picture file: opened without libav's stream probing (which decodes the picture
    /// once just to learn its size); the first frame is decoded up front instead.
    #[serde(default)]
    pub picture: bool,
    /// Convert a picture with an embedded colour profile to sRGB as it is decoded: the
    /// output cannot carry the profile (only JPEG, PNG and WebP outputs keep it).
    #[serde(default)]
    pub to_srgb: bool,
}

/// Whether an output of this extension keeps a picture's colour profile.
pub fn keeps_colour_profile(extension: &str) -> bool {
    matches!(extension, "jpg" | "jpeg" | "jpe" | "png" | "webp")
}

/// A complete, runnable description of one output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub inputs: Vec<Input>,
    /// libavfilter graph text; reads `[i:v]`/`[i:a]`, writes `[vout]`/`[aout]`.
    pub graph: String,
    pub video: Option<VideoEncoding>,
    pub audio: Option<AudioEncoding>,
    /// libav muxer name (`mp4`, `webm`, `image2pipe`, …).
    pub muxer: String,
    pub muxer_options: Vec<(String, String)>,
    /// Stop after this many video frames (one for a still frame).
    pub max_frames: Option<u64>,
    pub kind: OutputKind,
    pub extension: String,
    /// Expected output duration in seconds (for progress and sanity checks).
    pub duration: f64,
    /// Output frame rate.
    pub fps: f64,
    /// Cut into streaming segments on a fixed grid (see [`Segmenting`]).
    #[serde(default)]
    pub segments: Option<Segmenting>,
}

/// A run that makes consecutive streaming segments of one track: an IDR at the first frame of
/// every segment and an MP4 fragment flushed at each boundary, stamped with its place on the
/// stream's timeline. Boundaries are times, not frame counts, so runs that start at different
/// segments agree on them whatever the frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Segmenting {
    /// Where the run's first frame sits on the stream's timeline, in seconds (a boundary).
    pub start: f64,
    /// Segment length in seconds.
    pub every: f64,
}

impl Plan {
    /// Turns an MP4 plan (one track, starting at `start` seconds) into a run of streaming
    /// segments `every` seconds long: keyframes only where the engine forces them (no scene
    /// cuts, no B-frames), a capped bit rate, fragments flushed by the engine at each boundary
    /// and stamped with their place on the timeline, so runs started anywhere line up.
    #[must_use]
    pub fn into_segments(mut self, start: f64, every: f64) -> Plan {
        if let Some(v) = self.video.as_mut() {
            // Longer than a segment: the engine's forced IDRs are the only keyframes.
            v.gop = Some(((every * self.fps).ceil() as u32).saturating_add(1).max(2));
            v.options
                .retain(|(k, _)| !matches!(k.as_str(), "bf" | "sc_threshold" | "forced-idr"));
            v.options.push(("bf".into(), "0".into()));
            v.options.push(("sc_threshold".into(), "0".into()));
            if v.encoder == "libx264" {
                v.options.push(("forced-idr".into(), "1".into()));
            }
            if let Some(b) = v.bit_rate.filter(|b| *b > 0) {
                v.max_rate = Some(b + b / 10);
                v.buffer_size = Some(b * 2);
            }
        }
        self.muxer_options = vec![
            (
                "movflags".into(),
                "frag_custom+empty_moov+default_base_moof+frag_discont".into(),
            ),
            ("avoid_negative_ts".into(), "disabled".into()),
            ("output_ts_offset".into(), format!("{start}")),
        ];
        self.segments = Some(Segmenting { start, every });
        self
    }

    /// Whether the muxer writes front to back, so bytes can leave while it works. AVIF and
    /// ICO seek back to patch their headers, and a still WebP gets its colour profile added
    /// afterwards: those are written whole at the end.
    pub fn streams_output(&self) -> bool {
        let still_webp = self.kind == OutputKind::Frame && self.extension == "webp";
        !matches!(self.muxer.as_str(), "avif" | "ico") && !still_webp
    }

    /// The muxer to rewrite the finished output with (a stream copy into a seekable file) so
    /// that what the cache keeps is complete: fragmented MP4 becomes a classic `+faststart`
    /// one; Matroska/WebM gets its duration and cues, WAV and FLAC their sizes, MP3 its Xing
    /// header and FLV its metadata — all things a muxer writing to a stream cannot go back for.
    pub fn rewrite_muxer(&self) -> Option<&str> {
        if self.segments.is_some() || !self.streams_output() {
            return None;
        }
        let fragmented = self
            .muxer_options
            .iter()
            .any(|(k, v)| k == "movflags" && v.contains("empty_moov"));
        let seeks_back = matches!(
            self.muxer.as_str(),
            "webm" | "matroska" | "wav" | "flac" | "mp3" | "flv"
        );
        (fragmented || seeks_back).then_some(self.muxer.as_str())
    }

    /// The same work as an `ffmpeg` command line (for benches and cross-checks).
    pub fn ffmpeg_args(&self, output: &str) -> Vec<String> {
        let mut args: Vec<String> =
            vec!["-nostdin".into(), "-y".into(), "-v".into(), "error".into()];
        for input in &self.inputs {
            if let Some(s) = input.seek {
                args.extend(["-ss".into(), format!("{s}"), "-copyts".into()]);
            }
            args.extend(["-i".into(), input.path.clone()]);
        }
        args.extend(["-filter_complex".into(), self.graph.clone()]);
        if let Some(v) = &self.video {
            args.extend([
                "-map".into(),
                "[vout]".into(),
                "-c:v".into(),
                v.encoder.clone(),
            ]);
            for (k, val) in &v.options {
                args.extend([format!("-{k}"), val.clone()]);
            }
            if let Some(g) = v.gop {
                args.extend(["-g".into(), g.to_string()]);
            }
            if let Some(b) = v.bit_rate {
                args.extend(["-b:v".into(), b.to_string()]);
            }
            if let Some(m) = v.max_rate {
                args.extend(["-maxrate".into(), m.to_string()]);
            }
            if let Some(b) = v.buffer_size {
                args.extend(["-bufsize".into(), b.to_string()]);
            }
            if let Some(s) = self.segments {
                args.extend([
                    "-force_key_frames".into(),
                    format!("expr:gte(t,n_forced*{})", s.every),
                ]);
            }
            if let Some(q) = v.global_quality {
                args.extend(["-global_quality".into(), q.to_string()]);
            }
        }
        if let Some(a) = &self.audio {
            args.extend([
                "-map".into(),
                "[aout]".into(),
                "-c:a".into(),
                a.encoder.clone(),
            ]);
            if let Some(b) = a.bit_rate {
                args.extend(["-b:a".into(), b.to_string()]);
            }
        }
        if let Some(n) = self.max_frames {
            args.extend(["-frames:v".into(), n.to_string()]);
        }
        for (k, v) in &self.muxer_options {
            // The CLI cannot flush fragments by hand: keyframes (video) or a duration (audio)
            // cut the same fragments.
            let v = match (k.as_str(), self.segments, &self.video) {
                ("movflags", Some(_), Some(_)) => v.replace("frag_custom", "frag_keyframe"),
                ("movflags", Some(s), None) => {
                    args.extend([
                        "-frag_duration".into(),
                        format!("{}", (s.every * 1e6) as u64),
                    ]);
                    v.replace("frag_custom+", "")
                }
                _ => v.clone(),
            };
            args.extend([format!("-{k}"), v]);
        }
        args.extend(["-f".into(), self.muxer.clone(), output.into()]);
        args
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("Layer resource not found - {0}")]
    MissingLayer(String),
}

impl PlanError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            PlanError::MissingLayer(_) => ErrorKind::NotFound,
            _ => ErrorKind::BadInput,
        }
    }
}

/// Whether placing a crop needs to know where the interest is (`g_auto`, `c_auto`,
/// `c_auto_pad` on the base).
pub fn wants_focus(steps: &[Step]) -> bool {
    use crate::url::Value;
    use crate::url::values::{Crop, Gravity};
    steps.iter().any(|s| match s {
        Step::Apply(c) => c.params.iter().any(|p| {
            matches!(
                p.value,
                Value::Gravity(Gravity::Auto) | Value::Crop(Crop::Auto | Crop::AutoPad)
            )
        }),
        Step::Layer(_) => false,
    })
}

/// Whether a component needs the colour at the picture's edges: `b_auto`, or
/// `e_make_transparent` without a `co_`.
pub fn wants_edge_color(steps: &[Step]) -> bool {
    use crate::url::Value;
    use crate::url::values::{Background, Effect};
    steps.iter().any(|s| match s {
        Step::Apply(c) => {
            let keyed = c
                .params
                .iter()
                .any(|p| matches!(p.value, Value::Effect(Effect::MakeTransparent(_))));
            let coloured = c.params.iter().any(|p| matches!(p.value, Value::Color(_)));
            (keyed && !coloured)
                || c.params
                    .iter()
                    .any(|p| matches!(p.value, Value::Background(Background::Auto)))
        }
        Step::Layer(_) => false,
    })
}

/// Whether the transformation needs the faces in the base (`g_face`, `g_faces`, and the
/// `_faces` effects).
pub fn wants_faces(steps: &[Step]) -> bool {
    use crate::url::Value;
    use crate::url::values::{Effect, Gravity};
    steps.iter().any(|s| match s {
        Step::Apply(c) => c.params.iter().any(|p| {
            matches!(
                p.value,
                Value::Gravity(Gravity::Face | Gravity::Faces)
                    | Value::Effect(Effect::BlurFaces(_) | Effect::PixelateFaces(_))
            )
        }),
        Step::Layer(l) => l
            .placement
            .params
            .iter()
            .any(|p| matches!(p.value, Value::Gravity(Gravity::Face | Gravity::Faces))),
    })
}

/// The tolerance of an `e_trim` on the base, if there is one.
pub fn wants_trim(steps: &[Step]) -> Option<u32> {
    use crate::url::Value;
    use crate::url::values::Effect;
    steps.iter().find_map(|s| match s {
        Step::Apply(c) => c.params.iter().find_map(|p| match p.value {
            Value::Effect(Effect::Trim(t)) => Some(t),
            _ => None,
        }),
        Step::Layer(_) => None,
    })
}

/// Builds the plan for `steps` written as `extension`.
pub fn build(steps: &[Step], extension: &str, ctx: &Context) -> Result<Plan, PlanError> {
    chain::Builder::new(ctx).build(steps, extension)
}

#[cfg(test)]
mod tests;
