//! The transformation grammar: `/`-separated components, `,`-separated parameters, `key_value`
//! items (reference §1.8, §2, Appendix J), parsed into typed [`Param`]s.
//!
//! The canonical string — the cache key and what the Admin API shows — orders each component's
//! parameters by key the way the SDKs do, keeping every item's text exactly as it arrived
//! (still percent-encoded), so a URL built by an SDK is its own canonical form.

use std::collections::HashMap;
use std::fmt;

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

use super::expressions::{check_expression, is_expression, variable_name};
use super::values::{self as v, Angle, AudioCodec, Background, BitRate, Color, Crop, Effect};
use super::values::{
    Flag, Fps, Gravity, Offset, Quality, Radius, Sampling, Size, Time, VideoCodec,
};

/// A parsed transformation: components applied in order, each to the output of the last.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transformation {
    pub components: Vec<Component>,
}

/// One `/`-separated component: parameters applied together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub params: Vec<Param>,
}

/// One `key_value` item: its text as it arrived and what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub text: String,
    pub value: Value,
}

/// What a parameter means, by key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Width(Size),
    Height(Size),
    Crop(Crop),
    Gravity(Gravity),
    AspectRatio(f64),
    X(Offset),
    Y(Offset),
    Zoom(f64),
    Background(Background),
    Color(Color),
    Effect(Effect),
    Flags(Vec<Flag>),
    StartOffset(Time),
    EndOffset(Time),
    Duration(Time),
    VideoCodec(VideoCodec),
    AudioCodec(AudioCodec),
    /// `af_`: sample rate in Hz; `None` keeps the input's (`af_iaf`).
    AudioFrequency(Option<u32>),
    BitRate(BitRate),
    Fps(Fps),
    Quality(Quality),
    KeyframeInterval(f64),
    Format(String),
    Layer(LayerSource),
    Underlay(LayerSource),
    Named(Vec<String>),
    Opacity(u8),
    Radius(Radius),
    Angle(Vec<Angle>),
    VideoSampling(Sampling),
    Delay(u32),
    StreamingProfile(String),
    Dpr(f64),
    /// `dpr_auto`: the device pixel ratio the client announces (`Sec-CH-DPR`/`DPR`).
    DprAuto,
    /// `pg_`: one page (1-based) of a multi-page or animated image.
    Page(u32),
    Border(v::Border),
    /// `d_`, `cs_`, `dn_`, `p_`: image parameters Kino accepts and does not act on yet.
    ImageOnly(String),
    /// `if_<condition>`, or `if_else` / `if_end` (as `else` / `end`).
    Condition(String),
    /// `$name_<expression>`.
    Variable {
        name: String,
        expr: String,
    },
    /// A value to work out for the asset (`w_iw_div_2`, `w_$size`): the item's text holds it.
    Deferred,
}

/// What a layer (`l_`/`u_`) shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LayerSource {
    /// An image asset; `format` when the URL names one (`l_logo.png`).
    Image {
        public_id: String,
        format: Option<String>,
    },
    Video {
        public_id: String,
    },
    /// The sound of a video or audio asset, mixed into the base's.
    Audio {
        public_id: String,
    },
    /// Subtitles from a raw `.srt`/`.vtt`/`.ass` asset, burnt into the picture; optionally in
    /// a font and size (`l_subtitles:arial_20:subs.srt`).
    Subtitles {
        public_id: String,
        font: Option<(String, u32)>,
    },
    Text {
        font: String,
        size: u32,
        bold: bool,
        italic: bool,
        text: String,
    },
}

/// Why a transformation could not be understood; always names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformationError {
    #[error("Unknown transformation parameter {0:?}")]
    Unknown(String),
    #[error("Invalid transformation parameter {item:?}: {reason}")]
    Invalid { item: String, reason: String },
    #[error("Unsupported transformation parameter {item:?}: {reason}")]
    Unsupported { item: String, reason: String },
    #[error("Invalid transformation: {0}")]
    Structure(String),
}

/// Keys that make a path segment a transformation component.
pub(super) const KEYS: &[&str] = &[
    "a", "ac", "af", "ar", "b", "bo", "br", "c", "co", "cs", "d", "dl", "dn", "dpr", "du", "e",
    "eo", "f", "fl", "fn", "fps", "g", "h", "if", "kf", "ki", "l", "o", "p", "pg", "q", "r", "so",
    "sp", "t", "u", "vc", "vs", "w", "x", "y", "z",
];

/// The most components one transformation may have, after named ones are expanded.
pub const MAX_COMPONENTS: usize = 50;

impl Transformation {
    /// Parses raw (still percent-encoded) components such as `["c_scale,w_100", "e_reverse"]`.
    pub fn parse<S: AsRef<str>>(components: &[S]) -> Result<Transformation, TransformationError> {
        let components = components
            .iter()
            .map(AsRef::as_ref)
            .filter(|c| !c.is_empty())
            .map(parse_component)
            .collect::<Result<Vec<_>, _>>()?;
        if components.len() > MAX_COMPONENTS {
            return Err(TransformationError::Structure(format!(
                "more than {MAX_COMPONENTS} components"
            )));
        }
        Ok(Transformation { components })
    }

    /// Parses a whole transformation string (`c_scale,w_100/e_reverse`).
    pub fn parse_str(text: &str) -> Result<Transformation, TransformationError> {
        let parts: Vec<&str> = text.split('/').collect();
        Transformation::parse(&parts)
    }

    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }

    /// True when every parameter is a `t_` reference to a named transformation.
    pub fn only_named(&self) -> bool {
        !self.is_empty()
            && self
                .components
                .iter()
                .flat_map(|c| &c.params)
                .all(|p| matches!(p.value, Value::Named(_)))
    }

    /// Names used by `t_` parameters, in order of appearance.
    pub fn named_references(&self) -> Vec<String> {
        let mut names = Vec::new();
        for p in self.components.iter().flat_map(|c| &c.params) {
            if let Value::Named(list) = &p.value {
                names.extend(list.iter().cloned());
            }
        }
        names
    }

    /// Replaces every `t_name` by the components of the named transformation; other
    /// parameters of the same component follow as their own component.
    pub fn expand(
        &self,
        named: &HashMap<String, Transformation>,
    ) -> Result<Transformation, TransformationError> {
        self.expand_at_depth(named, 0)
    }

    fn expand_at_depth(
        &self,
        named: &HashMap<String, Transformation>,
        depth: usize,
    ) -> Result<Transformation, TransformationError> {
        if depth > 5 {
            return Err(TransformationError::Structure(
                "named transformations nest more than 5 deep (or refer to themselves)".into(),
            ));
        }
        let mut out = Vec::new();
        for component in &self.components {
            let (names, rest): (Vec<&Param>, Vec<&Param>) = component
                .params
                .iter()
                .partition(|p| matches!(p.value, Value::Named(_)));
            for p in names {
                let Value::Named(list) = &p.value else {
                    continue;
                };
                for name in list {
                    let t = named.get(name).ok_or_else(|| {
                        TransformationError::Structure(format!(
                            "named transformation {name:?} does not exist"
                        ))
                    })?;
                    out.extend(t.expand_at_depth(named, depth + 1)?.components);
                }
            }
            if !rest.is_empty() {
                out.push(Component {
                    params: rest.into_iter().cloned().collect(),
                });
            }
        }
        if out.len() > MAX_COMPONENTS {
            return Err(TransformationError::Structure(format!(
                "more than {MAX_COMPONENTS} components after expanding named transformations"
            )));
        }
        Ok(Transformation { components: out })
    }

    /// The `f_` format, if any component sets one (the last wins).
    /// Whether `dpr_auto` appears (the output then depends on the client's DPR hint).
    pub fn has_auto_dpr(&self) -> bool {
        self.components
            .iter()
            .flat_map(|c| &c.params)
            .any(|p| p.value == Value::DprAuto)
    }

    /// The transformation with `dpr_auto` replaced by the client's ratio (`dpr_2.0`), so the
    /// derived file is keyed by the ratio it was made for.
    #[must_use]
    pub fn with_dpr(&self, dpr: f64) -> Transformation {
        let mut t = self.clone();
        for p in t.components.iter_mut().flat_map(|c| &mut c.params) {
            if p.value == Value::DprAuto {
                *p = Param {
                    text: format!("dpr_{dpr:.1}"),
                    value: Value::Dpr(dpr),
                };
            }
        }
        t
    }

    pub fn format(&self) -> Option<&str> {
        self.components
            .iter()
            .flat_map(|c| &c.params)
            .filter_map(|p| match &p.value {
                Value::Format(f) => Some(f.as_str()),
                _ => None,
            })
            .next_back()
    }

    /// Flags of every component.
    pub fn flags(&self) -> impl Iterator<Item = &Flag> {
        self.components.iter().flat_map(Component::flags)
    }
}

impl Component {
    pub fn flags(&self) -> impl Iterator<Item = &Flag> {
        self.params.iter().flat_map(|p| match &p.value {
            Value::Flags(f) => f.as_slice(),
            _ => &[],
        })
    }

    pub fn has_flag(&self, flag: &Flag) -> bool {
        self.flags().any(|f| f == flag)
    }

    /// The parameters in the SDKs' order: the condition first, then variables, then the
    /// rest by key.
    fn sorted(&self) -> Vec<&Param> {
        let mut params: Vec<&Param> = self.params.iter().collect();
        let rank = |p: &Param| match p.value {
            Value::Condition(_) => 0,
            Value::Variable { .. } => 1,
            _ => 2,
        };
        params.sort_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then_with(|| key_of(&a.text).cmp(key_of(&b.text)))
        });
        params
    }
}

fn key_of(item: &str) -> &str {
    item.split_once('_').map_or(item, |(k, _)| k)
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<&str> = self.sorted().iter().map(|p| p.text.as_str()).collect();
        f.write_str(&texts.join(","))
    }
}

/// The canonical string: components in order, parameters ordered by key.
impl fmt::Display for Transformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.components.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// True when a path segment is a transformation component: some item has a known key.
pub(super) fn looks_like_component(segment: &str) -> bool {
    !segment.is_empty()
        && segment.split(',').any(|item| {
            item.starts_with('$')
                || item
                    .split_once('_')
                    .is_some_and(|(key, _)| KEYS.contains(&key))
        })
}

fn parse_component(raw: &str) -> Result<Component, TransformationError> {
    let params = raw
        .split(',')
        .filter(|item| !item.is_empty())
        .map(parse_item)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Component { params })
}

/// Keys whose value may be an expression worked out for each asset.
const EXPRESSION_KEYS: &[&str] = &[
    "w", "h", "x", "y", "z", "ar", "so", "eo", "du", "o", "r", "a",
];

pub(super) fn parse_item(raw: &str) -> Result<Param, TransformationError> {
    let decoded = percent_decode_str(raw).decode_utf8_lossy();
    let invalid = |reason: String| TransformationError::Invalid {
        item: decoded.to_string(),
        reason,
    };
    let deferred = |value: Value| {
        Ok(Param {
            text: raw.to_string(),
            value,
        })
    };
    if let Some(rest) = decoded.strip_prefix('$') {
        let (name, expr) = rest
            .split_once('_')
            .ok_or_else(|| invalid("a variable is $name_value".into()))?;
        if !variable_name(name) {
            return Err(invalid(format!(
                "${name}: a variable name is a letter, then letters and digits"
            )));
        }
        check_expression(expr, false).map_err(invalid)?;
        return deferred(Value::Variable {
            name: name.to_string(),
            expr: expr.to_string(),
        });
    }
    if let Some(condition) = decoded.strip_prefix("if_") {
        if !matches!(condition, "else" | "end") {
            check_expression(condition, true).map_err(invalid)?;
        }
        return deferred(Value::Condition(condition.to_string()));
    }
    let Some((key, value)) = decoded.split_once('_') else {
        return Err(TransformationError::Unknown(decoded.into_owned()));
    };
    if EXPRESSION_KEYS.contains(&key) && is_expression(value) {
        check_expression(value, false).map_err(invalid)?;
        return deferred(Value::Deferred);
    }
    let value = parse_value(key, value).map_err(|e| match e {
        ValueError::Unknown => TransformationError::Unknown(decoded.to_string()),
        ValueError::Invalid(reason) if reason.contains("not supported") => {
            TransformationError::Unsupported {
                item: decoded.to_string(),
                reason,
            }
        }
        ValueError::Invalid(reason) => invalid(reason),
    })?;
    Ok(Param {
        text: raw.to_string(),
        value,
    })
}

enum ValueError {
    Unknown,
    Invalid(String),
}

impl From<String> for ValueError {
    fn from(s: String) -> Self {
        ValueError::Invalid(s)
    }
}

fn parse_value(key: &str, text: &str) -> Result<Value, ValueError> {
    if text.is_empty() {
        return Err(ValueError::Invalid("the value is empty".into()));
    }
    Ok(match key {
        "w" => Value::Width(v::size(text)?),
        "h" => Value::Height(v::size(text)?),
        "c" => Value::Crop(v::crop(text)?),
        "g" => Value::Gravity(v::gravity(text)?),
        "ar" => Value::AspectRatio(v::aspect_ratio(text)?),
        "x" => Value::X(v::offset(text)?),
        "y" => Value::Y(v::offset(text)?),
        "z" => Value::Zoom(v::decimal(text, 0.01, 100.0)?),
        "b" => Value::Background(v::background(text)?),
        "co" => Value::Color(v::color(text)?),
        "e" => Value::Effect(v::effect(text)?),
        "fl" => Value::Flags(v::flags(text)?),
        "so" => Value::StartOffset(v::time(text)?),
        "eo" => Value::EndOffset(v::time(text)?),
        "du" => Value::Duration(v::time(text)?),
        "vc" => Value::VideoCodec(v::video_codec(text)?),
        "ac" => Value::AudioCodec(v::audio_codec(text)?),
        "af" if text == "iaf" => Value::AudioFrequency(None),
        "af" => Value::AudioFrequency(Some(v::positive_int(text, 192_000.0)?)),
        "br" => Value::BitRate(v::bit_rate(text)?),
        "fps" => Value::Fps(v::fps(text)?),
        "q" => Value::Quality(v::quality(text)?),
        "ki" | "kf" => Value::KeyframeInterval(v::keyframe_interval(text)?),
        "f" => Value::Format(format_name(text)?),
        "l" => Value::Layer(layer_source(text)?),
        "u" => Value::Underlay(layer_source(text)?),
        "t" => Value::Named(named_list(text)?),
        "o" => Value::Opacity(v::opacity(text)?),
        "r" => Value::Radius(v::radius(text)?),
        "a" => Value::Angle(v::angles(text)?),
        "vs" => Value::VideoSampling(v::sampling(text)?),
        "dl" => Value::Delay(v::positive_int(text, 65_535.0)?),
        "sp" => Value::StreamingProfile(profile_name(text)?),
        "dpr" if text == "auto" => Value::DprAuto,
        "dpr" => Value::Dpr(v::decimal(text, 0.1, 5.0)?),
        "pg" => Value::Page(v::positive_int(text, 100_000.0)?),
        "bo" => Value::Border(v::border(text)?),
        "d" | "cs" | "dn" | "p" => Value::ImageOnly(text.to_string()),
        "fn" => return Err("custom functions are not supported".to_string().into()),
        _ => return Err(ValueError::Unknown),
    })
}

fn format_name(text: &str) -> Result<String, String> {
    let ok = text == "auto"
        || text.starts_with("auto:")
        || (text.len() <= 5 && text.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !ok {
        return Err(format!("{text:?} is not a format"));
    }
    Ok(text.to_ascii_lowercase())
}

fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn named_list(text: &str) -> Result<Vec<String>, String> {
    text.split('.')
        .map(|n| {
            if name_ok(n) {
                Ok(n.to_string())
            } else {
                Err(format!("{n:?} is not a transformation name"))
            }
        })
        .collect()
}

fn profile_name(text: &str) -> Result<String, String> {
    if name_ok(text) {
        Ok(text.to_string())
    } else {
        Err(format!("{text:?} is not a streaming profile name"))
    }
}

/// `l_` values: `video:id`, `text:Font_size[_style]:text`, or an image id with `:` for `/`.
fn layer_source(text: &str) -> Result<LayerSource, String> {
    if let Some(id) = text.strip_prefix("video:") {
        return Ok(LayerSource::Video {
            public_id: layer_id(id)?,
        });
    }
    if let Some(rest) = text.strip_prefix("text:") {
        return text_layer(rest);
    }
    if let Some(id) = text.strip_prefix("audio:") {
        return Ok(LayerSource::Audio {
            public_id: layer_id(id)?,
        });
    }
    if let Some(rest) = text.strip_prefix("subtitles:") {
        return subtitles_layer(rest);
    }
    for kind in ["fetch:", "lut:"] {
        if text.starts_with(kind) {
            return Err(format!(
                "{} layers are not supported yet",
                kind.trim_end_matches(':')
            ));
        }
    }
    let (id, format) = match text.rsplit_once('.') {
        Some((id, ext))
            if !ext.is_empty()
                && ext.len() <= 5
                && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            (id, Some(ext.to_ascii_lowercase()))
        }
        _ => (text, None),
    };
    Ok(LayerSource::Image {
        public_id: layer_id(id)?,
        format,
    })
}

/// `[font_size:]id`: the id of a raw subtitles asset (`:` for `/`), optionally after a style.
fn subtitles_layer(rest: &str) -> Result<LayerSource, String> {
    let mut parts: Vec<&str> = rest.split(':').collect();
    let font = match parts.first().and_then(|p| p.rsplit_once('_')) {
        Some((name, size)) if parts.len() > 1 => {
            let size = size
                .parse::<u32>()
                .ok()
                .filter(|s| (1..=200).contains(s))
                .ok_or("a subtitles style is written <font>_<size> (arial_20)")?;
            parts.remove(0);
            Some((name.to_string(), size))
        }
        _ => None,
    };
    let public_id = parts.join("/");
    super::validate_public_id(&public_id).map_err(|e| e.to_string())?;
    Ok(LayerSource::Subtitles { public_id, font })
}

fn layer_id(id: &str) -> Result<String, String> {
    let public_id = id.replace(':', "/");
    super::validate_public_id(&public_id).map_err(|e| e.to_string())?;
    Ok(public_id)
}

fn text_layer(rest: &str) -> Result<LayerSource, String> {
    let (style, text) = rest
        .split_once(':')
        .ok_or("a text layer is written l_text:<font>_<size>:<text>")?;
    let mut parts = style.split('_');
    let font = parts.next().unwrap_or_default().to_string();
    let size = parts
        .next()
        .and_then(|s| s.parse::<u32>().ok())
        .filter(|s| (1..=1000).contains(s))
        .ok_or("a text layer needs a font size between 1 and 1000 (l_text:Arial_40:Hello)")?;
    let (mut bold, mut italic) = (false, false);
    for kw in parts {
        match kw {
            "bold" => bold = true,
            "italic" => italic = true,
            "normal" | "left" | "center" | "right" | "none" => {}
            other => return Err(format!("unknown text style {other:?}")),
        }
    }
    // The SDKs escape the text twice; the path was decoded once already.
    let text = percent_decode_str(text).decode_utf8_lossy().into_owned();
    if text.is_empty() {
        return Err("the text of a text layer is empty".into());
    }
    Ok(LayerSource::Text {
        font,
        size,
        bold,
        italic,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        match Transformation::parse_str(text) {
            Ok(t) => t.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn canonical_form_orders_parameters_by_key() {
        assert_eq!(canonical("w_640,c_limit"), "c_limit,w_640");
        assert_eq!(
            canonical("w_480,h_320,c_pad,b_blurred:400:15/e_volume:mute"),
            "b_blurred:400:15,c_pad,h_320,w_480/e_volume:mute"
        );
        assert_eq!(canonical("so_3,eo_13,du_10"), "du_10,eo_13,so_3");
        // Duplicates keep their URL order (the last one wins when planning).
        assert_eq!(canonical("w_50,w_100,c_scale"), "c_scale,w_50,w_100");
        assert_eq!(
            canonical("c_scale,,w_100//e_reverse"),
            "c_scale,w_100/e_reverse"
        );
    }

    #[test]
    fn errors_name_the_parameter() {
        assert_eq!(
            canonical("w_abc"),
            r#"error: Invalid transformation parameter "w_abc": "abc" is not a number"#
        );
        assert_eq!(
            canonical("w_100,zz_1"),
            r#"error: Unknown transformation parameter "zz_1""#
        );
        assert_eq!(
            canonical("e_volume:loud"),
            r#"error: Invalid transformation parameter "e_volume:loud": volume "loud" must be mute, a percentage (-100..400) or decibels (5db)"#
        );
        assert_eq!(
            canonical("e_wiggle"),
            r#"error: Invalid transformation parameter "e_wiggle": unknown effect "wiggle""#
        );
        assert_eq!(canonical("w_$w,$w_100,c_scale"), "$w_100,c_scale,w_$w");
        assert_eq!(
            canonical("c_scale,w_50,if_ar_gte_1.0/if_end"),
            "if_ar_gte_1.0,c_scale,w_50/if_end"
        );
        assert!(canonical("if_w_bigger_5").contains("\"bigger\" is not an operator"));
        assert!(canonical("c_imagga_crop").starts_with("error: Unsupported"));
    }

    #[test]
    fn layers_and_names() {
        let t = Transformation::parse_str(
            "co_white,l_text:Arial_40_bold:Hello%252C%20World%252Fx/fl_layer_apply,g_south",
        )
        .unwrap();
        assert_eq!(
            t.components[0].params[1].value,
            Value::Layer(LayerSource::Text {
                font: "Arial".into(),
                size: 40,
                bold: true,
                italic: false,
                text: "Hello, World/x".into()
            })
        );
        let t = Transformation::parse_str("l_folder:logo.png").unwrap();
        assert_eq!(
            t.components[0].params[0].value,
            Value::Layer(LayerSource::Image {
                public_id: "folder/logo".into(),
                format: Some("png".into())
            })
        );
        let t = Transformation::parse_str("t_a.b,w_100/e_reverse").unwrap();
        assert_eq!(t.named_references(), ["a", "b"]);
        let named = HashMap::from([
            (
                "a".to_string(),
                Transformation::parse_str("c_scale,w_10").unwrap(),
            ),
            (
                "b".to_string(),
                Transformation::parse_str("t_a/e_blur").unwrap(),
            ),
        ]);
        assert_eq!(
            t.expand(&named).unwrap().to_string(),
            "c_scale,w_10/c_scale,w_10/e_blur/w_100/e_reverse"
        );
        let selfish = HashMap::from([("a".to_string(), Transformation::parse_str("t_a").unwrap())]);
        assert!(
            Transformation::parse_str("t_a")
                .unwrap()
                .expand(&selfish)
                .is_err()
        );
    }
}
