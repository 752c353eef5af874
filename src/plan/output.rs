//! Output formats: which container, encoders and settings an extension (or `f_`) means, and
//! how `vc_`, `ac_`, `br_`, `q_`, `ki_` and `af_` change them.

use serde::{Deserialize, Serialize};

use super::PlanError;
use crate::url::values::{AudioCodec, AutoQuality, BitRate, Quality, VideoCodec, VideoCodecName};

/// What kind of thing an output format is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputKind {
    /// A video container (audio too when the source has it).
    Video,
    /// Only the audio track.
    Audio,
    /// One still frame.
    Frame,
    /// An animated image (GIF, animated WebP).
    Animation,
}

/// A container and its default codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    pub extension: &'static str,
    pub kind: OutputKind,
    pub muxer: &'static str,
    video: Option<VideoCodecName>,
    audio: Option<AudioCodec>,
    /// Pictures in this format can be transparent.
    pub alpha: bool,
}

const fn fmt(
    extension: &'static str,
    kind: OutputKind,
    muxer: &'static str,
    video: Option<VideoCodecName>,
    audio: Option<AudioCodec>,
) -> Format {
    Format {
        extension,
        kind,
        muxer,
        video,
        audio,
        alpha: matches!(
            extension.as_bytes(),
            b"png" | b"webp" | b"tiff" | b"bmp" | b"ico" | b"gif"
        ),
    }
}

use AudioCodec as A;
use OutputKind::*;
use VideoCodecName as V;

const FORMATS: &[Format] = &[
    fmt("mp4", Video, "mp4", Some(V::H264), Some(A::Aac)),
    fmt("m4v", Video, "mp4", Some(V::H264), Some(A::Aac)),
    fmt("mov", Video, "mov", Some(V::H264), Some(A::Aac)),
    fmt("mkv", Video, "matroska", Some(V::H264), Some(A::Aac)),
    fmt("webm", Video, "webm", Some(V::Vp9), Some(A::Opus)),
    fmt("ogv", Video, "ogg", Some(V::Theora), Some(A::Vorbis)),
    fmt("ts", Video, "mpegts", Some(V::H264), Some(A::Aac)),
    fmt("flv", Video, "flv", Some(V::H264), Some(A::Aac)),
    fmt("mp3", Audio, "mp3", None, Some(A::Mp3)),
    fmt("m4a", Audio, "ipod", None, Some(A::Aac)),
    fmt("aac", Audio, "adts", None, Some(A::Aac)),
    fmt("ogg", Audio, "ogg", None, Some(A::Vorbis)),
    fmt("opus", Audio, "ogg", None, Some(A::Opus)),
    fmt("wav", Audio, "wav", None, None),
    fmt("flac", Audio, "flac", None, None),
    fmt("jpg", Frame, "image2pipe", None, None),
    fmt("jpeg", Frame, "image2pipe", None, None),
    fmt("png", Frame, "image2pipe", None, None),
    fmt("webp", Frame, "image2pipe", None, None),
    fmt("bmp", Frame, "image2pipe", None, None),
    fmt("tiff", Frame, "image2pipe", None, None),
    fmt("ico", Frame, "ico", None, None),
    fmt("avif", Frame, "avif", None, None),
    fmt("gif", Animation, "gif", None, None),
];

/// Finds the output format of an extension; `animated` turns `.webp` into animated WebP.
pub fn format_of(extension: &str, animated: bool) -> Result<Format, PlanError> {
    let ext = match extension {
        "tif" => "tiff",
        "jpe" => "jpg",
        other => other,
    };
    if ext == "webp" && animated {
        return Ok(fmt("webp", Animation, "webp", None, None));
    }
    if matches!(ext, "m3u8" | "mpd") {
        return Err(PlanError::Invalid(format!(
            "A streaming profile (sp_) is required for .{ext}"
        )));
    }
    FORMATS
        .iter()
        .find(|f| f.extension == ext)
        .copied()
        .ok_or_else(|| PlanError::Invalid(format!("Invalid extension in transformation: {ext}")))
}

/// How to encode video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoEncoding {
    /// libav encoder name (`libx264`).
    pub encoder: String,
    /// Pixel format the graph delivers to the encoder.
    pub pix_fmt: String,
    /// Private options (`preset`, `crf`, `profile`, …).
    pub options: Vec<(String, String)>,
    pub bit_rate: Option<u64>,
    pub max_rate: Option<u64>,
    pub buffer_size: Option<u64>,
    /// Frames between keyframes.
    pub gop: Option<u32>,
    /// `qscale`-style quality for encoders that use it (mjpeg, theora), in libav's lambda units.
    pub global_quality: Option<i32>,
    /// MP4 codec tag (`hvc1` for HEVC that Apple players accept).
    pub codec_tag: Option<String>,
}

/// How to encode audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioEncoding {
    pub encoder: String,
    /// `aformat` sample format list the encoder accepts.
    pub sample_fmts: String,
    /// Forced sample rate (Opus needs 48 kHz).
    pub sample_rate: Option<u32>,
    pub bit_rate: Option<u64>,
    pub options: Vec<(String, String)>,
}

/// Encoding choices gathered from the URL (the last of each wins).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub video_codec: Option<VideoCodec>,
    pub audio_codec: Option<AudioCodec>,
    pub bit_rate: Option<BitRate>,
    pub quality: Option<Quality>,
    pub keyframe_interval: Option<f64>,
    pub audio_frequency: Option<u32>,
    pub mono: bool,
    /// `vs_` and `dl_` of animated outputs.
    pub sampling: Option<crate::url::values::Sampling>,
    pub delay: Option<u32>,
    /// `fl_progressive`.
    pub progressive: bool,
    /// WebP without loss (a lossless source and no `fl_lossy`).
    pub lossless: bool,
}

/// The engine's own encoder for progressive JPEG (libav's writes baseline only).
pub const PROGRESSIVE_JPEG: &str = "kino-progressive-jpeg";

const LAMBDA: i32 = 118; // FF_QP2LAMBDA

fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `q_` on a 0..1 scale of "how good" (1 = best); `q_auto` levels sit where x264's defaults do.
fn goodness(q: Option<Quality>) -> f64 {
    match q {
        None | Some(Quality::Auto(AutoQuality::Good)) => 0.70,
        Some(Quality::Auto(AutoQuality::Best)) => 0.78,
        Some(Quality::Auto(AutoQuality::Eco)) => 0.62,
        Some(Quality::Auto(AutoQuality::Low)) => 0.55,
        Some(Quality::Level(l)) => f64::from(l) / 100.0,
    }
}

fn encoding(
    encoder: &str,
    pix: &str,
    options: Vec<(String, String)>,
    q: Option<i32>,
) -> VideoEncoding {
    VideoEncoding {
        encoder: encoder.into(),
        pix_fmt: pix.into(),
        options,
        bit_rate: None,
        max_rate: None,
        buffer_size: None,
        gop: None,
        global_quality: q,
        codec_tag: None,
    }
}

/// Encoders of still frames and animations; `alpha` keeps transparency where it can.
fn image_encoding(format: &Format, g: f64, alpha: bool, s: &Settings) -> VideoEncoding {
    let q = format!("{}", (g * 100.0).round());
    let pick = |with: &'static str, without: &'static str| if alpha { with } else { without };
    match (format.kind, format.extension) {
        (OutputKind::Frame, "jpg" | "jpeg") if s.progressive => {
            encoding(PROGRESSIVE_JPEG, "rgb24", opts(&[("quality", &q)]), None)
        }
        // Lossless from RGB (libav's RGB32 is bgra here): no 4:2:0 chroma loss either.
        (OutputKind::Frame, "webp") if s.lossless => encoding(
            "libwebp",
            "bgra",
            opts(&[("lossless", "1"), ("quality", "75")]),
            None,
        ),
        // mjpeg qscale 2 (best) ..31.
        (OutputKind::Frame, "jpg" | "jpeg") => {
            let qscale = (2.0 + (1.0 - g) * 29.0).round() as i32;
            encoding("mjpeg", "yuvj420p", vec![], Some(qscale * LAMBDA))
        }
        (OutputKind::Frame, "png") => encoding("png", pick("rgba", "rgb24"), vec![], None),
        // The ICO muxer takes PNG only as RGBA.
        (OutputKind::Frame, "ico") => encoding("png", "rgba", vec![], None),
        (OutputKind::Frame, "webp") => encoding(
            "libwebp",
            pick("yuva420p", "yuv420p"),
            opts(&[("quality", &q)]),
            None,
        ),
        (OutputKind::Frame, "bmp") => encoding("bmp", pick("bgra", "bgr24"), vec![], None),
        (OutputKind::Frame, "avif") => {
            let crf = format!("{:.0}", (63.0 - g * 45.0).clamp(0.0, 63.0));
            encoding(
                "libaom-av1",
                "yuv420p",
                opts(&[("cpu-used", "8"), ("row-mt", "1"), ("crf", &crf)]),
                None,
            )
        }
        (OutputKind::Frame, _) => encoding("tiff", pick("rgba", "rgb24"), vec![], None),
        (_, "gif") => encoding("gif", "pal8", vec![], None),
        _ => encoding(
            "libwebp_anim",
            pick("yuva420p", "yuv420p"),
            opts(&[("quality", &q), ("loop", "0")]),
            None,
        ),
    }
}

fn codec_allowed(muxer: &str, name: VideoCodecName) -> bool {
    match muxer {
        "webm" => matches!(name, V::Vp8 | V::Vp9 | V::Av1),
        "ogg" => matches!(name, V::Theora | V::Vp8),
        "mpegts" | "flv" => matches!(name, V::H264 | V::H265),
        "mp4" => !matches!(name, V::Theora | V::Vp8 | V::ProRes),
        "mov" => !matches!(name, V::Theora | V::Vp8),
        _ => true,
    }
}

fn h264(vc: Option<&VideoCodec>, g: f64) -> VideoEncoding {
    let crf = format!("{:.0}", 51.0 - g * 40.0);
    let mut o = opts(&[("preset", "veryfast"), ("crf", &crf)]);
    if let Some(v) = vc {
        if let Some(p) = &v.profile {
            let p = if p == "basic" { "baseline" } else { p.as_str() };
            o.push(("profile".into(), p.into()));
        }
        if let Some(l) = &v.level {
            o.push(("level".into(), l.clone()));
        }
        if !v.bframes || v.profile.as_deref() == Some("baseline") {
            o.push(("bf".into(), "0".into()));
        }
    }
    encoding("libx264", "yuv420p", o, None)
}

/// libx265; `None` for a profile it is not given (main and main10 are).
fn h265(vc: Option<&VideoCodec>, muxer: &str, g: f64) -> Option<VideoEncoding> {
    let crf = format!("{:.0}", 56.0 - g * 40.0);
    let mut params = "log-level=error".to_string();
    if let Some(l) = vc.and_then(|v| v.level.as_deref()) {
        params.push_str(&format!(":level-idc={l}"));
    }
    let mut o = opts(&[
        ("preset", "veryfast"),
        ("crf", &crf),
        ("x265-params", &params),
    ]);
    if vc.is_some_and(|v| !v.bframes) {
        o.push(("bf".into(), "0".into()));
    }
    let profile = vc.and_then(|v| v.profile.as_deref());
    let pix = match profile {
        None | Some("main") => "yuv420p",
        Some("main10") => "yuv420p10le",
        Some(_) => return None,
    };
    if let Some(p) = profile {
        o.push(("profile".into(), p.into()));
    }
    let mut e = encoding("libx265", pix, o, None);
    if matches!(muxer, "mp4" | "mov") {
        e.codec_tag = Some("hvc1".into());
    }
    Some(e)
}

/// libvpx (VP8) or libvpx-vp9; `None` for a profile it is not given (VP9's 0 and 2 are).
fn vpx(name: VideoCodecName, profile: Option<&str>, g: f64) -> Option<VideoEncoding> {
    let crf = format!("{:.0}", (63.0 - g * 44.0).clamp(4.0, 63.0));
    let mut o = opts(&[("deadline", "realtime"), ("cpu-used", "8"), ("crf", &crf)]);
    if name != V::Vp9 {
        return profile
            .is_none()
            .then(|| encoding("libvpx", "yuv420p", o, None));
    }
    o.push(("row-mt".into(), "1".into()));
    let pix = match profile {
        None | Some("0") => "yuv420p",
        Some("2") => {
            o.push(("profile".into(), "2".into()));
            "yuv420p10le"
        }
        Some(_) => return None,
    };
    Some(encoding("libvpx-vp9", pix, o, None))
}

fn codec_encoding(
    name: VideoCodecName,
    vc: Option<&VideoCodec>,
    muxer: &str,
    g: f64,
) -> Result<Option<VideoEncoding>, PlanError> {
    let profile = vc.and_then(|v| v.profile.as_deref());
    let unsupported = |codec: &str, known: &str| {
        PlanError::Invalid(format!(
            "Invalid video codec profile {:?} for {codec} (supported: {known})",
            profile.unwrap_or_default()
        ))
    };
    Ok(Some(match name {
        V::H264 => match profile {
            None | Some("baseline" | "basic" | "main" | "high") => h264(vc, g),
            Some(_) => return Err(unsupported("h264", "baseline, main, high")),
        },
        V::H265 => h265(vc, muxer, g).ok_or_else(|| unsupported("h265", "main, main10"))?,
        V::Vp9 => vpx(name, profile, g).ok_or_else(|| unsupported("vp9", "0, 2"))?,
        V::Vp8 => vpx(name, profile, g).ok_or_else(|| unsupported("vp8", "none"))?,
        V::Av1 => {
            let crf = format!("{:.0}", (63.0 - g * 40.0).clamp(1.0, 63.0));
            encoding(
                "libsvtav1",
                "yuv420p",
                opts(&[("preset", "10"), ("crf", &crf)]),
                None,
            )
        }
        V::ProRes => encoding(
            "prores_ks",
            "yuv422p10le",
            opts(&[("profile", "3"), ("vendor", "apl0")]),
            None,
        ),
        V::Theora => encoding(
            "libtheora",
            "yuv420p",
            vec![],
            Some((g * 10.0).round() as i32 * LAMBDA),
        ),
        V::Auto | V::None => return Ok(None),
    }))
}

/// `br_` replaces constant-quality mode; `ki_` (default 2 s) sets the keyframe interval.
fn rate_control(enc: &mut VideoEncoding, s: &Settings, fps: f64) {
    if let Some(br) = s.bit_rate {
        enc.options.retain(|(k, _)| k != "crf");
        enc.bit_rate = Some(br.bps);
        if br.constant {
            enc.max_rate = Some(br.bps);
            enc.buffer_size = Some(br.bps);
        }
    } else if enc.encoder.starts_with("libvpx") {
        enc.bit_rate = Some(0);
    }
    let seconds = s.keyframe_interval.unwrap_or(2.0);
    enc.gop = Some(((seconds * fps).round() as u32).max(1));
}

/// The video encoder for a format and the URL's settings, or `None` for no video.
pub fn video_encoding(
    format: &Format,
    s: &Settings,
    fps: f64,
    alpha: bool,
) -> Result<Option<VideoEncoding>, PlanError> {
    let g = goodness(s.quality);
    match format.kind {
        OutputKind::Audio => return Ok(None),
        OutputKind::Frame | OutputKind::Animation => {
            return Ok(Some(image_encoding(format, g, alpha, s)));
        }
        OutputKind::Video => {}
    }
    let vc = s.video_codec.as_ref();
    let name = match vc.map(|v| v.codec) {
        None | Some(VideoCodecName::Auto) => format.video.unwrap_or(VideoCodecName::H264),
        Some(VideoCodecName::None) => return Ok(None),
        Some(c) => c,
    };
    if !codec_allowed(format.muxer, name) {
        return Err(PlanError::Invalid(format!(
            "video codec {name:?} cannot be written in .{}",
            format.extension
        )));
    }
    let mut e = codec_encoding(name, vc, format.muxer, g)?;
    if let Some(enc) = e.as_mut() {
        rate_control(enc, s, fps);
        // VP8 and VP9 carry transparency (WebM); the other video codecs are flattened first.
        if alpha && enc.pix_fmt == "yuv420p" && enc.encoder.starts_with("libvpx") {
            enc.pix_fmt = "yuva420p".into();
        }
    }
    Ok(e)
}

/// Whether video in `format` written with these settings keeps transparency.
pub fn video_alpha(format: &Format, s: &Settings) -> bool {
    let codec = s.video_codec.as_ref().map(|v| v.codec);
    format.kind == OutputKind::Video
        && format.muxer == "webm"
        && matches!(
            codec,
            None | Some(VideoCodecName::Auto | VideoCodecName::Vp9 | VideoCodecName::Vp8)
        )
}

/// The audio encoder for a format and the URL's settings, or `None` for no audio.
pub fn audio_encoding(format: &Format, s: &Settings) -> Result<Option<AudioEncoding>, PlanError> {
    if matches!(format.kind, OutputKind::Frame | OutputKind::Animation) {
        return Ok(None);
    }
    let codec = match (s.audio_codec, format.extension) {
        (Some(A::None), _) => return Ok(None),
        (Some(c), _) if format.kind == OutputKind::Video => Some(c),
        (_, "wav") => None,
        (_, "flac") => None,
        (_, _) => format.audio,
    };
    let allowed = match (format.muxer, codec) {
        ("webm", Some(c)) => matches!(c, A::Opus | A::Vorbis),
        ("ogg", Some(c)) => matches!(c, A::Opus | A::Vorbis),
        ("mpegts" | "flv", Some(c)) => matches!(c, A::Aac | A::Mp3),
        _ => true,
    };
    if !allowed {
        return Err(PlanError::Invalid(format!(
            "audio codec {:?} cannot be written in .{}",
            codec.unwrap_or(A::Aac),
            format.extension
        )));
    }
    let enc = |encoder: &str, fmts: &str, rate: Option<u32>, br: Option<u64>| AudioEncoding {
        encoder: encoder.into(),
        sample_fmts: fmts.into(),
        sample_rate: rate,
        bit_rate: s
            .bit_rate
            .filter(|_| format.kind == OutputKind::Audio)
            .map(|b| b.bps)
            .or(br),
        options: vec![],
    };
    Ok(Some(match (codec, format.extension) {
        (Some(A::Aac), _) => enc("aac", "fltp", None, Some(128_000)),
        (Some(A::Mp3), _) => enc("libmp3lame", "s16p", None, Some(128_000)),
        (Some(A::Opus), _) => enc("libopus", "flt", Some(48_000), Some(96_000)),
        (Some(A::Vorbis), _) => enc("libvorbis", "fltp", None, Some(128_000)),
        (_, "flac") => enc("flac", "s16", None, None),
        _ => enc("pcm_s16le", "s16", None, None),
    }))
}

/// Muxer options: fragmented MP4 so bytes stream while encoding (the header comes first).
pub fn muxer_options(format: &Format) -> Vec<(String, String)> {
    match format.muxer {
        "mp4" | "mov" | "ipod" => {
            opts(&[("movflags", "frag_keyframe+empty_moov+default_base_moof")])
        }
        "gif" | "webp" => opts(&[("loop", "0")]),
        _ => vec![],
    }
}
