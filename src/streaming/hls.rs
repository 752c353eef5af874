//! HLS playlists (written with m3u8-rs): the multivariant playlist of a ladder and the VOD
//! media playlist every track shares (fMP4 segments behind one `EXT-X-MAP`). The audio is
//! its own track in an `EXT-X-MEDIA` group that every variant names, as in CMAF, so HLS and
//! DASH are served the same segments.

use m3u8_rs::{
    AlternativeMedia, AlternativeMediaType, Map, MasterPlaylist, MediaPlaylist, MediaPlaylistType,
    MediaSegment, Resolution, VariantStream,
};

use super::ladder::{AudioTrack, Rendition, Track, target_duration};

/// Protocol version: float `EXTINF` needs 3, `EXT-X-MAP` in a media playlist needs 6.
const VERSION: usize = 6;

/// `fl_hlsv3`: MPEG-TS segments, no `EXT-X-MAP`.
const VERSION_TS: usize = 3;

/// How the variants get their sound.
#[derive(Debug, Clone, Copy)]
pub enum Sound<'a> {
    /// None: the source is silent.
    Silent,
    /// The audio track, in an `EXT-X-MEDIA` group every variant names (CMAF).
    Group(&'a AudioTrack),
    /// In each variant's own segments (MPEG-TS).
    Muxed,
}

/// The audio group's id.
const AUDIO_GROUP: &str = "audio";

/// The multivariant playlist; `uri(track)` names a track's media playlist.
pub fn multivariant(
    renditions: &[Rendition],
    sound: Sound<'_>,
    uri: impl Fn(Track) -> String,
) -> String {
    let group = match sound {
        Sound::Group(a) => Some(a),
        Sound::Silent | Sound::Muxed => None,
    };
    let alternatives = group
        .map(|a| AlternativeMedia {
            media_type: AlternativeMediaType::Audio,
            uri: Some(uri(Track::Audio)),
            group_id: AUDIO_GROUP.into(),
            name: "default".into(),
            default: true,
            autoselect: true,
            channels: Some(a.channels.to_string()),
            ..AlternativeMedia::default()
        })
        .into_iter()
        .collect();
    let codecs = |r: &Rendition| match sound {
        Sound::Group(_) | Sound::Muxed => format!("{},{}", r.codecs, AudioTrack::CODECS),
        Sound::Silent => r.codecs.clone(),
    };
    let playlist = MasterPlaylist {
        version: Some(match sound {
            Sound::Muxed => VERSION_TS,
            Sound::Silent | Sound::Group(_) => VERSION,
        }),
        independent_segments: true,
        alternatives,
        variants: renditions
            .iter()
            .enumerate()
            .map(|(i, r)| VariantStream {
                uri: uri(Track::Video(i)),
                bandwidth: r.peak_bps,
                average_bandwidth: Some(r.average_bps),
                codecs: Some(codecs(r)),
                audio: group.map(|_| AUDIO_GROUP.to_string()),
                resolution: Some(Resolution {
                    width: u64::from(r.width),
                    height: u64::from(r.height),
                }),
                frame_rate: Some((r.frame_rate * 1000.0).round() / 1000.0),
                ..VariantStream::default()
            })
            .collect(),
        ..MasterPlaylist::default()
    };
    text(|w| playlist.write_to(w))
}

/// A VOD media playlist of `segments` (seconds each), fMP4 behind the init segment `init`,
/// or MPEG-TS without one.
pub fn media(segments: &[f64], init: Option<&str>, uri: impl Fn(usize) -> String) -> String {
    let playlist = MediaPlaylist {
        version: Some(if init.is_some() { VERSION } else { VERSION_TS }),
        target_duration: target_duration(segments),
        playlist_type: Some(MediaPlaylistType::Vod),
        independent_segments: true,
        end_list: true,
        segments: segments
            .iter()
            .enumerate()
            .map(|(i, d)| MediaSegment {
                uri: uri(i),
                duration: *d as f32,
                map: init.filter(|_| i == 0).map(|uri| Map {
                    uri: uri.to_string(),
                    ..Map::default()
                }),
                ..MediaSegment::default()
            })
            .collect(),
        ..MediaPlaylist::default()
    };
    text(|w| playlist.write_to(w))
}

fn text(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Media;
    use crate::streaming::ladder::{renditions, segments};
    use crate::streaming::profiles::find_built_in;

    fn ladder() -> (Vec<Rendition>, Option<AudioTrack>) {
        let media = Media {
            width: 1920,
            height: 1080,
            duration: 10.0,
            fps: 29.97,
            has_video: true,
            has_audio: true,
            sample_rate: 48_000,
            orientation: 1,
            image: false,
            alpha: false,
            shrinkable: false,
            lossless: false,
        };
        (
            renditions(&find_built_in("hd").unwrap().representations, &media),
            AudioTrack::of(&media, 2),
        )
    }

    #[test]
    fn the_multivariant_playlist_has_what_validators_check() {
        let (video, audio) = ladder();
        let audio = audio.unwrap();
        let text = multivariant(&video, Sound::Group(&audio), |t| format!("{t}/index.m3u8"));
        assert!(text.starts_with("#EXTM3U\n"));
        assert!(text.contains("#EXT-X-INDEPENDENT-SEGMENTS"));
        let m3u8_rs::Playlist::MasterPlaylist(p) =
            m3u8_rs::parse_playlist_res(text.as_bytes()).unwrap()
        else {
            panic!("not a multivariant playlist: {text}");
        };
        assert_eq!(p.variants.len(), 5);
        for v in &p.variants {
            assert!(v.average_bandwidth.is_some_and(|a| a < v.bandwidth));
            assert!(
                v.codecs
                    .as_deref()
                    .is_some_and(|c| c.starts_with("avc1.") && c.ends_with(",mp4a.40.2"))
            );
            assert!(v.resolution.is_some() && v.frame_rate.is_some());
        }
        assert_eq!(p.variants[0].uri, "0/index.m3u8");
        assert!(
            p.variants
                .iter()
                .all(|v| v.audio.as_deref() == Some("audio"))
        );
        let [group] = p.alternatives.as_slice() else {
            panic!("one audio group: {text}");
        };
        assert_eq!(group.media_type, AlternativeMediaType::Audio);
        assert_eq!(group.uri.as_deref(), Some("a/index.m3u8"));
        assert!(group.default && group.autoselect);
        assert_eq!(group.channels.as_deref(), Some("2"));
    }

    #[test]
    fn media_playlists_obey_the_target_duration_and_end() {
        let segs = segments(10.0);
        let text = media(&segs, Some("init.mp4"), |i| format!("{i}.m4s"));
        let m3u8_rs::Playlist::MediaPlaylist(p) =
            m3u8_rs::parse_playlist_res(text.as_bytes()).unwrap()
        else {
            panic!("not a media playlist: {text}");
        };
        assert_eq!(p.version, Some(6));
        assert!(p.end_list);
        assert_eq!(p.playlist_type, Some(MediaPlaylistType::Vod));
        assert_eq!(p.segments.len(), 3);
        for s in &p.segments {
            assert!((s.duration.round() as u64) <= p.target_duration);
        }
        assert_eq!(
            p.segments[0].map.as_ref().map(|m| m.uri.as_str()),
            Some("init.mp4")
        );
        let total: f32 = p.segments.iter().map(|s| s.duration).sum();
        assert!((total - 10.0).abs() < 0.001);
    }

    #[test]
    fn hls_version_3_muxes_the_sound_and_has_no_map() {
        let (video, _) = ladder();
        let text = multivariant(&video, Sound::Muxed, |t| format!("{t}.m3u8"));
        assert!(
            text.contains("#EXT-X-VERSION:3") && !text.contains("EXT-X-MEDIA"),
            "{text}"
        );
        assert!(text.contains("CODECS=\"avc1.4d401f,mp4a.40.2\""), "{text}");
        let text = media(&segments(10.0), None, |i| format!("{i}.ts"));
        assert!(
            text.contains("#EXT-X-VERSION:3") && !text.contains("EXT-X-MAP"),
            "{text}"
        );
    }
}
