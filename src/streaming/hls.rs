//! HLS playlists (written with m3u8-rs): the multivariant playlist of a ladder and the VOD
//! media playlist every rendition shares (fMP4 segments behind one `EXT-X-MAP`).

use m3u8_rs::{
    Map, MasterPlaylist, MediaPlaylist, MediaPlaylistType, MediaSegment, Resolution, VariantStream,
};

use super::ladder::{Rendition, target_duration};

/// Protocol version: float `EXTINF` needs 3, `EXT-X-MAP` in a media playlist needs 6.
const VERSION: usize = 6;

/// The multivariant playlist; `uri(i)` names rendition `i`'s media playlist.
pub fn multivariant(renditions: &[Rendition], uri: impl Fn(usize) -> String) -> String {
    let playlist = MasterPlaylist {
        version: Some(VERSION),
        independent_segments: true,
        variants: renditions
            .iter()
            .enumerate()
            .map(|(i, r)| VariantStream {
                uri: uri(i),
                bandwidth: r.peak_bps,
                average_bandwidth: Some(r.average_bps),
                codecs: Some(r.codecs.clone()),
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

/// A VOD media playlist of `segments` (seconds each) behind the init segment `init`.
pub fn media(segments: &[f64], init: &str, uri: impl Fn(usize) -> String) -> String {
    let playlist = MediaPlaylist {
        version: Some(VERSION),
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
                map: (i == 0).then(|| Map {
                    uri: init.to_string(),
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

    fn ladder() -> Vec<Rendition> {
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
        renditions(&find_built_in("hd").unwrap().representations, &media)
    }

    #[test]
    fn the_multivariant_playlist_has_what_validators_check() {
        let text = multivariant(&ladder(), |i| format!("{i}/index.m3u8"));
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
    }

    #[test]
    fn media_playlists_obey_the_target_duration_and_end() {
        let segs = segments(10.0);
        let text = media(&segs, "init.mp4", |i| format!("{i}.m4s"));
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
}
