//! From a streaming profile and what the probe knows to the renditions a player is offered
//! and the segment timeline every rendition shares. Pure, so manifests are computed from the
//! catalog alone: a never-seen video gets its playlists without any decoding.
//!
//! Rules (see `../shared/reference/streaming-rules.md`):
//! - a rung asks for a box (`c_limit,w_,h_`); rungs larger than the source collapse to the
//!   source size, and of rungs that come out the same size the smallest request (the lowest
//!   bit rate) is kept — nothing is upscaled and no two variants look alike;
//! - segments are [`SEGMENT_SECONDS`] long, the last one shorter; every rendition is encoded
//!   with a keyframe at each boundary, so segments start on an IDR at the same times;
//! - BANDWIDTH is the peak (bit rate + 10 % + audio), AVERAGE-BANDWIDTH the nominal rate.

use crate::plan::Media;
use crate::plan::geometry::{self, Request};
use crate::url::values::{Crop, Gravity, Size, VideoCodec, VideoCodecName};
use crate::url::{Transformation, Value};

/// Target segment length in seconds (keyframes are forced at every boundary).
pub const SEGMENT_SECONDS: f64 = 4.0;

/// The audio bit rate every rendition carries when the source has sound.
pub const AUDIO_BPS: u64 = 128_000;

/// One variant of the ladder, as a player sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    pub width: u32,
    pub height: u32,
    /// Video bits per second the encoder aims at.
    pub video_bps: u64,
    /// `BANDWIDTH` (peak) and `AVERAGE-BANDWIDTH`, the audio track included.
    pub peak_bps: u64,
    pub average_bps: u64,
    /// RFC 6381 codec of the video track (`avc1.4d401f`).
    pub codecs: String,
    pub frame_rate: f64,
    /// The rung's transformation (what a segment of this rendition is made with).
    pub transformation: Transformation,
}

/// The renditions of `representations` for a source, highest first.
pub fn renditions(representations: &[Transformation], media: &Media) -> Vec<Rendition> {
    let src = (media.width.max(2), media.height.max(2));
    let mut out: Vec<Rendition> = Vec::new();
    for t in representations {
        let rung = Rung::of(t);
        let req = Request {
            width: rung.width.map(f64::from),
            height: rung.height.map(f64::from),
            aspect_ratio: None,
            crop: Some(rung.crop.unwrap_or(Crop::Limit)),
            gravity: Gravity::Center,
            x: None,
            y: None,
        };
        let (width, height) = geometry::resolve(src, &req, true).out;
        let video_bps = rung
            .bit_rate
            .unwrap_or_else(|| default_bit_rate(width, height));
        let audio = if media.has_audio { AUDIO_BPS } else { 0 };
        let rendition = Rendition {
            width,
            height,
            video_bps,
            peak_bps: video_bps + video_bps / 10 + audio,
            average_bps: video_bps + audio,
            codecs: video_codecs(rung.codec.as_ref()),
            frame_rate: media.fps,
            transformation: t.clone(),
        };
        // Same size as a rung already kept: the smaller request (later, cheaper) wins.
        match out
            .iter_mut()
            .find(|r| (r.width, r.height) == (width, height))
        {
            Some(same) => *same = rendition,
            None => out.push(rendition),
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.peak_bps));
    out
}

/// The one audio track every rendition plays with (CMAF: audio and video are separate
/// tracks, so HLS and DASH share the same segments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioTrack {
    pub bps: u64,
    pub sample_rate: u32,
    pub channels: u32,
}

impl AudioTrack {
    /// RFC 6381 codec of AAC-LC.
    pub const CODECS: &'static str = "mp4a.40.2";

    /// The audio track of a source, if it has sound.
    pub fn of(media: &Media, channels: u32) -> Option<AudioTrack> {
        media.has_audio.then_some(AudioTrack {
            bps: AUDIO_BPS,
            sample_rate: media.sample_rate,
            // The planner gives mono or stereo (its `aformat`).
            channels: channels.clamp(1, 2),
        })
    }
}

/// A track of an adaptive stream as URLs name it (`r=0`, `r=1`, …, `r=a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    /// A rendition of the ladder, by index (highest first).
    Video(usize),
    /// The audio track.
    Audio,
}

impl Track {
    pub fn parse(text: &str) -> Option<Track> {
        match text {
            "a" => Some(Track::Audio),
            n => n.parse().ok().map(Track::Video),
        }
    }
}

impl std::fmt::Display for Track {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Track::Video(i) => write!(f, "{i}"),
            Track::Audio => f.write_str("a"),
        }
    }
}

/// What a rung asks for.
#[derive(Debug, Default)]
struct Rung {
    width: Option<u32>,
    height: Option<u32>,
    crop: Option<Crop>,
    bit_rate: Option<u64>,
    codec: Option<VideoCodec>,
}

impl Rung {
    fn of(t: &Transformation) -> Rung {
        let mut r = Rung::default();
        for p in t.components.iter().flat_map(|c| &c.params) {
            match &p.value {
                Value::Width(Size::Pixels(w)) => r.width = Some(*w),
                Value::Height(Size::Pixels(h)) => r.height = Some(*h),
                Value::Crop(c) => r.crop = Some(*c),
                Value::BitRate(b) => r.bit_rate = Some(b.bps),
                Value::VideoCodec(v) => r.codec = Some(v.clone()),
                _ => {}
            }
        }
        r
    }
}

/// About 0.1 bit per pixel per frame at 30 fps, for rungs without `br_`.
fn default_bit_rate(w: u32, h: u32) -> u64 {
    (u64::from(w) * u64::from(h) * 3).max(200_000)
}

/// RFC 6381 codec of H.264, profile and level from `vc_h264:<profile>:<level>`.
pub fn video_codecs(codec: Option<&VideoCodec>) -> String {
    let (profile, level) = match codec {
        Some(v) if v.codec == VideoCodecName::H264 || v.codec == VideoCodecName::Auto => {
            (v.profile.as_deref().unwrap_or("high"), v.level.as_deref())
        }
        _ => ("high", None),
    };
    let (idc, constraints) = match profile {
        "baseline" | "basic" => (0x42, 0xE0),
        "main" => (0x4D, 0x40),
        _ => (0x64, 0x00),
    };
    let level = level
        .and_then(|l| l.parse::<f64>().ok())
        .map_or(0x28, |l| (l * 10.0).round() as u32);
    format!("avc1.{idc:02x}{constraints:02x}{level:02x}")
}

/// Segment durations of a source `duration` seconds long: whole segments, the last shorter.
pub fn segments(duration: f64) -> Vec<f64> {
    if duration <= 0.0 {
        return Vec::new();
    }
    let whole = (duration / SEGMENT_SECONDS).floor() as usize;
    let mut out = vec![SEGMENT_SECONDS; whole];
    let rest = duration - whole as f64 * SEGMENT_SECONDS;
    // A sliver shorter than a frame joins the previous segment instead.
    if rest > 0.05 || out.is_empty() {
        out.push(rest);
    } else if let Some(last) = out.last_mut() {
        *last += rest;
    }
    out
}

/// `EXT-X-TARGETDURATION`: no rounded `EXTINF` may exceed it.
pub fn target_duration(segments: &[f64]) -> u64 {
    segments
        .iter()
        .map(|d| d.round() as u64)
        .max()
        .unwrap_or(1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streaming::profiles::find_built_in;

    fn media(w: u32, h: u32, audio: bool) -> Media {
        Media {
            width: w,
            height: h,
            duration: 10.0,
            fps: 30.0,
            has_video: true,
            has_audio: audio,
            sample_rate: 48_000,
            orientation: 1,
            image: false,
            alpha: false,
            shrinkable: false,
            lossless: false,
        }
    }

    fn sizes(r: &[Rendition]) -> Vec<(u32, u32, u64)> {
        r.iter().map(|r| (r.width, r.height, r.video_bps)).collect()
    }

    #[test]
    fn a_1080p_source_gets_the_whole_hd_ladder() {
        let hd = find_built_in("hd").unwrap();
        let r = renditions(&hd.representations, &media(1920, 1080, true));
        assert_eq!(
            sizes(&r),
            [
                (1280, 720, 3_500_000),
                (960, 540, 2_000_000),
                (854, 480, 1_200_000),
                (640, 360, 800_000),
                (426, 240, 400_000)
            ]
        );
        assert_eq!(r[0].codecs, "avc1.4d401f");
        assert_eq!(r[0].peak_bps, 3_500_000 + 350_000 + 128_000);
        assert_eq!(r[0].average_bps, 3_500_000 + 128_000);
    }

    #[test]
    fn a_small_source_is_never_upscaled_and_rungs_do_not_repeat() {
        let hd = find_built_in("hd").unwrap();
        let r = renditions(&hd.representations, &media(640, 360, false));
        assert_eq!(sizes(&r), [(640, 360, 800_000), (426, 240, 400_000)]);
        assert_eq!(r[1].codecs, "avc1.42e01e");
        // A portrait source keeps its shape inside each box.
        let r = renditions(&hd.representations, &media(1080, 1920, false));
        assert_eq!((r[0].width, r[0].height), (406, 720));
    }

    #[test]
    fn tracks_are_named_by_index_or_a() {
        assert_eq!(Track::parse("3"), Some(Track::Video(3)));
        assert_eq!(Track::parse("a"), Some(Track::Audio));
        assert_eq!(Track::parse("x"), None);
        assert_eq!(Track::Audio.to_string(), "a");
        assert_eq!(AudioTrack::of(&media(640, 360, false), 2), None);
        assert_eq!(
            AudioTrack::of(&media(640, 360, true), 6).map(|a| a.channels),
            Some(2)
        );
    }

    #[test]
    fn segments_and_target_duration() {
        assert_eq!(segments(10.0), [4.0, 4.0, 2.0]);
        assert_eq!(segments(8.02), [4.0, 4.02]);
        assert_eq!(segments(3.0), [3.0]);
        assert!(segments(0.0).is_empty());
        let s = segments(8.02);
        assert_eq!(target_duration(&s), 4);
        assert_eq!(target_duration(&[4.0, 4.6]), 5);
        let total: f64 = segments(123.456).iter().sum();
        assert!((total - 123.456).abs() < 1e-9);
    }
}
