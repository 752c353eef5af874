//! Probing: opens a file with libav, reads every packet (so truncation is caught at upload,
//! not at first delivery) and decodes one frame (so a file that merely looks like media is
//! refused). Returns the facts Cloudinary reports for an upload.

use std::ffi::CStr;
use std::path::Path;

use ff::format::stream::Disposition;
use ff::media::Type as Medium;
use ffmpeg_next as ff;
use serde::{Deserialize, Serialize};

use super::EngineError;

/// What kind of media a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
}

/// Facts about a media file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub kind: MediaKind,
    /// libav's demuxer name (`mov,mp4,m4a,3gp,3g2,mj2`).
    pub container: String,
    /// The extension Cloudinary reports as `format` (`mp4`, `jpg`).
    pub format: String,
    /// Display size (rotation applied).
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration: Option<f64>,
    pub bit_rate: Option<i64>,
    pub frame_rate: Option<f64>,
    pub nb_frames: Option<i64>,
    /// Clockwise degrees a player rotates the picture by.
    pub rotation: i32,
    /// An image's EXIF orientation (1–8) when it has one; width and height are upright.
    #[serde(default)]
    pub orientation: Option<u8>,
    /// The pixels carry transparency (an alpha channel or a palette that may).
    #[serde(default)]
    pub alpha: bool,
    /// Frames of an image (1, or more for animations).
    pub pages: u32,
    pub video: Option<VideoTrack>,
    pub audio: Option<AudioTrack>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoTrack {
    pub codec: String,
    pub pix_format: String,
    pub profile: Option<String>,
    pub level: i32,
    pub bit_rate: Option<i64>,
    pub dar: Option<String>,
    pub time_base: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioTrack {
    pub codec: String,
    pub bit_rate: Option<i64>,
    pub frequency: i32,
    pub channels: i32,
    pub channel_layout: Option<String>,
}

/// Demuxers that read still images (and GIF/APNG/WebP animations).
fn is_image_container(name: &str) -> bool {
    name.ends_with("_pipe") || matches!(name, "image2" | "gif" | "apng" | "webp")
}

/// Probes `path`. `ext_hint` is the uploaded file's extension, used to pick between the
/// names of one container family (`mov` vs `mp4`, `mkv` vs `webm`). Pictures of more than
/// `max_pixels` are refused before anything is decoded (decompression bombs).
pub fn probe(
    path: &Path,
    ext_hint: Option<&str>,
    max_pixels: u64,
) -> Result<MediaInfo, EngineError> {
    let head = read_head(path);
    check_head(&head, max_pixels)?;
    let mut input = ff::format::input(&path).map_err(EngineError::OpenInput)?;
    let container = input.format().name().to_string();
    let avif = crate::header::is_avif(&head);
    let (video_index, audio_index, kind) = streams_of(&input, &container, avif)?;

    let video = video_index
        .and_then(|i| input.stream(i))
        .map(|s| video_track(&s));
    let audio = audio_index
        .and_then(|i| input.stream(i))
        .map(|s| audio_track(&s));
    let geometry = video_index
        .and_then(|i| input.stream(i))
        .map(|s| geometry_of(&s))
        .unwrap_or_default();
    let Geometry {
        mut width,
        mut height,
        rotation,
        frame_rate,
        frames: stream_frames,
    } = geometry;
    check_pixels(width, height, max_pixels)?;
    let orientation = (kind == MediaKind::Image)
        .then(|| exif_orientation(path, &head))
        .flatten();
    if orientation.is_some_and(crate::plan::orientation::swaps_axes) {
        (width, height) = (height, width);
    }
    let alpha = video.as_ref().is_some_and(|v| has_alpha(&v.pix_format));

    let scan = scan_packets(&mut input, video_index)?;

    let duration = match input.duration() {
        d if d > 0 => Some(d as f64 / f64::from(ff::ffi::AV_TIME_BASE)),
        _ => scan.end_seconds,
    };
    let frames = if stream_frames > 0 {
        stream_frames
    } else {
        scan.video_packets
    };
    let bit_rate = Some(input.bit_rate()).filter(|b| *b > 0);
    let format = if avif {
        "avif".to_string()
    } else {
        format_name(&container, kind, video.as_ref(), audio.as_ref(), ext_hint)
    };
    if kind == MediaKind::Image && format == "jpg" && !jpeg_is_complete(path) {
        return Err(EngineError::Corrupt(ff::Error::Eof));
    }
    let (duration, frame_rate, nb_frames, bit_rate) =
        timing(kind, frames, duration, frame_rate, bit_rate);
    Ok(MediaInfo {
        kind,
        container,
        format,
        width,
        height,
        duration,
        bit_rate,
        frame_rate,
        nb_frames,
        rotation,
        orientation,
        alpha,
        pages: if kind == MediaKind::Image {
            frames.max(1) as u32
        } else {
            0
        },
        video: if kind == MediaKind::Image {
            None
        } else {
            video
        },
        audio,
    })
}

/// What the first bytes already rule out: pictures libav 5.1 cannot decode, and pictures of
/// more than `max_pixels` (decompression bombs, refused before any decoder allocates them).
fn check_head(head: &[u8], max_pixels: u64) -> Result<(), EngineError> {
    if crate::header::is_heif(head) {
        return Err(EngineError::Unsupported(
            "HEIC/HEIF pictures cannot be decoded by this server's libav (5.1); convert them to JPEG or AVIF",
        ));
    }
    if crate::header::is_animated_webp(head) {
        return Err(EngineError::Unsupported(
            "animated WebP cannot be decoded by this server's libav (5.1); upload the animation as GIF or MP4",
        ));
    }
    if let Some((w, h)) = crate::header::dimensions(head) {
        check_pixels(Some(w), Some(h), max_pixels)?;
    }
    Ok(())
}

/// The video (not a cover picture) and audio streams, and what kind of media that makes.
fn streams_of(
    input: &ff::format::context::Input,
    container: &str,
    picture_file: bool,
) -> Result<(Option<usize>, Option<usize>, MediaKind), EngineError> {
    let video = input
        .streams()
        .filter(|s| s.parameters().medium() == Medium::Video)
        .find(|s| !s.disposition().contains(Disposition::ATTACHED_PIC))
        .map(|s| s.index());
    let audio = input.streams().best(Medium::Audio).map(|s| s.index());
    let kind = match (video, audio) {
        (Some(_), _) if picture_file || is_image_container(container) => MediaKind::Image,
        (Some(_), _) => MediaKind::Video,
        (None, Some(_)) => MediaKind::Audio,
        (None, None) => return Err(EngineError::NoMediaStreams),
    };
    Ok((video, audio, kind))
}

/// Duration, rate, frame count and bit rate as reported: an animation keeps its timing (for
/// the planner; responses show only `pages`), a still has none.
fn timing(
    kind: MediaKind,
    frames: i64,
    duration: Option<f64>,
    frame_rate: Option<f64>,
    bit_rate: Option<i64>,
) -> (Option<f64>, Option<f64>, Option<i64>, Option<i64>) {
    match kind {
        MediaKind::Image if frames > 1 => (duration, frame_rate, Some(frames), None),
        MediaKind::Image => (None, None, None, None),
        _ => (
            duration,
            frame_rate,
            Some(frames).filter(|n| *n > 0),
            bit_rate,
        ),
    }
}

/// Refuses pictures of more than `max` pixels (before any decoding allocates them).
fn check_pixels(width: Option<u32>, height: Option<u32>, max: u64) -> Result<(), EngineError> {
    let (width, height) = (width.unwrap_or(0), height.unwrap_or(0));
    if u64::from(width) * u64::from(height) > max {
        return Err(EngineError::TooManyPixels { width, height, max });
    }
    Ok(())
}

/// The file's first 256 KiB (headers and EXIF live there); empty when unreadable.
fn read_head(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut head = Vec::with_capacity(256 * 1024);
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(256 * 1024).read_to_end(&mut head);
    }
    head
}

/// The EXIF orientation in the first 256 KiB of a still image's file.
fn exif_orientation(path: &Path, head: &[u8]) -> Option<u8> {
    use std::io::Read;
    let found = crate::header::orientation(head).or_else(|| {
        // A TIFF whose first directory comes after the pixels.
        use std::io::{Seek, SeekFrom};
        let at = crate::header::tiff_directory(head)?;
        let mut file = std::fs::File::open(path).ok()?;
        file.seek(SeekFrom::Start(at)).ok()?;
        let mut dir = Vec::with_capacity(8 * 1024);
        file.take(2 + 512 * 12).read_to_end(&mut dir).ok()?;
        crate::header::orientation_in(head, &dir)
    });
    found.filter(|o| *o != 1)
}

/// Whether a JPEG file has its end-of-image marker near the end (libav decodes a cut-off
/// JPEG without complaint, leaving the missing part grey).
fn jpeg_is_complete(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    const TAIL: u64 = 64 * 1024;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut tail = Vec::new();
    let read = file
        .seek(SeekFrom::Start(len.saturating_sub(TAIL)))
        .and_then(|_| file.read_to_end(&mut tail));
    read.is_ok() && tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Whether a pixel format (by libav name) can carry transparency.
fn has_alpha(pix_format: &str) -> bool {
    pix_format.starts_with("yuva")
        || pix_format.starts_with("ya")
        || pix_format.starts_with("gbrap")
        || pix_format == "pal8"
        || ["rgba", "bgra", "argb", "abgr"]
            .iter()
            .any(|a| pix_format.starts_with(a))
}

/// Display size, rotation, rate and announced frame count of the video stream.
#[derive(Default)]
struct Geometry {
    width: Option<u32>,
    height: Option<u32>,
    rotation: i32,
    frame_rate: Option<f64>,
    frames: i64,
}

fn geometry_of(s: &ff::format::stream::Stream) -> Geometry {
    let params = s.parameters();
    // SAFETY: `params` wraps the stream's AVCodecParameters, valid while the input lives;
    // we only read two plain integer fields.
    let (w, h) = unsafe {
        let p = params.as_ptr();
        ((*p).width.max(0) as u32, (*p).height.max(0) as u32)
    };
    let rotation = rotation_of(s);
    let (width, height) = if rotation % 180 == 90 { (h, w) } else { (w, h) };
    Geometry {
        width: Some(width),
        height: Some(height),
        rotation,
        frame_rate: rational(s.avg_frame_rate()).or_else(|| rational(s.rate())),
        frames: s.frames(),
    }
}

struct Scan {
    video_packets: i64,
    end_seconds: Option<f64>,
}

/// Reads every packet; decodes the first frame of the video stream, if there is one.
fn scan_packets(
    input: &mut ff::format::context::Input,
    video: Option<usize>,
) -> Result<Scan, EngineError> {
    let mut decoder = match video.and_then(|i| input.stream(i)) {
        Some(s) => {
            let ctx = ff::codec::context::Context::from_parameters(s.parameters())
                .map_err(EngineError::Corrupt)?;
            Some(ctx.decoder().video().map_err(EngineError::Corrupt)?)
        }
        None => None,
    };
    let mut decoded = false;
    let mut scan = Scan {
        video_packets: 0,
        end_seconds: None,
    };
    // Containers with an index (MP4) announce their packet counts; fewer means truncation.
    let expected: Vec<i64> = input.streams().map(|s| s.frames()).collect();
    let mut read = vec![0i64; expected.len()];
    let mut frame = ff::frame::Video::empty();
    let mut packet = ff::Packet::empty();
    loop {
        match packet.read(input) {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(e) => return Err(EngineError::Corrupt(e)),
        }
        let index = packet.stream();
        if let Some(n) = read.get_mut(index) {
            *n += 1;
        }
        if let Some(stream) = input.stream(index)
            && let Some(pts) = packet.pts()
        {
            let end = (pts + packet.duration()) as f64 * f64::from(stream.time_base());
            scan.end_seconds = Some(scan.end_seconds.map_or(end, |e: f64| e.max(end)));
        }
        if Some(index) != video {
            continue;
        }
        scan.video_packets += 1;
        if let (Some(dec), false) = (decoder.as_mut(), decoded) {
            // A decoder may reject a damaged packet and still decode later ones.
            if dec.send_packet(&packet).is_ok() && dec.receive_frame(&mut frame).is_ok() {
                decoded = true;
            }
        }
    }
    if let (Some(dec), false) = (decoder.as_mut(), decoded) {
        let _ = dec.send_eof();
        decoded = dec.receive_frame(&mut frame).is_ok();
    }
    if video.is_some() && !decoded {
        return Err(EngineError::Undecodable("video"));
    }
    for (stream, (&expected, &read)) in expected.iter().zip(&read).enumerate() {
        if expected > 0 && read < expected {
            return Err(EngineError::Truncated {
                stream,
                read,
                expected,
            });
        }
    }
    Ok(scan)
}

fn rational(r: ff::Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0).then(|| f64::from(r))
}

fn rotation_of(stream: &ff::format::stream::Stream) -> i32 {
    for side in stream.side_data() {
        if side.kind() == ff::codec::packet::side_data::Type::DisplayMatrix
            && side.data().len() >= 36
        {
            // SAFETY: display-matrix side data is nine native-endian i32 (libav's layout), and we
            // checked the length; av_display_rotation_get only reads them.
            let degrees = unsafe { ff::ffi::av_display_rotation_get(side.data().as_ptr().cast()) };
            if degrees.is_finite() {
                return ((-degrees).round() as i32).rem_euclid(360);
            }
        }
    }
    stream
        .metadata()
        .get("rotate")
        .and_then(|r| r.parse::<i32>().ok())
        .map_or(0, |r| r.rem_euclid(360))
}

fn c_string(ptr: *const std::ffi::c_char) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: libav returns pointers to static NUL-terminated names (or NULL, handled above).
    Some(
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned(),
    )
}

fn video_track(stream: &ff::format::stream::Stream) -> VideoTrack {
    let params = stream.parameters();
    let id = params.id();
    // SAFETY: reading plain fields of the stream's AVCodecParameters while the input is open;
    // the name lookups return static strings or NULL.
    let (pix_format, profile, level, sar) = unsafe {
        let p = params.as_ptr();
        let pix = c_string(ff::ffi::av_get_pix_fmt_name(std::mem::transmute::<
            i32,
            ff::ffi::AVPixelFormat,
        >((*p).format)));
        let profile = c_string(ff::ffi::avcodec_profile_name(id.into(), (*p).profile));
        (pix, profile, (*p).level, (*p).sample_aspect_ratio)
    };
    let (w, h) = {
        // SAFETY: as above, plain integer fields.
        unsafe { ((*params.as_ptr()).width, (*params.as_ptr()).height) }
    };
    let dar = dar_of(w, h, sar.num, sar.den);
    let tb = stream.time_base();
    VideoTrack {
        codec: codec_name(id),
        pix_format: pix_format.unwrap_or_default(),
        profile,
        level: if level < 0 { -99 } else { level },
        bit_rate: Some(params.bit_rate()).filter(|b| *b > 0),
        dar,
        time_base: format!("{}/{}", tb.numerator(), tb.denominator()),
    }
}

fn audio_track(stream: &ff::format::stream::Stream) -> AudioTrack {
    let params = stream.parameters();
    // SAFETY: plain fields of AVCodecParameters; av_channel_layout_describe writes at most
    // `buf.len()` bytes, NUL-terminated, into our buffer.
    let (rate, channels, layout) = unsafe {
        let p = params.as_ptr();
        let mut buf = [0 as std::ffi::c_char; 64];
        let n = ff::ffi::av_channel_layout_describe(&(*p).ch_layout, buf.as_mut_ptr(), buf.len());
        let layout = (n > 0).then(|| c_string(buf.as_ptr())).flatten();
        ((*p).sample_rate, (*p).ch_layout.nb_channels, layout)
    };
    AudioTrack {
        codec: codec_name(params.id()),
        bit_rate: Some(params.bit_rate()).filter(|b| *b > 0),
        frequency: rate,
        channels,
        channel_layout: layout,
    }
}

fn codec_name(id: ff::codec::Id) -> String {
    id.name().to_string()
}

fn dar_of(w: i32, h: i32, sar_num: i32, sar_den: i32) -> Option<String> {
    if w <= 0 || h <= 0 {
        return None;
    }
    let (sn, sd) = if sar_num > 0 && sar_den > 0 {
        (sar_num, sar_den)
    } else {
        (1, 1)
    };
    let (mut n, mut d) = (i64::from(w) * i64::from(sn), i64::from(h) * i64::from(sd));
    let g = gcd(n, d);
    n /= g;
    d /= g;
    Some(format!("{n}:{d}"))
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

/// The extension Cloudinary reports: the uploaded extension when it names this container,
/// otherwise the family's usual one.
fn format_name(
    container: &str,
    kind: MediaKind,
    video: Option<&VideoTrack>,
    audio: Option<&AudioTrack>,
    ext_hint: Option<&str>,
) -> String {
    let hint = ext_hint.map(str::to_ascii_lowercase);
    let hint = hint.as_deref();
    if kind == MediaKind::Image {
        return match container {
            "gif" => "gif",
            "apng" => "png",
            "webp" | "webp_pipe" => "webp",
            "png_pipe" => "png",
            "jpeg_pipe" | "jpegls_pipe" => "jpg",
            "bmp_pipe" => "bmp",
            "tiff_pipe" => "tiff",
            _ => hint.unwrap_or("jpg"),
        }
        .to_string();
    }
    let names: Vec<&str> = container.split(',').collect();
    let family: &[&str] = match names.first().copied().unwrap_or_default() {
        "mov" => &["mp4", "mov", "m4v", "m4a", "3gp", "3g2", "mj2"],
        "matroska" => &["webm", "mkv", "mka"],
        "ogg" => &["ogv", "ogg", "oga", "opus"],
        "mpegts" => &["ts", "m2ts", "mts"],
        "mp3" => &["mp3"],
        "wav" => &["wav"],
        _ => &[],
    };
    if let Some(h) = hint
        && (family.contains(&h) || names.contains(&h))
    {
        return h.to_string();
    }
    let video_codec = video.map(|v| v.codec.as_str());
    match names.first().copied().unwrap_or_default() {
        "mov" if video.is_none() => "m4a".into(),
        "mov" => "mp4".into(),
        "matroska"
            if matches!(video_codec, Some("vp8" | "vp9" | "av1") | None)
                && audio.is_none_or(|a| matches!(a.codec.as_str(), "opus" | "vorbis")) =>
        {
            "webm".into()
        }
        "matroska" => "mkv".into(),
        "ogg" if video.is_some() => "ogv".into(),
        "ogg" if audio.is_some_and(|a| a.codec == "opus") => "opus".into(),
        "ogg" => "ogg".into(),
        "mpegts" => "ts".into(),
        other => other.to_string(),
    }
}
