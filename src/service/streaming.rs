//! Adaptive streams just in time: `sp_<profile>/…/<id>.m3u8` and `.mpd`, the playlists they
//! name and their CMAF segments.
//!
//! Manifests come from the catalog's probe facts alone, so a never-seen video plays without
//! pre-processing. Each track (a video rendition of the ladder, or the one audio track) is cut
//! into segments of the shared timeline; a segment is made on demand by the engine (its video
//! starting on an IDR) and cached as a derived file, so HLS and DASH readers share them.
//!
//! URLs (relative to the manifest): `<id>.m3u8?r=<track>` is a media playlist,
//! `<id>.mp4?r=<track>&init=1` an initialization segment, `<id>.mp4?r=<track>&s=<n>` segment
//! `n` (from 0). Tracks are `0`, `1`, … (highest first) and `a` for audio.

use super::segments::{RunSpec, Wanted, segment_row};
use super::{Kino, ServiceError};
use crate::catalog::{Asset, Derived};
use crate::streaming::ladder::{self, AudioTrack, Rendition, SEGMENT_SECONDS, Track};
use crate::streaming::{dash, hls, segment};
use crate::url::{DeliveryPath, Transformation};

/// What a request for an adaptive stream asks for (from `?r=`, `&s=`, `&init=1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamPart {
    /// The multivariant playlist or the MPD.
    Manifest,
    /// A track's media playlist (HLS).
    Playlist(Track),
    /// A track's initialization segment.
    Init(Track),
    /// Segment `segment` (from 0) of a track.
    Segment { track: Track, segment: usize },
}

/// What every request of one stream shares: the user's transformation, the ladder the
/// profile gives this asset, its audio track and the segment timeline.
#[derive(Debug)]
pub struct Stream {
    pub user: Transformation,
    pub profile: String,
    pub video: Vec<Rendition>,
    pub audio: Option<AudioTrack>,
    pub segments: Vec<f64>,
    /// `fl_hlsv3`: HLS version 3 with MPEG-TS segments.
    pub ts: bool,
}

impl Stream {
    /// The rung a video track is made with, `None` for the audio track.
    fn rung(&self, track: Track) -> Result<Option<&Transformation>, ServiceError> {
        match track {
            Track::Video(i) => self.video.get(i).map(|r| Some(&r.transformation)),
            Track::Audio => self.audio.map(|_| None),
        }
        .ok_or_else(|| {
            ServiceError::NotFound(format!(
                "Track {track} not found in streaming profile {}",
                self.profile
            ))
        })
    }
}

/// The answer to a stream request: a manifest made now, a segment (a derived file) or a
/// segment remuxed now (MPEG-TS).
#[derive(Debug)]
pub enum Streamed {
    Text {
        body: String,
        content_type: &'static str,
    },
    File(crate::service::transform::Transformed),
    Binary {
        body: Vec<u8>,
        content_type: &'static str,
    },
}

const HLS_TYPE: &str = "application/vnd.apple.mpegurl";

impl Kino {
    /// Serves `sp_<profile>/…/<id>.m3u8|.mpd` and the playlists and segments they name.
    /// A delivery URL's stream part: what [`Kino::stream`] serves, once strict transformations
    /// (when on) allow it.
    pub async fn deliver_stream(
        &self,
        path: &DeliveryPath,
        asset: &Asset,
        part: StreamPart,
    ) -> Result<Streamed, ServiceError> {
        let made = self.stream_made(path, asset).await?;
        self.check_strict(path, made).await?;
        self.stream(path, asset, part).await
    }

    pub async fn stream(
        &self,
        path: &DeliveryPath,
        asset: &Asset,
        part: StreamPart,
    ) -> Result<Streamed, ServiceError> {
        let ext = path.extension.as_deref().unwrap_or_default();
        let stream = self.stream_of(path, asset).await?;
        let base = asset.public_id.rsplit('/').next().unwrap_or_default();
        let playlist = format!("{base}.m3u8");
        let media_file = format!("{base}.mp4");
        let ts_file = format!("{base}.ts");
        let sound = match (stream.audio.as_ref(), stream.ts) {
            (None, _) => hls::Sound::Silent,
            (Some(_), true) => hls::Sound::Muxed,
            (Some(a), false) => hls::Sound::Group(a),
        };
        match (part, ext) {
            (StreamPart::Manifest, "m3u8") => Ok(Streamed::Text {
                body: hls::multivariant(&stream.video, sound, |t| format!("{playlist}?r={t}")),
                content_type: HLS_TYPE,
            }),
            (StreamPart::Manifest, "mpd") if stream.ts => Err(ServiceError::BadInput(
                "fl_hlsv3 is for HLS (.m3u8), not DASH".into(),
            )),
            (StreamPart::Manifest, "mpd") => Ok(Streamed::Text {
                body: dash::mpd(
                    &stream.video,
                    stream.audio.as_ref(),
                    &stream.segments,
                    &format!("{media_file}?r=$RepresentationID$&init=1"),
                    &format!("{media_file}?r=$RepresentationID$&s=$Number$"),
                ),
                content_type: "application/dash+xml",
            }),
            (StreamPart::Manifest, _) => Err(ServiceError::BadInput(
                "Streaming profile not supported for non-streaming formats".into(),
            )),
            (StreamPart::Playlist(track), _) if stream.ts => {
                let Track::Video(r) = track else {
                    return Err(ServiceError::NotFound(
                        "HLS version 3 carries the sound in each rendition".into(),
                    ));
                };
                stream.rung(track)?;
                Ok(Streamed::Text {
                    body: hls::media(&stream.segments, None, |s| format!("{ts_file}?r={r}&s={s}")),
                    content_type: HLS_TYPE,
                })
            }
            (StreamPart::Playlist(track), _) => {
                stream.rung(track)?;
                Ok(Streamed::Text {
                    body: hls::media(
                        &stream.segments,
                        Some(&format!("{media_file}?r={track}&init=1")),
                        |s| format!("{media_file}?r={track}&s={s}"),
                    ),
                    content_type: HLS_TYPE,
                })
            }
            (StreamPart::Init(track), _) => self.segment_file(asset, &stream, track, None).await,
            (StreamPart::Segment { track, segment }, ext) => {
                if segment >= stream.segments.len() {
                    return Err(ServiceError::NotFound(format!(
                        "Segment {segment} not found"
                    )));
                }
                match (ext, track) {
                    ("ts", Track::Video(r)) => {
                        stream.rung(track)?;
                        self.ts_segment(asset, &stream, r, segment).await
                    }
                    ("ts", Track::Audio) => Err(ServiceError::NotFound(
                        "HLS version 3 carries the sound in each rendition".into(),
                    )),
                    _ => {
                        self.segment_file(asset, &stream, track, Some(segment))
                            .await
                    }
                }
            }
        }
    }

    /// The user's transformation, the profile's ladder for this asset and its segments.
    pub async fn stream_of(
        &self,
        path: &DeliveryPath,
        asset: &Asset,
    ) -> Result<Stream, ServiceError> {
        let ext = path.extension.as_deref().unwrap_or_default();
        let user = self.expand_named(&path.cloud, &path.transformation).await?;
        let name = segment::profile_name(&user).ok_or_else(|| {
            ServiceError::BadInput(format!("A streaming profile (sp_) is required for .{ext}"))
        })?;
        // sp_auto: the hd ladder, cut to the source by the no-upscaling rule.
        let name = if name == "auto" { "hd" } else { name }.to_string();
        let profile = self.streaming_profile(&path.cloud, &name).await?;
        let info = asset
            .media
            .as_ref()
            .filter(|m| m.video.is_some())
            .ok_or_else(|| {
                ServiceError::BadInput(format!("{} has no video to stream", asset.public_id))
            })?;
        let media = crate::service::transform::media_of(info);
        let channels = info.audio.as_ref().map_or(2, |a| a.channels.max(1) as u32);
        Ok(Stream {
            video: ladder::renditions(&profile.representations, &media),
            audio: AudioTrack::of(&media, channels),
            segments: ladder::segments(picture_duration(info, media.duration)),
            ts: segment::wants_ts(&user),
            user: segment::without_profile(&user),
            profile: name,
        })
    }

    /// Segment `index` (`None`: the initialization segment) of a track: a derived file, made
    /// on demand by a run of the engine that goes on to the next segments (see
    /// [`super::segments`]).
    pub(super) async fn segment_file(
        &self,
        asset: &Asset,
        stream: &Stream,
        track: Track,
        index: Option<usize>,
    ) -> Result<Streamed, ServiceError> {
        let rung = stream.rung(track)?;
        let track_t = segment::track_transformation(rung);
        let container = segment::track_format(rung);
        let row = |i: Option<usize>| segment_file_row(asset, stream, &track_t, container, i);
        let wanted = row(index);
        if let Some(found) = self.catalog.find_derived(&wanted.id).await? {
            return Ok(Streamed::File(super::transform::Transformed::Stored(found)));
        }
        if let Some(flight) = self.derived.running(&wanted.id) {
            let made = super::transform::follow(&flight, wanted.format.clone()).await?;
            return Ok(Streamed::File(made));
        }
        let user = &stream.user;
        let plan = |first: usize| -> super::segments::PlanFuture<'_> {
            let start = SEGMENT_SECONDS * first as f64;
            let t = segment::segment_transformation(user, &track_t, start, None);
            Box::pin(async move {
                let plan = self.plan_for(asset, &t, container).await?;
                Ok(plan.into_segments(start, SEGMENT_SECONDS))
            })
        };
        let spec = RunSpec {
            track: format!(
                "{}/{}/{}/{}",
                asset.asset_id,
                asset.version,
                segment::segment_transformation(user, &track_t, 0.0, None),
                container
            ),
            segments: stream.segments.len(),
            row: &row,
            plan: &plan,
        };
        let made = self
            .run_segment(spec, Wanted { index, row: wanted })
            .await?;
        Ok(Streamed::File(made))
    }
}

/// How long the picture lasts: the container's duration, or less when the video track ends
/// before the sound (its frames over its rate). The timeline follows the picture, so players
/// are not told of a last stretch with no frames in it, which they would wait for.
fn picture_duration(info: &crate::engine::MediaInfo, duration: f64) -> f64 {
    let frames = info.nb_frames.filter(|n| *n > 0).map(|n| n as f64);
    let rate = info.frame_rate.filter(|r| *r > 0.0);
    match frames.zip(rate).map(|(n, r)| n / r) {
        // A small difference only: a stream count far off is not to be trusted.
        Some(video) if video < duration && duration - video < 1.0 => video,
        _ => duration,
    }
}

/// The derived file of segment `index` (`None`: the initialization segment) of a track. Its
/// id names the segment's time range, so the file is the same whichever run made it.
pub(super) fn segment_file_row(
    asset: &Asset,
    stream: &Stream,
    track: &Transformation,
    container: &str,
    index: Option<usize>,
) -> Derived {
    let i = index.unwrap_or(0);
    let start = SEGMENT_SECONDS * i as f64;
    let duration = stream.segments.get(i).copied().unwrap_or(SEGMENT_SECONDS);
    let t = segment::segment_transformation(&stream.user, track, start, Some(duration));
    let (format, label) = match index {
        None => (container, "init"),
        Some(_) => ("m4s", "media"),
    };
    let shown = format!("{t}/{label}");
    let id = crate::derived::derived_id(&asset.asset_id, asset.version, &shown, format);
    segment_row(asset, &id, shown, format)
}
