//! Streaming segments: the transformation a track's segment is made with, and the part of
//! the fragmented MP4 output each request keeps.

use crate::plan::Fragment;
use crate::url::values::{AudioCodec, Time};
use crate::url::{Component, Param, Transformation, Value};

/// What one track of a stream is made with, after the user's own transformation: a video
/// rendition is its rung without sound; the audio track is the user's sound alone (made as
/// `.m4a`).
pub fn track_transformation(rung: Option<&Transformation>) -> Transformation {
    let Some(rung) = rung else {
        return Transformation::default();
    };
    let mut t = rung.clone();
    t.components.push(Component {
        params: vec![Param {
            text: "ac_none".into(),
            value: Value::AudioCodec(AudioCodec::None),
        }],
    });
    t
}

/// The container a track's segments are made in.
pub fn track_format(rung: Option<&Transformation>) -> &'static str {
    if rung.is_some() { "mp4" } else { "m4a" }
}

/// `so_{start},du_{duration}`, then the user's components (without `sp_`), then the track's.
pub fn segment_transformation(
    user: &Transformation,
    track: &Transformation,
    start: f64,
    duration: f64,
) -> Transformation {
    let trim = Component {
        params: vec![
            Param {
                text: format!("so_{start}"),
                value: Value::StartOffset(Time::Seconds(start)),
            },
            Param {
                text: format!("du_{duration}"),
                value: Value::Duration(Time::Seconds(duration)),
            },
        ],
    };
    let mut components = vec![trim];
    components.extend(without_profile(user).components);
    components.extend(track.components.iter().cloned());
    Transformation { components }
}

/// The user's transformation with `sp_` taken out (components left empty are dropped).
pub fn without_profile(t: &Transformation) -> Transformation {
    Transformation {
        components: t
            .components
            .iter()
            .map(|c| Component {
                params: c
                    .params
                    .iter()
                    .filter(|p| !matches!(p.value, Value::StreamingProfile(_)))
                    .cloned()
                    .collect(),
            })
            .filter(|c| !c.params.is_empty())
            .collect(),
    }
}

/// The profile `sp_` names, if any.
pub fn profile_name(t: &Transformation) -> Option<&str> {
    t.components
        .iter()
        .flat_map(|c| &c.params)
        .find_map(|p| match &p.value {
            Value::StreamingProfile(name) => Some(name.as_str()),
            _ => None,
        })
}

/// The byte range of `part` in a fragmented MP4: `ftyp`+`moov` before the first `moof`, or
/// the `moof`/`mdat` pairs after it (a trailing `mfra` left out).
pub fn fragment_range(mp4: &[u8], part: Fragment) -> Option<std::ops::Range<usize>> {
    let mut at = 0usize;
    let mut first_moof = None;
    let mut end = mp4.len();
    while at + 8 <= mp4.len() {
        let size = u32::from_be_bytes(mp4[at..at + 4].try_into().ok()?) as usize;
        let kind = &mp4[at + 4..at + 8];
        if size < 8 {
            return None;
        }
        if kind == b"moof" && first_moof.is_none() {
            first_moof = Some(at);
        }
        if kind == b"mfra" {
            end = at;
            break;
        }
        at += size;
    }
    let moof = first_moof?;
    Some(match part {
        Fragment::Init => 0..moof,
        Fragment::Media => moof..end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_a_fragmented_file() {
        let b = |kind: &[u8], len: usize| {
            let mut v = u32::try_from(len).unwrap().to_be_bytes().to_vec();
            v.extend_from_slice(kind);
            v.resize(len, 0);
            v
        };
        let file = [
            b(b"ftyp", 16),
            b(b"moov", 40),
            b(b"moof", 24),
            b(b"mdat", 100),
            b(b"mfra", 16),
        ]
        .concat();
        assert_eq!(fragment_range(&file, Fragment::Init), Some(0..56));
        assert_eq!(fragment_range(&file, Fragment::Media), Some(56..180));
        assert_eq!(fragment_range(&file[..56], Fragment::Init), None);
    }

    #[test]
    fn the_segment_transformation_trims_first_and_drops_sp() {
        let user = Transformation::parse_str("e_volume:-50/sp_hd").unwrap();
        let rung = Transformation::parse_str("c_limit,w_640,h_360,br_800k").unwrap();
        let video = track_transformation(Some(&rung));
        let t = segment_transformation(&user, &video, 8.0, 4.0);
        assert_eq!(
            t.to_string(),
            "du_4,so_8/e_volume:-50/br_800k,c_limit,h_360,w_640/ac_none"
        );
        let audio = track_transformation(None);
        let t = segment_transformation(&user, &audio, 8.0, 4.0);
        assert_eq!(t.to_string(), "du_4,so_8/e_volume:-50");
        assert_eq!(
            (track_format(Some(&rung)), track_format(None)),
            ("mp4", "m4a")
        );
        assert_eq!(profile_name(&user), Some("hd"));
        assert_eq!(without_profile(&user).to_string(), "e_volume:-50");
    }
}
