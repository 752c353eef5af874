//! Typed values of transformation parameters (`w_0.5`, `c_fill`, `b_blurred:400:15`, …).
//!
//! Each parser takes the value text after `key_` (percent-decoded once) and either returns a
//! typed value or a message saying what is wrong with it; `transformation` adds the key and
//! the whole item to that message. Ranges follow reference §2.

use serde::{Deserialize, Serialize};

/// Why a value could not be understood; the caller names the parameter.
pub(super) type ValueResult<T> = Result<T, String>;

fn number(text: &str) -> ValueResult<f64> {
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+');
    match text.parse::<f64>() {
        Ok(n) if ok && n.is_finite() => Ok(n),
        _ => Err(format!("{text:?} is not a number")),
    }
}

fn in_range(text: &str, lo: f64, hi: f64) -> ValueResult<f64> {
    let n = number(text)?;
    if n < lo || n > hi {
        return Err(format!("{text} is outside {lo}..{hi}"));
    }
    Ok(n)
}

/// A width or height: pixels, or a fraction of the input when below 1 (`w_0.5`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Size {
    Pixels(u32),
    Fraction(f64),
}

/// The largest width or height a transformation may ask for.
pub const MAX_DIMENSION: u32 = 16384;

pub(super) fn size(text: &str) -> ValueResult<Size> {
    if matches!(text, "auto" | "ow" | "oh" | "iw" | "ih") || text.starts_with("auto:") {
        return Err(format!(
            "{text:?} (responsive and relative sizes) is not supported"
        ));
    }
    let n = number(text)?;
    if n <= 0.0 {
        return Err(format!("{text} must be greater than 0"));
    }
    if text.contains('.') && n <= 1.0 {
        return Ok(Size::Fraction(n));
    }
    if n > f64::from(MAX_DIMENSION) {
        return Err(format!(
            "{text} is larger than the maximum of {MAX_DIMENSION}"
        ));
    }
    Ok(Size::Pixels(n.round() as u32))
}

/// An `x_`/`y_` offset: pixels, or a fraction of the size it is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Offset {
    Pixels(i32),
    Fraction(f64),
}

pub(super) fn offset(text: &str) -> ValueResult<Offset> {
    let n = number(text)?;
    if text.contains('.') && n.abs() <= 1.0 {
        return Ok(Offset::Fraction(n));
    }
    if n.abs() > f64::from(MAX_DIMENSION) {
        return Err(format!(
            "{text} is larger than the maximum of {MAX_DIMENSION}"
        ));
    }
    Ok(Offset::Pixels(n.round() as i32))
}

/// `c_` crop and resize modes (reference §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Crop {
    Scale,
    Fit,
    Limit,
    Mfit,
    Fill,
    Lfill,
    Pad,
    Lpad,
    Mpad,
    FillPad,
    Crop,
    Thumb,
    /// `c_auto`: a fill placed where the interest is (`g_auto` unless another gravity).
    Auto,
    /// `c_auto_pad`: `c_fill_pad` placed where the interest is.
    AutoPad,
}

pub(super) fn crop(text: &str) -> ValueResult<Crop> {
    Ok(match text {
        "scale" => Crop::Scale,
        "fit" => Crop::Fit,
        "limit" => Crop::Limit,
        "mfit" => Crop::Mfit,
        "fill" => Crop::Fill,
        "lfill" => Crop::Lfill,
        "pad" => Crop::Pad,
        "lpad" => Crop::Lpad,
        "mpad" => Crop::Mpad,
        "fill_pad" => Crop::FillPad,
        "crop" => Crop::Crop,
        "thumb" => Crop::Thumb,
        "auto" => Crop::Auto,
        "auto_pad" => Crop::AutoPad,
        "imagga_scale" | "imagga_crop" => {
            return Err(format!("crop mode {text:?} is not supported"));
        }
        _ => return Err(format!("unknown crop mode {text:?}")),
    })
}

/// `g_` gravity: a compass anchor, or a detector that picks the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gravity {
    Center,
    North,
    South,
    East,
    West,
    NorthEast,
    NorthWest,
    SouthEast,
    SouthWest,
    XyCenter,
    /// Content-aware (`g_auto`, `g_auto:subject`, …).
    Auto,
    Face,
    Faces,
}

pub(super) fn gravity(text: &str) -> ValueResult<Gravity> {
    Ok(match text {
        "center" => Gravity::Center,
        "north" => Gravity::North,
        "south" => Gravity::South,
        "east" => Gravity::East,
        "west" => Gravity::West,
        "north_east" => Gravity::NorthEast,
        "north_west" => Gravity::NorthWest,
        "south_east" => Gravity::SouthEast,
        "south_west" => Gravity::SouthWest,
        "xy_center" => Gravity::XyCenter,
        "face" | "adv_face" => Gravity::Face,
        "faces" | "adv_faces" => Gravity::Faces,
        t if t == "auto" || t.starts_with("auto:") => Gravity::Auto,
        _ => return Err(format!("unknown gravity {text:?}")),
    })
}

/// An RGBA colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Color {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

impl Color {
    pub const GRAY: Color = Color {
        r: 128,
        g: 128,
        b: 128,
        a: 255,
    };
    pub const WHITE: Color = Color {
        r: 255,
        g: 255,
        b: 255,
        a: 255,
    };
    pub const BLACK: Color = Color {
        r: 0,
        g: 0,
        b: 0,
        a: 255,
    };

    /// libavfilter's colour syntax: `0xRRGGBBAA`.
    pub fn to_ffmpeg(self) -> String {
        format!("0x{:02x}{:02x}{:02x}{:02x}", self.r, self.g, self.b, self.a)
    }
}

/// The CSS colour names most used in URLs; anything else is written `rgb:RRGGBB`.
const NAMED_COLORS: &[(&str, u32)] = &[
    ("black", 0x000000),
    ("white", 0xffffff),
    ("red", 0xff0000),
    ("green", 0x008000),
    ("lime", 0x00ff00),
    ("blue", 0x0000ff),
    ("yellow", 0xffff00),
    ("cyan", 0x00ffff),
    ("aqua", 0x00ffff),
    ("magenta", 0xff00ff),
    ("fuchsia", 0xff00ff),
    ("gray", 0x808080),
    ("grey", 0x808080),
    ("silver", 0xc0c0c0),
    ("maroon", 0x800000),
    ("olive", 0x808000),
    ("navy", 0x000080),
    ("purple", 0x800080),
    ("teal", 0x008080),
    ("orange", 0xffa500),
    ("pink", 0xffc0cb),
    ("brown", 0xa52a2a),
    ("gold", 0xffd700),
    ("violet", 0xee82ee),
    ("indigo", 0x4b0082),
    ("khaki", 0xf0e68c),
    ("coral", 0xff7f50),
    ("salmon", 0xfa8072),
    ("tomato", 0xff6347),
    ("crimson", 0xdc143c),
    ("beige", 0xf5f5dc),
    ("ivory", 0xfffff0),
    ("lightgray", 0xd3d3d3),
    ("lightgrey", 0xd3d3d3),
    ("darkgray", 0xa9a9a9),
    ("darkgrey", 0xa9a9a9),
    ("darkblue", 0x00008b),
    ("darkred", 0x8b0000),
    ("darkgreen", 0x006400),
    ("lightblue", 0xadd8e6),
    ("skyblue", 0x87ceeb),
    ("turquoise", 0x40e0d0),
    ("transparent", 0x000000),
];

/// A colour as URLs spell it (`red`, `rgb:ff0000`, `#f00`, with alpha too).
pub fn parse_color(text: &str) -> Result<Color, String> {
    color(text)
}

pub(super) fn color(text: &str) -> ValueResult<Color> {
    let text = text.to_ascii_lowercase();
    if let Some(hex) = text.strip_prefix("rgb:").or_else(|| text.strip_prefix('#')) {
        let expanded: String = match hex.len() {
            3 | 4 => hex.chars().flat_map(|c| [c, c]).collect(),
            6 | 8 => hex.to_string(),
            _ => return Err(format!("colour {text:?} must have 3, 4, 6 or 8 hex digits")),
        };
        let v = u32::from_str_radix(&expanded, 16)
            .map_err(|_| format!("colour {text:?} is not hexadecimal"))?;
        let (rgb, a) = if expanded.len() == 8 {
            (v >> 8, (v & 0xff) as u8)
        } else {
            (v, 255)
        };
        return Ok(rgb_color(rgb, a));
    }
    match NAMED_COLORS.iter().find(|(name, _)| *name == text) {
        Some((name, rgb)) => Ok(rgb_color(
            *rgb,
            if *name == "transparent" { 0 } else { 255 },
        )),
        None => Err(format!("unknown colour {text:?}; use rgb:RRGGBB")),
    }
}

/// `bo_{width}px_solid_{colour}`: a border drawn around the picture (following its shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Border {
    pub width: u32,
    pub color: Color,
}

pub(super) fn border(text: &str) -> ValueResult<Border> {
    let bad = || format!("border {text:?} must look like 4px_solid_black or 2px_solid_rgb:ff0000");
    let (width, rest) = text.split_once("px_").ok_or_else(bad)?;
    let colour = rest.strip_prefix("solid_").ok_or_else(bad)?;
    Ok(Border {
        width: positive_int(width, 1000.0)?,
        color: color(colour)?,
    })
}

fn rgb_color(rgb: u32, a: u8) -> Color {
    Color {
        r: (rgb >> 16) as u8,
        g: (rgb >> 8) as u8,
        b: rgb as u8,
        a,
    }
}

/// `b_`: a flat colour, or a blurred copy of the media itself (video padding).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Background {
    Color(Color),
    /// `auto`: the colour at the picture's edges (what padding should continue).
    Auto,
    /// `blurred[:intensity[:brightness]]`: intensity 1..2000 (default 100), brightness -300..100.
    Blurred {
        intensity: u32,
        brightness: i32,
    },
}

pub(super) fn background(text: &str) -> ValueResult<Background> {
    if text == "auto" || text.starts_with("auto:") {
        // `auto[:border|predominant[:…]]`: the colour is read off the picture. Gradients and
        // palettes (`auto:border_gradient…`) are not drawn: the border colour stands in.
        return Ok(Background::Auto);
    }
    let Some(rest) = text.strip_prefix("blurred") else {
        return color(text).map(Background::Color);
    };
    let mut args = rest.strip_prefix(':').unwrap_or(rest).split(':');
    if !rest.is_empty() && !rest.starts_with(':') {
        return Err(format!("unknown background {text:?}"));
    }
    let intensity = match args.next().filter(|s| !s.is_empty()) {
        Some(t) => in_range(t, 1.0, 2000.0)? as u32,
        None => 100,
    };
    let brightness = match args.next().filter(|s| !s.is_empty()) {
        Some(t) => in_range(t, -300.0, 100.0)? as i32,
        None => 0,
    };
    if args.next().is_some() {
        return Err(format!("b_{text} has too many values"));
    }
    Ok(Background::Blurred {
        intensity,
        brightness,
    })
}

/// `so_`, `eo_`, `du_`: seconds, percent of the duration (`35p`), or `auto` (best frame).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Time {
    Seconds(f64),
    Percent(f64),
    Auto,
}

pub(super) fn time(text: &str) -> ValueResult<Time> {
    if text == "auto" {
        return Ok(Time::Auto);
    }
    if let Some(p) = text.strip_suffix('p').or_else(|| text.strip_suffix('%')) {
        return Ok(Time::Percent(in_range(p, 0.0, 100.0)?));
    }
    let s = number(text)?;
    if s < 0.0 {
        return Err(format!("{text} must not be negative"));
    }
    Ok(Time::Seconds(s))
}

impl Time {
    /// Seconds into media of `duration` seconds (`auto` is the middle).
    pub fn seconds(self, duration: f64) -> f64 {
        match self {
            Time::Seconds(s) => s,
            Time::Percent(p) => duration * p / 100.0,
            Time::Auto => duration / 2.0,
        }
    }
}

/// `e_volume` argument.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Volume {
    Mute,
    /// Change by this many percent (-100..400).
    Percent(f64),
    Decibels(f64),
}

/// `e_` effects that the engine can run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    Volume(Volume),
    /// Speed change in percent, -50..100 (100 = twice as fast).
    Accelerate(f64),
    Reverse,
    Boomerang,
    /// Extra repetitions.
    Loop(u32),
    /// Positive: fade in over ms at the start; negative: fade out at the end.
    Fade(i64),
    Blur(u32),
    Noise(u32),
    Grayscale,
    /// Colour and tone effects that work on any picture, with their strength.
    Picture(PictureEffect, i32),
    /// `e_blur_faces[:strength]` (1–2000, default 500).
    BlurFaces(u32),
    /// `e_pixelate_faces[:square size]` (1–200, default 20).
    PixelateFaces(u32),
    /// `e_trim[:tolerance]`: cut off a solid border (colour distance 0–100, default 10).
    Trim(u32),
    /// `e_make_transparent[:tolerance]`: the `co_` colour (default: the colour at the edges)
    /// becomes transparent, within a tolerance of 0–100 (default 10).
    MakeTransparent(u32),
    /// `e_deshake[:16|32|48|64]`: the largest shake corrected, in pixels (default 16).
    Deshake(u32),
    /// `e_preview[:duration_<s>][:max_seg_<n>][:min_seg_dur_<s>]`: a short summary of the
    /// video (defaults 5 s, 3 segments, 1 s).
    Preview {
        duration: f64,
        segments: u32,
        min_segment: f64,
    },
    /// `e_progressbar[:type_bar][:color_<colour>][:width_<px>]`: a bar along the bottom that
    /// grows with playback (defaults red, 10 px).
    ProgressBar {
        color: Color,
        width: u32,
    },
    /// `e_transition`: marks an `l_video:` layer nested in a spliced layer as the luma matte
    /// that blends the two clips (see `url::layers`).
    Transition,
    /// A Cloudinary effect Kino knows by name but does not run yet.
    NotOnVideo(ImageEffect),
}

/// Colour, tone and detail effects (stills and video alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PictureEffect {
    Sepia,
    Brightness,
    Contrast,
    Saturation,
    Gamma,
    Negate,
    Vignette,
    Colorize,
    Sharpen,
    Pixelate,
    Blackwhite,
}

/// Name, default strength and range of each picture effect (Cloudinary's).
const PICTURE_EFFECTS: &[(&str, PictureEffect, i32, i32, i32)] = &[
    ("sepia", PictureEffect::Sepia, 80, 1, 100),
    ("brightness", PictureEffect::Brightness, 80, -99, 100),
    ("contrast", PictureEffect::Contrast, 0, -100, 100),
    ("saturation", PictureEffect::Saturation, 80, -100, 100),
    ("gamma", PictureEffect::Gamma, 0, -50, 150),
    ("negate", PictureEffect::Negate, 0, 0, 0),
    ("vignette", PictureEffect::Vignette, 20, 0, 100),
    ("colorize", PictureEffect::Colorize, 100, 0, 100),
    ("sharpen", PictureEffect::Sharpen, 100, 1, 2000),
    ("pixelate", PictureEffect::Pixelate, 10, 1, 200),
    ("blackwhite", PictureEffect::Blackwhite, 50, 0, 100),
];

/// An image effect, by its index in the list of known names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageEffect(u8);

impl ImageEffect {
    pub fn name(self) -> &'static str {
        IMAGE_EFFECTS
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("unknown")
    }
}

/// Image effects: valid in URLs, planned for stills (issue 4), refused on video by the planner.
const IMAGE_EFFECTS: &[&str] = &[
    "improve",
    "auto_contrast",
    "auto_color",
    "auto_brightness",
    "vibrance",
    "hue",
    "red",
    "green",
    "blue",
    "tint",
    "outline",
    "shadow",
    "oil_paint",
    "cartoonify",
    "unsharp_mask",
    "blur_region",
    "pixelate_region",
    "screen",
    "multiply",
    "overlay",
    "mask",
    "soft_light",
    "anti_removal",
];

pub(super) fn effect(text: &str) -> ValueResult<Effect> {
    let (name, arg) = match text.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (text, None),
    };
    let no_arg = |e: Effect| match arg {
        None => Ok(e),
        Some(a) => Err(format!("e_{name} takes no value, got {a:?}")),
    };
    Ok(match name {
        "volume" => Effect::Volume(volume(arg.unwrap_or("0"))?),
        "accelerate" => Effect::Accelerate(arg.map_or(Ok(0.0), |a| in_range(a, -50.0, 100.0))?),
        "reverse" => no_arg(Effect::Reverse)?,
        "boomerang" => no_arg(Effect::Boomerang)?,
        "loop" => Effect::Loop(arg.map_or(Ok(1.0), |a| in_range(a, 1.0, 100.0))? as u32),
        "fade" => {
            let ms = arg.map_or(Ok(2000.0), |a| in_range(a, -60_000.0, 60_000.0))?;
            if ms == 0.0 {
                return Err("e_fade needs a non-zero duration in ms".into());
            }
            Effect::Fade(ms as i64)
        }
        "blur" => Effect::Blur(arg.map_or(Ok(100.0), |a| in_range(a, 1.0, 2000.0))? as u32),
        "noise" => Effect::Noise(arg.map_or(Ok(0.0), |a| in_range(a, 0.0, 100.0))? as u32),
        "grayscale" => no_arg(Effect::Grayscale)?,
        "transition" => no_arg(Effect::Transition)?,
        "trim" => Effect::Trim(arg.map_or(Ok(10.0), |a| in_range(a, 0.0, 100.0))? as u32),
        "blur_faces" => {
            Effect::BlurFaces(arg.map_or(Ok(500.0), |a| in_range(a, 1.0, 2000.0))? as u32)
        }
        "pixelate_faces" => {
            Effect::PixelateFaces(arg.map_or(Ok(20.0), |a| in_range(a, 1.0, 200.0))? as u32)
        }
        "make_transparent" => {
            Effect::MakeTransparent(arg.map_or(Ok(10.0), |a| in_range(a, 0.0, 100.0))? as u32)
        }
        "deshake" => {
            let px = arg.map_or(Ok(16.0), |a| in_range(a, 16.0, 64.0))? as u32;
            if !px.is_multiple_of(16) {
                return Err(format!("e_deshake takes 16, 32, 48 or 64, got {px}"));
            }
            Effect::Deshake(px)
        }
        "preview" => preview(arg)?,
        "progressbar" => progress_bar(arg)?,
        _ if let Some((_, e, default, lo, hi)) = PICTURE_EFFECTS.iter().find(|p| p.0 == name) => {
            let strength = match arg {
                None => *default,
                Some(_) if lo == hi => return Err(format!("e_{name} takes no value")),
                Some(a) => in_range(a, f64::from(*lo), f64::from(*hi))? as i32,
            };
            Effect::Picture(*e, strength)
        }
        _ => match IMAGE_EFFECTS.iter().position(|e| *e == name) {
            Some(i) => Effect::NotOnVideo(ImageEffect(u8::try_from(i).unwrap_or(u8::MAX))),
            None => return Err(format!("unknown effect {name:?}")),
        },
    })
}

/// `key_value` items of an effect's argument, split at `:` (a colour's `rgb:` kept whole).
fn named_args(arg: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in arg.unwrap_or_default().split(':').filter(|p| !p.is_empty()) {
        match out.last_mut() {
            Some(last) if last.ends_with("_rgb") => {
                last.push(':');
                last.push_str(part);
            }
            _ => out.push(part.to_string()),
        }
    }
    out
}

fn preview(arg: Option<&str>) -> ValueResult<Effect> {
    let (mut duration, mut segments, mut min_segment) = (5.0, 3, 1.0);
    for item in named_args(arg) {
        if let Some(v) = item.strip_prefix("duration_") {
            duration = in_range(v, 0.5, 3600.0)?;
        } else if let Some(v) = item.strip_prefix("max_seg_") {
            segments = in_range(v, 1.0, 100.0)? as u32;
        } else if let Some(v) = item.strip_prefix("min_seg_dur_") {
            min_segment = in_range(v, 0.1, 3600.0)?;
        } else {
            return Err(format!("e_preview: unknown option {item:?}"));
        }
    }
    Ok(Effect::Preview {
        duration,
        segments,
        min_segment,
    })
}

fn progress_bar(arg: Option<&str>) -> ValueResult<Effect> {
    let (mut color, mut width) = (color("red")?, 10);
    for item in named_args(arg) {
        if let Some(v) = item.strip_prefix("type_") {
            if v != "bar" {
                return Err(format!("e_progressbar: type {v:?} is not supported (bar)"));
            }
        } else if let Some(v) = item.strip_prefix("color_") {
            color = self::color(v)?;
        } else if let Some(v) = item.strip_prefix("width_") {
            width = in_range(v, 1.0, 500.0)? as u32;
        } else {
            return Err(format!("e_progressbar: unknown option {item:?}"));
        }
    }
    Ok(Effect::ProgressBar { color, width })
}

fn volume(text: &str) -> ValueResult<Volume> {
    if text == "mute" {
        return Ok(Volume::Mute);
    }
    if let Some(db) = text.strip_suffix("db").or_else(|| text.strip_suffix("dB")) {
        return Ok(Volume::Decibels(in_range(db, -100.0, 100.0)?));
    }
    match in_range(text, -100.0, 400.0) {
        Ok(p) => Ok(Volume::Percent(p)),
        Err(_) => Err(format!(
            "volume {text:?} must be mute, a percentage (-100..400) or decibels (5db)"
        )),
    }
}

/// `fl_` flags; several are joined with `.`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flag {
    LayerApply,
    Splice,
    Relative,
    Animated,
    Awebp,
    KeepDar,
    NoStream,
    Mono,
    ImmutableCache,
    /// `progressive[:mode]`: a progressive JPEG.
    Progressive,
    /// `lossy`: lossy WebP even from a lossless source.
    Lossy,
    /// `waveform`: a picture of the audio's waveform instead of a frame.
    Waveform,
    /// `hlsv3`: HLS version 3, MPEG-TS segments with sound and picture together.
    HlsV3,
    /// `attachment[:filename]`.
    Attachment(Option<String>),
    StreamingAttachment(Option<String>),
    /// Accepted and ignored: they change nothing in Kino's output (`truncate_ts`, `hlsv3`, …).
    Ignored(String),
}

pub(super) fn flags(text: &str) -> ValueResult<Vec<Flag>> {
    text.split('.').map(flag).collect()
}

fn flag(text: &str) -> ValueResult<Flag> {
    let (name, arg) = match text.split_once(':') {
        Some((n, a)) => (n, Some(a.to_string())),
        None => (text, None),
    };
    Ok(match name {
        "layer_apply" => Flag::LayerApply,
        "splice" => Flag::Splice,
        "relative" => Flag::Relative,
        "animated" => Flag::Animated,
        "awebp" => Flag::Awebp,
        "keep_dar" => Flag::KeepDar,
        "no_stream" => Flag::NoStream,
        "mono" => Flag::Mono,
        "immutable_cache" => Flag::ImmutableCache,
        "progressive" if arg.as_deref() != Some("none") => Flag::Progressive,
        "lossy" => Flag::Lossy,
        "attachment" => Flag::Attachment(arg),
        "streaming_attachment" => Flag::StreamingAttachment(arg),
        "waveform" => Flag::Waveform,
        "hlsv3" => Flag::HlsV3,
        "truncate_ts"
        | "ignore_aspect_ratio"
        | "region_relative"
        | "progressive"
        | "strip_profile"
        | "keep_iptc"
        | "force_strip"
        | "preserve_transparency"
        | "png8"
        | "png24"
        | "png32"
        | "apng" => Flag::Ignored(text.to_string()),
        "" => return Err("empty flag".into()),
        _ => return Err(format!("unknown flag {name:?}")),
    })
}

/// `vc_` video codec names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VideoCodecName {
    Auto,
    H264,
    H265,
    Vp8,
    Vp9,
    Av1,
    Theora,
    /// Apple ProRes 422 HQ (in `.mov`).
    ProRes,
    None,
}

/// `vc_codec[:profile[:level[:bframes_no]]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoCodec {
    pub codec: VideoCodecName,
    pub profile: Option<String>,
    pub level: Option<String>,
    pub bframes: bool,
}

pub(super) fn video_codec(text: &str) -> ValueResult<VideoCodec> {
    let mut parts = text.split(':');
    let codec = match parts.next().unwrap_or_default() {
        "auto" => VideoCodecName::Auto,
        "h264" => VideoCodecName::H264,
        "h265" => VideoCodecName::H265,
        "vp8" => VideoCodecName::Vp8,
        "vp9" => VideoCodecName::Vp9,
        "av1" => VideoCodecName::Av1,
        "prores" => VideoCodecName::ProRes,
        "theora" => VideoCodecName::Theora,
        "none" => VideoCodecName::None,
        other => return Err(format!("unknown video codec {other:?}")),
    };
    let auto = |s: Option<&str>| {
        s.filter(|v| !v.is_empty() && *v != "auto")
            .map(String::from)
    };
    let profile = auto(parts.next());
    if let Some(p) = &profile
        && !matches!(
            p.as_str(),
            "baseline" | "main" | "high" | "basic" | "main10" | "0" | "1" | "2" | "3"
        )
    {
        return Err(format!("unknown video codec profile {p:?}"));
    }
    let level = auto(parts.next());
    if let Some(l) = &level {
        in_range(l, 1.0, 6.2).map_err(|_| format!("unknown video codec level {l:?}"))?;
    }
    let bframes = match parts.next() {
        None => true,
        Some("bframes_no") => false,
        Some(other) => return Err(format!("unknown video codec option {other:?}")),
    };
    Ok(VideoCodec {
        codec,
        profile,
        level,
        bframes,
    })
}

/// `ac_` audio codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AudioCodec {
    Aac,
    Mp3,
    Opus,
    Vorbis,
    None,
}

pub(super) fn audio_codec(text: &str) -> ValueResult<AudioCodec> {
    Ok(match text {
        "aac" => AudioCodec::Aac,
        "mp3" => AudioCodec::Mp3,
        "opus" => AudioCodec::Opus,
        "vorbis" => AudioCodec::Vorbis,
        "none" => AudioCodec::None,
        _ => return Err(format!("unknown audio codec {text:?}")),
    })
}

/// `br_`: bits per second, variable unless `:constant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BitRate {
    pub bps: u64,
    pub constant: bool,
}

pub(super) fn bit_rate(text: &str) -> ValueResult<BitRate> {
    let (rate, constant) = match text.split_once(':') {
        Some((r, "constant")) => (r, true),
        Some((_, mode)) => return Err(format!("unknown bit rate mode {mode:?}")),
        None => (text, false),
    };
    let (digits, unit) = match rate.to_ascii_lowercase().chars().last() {
        Some('k') => (&rate[..rate.len() - 1], 1_000.0),
        Some('m') => (&rate[..rate.len() - 1], 1_000_000.0),
        _ => (rate, 1.0),
    };
    let bps = number(digits)? * unit;
    if !(1_000.0..=500_000_000.0).contains(&bps) {
        return Err(format!("{text} is outside 1k..500m"));
    }
    Ok(BitRate {
        bps: bps as u64,
        constant,
    })
}

/// `fps_`: an exact rate or a range that the source rate is clamped into.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Fps {
    Exact(f64),
    Range(Option<f64>, Option<f64>),
}

pub(super) fn fps(text: &str) -> ValueResult<Fps> {
    let rate = |t: &str| in_range(t, 0.1, 240.0);
    match text.split_once('-') {
        None => Ok(Fps::Exact(rate(text)?)),
        Some((lo, hi)) => {
            let lo = (!lo.is_empty()).then(|| rate(lo)).transpose()?;
            let hi = (!hi.is_empty()).then(|| rate(hi)).transpose()?;
            if let (Some(l), Some(h)) = (lo, hi)
                && l > h
            {
                return Err(format!("fps range {text} is empty"));
            }
            Ok(Fps::Range(lo, hi))
        }
    }
}

/// `q_`: a level 1..100, or automatic at a named strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quality {
    Level(u8),
    Auto(AutoQuality),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutoQuality {
    Best,
    Good,
    Eco,
    Low,
}

pub(super) fn quality(text: &str) -> ValueResult<Quality> {
    let auto = match text {
        "auto" | "auto:good" => Some(AutoQuality::Good),
        "auto:best" => Some(AutoQuality::Best),
        "auto:eco" => Some(AutoQuality::Eco),
        "auto:low" => Some(AutoQuality::Low),
        _ => None,
    };
    if let Some(a) = auto {
        return Ok(Quality::Auto(a));
    }
    // `q_75:420` carries a chroma subsampling hint that video output ignores.
    let level = text.split(':').next().unwrap_or(text);
    Ok(Quality::Level(in_range(level, 1.0, 100.0)? as u8))
}

/// `ki_`/`kf_`: seconds between keyframes.
pub(super) fn keyframe_interval(text: &str) -> ValueResult<f64> {
    let s = number(text.strip_suffix('s').unwrap_or(text))?;
    if !(0.01..=60.0).contains(&s) {
        return Err(format!("{text} is outside 0.01..60 seconds"));
    }
    Ok(s)
}

/// `r_`: rounded corners in pixels (1 to 4 values) or `max` (an ellipse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Radius {
    Pixels(Vec<u32>),
    Max,
}

pub(super) fn radius(text: &str) -> ValueResult<Radius> {
    if text == "max" {
        return Ok(Radius::Max);
    }
    let values = text
        .split(':')
        .map(|t| in_range(t, 0.0, f64::from(MAX_DIMENSION)).map(|v| v as u32))
        .collect::<ValueResult<Vec<u32>>>()?;
    if values.len() > 4 {
        return Err(format!("r_{text} has more than 4 values"));
    }
    Ok(Radius::Pixels(values))
}

/// `vs_`: frames in total, or one frame every so many seconds (`2.3s`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Sampling {
    Frames(u32),
    Every(f64),
}

pub(super) fn sampling(text: &str) -> ValueResult<Sampling> {
    if let Some(s) = text.strip_suffix('s') {
        return Ok(Sampling::Every(in_range(s, 0.01, 3600.0)?));
    }
    Ok(Sampling::Frames(in_range(text, 1.0, 10_000.0)? as u32))
}

/// `a_`: rotation in degrees, or a flip.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Angle {
    Degrees(f64),
    HFlip,
    VFlip,
    AutoRight,
    AutoLeft,
    Ignore,
}

pub(super) fn angles(text: &str) -> ValueResult<Vec<Angle>> {
    text.split('.')
        .map(|t| {
            Ok(match t {
                "hflip" => Angle::HFlip,
                "vflip" => Angle::VFlip,
                "auto_right" => Angle::AutoRight,
                "auto_left" => Angle::AutoLeft,
                "ignore" => Angle::Ignore,
                _ => Angle::Degrees(in_range(t, -360.0, 360.0)?),
            })
        })
        .collect()
}

pub(super) fn opacity(text: &str) -> ValueResult<u8> {
    Ok(in_range(text, 0.0, 100.0)? as u8)
}

pub(super) fn aspect_ratio(text: &str) -> ValueResult<f64> {
    let ratio = match text.split_once(':') {
        Some((w, h)) => number(w)? / number(h)?,
        None => number(text)?,
    };
    if !ratio.is_finite() || !(0.001..=1000.0).contains(&ratio) {
        return Err(format!("aspect ratio {text} is outside 0.001..1000"));
    }
    Ok(ratio)
}

pub(super) fn positive_int(text: &str, max: f64) -> ValueResult<u32> {
    Ok(in_range(text, 0.0, max)? as u32)
}

pub(super) fn decimal(text: &str, lo: f64, hi: f64) -> ValueResult<f64> {
    in_range(text, lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_or_say_why() {
        assert_eq!(size("0.5"), Ok(Size::Fraction(0.5)));
        assert_eq!(size("320"), Ok(Size::Pixels(320)));
        assert_eq!(size("1.0"), Ok(Size::Fraction(1.0)));
        assert_eq!(size("abc"), Err(r#""abc" is not a number"#.into()));
        assert!(size("99999").unwrap_err().contains("maximum"));
        assert_eq!(
            background("blurred:400:15"),
            Ok(Background::Blurred {
                intensity: 400,
                brightness: 15
            })
        );
        assert_eq!(
            background("rgb:ff0000"),
            Ok(Background::Color(Color {
                r: 255,
                g: 0,
                b: 0,
                a: 255
            }))
        );
        assert_eq!(time("35p"), Ok(Time::Percent(35.0)));
        assert_eq!(time("2.63"), Ok(Time::Seconds(2.63)));
        assert_eq!(effect("volume:mute"), Ok(Effect::Volume(Volume::Mute)));
        assert_eq!(
            effect("volume:5db"),
            Ok(Effect::Volume(Volume::Decibels(5.0)))
        );
        assert!(
            effect("volume:loud")
                .unwrap_err()
                .contains("volume \"loud\"")
        );
        assert_eq!(effect("fade:-1000"), Ok(Effect::Fade(-1000)));
        assert_eq!(
            bit_rate("500k:constant"),
            Ok(BitRate {
                bps: 500_000,
                constant: true
            })
        );
        assert_eq!(bit_rate("1m").map(|b| b.bps), Ok(1_000_000));
        assert_eq!(fps("20-"), Ok(Fps::Range(Some(20.0), None)));
        assert_eq!(
            video_codec("h265:auto:auto:bframes_no").map(|v| (v.codec, v.bframes)),
            Ok((VideoCodecName::H265, false))
        );
        assert_eq!(quality("auto:eco"), Ok(Quality::Auto(AutoQuality::Eco)));
        assert!((aspect_ratio("16:9").unwrap() - 16.0 / 9.0).abs() < 1e-9);
    }
}
