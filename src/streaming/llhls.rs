//! Live playlists, low-latency HLS (RFC 8216bis): a sliding window of segments, each made of
//! parts of about a second, with `EXT-X-PART`, `EXT-X-PRELOAD-HINT`, `EXT-X-SERVER-CONTROL`
//! (blocking reload) and `EXT-X-PROGRAM-DATE-TIME`. A player that knows nothing of parts reads
//! the same playlist as plain live HLS: the full segments are listed too.
//!
//! Pure: the packager's state in, playlist text out. The rules are those of
//! `../shared/reference/streaming-rules.md` (section 5 and 12).

use std::fmt::Write;

/// One part of a segment, as listed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Part {
    pub duration: f64,
    /// Starts with a keyframe: a player may start or switch here.
    pub independent: bool,
}

/// One segment of the window; the last one may still be growing.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Media sequence number.
    pub msn: u64,
    pub parts: Vec<Part>,
    /// Complete: all its parts are made and the next segment has begun (or the stream ended).
    pub complete: bool,
    /// Wall-clock time of its first frame, Unix milliseconds.
    pub program_date_time_ms: i64,
}

impl Segment {
    pub fn duration(&self) -> f64 {
        self.parts.iter().map(|p| p.duration).sum()
    }
}

/// Another rendition's position, for `EXT-X-RENDITION-REPORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub uri: String,
    pub last_msn: u64,
    pub last_part: u64,
}

/// Where things are: how a media playlist names its init segment, segments and parts.
pub trait Uris {
    fn init(&self) -> String;
    fn segment(&self, msn: u64) -> String;
    fn part(&self, msn: u64, part: usize) -> String;
}

/// The live media playlist.
#[derive(Debug)]
pub struct MediaPlaylist<'a> {
    pub segments: &'a [Segment],
    pub part_target: f64,
    pub target_duration: u64,
    /// The stream ended: `EXT-X-ENDLIST`, no preload hint.
    pub ended: bool,
    pub reports: &'a [Report],
}

/// Parts are listed for the segments within this many target durations of the live edge
/// (the draft asks for at least three); older segments are listed whole.
const PARTS_KEPT_TARGETS: f64 = 3.0;

impl MediaPlaylist<'_> {
    /// `PART-HOLD-BACK`: three part targets (the draft's SHOULD, Apple's MUST).
    pub fn part_hold_back(&self) -> f64 {
        3.0 * self.part_target
    }

    pub fn render(&self, uris: &impl Uris) -> String {
        let mut out = String::from("#EXTM3U\n");
        let _ = writeln!(out, "#EXT-X-VERSION:6");
        let _ = writeln!(out, "#EXT-X-TARGETDURATION:{}", self.target_duration);
        let _ = writeln!(
            out,
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={:.3}",
            self.part_hold_back()
        );
        let _ = writeln!(out, "#EXT-X-PART-INF:PART-TARGET={:.3}", self.part_target);
        let first = self.segments.first().map_or(0, |s| s.msn);
        let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:{first}");
        // Only true while every segment starts on a keyframe (a very long GOP breaks it).
        if self
            .segments
            .iter()
            .all(|s| s.parts.first().is_none_or(|p| p.independent))
        {
            let _ = writeln!(out, "#EXT-X-INDEPENDENT-SEGMENTS");
        }
        let _ = writeln!(out, "#EXT-X-MAP:URI=\"{}\"", uris.init());
        let keep_parts_from = self.parts_from();
        for s in self.segments {
            let _ = writeln!(
                out,
                "#EXT-X-PROGRAM-DATE-TIME:{}",
                program_date_time(s.program_date_time_ms)
            );
            if s.msn >= keep_parts_from {
                for (i, p) in s.parts.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "#EXT-X-PART:DURATION={:.5},URI=\"{}\"{}",
                        p.duration,
                        uris.part(s.msn, i),
                        if p.independent {
                            ",INDEPENDENT=YES"
                        } else {
                            ""
                        }
                    );
                }
            }
            if s.complete {
                let _ = writeln!(out, "#EXTINF:{:.5},", s.duration());
                let _ = writeln!(out, "{}", uris.segment(s.msn));
            }
        }
        if self.ended {
            out.push_str("#EXT-X-ENDLIST\n");
            return out;
        }
        if let Some((msn, part)) = self.next_part() {
            let _ = writeln!(
                out,
                "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{}\"",
                uris.part(msn, part)
            );
        }
        for r in self.reports {
            let _ = writeln!(
                out,
                "#EXT-X-RENDITION-REPORT:URI=\"{}\",LAST-MSN={},LAST-PART={}",
                r.uri, r.last_msn, r.last_part
            );
        }
        out
    }

    /// The first segment whose parts are listed.
    fn parts_from(&self) -> u64 {
        let horizon = PARTS_KEPT_TARGETS * self.target_duration as f64;
        let mut covered = 0.0;
        let mut from = self.segments.last().map_or(0, |s| s.msn);
        for s in self.segments.iter().rev() {
            from = s.msn;
            covered += s.duration();
            if covered >= horizon {
                break;
            }
        }
        from
    }

    /// The part that will come next: the hint's target.
    pub fn next_part(&self) -> Option<(u64, usize)> {
        let last = self.segments.last()?;
        Some(if last.complete {
            (last.msn + 1, 0)
        } else {
            (last.msn, last.parts.len())
        })
    }
}

/// One variant of the live multivariant playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub uri: String,
    pub peak_bps: u64,
    pub average_bps: u64,
    pub codecs: String,
    pub width: u32,
    pub height: u32,
    pub frame_rate: f64,
}

/// The multivariant playlist: one muxed (video + audio) variant per rendition.
pub fn multivariant(variants: &[Variant]) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for v in variants {
        let _ = write!(
            out,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{}\",RESOLUTION={}x{}",
            v.peak_bps, v.average_bps, v.codecs, v.width, v.height
        );
        if v.frame_rate > 0.0 {
            let _ = write!(out, ",FRAME-RATE={:.3}", v.frame_rate);
        }
        let _ = writeln!(out, "\n{}", v.uri);
    }
    out
}

/// ISO 8601 with milliseconds and a zone, as `EXT-X-PROGRAM-DATE-TIME` wants.
fn program_date_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Names;
    impl Uris for Names {
        fn init(&self) -> String {
            "init.mp4".into()
        }
        fn segment(&self, msn: u64) -> String {
            format!("s{msn}.mp4")
        }
        fn part(&self, msn: u64, part: usize) -> String {
            format!("s{msn}.{part}.mp4")
        }
    }

    fn segment(msn: u64, parts: usize, complete: bool) -> Segment {
        Segment {
            msn,
            parts: (0..parts)
                .map(|i| Part {
                    duration: 1.0,
                    independent: i == 0,
                })
                .collect(),
            complete,
            program_date_time_ms: 1_700_000_000_000 + msn as i64 * 2000,
        }
    }

    fn playlist(segments: &[Segment], ended: bool) -> String {
        MediaPlaylist {
            segments,
            part_target: 1.0,
            target_duration: 2,
            ended,
            reports: &[Report {
                uri: "other.m3u8".into(),
                last_msn: 9,
                last_part: 0,
            }],
        }
        .render(&Names)
    }

    #[test]
    fn a_live_playlist_has_parts_at_the_edge_and_a_preload_hint() {
        let segs: Vec<Segment> = (3..10)
            .map(|m| segment(m, 2, true))
            .chain([segment(10, 1, false)])
            .collect();
        let text = playlist(&segs, false);
        assert!(text.starts_with("#EXTM3U\n"));
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:3\n"));
        assert!(text.contains("CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.000"));
        assert!(text.contains("#EXT-X-PART-INF:PART-TARGET=1.000"));
        // Old segments are whole; parts from three target durations back.
        assert!(!text.contains("s3.0.mp4"));
        assert!(text.contains("#EXT-X-PART:DURATION=1.00000,URI=\"s10.0.mp4\",INDEPENDENT=YES"));
        assert!(text.contains("s8.1.mp4"));
        assert!(text.contains("#EXTINF:2.00000,\ns9.mp4\n"));
        assert!(
            !text.contains("s10.mp4"),
            "the growing segment is not listed whole"
        );
        assert!(text.contains("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s10.1.mp4\""));
        assert!(text.contains("#EXT-X-RENDITION-REPORT:URI=\"other.m3u8\",LAST-MSN=9"));
        assert_eq!(
            text.matches("#EXT-X-PROGRAM-DATE-TIME:").count(),
            segs.len()
        );
        assert!(!text.contains("ENDLIST"));
    }

    #[test]
    fn an_ended_playlist_has_endlist_and_no_hint() {
        let segs = [segment(0, 2, true), segment(1, 1, true)];
        let text = playlist(&segs, true);
        assert!(text.ends_with("s1.mp4\n#EXT-X-ENDLIST\n"));
        assert!(!text.contains("PRELOAD-HINT"));
    }

    #[test]
    fn the_next_part_after_a_complete_segment_opens_the_next_one() {
        let segs = [segment(4, 2, true)];
        let p = MediaPlaylist {
            segments: &segs,
            part_target: 1.0,
            target_duration: 2,
            ended: false,
            reports: &[],
        };
        assert_eq!(p.next_part(), Some((5, 0)));
        assert_eq!(program_date_time(0), "1970-01-01T00:00:00.000Z");
    }
}
