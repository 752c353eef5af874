//! Streaming segments: the transformation a track's segments are made with, and the
//! [`Splitter`] that cuts a run's fragmented MP4 into the initialization segment and one
//! media segment per fragment.

use crate::url::values::{AudioCodec, Flag, Time};
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

/// `so_{start}[,du_{duration}]`, then the user's components (without `sp_`), then the
/// track's: a segment (with its duration: what names its derived file) or a run of segments
/// from `start` on (without).
pub fn segment_transformation(
    user: &Transformation,
    track: &Transformation,
    start: f64,
    duration: Option<f64>,
) -> Transformation {
    let mut params = vec![Param {
        text: format!("so_{start}"),
        value: Value::StartOffset(Time::Seconds(start)),
    }];
    if let Some(d) = duration {
        params.push(Param {
            text: format!("du_{d}"),
            value: Value::Duration(Time::Seconds(d)),
        });
    }
    let mut components = vec![Component { params }];
    components.extend(without_profile(user).components);
    components.extend(track.components.iter().cloned());
    Transformation { components }
}

/// The user's transformation with what only says how to deliver the stream taken out (`sp_`,
/// `fl_hlsv3`; components left empty are dropped): the tracks' content is the same.
pub fn without_profile(t: &Transformation) -> Transformation {
    Transformation {
        components: t
            .components
            .iter()
            .map(|c| Component {
                params: c
                    .params
                    .iter()
                    .filter_map(|p| match &p.value {
                        Value::StreamingProfile(_) => None,
                        Value::Flags(flags) if flags.contains(&Flag::HlsV3) => {
                            let rest: Vec<Flag> = flags
                                .iter()
                                .filter(|f| **f != Flag::HlsV3)
                                .cloned()
                                .collect();
                            (!rest.is_empty()).then(|| Param {
                                text: format!(
                                    "fl_{}",
                                    p.text
                                        .trim_start_matches("fl_")
                                        .split('.')
                                        .filter(|f| *f != "hlsv3")
                                        .collect::<Vec<_>>()
                                        .join(".")
                                ),
                                value: Value::Flags(rest),
                            })
                        }
                        _ => Some(p.clone()),
                    })
                    .collect(),
            })
            .filter(|c| !c.params.is_empty())
            .collect(),
    }
}

/// Whether the stream is asked for as HLS version 3 (MPEG-TS segments).
pub fn wants_ts(t: &Transformation) -> bool {
    t.flags().any(|f| *f == Flag::HlsV3)
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

/// What a run's output is cut into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// `ftyp` + `moov`: the initialization segment.
    Init(Vec<u8>),
    /// One `moof` + `mdat`: the media segment `index` of the timeline.
    Segment { index: usize, bytes: Vec<u8> },
}

/// Why a run's output could not be cut.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("malformed MP4 box {0:?}")]
    Malformed(String),
    #[error("a fragment came before the movie header")]
    NoHeader,
}

/// Cuts a fragmented MP4, fed as it is written, into pieces. A fragment belongs to the segment
/// whose boundary is nearest its first sample's time (`tfdt` over the track's timescale), so
/// an audio fragment that starts a frame before or after a boundary lands in the right one.
#[derive(Debug)]
pub struct Splitter {
    every: f64,
    buf: Vec<u8>,
    head: Vec<u8>,
    timescale: Option<u32>,
    moof: Option<(Vec<u8>, i64)>,
}

impl Splitter {
    /// For segments `every` seconds long.
    pub fn new(every: f64) -> Splitter {
        Splitter {
            every,
            buf: Vec::new(),
            head: Vec::new(),
            timescale: None,
            moof: None,
        }
    }

    /// Takes the next bytes of the file; returns the pieces they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Piece>, SplitError> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some((kind, size)) = box_header(&self.buf)? {
            if self.buf.len() < size {
                break;
            }
            let whole: Vec<u8> = self.buf.drain(..size).collect();
            match &kind {
                b"ftyp" => self.head.extend_from_slice(&whole),
                b"moov" => {
                    self.timescale = timescale(&whole);
                    self.head.extend_from_slice(&whole);
                    out.push(Piece::Init(std::mem::take(&mut self.head)));
                }
                b"moof" => {
                    let start = decode_time(&whole)
                        .ok_or_else(|| SplitError::Malformed("moof without tfdt".into()))?;
                    self.moof = Some((whole, start));
                }
                b"mdat" => {
                    let (mut bytes, start) = self
                        .moof
                        .take()
                        .ok_or_else(|| SplitError::Malformed("mdat without moof".into()))?;
                    let scale = self.timescale.ok_or(SplitError::NoHeader)?;
                    let seconds = start as f64 / f64::from(scale.max(1));
                    let index = (seconds / self.every).round().max(0.0) as usize;
                    bytes.extend_from_slice(&whole);
                    out.push(Piece::Segment { index, bytes });
                }
                // `mfra` at the end, `free`, `styp`, `sidx`: nothing a segment needs.
                _ => {}
            }
        }
        Ok(out)
    }
}

/// The type and total size of the box at the start of `buf`, once its header is there.
fn box_header(buf: &[u8]) -> Result<Option<([u8; 4], usize)>, SplitError> {
    if buf.len() < 8 {
        return Ok(None);
    }
    let size32 = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let kind = [buf[4], buf[5], buf[6], buf[7]];
    let size = match size32 {
        1 => {
            if buf.len() < 16 {
                return Ok(None);
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[8..16]);
            usize::try_from(u64::from_be_bytes(b))
                .map_err(|_| SplitError::Malformed(String::from_utf8_lossy(&kind).into()))?
        }
        n => n as usize,
    };
    if size < 8 {
        return Err(SplitError::Malformed(
            String::from_utf8_lossy(&kind).into_owned(),
        ));
    }
    Ok(Some((kind, size)))
}

/// The payload of the first child box of `kind` inside the box `outer` (header included).
fn child<'a>(outer: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 8;
    while at + 8 <= outer.len() {
        let size = u32::from_be_bytes(outer[at..at + 4].try_into().ok()?) as usize;
        if size < 8 || at + size > outer.len() {
            return None;
        }
        if &outer[at + 4..at + 8] == kind {
            return Some(&outer[at..at + size]);
        }
        at += size;
    }
    None
}

/// `moov/trak/mdia/mdhd` timescale (the first track's: runs have one).
fn timescale(moov: &[u8]) -> Option<u32> {
    let mdhd = child(child(child(moov, b"trak")?, b"mdia")?, b"mdhd")?;
    let version = *mdhd.get(8)?;
    let at = if version == 1 { 8 + 4 + 16 } else { 8 + 4 + 8 };
    Some(u32::from_be_bytes(mdhd.get(at..at + 4)?.try_into().ok()?))
}

/// `moof/traf/tfdt` base media decode time. libav writes the first sample's decode time
/// there even when it is negative (audio encoder priming before the first segment), in two's
/// complement, so it is read back as signed.
fn decode_time(moof: &[u8]) -> Option<i64> {
    let tfdt = child(child(moof, b"traf")?, b"tfdt")?;
    match *tfdt.get(8)? {
        1 => Some(i64::from_be_bytes(tfdt.get(12..20)?.try_into().ok()?)),
        _ => Some(i64::from(i32::from_be_bytes(
            tfdt.get(12..16)?.try_into().ok()?,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut v = u32::try_from(payload.len() + 8)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    fn moov(timescale: u32) -> Vec<u8> {
        let mut mdhd = vec![0u8; 4 + 8];
        mdhd.extend_from_slice(&timescale.to_be_bytes());
        mdhd.extend_from_slice(&[0; 8]);
        let mdia = mp4_box(b"mdia", &mp4_box(b"mdhd", &mdhd));
        mp4_box(b"moov", &mp4_box(b"trak", &mdia))
    }

    fn fragment(decode_time: u64) -> Vec<u8> {
        let mut tfdt = vec![1, 0, 0, 0];
        tfdt.extend_from_slice(&decode_time.to_be_bytes());
        let moof = mp4_box(b"moof", &mp4_box(b"traf", &mp4_box(b"tfdt", &tfdt)));
        [moof, mp4_box(b"mdat", &[7; 100])].concat()
    }

    #[test]
    fn a_run_is_cut_into_init_and_segments_by_time() {
        let ftyp = mp4_box(b"ftyp", b"isom");
        let head = [ftyp.clone(), moov(48_000)].concat();
        // Audio: a fragment starting a frame early (priming) still opens segment 2; the first
        // one's priming is before zero.
        let frags = [
            fragment(8 * 48_000 - 1024),
            fragment(12 * 48_000 + 512),
            fragment(-1024i64 as u64),
        ];
        let file = [
            head.clone(),
            frags[0].clone(),
            frags[1].clone(),
            frags[2].clone(),
            mp4_box(b"mfra", &[0; 8]),
        ]
        .concat();
        let mut s = Splitter::new(4.0);
        let mut pieces = Vec::new();
        // Fed in awkward slices, as a muxer writes.
        for chunk in file.chunks(7) {
            pieces.extend(s.feed(chunk).unwrap());
        }
        assert_eq!(
            pieces,
            [
                Piece::Init(head),
                Piece::Segment {
                    index: 2,
                    bytes: frags[0].clone()
                },
                Piece::Segment {
                    index: 3,
                    bytes: frags[1].clone()
                },
                Piece::Segment {
                    index: 0,
                    bytes: frags[2].clone()
                },
            ]
        );
        assert!(Splitter::new(4.0).feed(&fragment(0)).is_err(), "no header");
        assert!(
            Splitter::new(4.0)
                .feed(&[0, 0, 0, 3, b'b', b'a', b'd', b'!'])
                .is_err()
        );
    }

    #[test]
    fn the_segment_transformation_trims_first_and_drops_sp() {
        let user = Transformation::parse_str("e_volume:-50/sp_hd").unwrap();
        let rung = Transformation::parse_str("c_limit,w_640,h_360,br_800k").unwrap();
        let video = track_transformation(Some(&rung));
        let t = segment_transformation(&user, &video, 8.0, Some(4.0));
        assert_eq!(
            t.to_string(),
            "du_4,so_8/e_volume:-50/br_800k,c_limit,h_360,w_640/ac_none"
        );
        let audio = track_transformation(None);
        let t = segment_transformation(&user, &audio, 8.0, Some(4.0));
        assert_eq!(t.to_string(), "du_4,so_8/e_volume:-50");
        let run = segment_transformation(&user, &audio, 8.0, None);
        assert_eq!(run.to_string(), "so_8/e_volume:-50");
        assert_eq!(
            (track_format(Some(&rung)), track_format(None)),
            ("mp4", "m4a")
        );
        assert_eq!(profile_name(&user), Some("hd"));
        assert_eq!(without_profile(&user).to_string(), "e_volume:-50");
        let ts = Transformation::parse_str("fl_hlsv3,sp_hd/e_volume:-50").unwrap();
        assert!(wants_ts(&ts) && !wants_ts(&user));
        assert_eq!(without_profile(&ts).to_string(), "e_volume:-50");
        let mixed = Transformation::parse_str("fl_hlsv3.mono,sp_hd").unwrap();
        assert_eq!(without_profile(&mixed).to_string(), "fl_mono");
    }
}
