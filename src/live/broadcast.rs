//! What viewers of one live session can fetch: per rendition, the init segment and a sliding
//! window of segments and their parts, held in memory on the ingesting node. Every change
//! bumps a version on a watch channel, which is what blocking playlist reloads and requests
//! for a part still being made wait on.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use super::packager::Event;
use crate::streaming::llhls::{self, MediaPlaylist, Part, Report, Segment, Uris, Variant};

/// One rendition's shape as the multivariant playlist describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub width: u32,
    pub height: u32,
    pub codecs: String,
    pub frame_rate: f64,
    /// The ladder's nominal bit rate (video and audio).
    pub nominal_bps: u64,
    /// The source passed through: its measured rate, once known, is what players are told.
    pub measured: bool,
}

#[derive(Debug)]
struct SegmentLog {
    msn: u64,
    program_date_time_ms: i64,
    parts: Vec<(Bytes, Part)>,
    complete: bool,
}

#[derive(Debug, Default)]
struct RenditionLog {
    shape: Option<Shape>,
    init: Option<Bytes>,
    segments: VecDeque<SegmentLog>,
    next_msn: u64,
    longest_segment: f64,
    /// Media seconds made so far (dates the next segment).
    elapsed: f64,
    /// Bits and seconds of the complete segments seen, and the highest segment rate.
    bits: f64,
    seconds: f64,
    peak_bps: f64,
}

#[derive(Debug)]
struct State {
    renditions: Vec<RenditionLog>,
    ended: bool,
}

/// One live session's playable state.
#[derive(Debug)]
pub struct Broadcast {
    /// When the session started (Unix ms): part and segment URIs carry it, so a cache never
    /// serves one session's media for another's.
    pub started_ms: i64,
    state: Mutex<State>,
    version: watch::Sender<u64>,
    /// Configured part length, and the `PART-TARGET` announced (5 % above it: parts end on
    /// frame boundaries, so at 29.97 fps a "1 s" part lasts 1.001 s).
    part_seconds: f64,
    part_target: f64,
    segment_target: f64,
    /// Complete segments kept in the window.
    window: usize,
}

/// Why a request cannot be answered (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// Never will be: unknown rendition, a segment out of the window, past the end.
    Gone(String),
    /// Not within the wait: the caller answers 503.
    NotYet(String),
    /// A request for a segment too far ahead (the draft says 400).
    TooFarAhead(String),
}

impl Broadcast {
    pub fn new(
        started_ms: i64,
        renditions: usize,
        part_seconds: f64,
        segment_target: f64,
        window: usize,
    ) -> Arc<Broadcast> {
        let (version, _) = watch::channel(0);
        Arc::new(Broadcast {
            started_ms,
            part_seconds,
            part_target: part_seconds * 1.05,
            state: Mutex::new(State {
                renditions: (0..renditions).map(|_| RenditionLog::default()).collect(),
                ended: false,
            }),
            version,
            segment_target,
            window: window.max(6),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    /// Sets the number of renditions (once the ladder is decided).
    pub fn configure(&self, renditions: usize) {
        self.lock().renditions = (0..renditions).map(|_| RenditionLog::default()).collect();
        self.changed();
    }

    /// The RFC 6381 codecs of a rendition, known from its init segment.
    pub fn set_codecs(&self, rendition: usize, codecs: &str) {
        if let Some(shape) = self
            .lock()
            .renditions
            .get_mut(rendition)
            .and_then(|r| r.shape.as_mut())
        {
            shape.codecs = codecs.to_string();
        }
    }

    pub fn set_shape(&self, rendition: usize, shape: Shape) {
        if let Some(r) = self.lock().renditions.get_mut(rendition) {
            r.shape = Some(shape);
        }
    }

    /// Applies what the packager of `rendition` made.
    pub fn apply(&self, rendition: usize, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        {
            let mut state = self.lock();
            let window = self.window;
            let Some(r) = state.renditions.get_mut(rendition) else {
                return;
            };
            for event in events {
                apply_one(r, event, self.started_ms, window);
            }
        }
        self.changed();
    }

    /// The session is over: playlists get `EXT-X-ENDLIST`.
    pub fn end(&self) {
        self.lock().ended = true;
        self.changed();
    }

    pub fn ended(&self) -> bool {
        self.lock().ended
    }

    /// Waits until `ready` holds (checked on every change) or `wait` passes.
    pub async fn wait_for<T>(
        &self,
        wait: Duration,
        mut ready: impl FnMut(&Broadcast) -> Result<Option<T>, Unavailable>,
    ) -> Result<T, Unavailable> {
        let mut changes = self.version.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            changes.borrow_and_update();
            if let Some(v) = ready(self)? {
                return Ok(v);
            }
            if self.ended() {
                // One last look: the end may have brought it.
                return ready(self)?
                    .ok_or_else(|| Unavailable::Gone("the live stream has ended".into()));
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    return Err(Unavailable::NotYet(
                        "not available yet; try again shortly".into(),
                    ));
                }
            }
        }
    }

    /// The multivariant playlist, once every rendition has its init segment.
    pub fn multivariant(&self, uri: impl Fn(usize) -> String) -> Option<String> {
        let state = self.lock();
        if state.renditions.is_empty() {
            return None;
        }
        let mut variants = Vec::new();
        for (i, r) in state.renditions.iter().enumerate() {
            let (Some(shape), Some(_)) = (&r.shape, &r.init) else {
                return None;
            };
            let measured = (shape.measured && r.seconds > 0.0).then(|| r.bits / r.seconds);
            let average = measured.unwrap_or(shape.nominal_bps as f64);
            let peak = r.peak_bps.max(average * 1.1);
            variants.push(Variant {
                uri: uri(i),
                peak_bps: peak as u64,
                average_bps: average as u64,
                codecs: shape.codecs.clone(),
                width: shape.width,
                height: shape.height,
                frame_rate: shape.frame_rate,
            });
        }
        Some(llhls::multivariant(&variants))
    }

    /// The media playlist of `rendition` once it holds `msn`/`part` (when asked for).
    pub fn media_playlist(
        &self,
        rendition: usize,
        want: Option<(u64, Option<usize>)>,
        uris: &impl Uris,
        report_uri: impl Fn(usize) -> String,
    ) -> Result<Option<String>, Unavailable> {
        let state = self.lock();
        let r = rendition_of(&state, rendition)?;
        if r.init.is_none() {
            return Ok(None);
        }
        // A first look (no blocking reload) waits until the window reaches past the hold-back:
        // a player starting at the live edge then has parts ahead of it, instead of
        // re-reading the only part there is until the next one comes.
        let made: f64 = r
            .segments
            .iter()
            .flat_map(|s| &s.parts)
            .map(|p| p.1.duration)
            .sum();
        if want.is_none() && !state.ended && made < 4.0 * self.part_seconds - 0.01 {
            return Ok(None);
        }
        if let Some((msn, part)) = want
            && !state.ended
            && !holds(r, msn, part)
        {
            let next = r.next_msn;
            // More than two segments past the last one listed (`next` is one past it).
            if msn > next + 1 {
                return Err(Unavailable::TooFarAhead(format!(
                    "_HLS_msn={msn} is too far ahead of the live edge ({next})"
                )));
            }
            return Ok(None);
        }
        let segments: Vec<Segment> = r
            .segments
            .iter()
            .map(|s| Segment {
                msn: s.msn,
                parts: s.parts.iter().map(|p| p.1).collect(),
                complete: s.complete,
                program_date_time_ms: s.program_date_time_ms,
            })
            .collect();
        let reports: Vec<Report> = state
            .renditions
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != rendition)
            .filter_map(|(i, other)| {
                let last = other.segments.back()?;
                let (msn, part) = if last.parts.is_empty() {
                    (last.msn.checked_sub(1)?, 0)
                } else {
                    (last.msn, last.parts.len() as u64 - 1)
                };
                Some(Report {
                    uri: report_uri(i),
                    last_msn: msn,
                    last_part: part,
                })
            })
            .collect();
        // Every EXTINF rounded to the nearest second is at most the target.
        let target = r.longest_segment.round().max(self.segment_target.ceil()) as u64;
        let playlist = MediaPlaylist {
            segments: &segments,
            part_target: self.part_target,
            target_duration: target,
            ended: state.ended,
            reports: &reports,
        };
        Ok(Some(playlist.render(uris)))
    }

    pub fn init(&self, rendition: usize) -> Result<Option<Bytes>, Unavailable> {
        let state = self.lock();
        Ok(rendition_of(&state, rendition)?.init.clone())
    }

    /// A whole segment once complete, or one part once made.
    pub fn media(
        &self,
        rendition: usize,
        msn: u64,
        part: Option<usize>,
    ) -> Result<Option<Bytes>, Unavailable> {
        let state = self.lock();
        let r = rendition_of(&state, rendition)?;
        let first = r.segments.front().map_or(r.next_msn, |s| s.msn);
        if msn < first {
            return Err(Unavailable::Gone(format!(
                "segment {msn} has left the live window"
            )));
        }
        let Some(s) = r.segments.iter().find(|s| s.msn == msn) else {
            if msn > r.next_msn + 1 {
                return Err(Unavailable::Gone(format!(
                    "segment {msn} is not near the live edge"
                )));
            }
            return Ok(None);
        };
        Ok(match part {
            Some(p) if s.complete && p >= s.parts.len() => {
                return Err(Unavailable::Gone(format!(
                    "segment {msn} has {} parts",
                    s.parts.len()
                )));
            }
            Some(p) => s.parts.get(p).map(|p| p.0.clone()),
            None if s.complete => {
                let mut all = Vec::with_capacity(s.parts.iter().map(|p| p.0.len()).sum());
                for p in &s.parts {
                    all.extend_from_slice(&p.0);
                }
                Some(Bytes::from(all))
            }
            None => None,
        })
    }
}

fn rendition_of(state: &State, rendition: usize) -> Result<&RenditionLog, Unavailable> {
    state
        .renditions
        .get(rendition)
        .ok_or_else(|| Unavailable::Gone(format!("no rendition {rendition} in this live stream")))
}

/// Whether the log holds segment `msn` (complete) or its part `part`.
fn holds(r: &RenditionLog, msn: u64, part: Option<usize>) -> bool {
    r.segments.iter().any(|s| {
        s.msn > msn
            || (s.msn == msn
                && match part {
                    Some(p) => s.parts.len() > p || s.complete,
                    None => s.complete,
                })
    })
}

/// `started_ms` dates segments: the session's start plus the media time before them, one
/// clock for every rendition (players line renditions up by it when they switch).
fn apply_one(r: &mut RenditionLog, event: Event, started_ms: i64, window: usize) {
    match event {
        Event::Init { bytes, .. } => r.init = Some(bytes),
        Event::Part {
            bytes,
            duration,
            independent,
        } => {
            let open = r.segments.back().is_some_and(|s| !s.complete);
            if !open {
                let msn = r.next_msn;
                r.next_msn += 1;
                r.segments.push_back(SegmentLog {
                    msn,
                    program_date_time_ms: started_ms + (r.elapsed * 1000.0).round() as i64,
                    parts: Vec::new(),
                    complete: false,
                });
            }
            r.elapsed += duration;
            if let Some(s) = r.segments.back_mut() {
                s.parts.push((
                    bytes,
                    Part {
                        duration,
                        independent,
                    },
                ));
            }
        }
        Event::SegmentEnd => {
            if let Some(s) = r.segments.back_mut().filter(|s| !s.complete) {
                s.complete = true;
                let seconds: f64 = s.parts.iter().map(|p| p.1.duration).sum();
                let bits: f64 = s.parts.iter().map(|p| p.0.len() as f64 * 8.0).sum();
                r.longest_segment = r.longest_segment.max(seconds);
                if seconds > 0.0 {
                    r.bits += bits;
                    r.seconds += seconds;
                    r.peak_bps = r.peak_bps.max(bits / seconds);
                }
            }
            let complete = r.segments.iter().filter(|s| s.complete).count();
            if complete > window {
                r.segments.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Names;
    impl Uris for Names {
        fn init(&self) -> String {
            "i".into()
        }
        fn segment(&self, msn: u64) -> String {
            format!("s{msn}")
        }
        fn part(&self, msn: u64, part: usize) -> String {
            format!("s{msn}p{part}")
        }
    }

    fn part() -> Event {
        Event::Part {
            bytes: Bytes::from_static(b"moof"),
            duration: 1.0,
            independent: true,
        }
    }

    fn broadcast_with(segments: usize) -> Arc<Broadcast> {
        let b = Broadcast::new(0, 1, 1.0, 2.0, 6);
        let init = Event::Init {
            bytes: Bytes::from_static(b"init"),
            codecs: "avc1.64001f".into(),
            width: 640,
            height: 360,
        };
        b.apply(0, vec![init]);
        for _ in 0..segments {
            b.apply(0, vec![part(), part(), Event::SegmentEnd]);
        }
        b
    }

    fn playlist(
        b: &Broadcast,
        want: Option<(u64, Option<usize>)>,
    ) -> Result<Option<String>, Unavailable> {
        b.media_playlist(0, want, &Names, |_| String::new())
    }

    #[test]
    fn the_window_slides_and_old_segments_are_gone() {
        let b = broadcast_with(10);
        let text = playlist(&b, None).ok().flatten().unwrap_or_default();
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:4\n"), "{text}");
        assert_eq!(text.matches("#EXTINF:").count(), 6);
        assert!(matches!(b.media(0, 1, None), Err(Unavailable::Gone(_))));
        assert_eq!(b.media(0, 9, None).ok().flatten().map(|m| m.len()), Some(8));
        assert_eq!(
            b.media(0, 9, Some(1)).ok().flatten().map(|m| m.len()),
            Some(4)
        );
        assert_eq!(
            b.media(0, 10, Some(0)),
            Ok(None),
            "the next part: wait for it"
        );
    }

    #[test]
    fn blocking_reloads_wait_for_their_part_and_refuse_far_ahead() {
        let b = broadcast_with(3);
        assert!(playlist(&b, Some((2, Some(1)))).ok().flatten().is_some());
        assert_eq!(playlist(&b, Some((3, Some(0)))), Ok(None));
        assert!(matches!(
            playlist(&b, Some((9, None))),
            Err(Unavailable::TooFarAhead(_))
        ));
        b.end();
        let ended = playlist(&b, Some((3, Some(0))))
            .ok()
            .flatten()
            .unwrap_or_default();
        assert!(
            ended.ends_with("#EXT-X-ENDLIST\n"),
            "an ended stream answers at once"
        );
    }

    #[test]
    fn a_first_look_waits_for_four_parts() {
        let b = broadcast_with(1);
        assert_eq!(playlist(&b, None), Ok(None));
        let b = broadcast_with(2);
        assert!(playlist(&b, None).ok().flatten().is_some());
        assert!(
            b.multivariant(|i| format!("r{i}")).is_none(),
            "no shape yet"
        );
    }
}
