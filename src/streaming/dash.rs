//! A small MPD writer for VOD: one period with a video adaptation set (the ladder's
//! renditions) and an audio one (the shared audio track), both addressing the same CMAF
//! segments HLS serves through one `SegmentTemplate` + `SegmentTimeline` (`$Number$` from 0,
//! as HLS numbers them). DASH players want audio and video apart, hence the split tracks.

use std::fmt::Write;

use super::ladder::{AudioTrack, Rendition, Track};

/// Milliseconds: the timeline's timescale.
const TIMESCALE: u64 = 1000;

/// The MPD of `renditions` and `audio`; `init` and `media` are the templates
/// (`$RepresentationID$`, `$Number$`) the player fills in.
pub fn mpd(
    renditions: &[Rendition],
    audio: Option<&AudioTrack>,
    segments: &[f64],
    init: &str,
    media: &str,
) -> String {
    let total: f64 = segments.iter().sum();
    let mut out = String::new();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" minBufferTime="PT2S" mediaPresentationDuration="{}">"#,
        duration(total)
    );
    let _ = writeln!(out, r#"  <Period id="0" start="PT0S">"#);
    let (max_w, max_h) = renditions
        .iter()
        .fold((0, 0), |(w, h), r| (r.width.max(w), r.height.max(h)));
    let _ = writeln!(
        out,
        r#"    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1" maxWidth="{max_w}" maxHeight="{max_h}">"#
    );
    template(&mut out, segments, init, media);
    for (i, r) in renditions.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"      <Representation id="{}" bandwidth="{}" codecs="{}" width="{}" height="{}" frameRate="{}" sar="1:1"/>"#,
            Track::Video(i),
            r.video_bps + r.video_bps / 10,
            escape(&r.codecs),
            r.width,
            r.height,
            frame_rate(r.frame_rate)
        );
    }
    let _ = writeln!(out, "    </AdaptationSet>");
    if let Some(a) = audio {
        let _ = writeln!(
            out,
            r#"    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1">"#
        );
        template(&mut out, segments, init, media);
        let _ = writeln!(
            out,
            r#"      <Representation id="{}" bandwidth="{}" codecs="{}" audioSamplingRate="{}">"#,
            Track::Audio,
            a.bps,
            AudioTrack::CODECS,
            a.sample_rate
        );
        let _ = writeln!(
            out,
            r#"        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="{}"/>"#,
            a.channels
        );
        let _ = writeln!(out, "      </Representation>");
        let _ = writeln!(out, "    </AdaptationSet>");
    }
    let _ = writeln!(out, "  </Period>");
    let _ = writeln!(out, "</MPD>");
    out
}

/// The `SegmentTemplate` every representation of an adaptation set shares.
fn template(out: &mut String, segments: &[f64], init: &str, media: &str) {
    let _ = writeln!(
        out,
        r#"      <SegmentTemplate timescale="{TIMESCALE}" initialization="{}" media="{}" startNumber="0">"#,
        escape(init),
        escape(media)
    );
    let _ = writeln!(out, "        <SegmentTimeline>");
    for (t, d) in timeline(segments) {
        let _ = writeln!(out, r#"          <S t="{t}" d="{d}"/>"#);
    }
    let _ = writeln!(out, "        </SegmentTimeline>");
    let _ = writeln!(out, "      </SegmentTemplate>");
}

/// (start, duration) of each segment in timescale units; starts are exact sums, so the
/// timeline has no gaps from rounding.
fn timeline(segments: &[f64]) -> Vec<(u64, u64)> {
    let mut at = 0.0;
    segments
        .iter()
        .map(|d| {
            let start = (at * TIMESCALE as f64).round() as u64;
            at += d;
            let end = (at * TIMESCALE as f64).round() as u64;
            (start, end - start)
        })
        .collect()
}

/// An ISO 8601 duration (`PT1M3.5S`).
fn duration(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    let (h, m, s) = (
        ms / 3_600_000,
        ms / 60_000 % 60,
        (ms % 60_000) as f64 / 1000.0,
    );
    let mut out = "PT".to_string();
    if h > 0 {
        let _ = write!(out, "{h}H");
    }
    if m > 0 {
        let _ = write!(out, "{m}M");
    }
    let _ = write!(out, "{s}S");
    out
}

/// A frame rate as DASH writes it: an integer, or a ratio for NTSC rates.
fn frame_rate(fps: f64) -> String {
    let ntsc = fps * 1.001;
    if (ntsc - ntsc.round()).abs() < 0.01 && (fps - fps.round()).abs() > 0.01 {
        format!("{}/1001", (ntsc.round() as u64) * 1000)
    } else {
        format!("{}", fps.round() as u64)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Media;
    use crate::streaming::ladder::{AudioTrack, renditions, segments};
    use crate::streaming::profiles::find_built_in;

    #[test]
    fn an_mpd_with_a_gapless_timeline() {
        let media = Media {
            width: 1280,
            height: 720,
            duration: 63.5,
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
        let ladder = renditions(&find_built_in("hd").unwrap().representations, &media);
        let segs = segments(media.duration);
        let audio = AudioTrack::of(&media, 2);
        let text = mpd(
            &ladder,
            audio.as_ref(),
            &segs,
            "$RepresentationID$/init.mp4",
            "$RepresentationID$/$Number$.m4s",
        );
        let doc = roxmltree::Document::parse(&text).unwrap();
        let root = doc.root_element();
        assert_eq!(
            root.attribute("mediaPresentationDuration"),
            Some("PT1M3.5S")
        );
        assert_eq!(root.attribute("type"), Some("static"));
        let reps: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("Representation"))
            .collect();
        assert_eq!(reps.len(), 6);
        let sets: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("AdaptationSet"))
            .map(|n| n.attribute("contentType"))
            .collect();
        assert_eq!(sets, [Some("video"), Some("audio")]);
        assert_eq!(reps[5].attribute("id"), Some("a"));
        assert_eq!(reps[5].attribute("codecs"), Some("mp4a.40.2"));
        assert_eq!(reps[0].attribute("frameRate"), Some("30000/1001"));
        assert!(
            reps.iter()
                .all(|r| r.attribute("bandwidth").is_some() && r.attribute("codecs").is_some())
        );
        let s: Vec<(u64, u64)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("S"))
            .map(|n| {
                (
                    n.attribute("t").unwrap().parse().unwrap(),
                    n.attribute("d").unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(s.len(), 32, "a timeline per adaptation set");
        for w in s[..16].windows(2) {
            assert_eq!(w[0].0 + w[0].1, w[1].0, "no gap");
        }
        assert_eq!(s[..16], s[16..]);
        assert_eq!(s.last().map(|(t, d)| t + d), Some(63_500));
        assert_eq!(duration(3725.25), "PT1H2M5.25S");
        assert_eq!(frame_rate(25.0), "25");
    }
}
