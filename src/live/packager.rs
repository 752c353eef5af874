//! From encoded samples as they arrive to CMAF parts and segments: the live packager of one
//! rendition (video, with the stream's audio muxed in).
//!
//! Rules:
//! - nothing is written before the first keyframe; the init segment waits until the audio's
//!   shape is known too (or a second of video went by without any: a silent stream);
//! - a part closes when it holds about `part` seconds of video; a segment closes at the first
//!   keyframe after `segment` seconds, so every segment (and its first part) starts on an IDR;
//! - a video sample is held until the next one arrives, which gives its duration;
//! - audio frames go into the part whose video time span they start in;
//! - decode times count from the first keyframe, in 1/90000 s for video and in samples for
//!   audio, computed from the timestamps each time (no drift from summed durations).
//!
//! Pure: samples in, [`Event`]s out. The GStreamer side is in `pipeline`.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::streaming::fmp4::{
    self, AUDIO_TRACK_ID, AudioTrack, Sample, VIDEO_TRACK_ID, VideoTrack,
};

/// An H.264 access unit, timestamps in nanoseconds.
#[derive(Debug, Clone)]
pub struct VideoFrame {
    pub data: Bytes,
    pub dts: i64,
    pub pts: i64,
    pub keyframe: bool,
}

/// An AAC frame, timestamps in nanoseconds.
#[derive(Debug, Clone)]
pub struct AudioFrame {
    pub data: Bytes,
    pub pts: i64,
}

/// What the packager made.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The init segment (once, before any part).
    Init {
        bytes: Bytes,
        codecs: String,
        width: u32,
        height: u32,
    },
    /// A part of the current segment (the first part of a segment follows `SegmentEnd` or
    /// `Init`).
    Part {
        bytes: Bytes,
        duration: f64,
        independent: bool,
    },
    /// The current segment is complete.
    SegmentEnd,
}

/// Part and segment lengths, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub part: f64,
    pub segment: f64,
}

/// Waiting this long for the audio's shape before starting without sound.
const AUDIO_WAIT_NS: i64 = 1_000_000_000;
/// A segment without a keyframe to close at is closed after this many segment lengths.
const MAX_SEGMENT_TARGETS: f64 = 5.0;
/// An AAC frame's length in samples.
const AAC_FRAME: u32 = 1024;

#[derive(Debug)]
pub struct Packager {
    timing: Timing,
    video: Option<VideoTrack>,
    audio: Option<AudioTrack>,
    /// The first keyframe's decode time: time zero of every track.
    origin: Option<i64>,
    /// Video from the first keyframe while waiting to start.
    waiting: Vec<VideoFrame>,
    /// Audio not yet in a part (before start: everything since the last keyframe-less moment).
    audio_queue: VecDeque<AudioFrame>,
    held: Option<VideoFrame>,
    last_frame_ns: i64,
    part: Vec<Sample>,
    part_base: u64,
    part_start: i64,
    segment_start: i64,
    audio_time: Option<u64>,
    sequence: u32,
}

impl Packager {
    pub fn new(timing: Timing) -> Packager {
        Packager {
            timing,
            video: None,
            audio: None,
            origin: None,
            waiting: Vec::new(),
            audio_queue: VecDeque::new(),
            held: None,
            last_frame_ns: 33_333_333,
            part: Vec::new(),
            part_base: 0,
            part_start: 0,
            segment_start: 0,
            audio_time: None,
            sequence: 1,
        }
    }

    /// The video track's shape (from the first caps); later changes are ignored.
    pub fn set_video(&mut self, track: VideoTrack) {
        if self.video.is_none() {
            self.video = Some(track);
        }
    }

    /// The audio track's shape; too late once started (the init segment is out).
    pub fn set_audio(&mut self, track: AudioTrack) -> Vec<Event> {
        if self.origin.is_some() || self.audio.is_some() {
            return Vec::new();
        }
        self.audio = Some(track);
        self.try_start(false)
    }

    pub fn started(&self) -> bool {
        self.origin.is_some()
    }

    pub fn push_audio(&mut self, frame: AudioFrame) {
        if self.origin.is_some() && self.audio.is_none() {
            return;
        }
        self.audio_queue.push_back(frame);
        // Before the start, keep about one part's worth (what precedes the first keyframe
        // is dropped at the start anyway).
        if self.origin.is_none() && self.audio_queue.len() > 512 {
            self.audio_queue.pop_front();
        }
    }

    pub fn push_video(&mut self, frame: VideoFrame) -> Vec<Event> {
        if self.origin.is_none() {
            if self.video.is_none() || (self.waiting.is_empty() && !frame.keyframe) {
                return Vec::new();
            }
            self.waiting.push(frame);
            return self.try_start(false);
        }
        self.feed(frame)
    }

    /// The stream ended: everything held goes out, and the last segment closes.
    pub fn finish(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        if self.origin.is_none() {
            events = self.try_start(true);
            if self.origin.is_none() {
                return events;
            }
        }
        if let Some(last) = self.held.take() {
            let end = last.dts + self.last_frame_ns;
            self.append(&last, end);
            events.extend(self.close_part(end, true));
            events.push(Event::SegmentEnd);
        } else if !self.part.is_empty() {
            events.extend(self.close_part(self.part_start, true));
            events.push(Event::SegmentEnd);
        }
        events
    }

    fn try_start(&mut self, force: bool) -> Vec<Event> {
        let (Some(first), Some(last)) = (self.waiting.first(), self.waiting.last()) else {
            return Vec::new();
        };
        let Some(video) = self.video.clone() else {
            return Vec::new();
        };
        if !(force || self.audio.is_some() || last.dts - first.dts >= AUDIO_WAIT_NS) {
            return Vec::new();
        }
        let origin = first.dts;
        self.origin = Some(origin);
        self.part_start = origin;
        self.segment_start = origin;
        self.audio_queue.retain(|a| a.pts >= origin);
        let mut events = vec![Event::Init {
            bytes: Bytes::from(fmp4::init_segment(Some(&video), self.audio.as_ref())),
            codecs: self.codecs(&video),
            width: video.width,
            height: video.height,
        }];
        for frame in std::mem::take(&mut self.waiting) {
            events.extend(self.feed(frame));
        }
        events
    }

    fn codecs(&self, video: &VideoTrack) -> String {
        let v = fmp4::avc_codec(&video.avcc).unwrap_or_else(|| "avc1.640028".into());
        match &self.audio {
            Some(a) => format!("{v},{}", fmp4::aac_codec(&a.config)),
            None => v,
        }
    }

    fn feed(&mut self, frame: VideoFrame) -> Vec<Event> {
        let mut events = Vec::new();
        let at = frame.dts;
        if let Some(previous) = self.held.take() {
            if at <= previous.dts {
                // Out of order or repeated: keep the earlier frame, drop this one.
                self.held = Some(previous);
                return events;
            }
            self.last_frame_ns = at - previous.dts;
            self.append(&previous, at);
        }
        if !self.part.is_empty() {
            let tolerance = self.last_frame_ns / 2;
            let segment_len = at - self.segment_start;
            let part_len = at - self.part_start;
            let segment_due = segment_len >= seconds_ns(self.timing.segment) - tolerance;
            let part_due = part_len >= seconds_ns(self.timing.part) - tolerance;
            // A publisher with very long GOPs would grow one segment without end (and hold it
            // all in memory): past the cap it closes at a part boundary anyway.
            let overdue = segment_len >= seconds_ns(self.timing.segment * MAX_SEGMENT_TARGETS);
            if (frame.keyframe && segment_due) || (overdue && part_due) {
                events.extend(self.close_part(at, false));
                events.push(Event::SegmentEnd);
                self.segment_start = at;
            } else if part_due {
                events.extend(self.close_part(at, false));
            }
        }
        self.held = Some(frame);
        events
    }

    /// Adds a held frame to the part, now that the next frame (at `next_dts`) gives its length.
    fn append(&mut self, frame: &VideoFrame, next_dts: i64) {
        let origin = self.origin.unwrap_or(0);
        let start = ticks(frame.dts - origin, fmp4::VIDEO_TIMESCALE);
        let end = ticks(next_dts - origin, fmp4::VIDEO_TIMESCALE);
        if self.part.is_empty() {
            self.part_base = start;
            self.part_start = frame.dts;
        }
        let offset = ticks_signed(frame.pts - frame.dts, fmp4::VIDEO_TIMESCALE);
        self.part.push(Sample {
            data: frame.data.clone(),
            duration: u32::try_from(end.saturating_sub(start)).unwrap_or(u32::MAX),
            composition_offset: offset,
            keyframe: frame.keyframe,
        });
    }

    /// Closes the part at `end` (ns): the video so far and the audio that starts before `end`
    /// (all of it when `last`).
    fn close_part(&mut self, end: i64, last: bool) -> Vec<Event> {
        if self.part.is_empty() {
            return Vec::new();
        }
        let origin = self.origin.unwrap_or(0);
        let mut audio = Vec::new();
        let mut audio_base = 0;
        if let Some(track) = &self.audio {
            while let Some(frame) = self.audio_queue.front() {
                if !last && frame.pts >= end {
                    break;
                }
                let Some(frame) = self.audio_queue.pop_front() else {
                    break;
                };
                // Contiguous unless the timestamps say frames went missing (then the
                // timestamps win, so sound stays in step with the picture).
                let stamped = ticks(frame.pts - origin, track.sample_rate);
                // Never backwards: a muxer refuses decode times that go back.
                let time = match self.audio_time {
                    Some(next) if stamped <= next + u64::from(AAC_FRAME) => next,
                    _ => stamped,
                };
                if audio.is_empty() {
                    audio_base = time;
                }
                self.audio_time = Some(time + u64::from(AAC_FRAME));
                audio.push(Sample {
                    data: frame.data,
                    duration: AAC_FRAME,
                    composition_offset: 0,
                    keyframe: true,
                });
            }
        }
        let video = std::mem::take(&mut self.part);
        let duration = (end - self.part_start).max(0) as f64 / 1e9;
        let independent = video.first().is_some_and(|s| s.keyframe);
        let bytes = fmp4::fragment(
            self.sequence,
            &[
                fmp4::Run {
                    track_id: VIDEO_TRACK_ID,
                    base_decode_time: self.part_base,
                    samples: &video,
                },
                fmp4::Run {
                    track_id: AUDIO_TRACK_ID,
                    base_decode_time: audio_base,
                    samples: &audio,
                },
            ],
        );
        self.sequence += 1;
        self.part_start = end;
        vec![Event::Part {
            bytes: Bytes::from(bytes),
            duration,
            independent,
        }]
    }
}

fn seconds_ns(s: f64) -> i64 {
    (s * 1e9) as i64
}

/// Nanoseconds to ticks of `timescale`, rounded; negative times are zero.
fn ticks(ns: i64, timescale: u32) -> u64 {
    let ns = u128::try_from(ns.max(0)).unwrap_or(0);
    u64::try_from((ns * u128::from(timescale) + 500_000_000) / 1_000_000_000).unwrap_or(u64::MAX)
}

fn ticks_signed(ns: i64, timescale: u32) -> i32 {
    let t = (i128::from(ns) * i128::from(timescale)) / 1_000_000_000;
    i32::try_from(t).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: i64 = 40_000_000; // 25 fps

    fn packager() -> Packager {
        let mut p = Packager::new(Timing {
            part: 1.0,
            segment: 2.0,
        });
        p.set_video(VideoTrack {
            width: 320,
            height: 240,
            avcc: vec![1, 0x42, 0xc0, 0x1e, 0xff, 0xe0, 0],
        });
        p
    }

    fn frame(i: i64, gop: i64) -> VideoFrame {
        VideoFrame {
            data: Bytes::from_static(b"frame"),
            dts: 5_000_000_000 + i * FRAME,
            pts: 5_000_000_000 + i * FRAME,
            keyframe: i % gop == 0,
        }
    }

    fn parts(events: &[Event]) -> Vec<(f64, bool)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Part {
                    duration,
                    independent,
                    ..
                } => Some((*duration, *independent)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn one_second_parts_inside_two_second_segments_cut_at_keyframes() {
        let mut p = packager();
        let mut events = p.set_audio(AudioTrack {
            sample_rate: 48_000,
            channels: 2,
            config: vec![0x11, 0x90],
        });
        for i in 0..150 {
            if i % 2 == 0 {
                p.push_audio(AudioFrame {
                    data: Bytes::from_static(b"aac"),
                    pts: 5_000_000_000 + i * FRAME,
                });
            }
            events.extend(p.push_video(frame(i, 50)));
        }
        events.extend(p.finish());
        assert!(
            matches!(&events[0], Event::Init { codecs, .. } if codecs == "avc1.42c01e,mp4a.40.2")
        );
        let parts = parts(&events);
        assert_eq!(parts.len(), 6, "{parts:?}");
        for (i, (d, independent)) in parts.iter().enumerate() {
            assert!((d - 1.0).abs() < 1e-6, "part {i}: {d}");
            assert_eq!(*independent, i % 2 == 0, "part {i}");
        }
        let segments = events.iter().filter(|e| **e == Event::SegmentEnd).count();
        assert_eq!(segments, 3);
    }

    #[test]
    fn frames_before_the_first_keyframe_are_dropped_and_silence_starts_after_a_second() {
        let mut p = packager();
        let mut events = Vec::new();
        events.extend(p.push_video(frame(1, 50)));
        assert!(!p.started());
        for i in 50..80 {
            events.extend(p.push_video(frame(i, 50)));
        }
        assert!(
            p.started(),
            "a second of video without audio starts a silent stream"
        );
        events.extend(p.finish());
        assert!(matches!(&events[0], Event::Init { codecs, .. } if codecs == "avc1.42c01e"));
        let total: f64 = parts(&events).iter().map(|p| p.0).sum();
        assert!((total - 30.0 * 0.04).abs() < 1e-6, "{total}");
    }

    #[test]
    fn a_long_gop_makes_long_segments_of_one_second_parts() {
        let mut p = packager();
        let mut events = Vec::new();
        for i in 0..200 {
            events.extend(p.push_video(frame(i, 100)));
        }
        events.extend(p.finish());
        let segments = events.iter().filter(|e| **e == Event::SegmentEnd).count();
        assert_eq!(segments, 2, "segments only start on keyframes");
        assert_eq!(parts(&events).len(), 8);
    }

    #[test]
    fn a_segment_without_keyframes_is_closed_at_the_cap() {
        let mut p = packager();
        let mut events = Vec::new();
        for i in 0..(25 * 25) {
            events.extend(p.push_video(frame(i, 100_000)));
        }
        let segments = events.iter().filter(|e| **e == Event::SegmentEnd).count();
        assert_eq!(segments, 2, "25 s of one GOP: closed every 10 s");
    }
}
