//! Adaptive streaming end to end: `sp_<profile>` HLS and DASH for a never-seen video, their
//! playlists and CMAF segments made on demand and shared, played by the ffmpeg CLI's HLS and
//! DASH readers.

use crate::helpers::{CLOUD, media, spawn_app};

async fn text(app: &crate::helpers::TestApp, path: &str) -> (u16, String, String) {
    let r = app.get(path).await;
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, ct, r.text().await.unwrap())
}

/// Keyframe times and the end of the last packet of the first video stream in `url`, read by
/// ffprobe (on a blocking thread: the server answering it runs in this test's runtime).
async fn keyframes(url: &str) -> (Vec<f64>, f64) {
    packets(url, "v:0").await
}

async fn packets(url: &str, stream: &str) -> (Vec<f64>, f64) {
    let (url, stream) = (url.to_string(), stream.to_string());
    tokio::task::spawn_blocking(move || probe_packets(&url, &stream))
        .await
        .unwrap()
}

fn probe_packets(url: &str, stream: &str) -> (Vec<f64>, f64) {
    let out = std::process::Command::new("timeout")
        .args(["120", "ffprobe", "-v", "error", "-select_streams", stream])
        .args([
            "-show_entries",
            "packet=pts_time,duration_time,flags",
            "-of",
            "csv=p=0",
        ])
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut keys = Vec::new();
    let mut last = 0.0f64;
    for line in text.lines() {
        let mut parts = line.split(',');
        let t: f64 = parts.next().and_then(|t| t.parse().ok()).unwrap_or(0.0);
        let d: f64 = parts.next().and_then(|d| d.parse().ok()).unwrap_or(0.0);
        last = last.max(t + d);
        if parts.next().is_some_and(|f| f.contains('K')) {
            keys.push(t);
        }
    }
    (keys, last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_plays_a_never_seen_video() {
    let app = spawn_app().await;
    let (status, body) = app
        .upload_file(
            "video",
            &media("landscape-720p-h264-aac51-bbb.mp4"),
            &[("public_id", "bbb")],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // The multivariant playlist: the hd ladder fits a 1280x720 source whole.
    let (status, ct, master) = text(&app, &format!("/{CLOUD}/video/upload/sp_hd/bbb.m3u8")).await;
    assert_eq!(status, 200, "{master}");
    assert_eq!(ct, "application/vnd.apple.mpegurl");
    let m3u8_rs::Playlist::MasterPlaylist(p) =
        m3u8_rs::parse_playlist_res(master.as_bytes()).unwrap()
    else {
        panic!("{master}");
    };
    assert_eq!(p.variants.len(), 5, "{master}");
    assert_eq!(p.variants[0].uri, "bbb.m3u8?r=0");
    // The sound is its own track, in a group every variant names (CMAF, shared with DASH).
    assert_eq!(p.alternatives.len(), 1, "{master}");
    assert_eq!(p.alternatives[0].uri.as_deref(), Some("bbb.m3u8?r=a"));
    assert!(
        p.variants
            .iter()
            .all(|v| v.audio.as_deref() == Some("audio"))
    );
    // Playlists are gzipped for clients that take it.
    let gz = app
        .client
        .get(format!("{}/{CLOUD}/video/upload/sp_hd/bbb.m3u8", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(gz.bytes().await.unwrap()[..2], [0x1f, 0x8b]);
    // A media playlist.
    let duration = body["duration"].as_f64().unwrap();
    check_media_playlist(&app, "sp_hd/bbb.m3u8?r=4", duration).await;

    // ffmpeg's HLS reader plays the smallest rendition through: keyframes at every segment
    // start, the whole duration.
    let url = format!("{}/{CLOUD}/video/upload/sp_hd/bbb.m3u8?r=4", app.base);
    let (keys, last) = keyframes(&url).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys[0].abs() < 0.05 && (keys[1] - 4.0).abs() < 0.05,
        "{keys:?}"
    );
    assert!(
        (last - duration).abs() < 0.05,
        "played to {last} of {duration}"
    );
    // Segments are cached derived files (init + two segments of one rendition).
    let (_, details) = app
        .admin(reqwest::Method::GET, "/resources/video/upload/bbb", None)
        .await;
    assert_eq!(
        details["derived"].as_array().map(Vec::len),
        Some(3),
        "{details}"
    );

    // Every rendition decodes end to end, with the same keyframe times and range.
    for r in 0..4 {
        let url = format!("{}/{CLOUD}/video/upload/sp_hd/bbb.m3u8?r={r}", app.base);
        let (k, end) = keyframes(&url).await;
        assert_eq!(k, keys, "rendition {r}");
        assert!(
            (end - last).abs() < 0.05,
            "rendition {r} ends at {end}, not {last}"
        );
    }
    // The audio track covers the same range.
    let url = format!("{}/{CLOUD}/video/upload/sp_hd/bbb.m3u8?r=a", app.base);
    let (_, end) = packets(&url, "a:0").await;
    assert!((end - duration).abs() < 0.05, "audio ends at {end}");
    // The multivariant playlist as a player reads it: five videos and one sound.
    let url = format!("{}/{CLOUD}/video/upload/sp_hd/bbb.m3u8", app.base);
    let streams = tokio::task::spawn_blocking(move || stream_kinds(&url))
        .await
        .unwrap();
    assert_eq!(
        streams,
        ["audio", "video", "video", "video", "video", "video"]
    );
}

/// A VOD media playlist: behind its init segment, ended, EXTINF summing to `duration`, none
/// over the target duration.
async fn check_media_playlist(app: &crate::helpers::TestApp, path: &str, duration: f64) {
    let (status, _, variant) = text(app, &format!("/{CLOUD}/video/upload/{path}")).await;
    assert_eq!(status, 200, "{variant}");
    assert!(
        variant.contains("#EXT-X-MAP:URI=\"bbb.mp4?r=4&init=1\""),
        "{variant}"
    );
    assert!(variant.contains("#EXT-X-ENDLIST"));
    let m3u8_rs::Playlist::MediaPlaylist(media_playlist) =
        m3u8_rs::parse_playlist_res(variant.as_bytes()).unwrap()
    else {
        panic!("{variant}");
    };
    let total: f64 = media_playlist
        .segments
        .iter()
        .map(|s| f64::from(s.duration))
        .sum();
    assert!(
        (total - duration).abs() < 1.0 / 25.0,
        "EXTINF sum {total} vs {duration}"
    );
    for s in &media_playlist.segments {
        assert!(s.duration.round() as u64 <= media_playlist.target_duration);
    }
}

/// A static MPD with a video and an audio adaptation set whose timelines cover `duration`
/// without gaps, every representation described; returns the top rendition's size and the
/// number of video renditions.
fn check_mpd(mpd: &str, duration: f64) -> (u64, u64, usize) {
    let doc = roxmltree::Document::parse(mpd).unwrap();
    let root = doc.root_element();
    assert_eq!(root.attribute("type"), Some("static"));
    assert!(root.attribute("minBufferTime").is_some() && root.attribute("profiles").is_some());
    let sets: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("AdaptationSet"))
        .collect();
    assert_eq!(sets.len(), 2, "{mpd}");
    for set in &sets {
        assert_eq!(set.attribute("segmentAlignment"), Some("true"));
        assert_eq!(set.attribute("startWithSAP"), Some("1"));
        // The timeline covers the whole duration, without gaps.
        let mut at = 0u64;
        for s in set.descendants().filter(|n| n.has_tag_name("S")) {
            assert_eq!(s.attribute("t").and_then(|t| t.parse().ok()), Some(at));
            at += s
                .attribute("d")
                .and_then(|d| d.parse::<u64>().ok())
                .unwrap();
        }
        // The picture's length (its last frame may end a little before the sound).
        assert!((at as f64 / 1000.0 - duration).abs() < 0.05, "{at} ms");
    }
    let reps: Vec<_> = sets[0]
        .children()
        .filter(|n| n.has_tag_name("Representation"))
        .collect();
    assert!(!reps.is_empty());
    for r in &reps {
        for a in ["id", "bandwidth", "codecs", "width", "height", "frameRate"] {
            assert!(r.attribute(a).is_some(), "{a} missing: {mpd}");
        }
    }
    (
        reps[0].attribute("width").unwrap().parse::<u64>().unwrap(),
        reps[0].attribute("height").unwrap().parse::<u64>().unwrap(),
        reps.len(),
    )
}

/// Uploads a generated clip of `seconds` as `public_id`; its duration.
async fn upload_clip(app: &crate::helpers::TestApp, public_id: &str, seconds: u32) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let clip = crate::helpers::make_clip(dir.path(), "clip.mp4", seconds, true);
    let (status, body) = app
        .upload_file("video", &clip, &[("public_id", public_id)])
        .await;
    assert_eq!(status, 200, "{body}");
    body["duration"].as_f64().unwrap()
}

/// The codec types of every stream a player finds behind `url`, sorted (ffprobe lists a
/// stream again under each program that has it; each is counted once).
fn stream_kinds(url: &str) -> Vec<String> {
    let out = std::process::Command::new("timeout")
        .args(["120", "ffprobe", "-v", "error", "-show_entries"])
        .args(["stream=index,codec_type", "-of", "csv=p=0", url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let streams: std::collections::BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().split_once(','))
        .map(|(i, kind)| (i.to_string(), kind.to_string()))
        .collect();
    let mut kinds: Vec<String> = streams.into_values().collect();
    kinds.sort();
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dash_plays_a_never_seen_video_from_the_segments_hls_uses() {
    let app = spawn_app().await;
    let (status, body) = app
        .upload_file(
            "video",
            &media("landscape-720p-h264-aac51-bbb.mp4"),
            &[("public_id", "dash/bbb")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let duration = body["duration"].as_f64().unwrap();

    let (status, ct, mpd) = text(&app, &format!("/{CLOUD}/video/upload/sp_sd/dash/bbb.mpd")).await;
    assert_eq!(status, 200, "{mpd}");
    assert_eq!(ct, "application/dash+xml");
    let top = check_mpd(&mpd, duration);

    // ffmpeg's DASH reader plays every rendition and the sound to the end, with keyframes at
    // the same times.
    let url = format!("{}/{CLOUD}/video/upload/sp_sd/dash/bbb.mpd", app.base);
    let (keys, end) = keyframes(&url).await;
    assert!((end - duration).abs() < 0.05, "video ends at {end}");
    assert!(keys.len() >= 2 && (keys[1] - 4.0).abs() < 0.05, "{keys:?}");
    for v in 1..top.2 {
        let (k, end) = packets(&url, &format!("v:{v}")).await;
        assert_eq!(k, keys, "rendition {v}");
        assert!((end - duration).abs() < 0.05, "rendition {v} ends at {end}");
    }
    let (_, end) = packets(&url, "a:0").await;
    assert!((end - duration).abs() < 0.05, "audio ends at {end}");
    let probe = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("ffprobe")
                .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
                .args(["stream=width,height", "-of", "csv=p=0", &url])
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    assert_eq!(
        String::from_utf8_lossy(&probe.stdout).lines().next(),
        Some(format!("{},{}", top.0, top.1).as_str())
    );

    // The HLS stream of the same profile is served from the segments DASH made.
    let (_, details) = app
        .admin(
            reqwest::Method::GET,
            "/resources/video/upload/dash/bbb",
            None,
        )
        .await;
    let made = details["derived"].as_array().map(Vec::len).unwrap();
    let hls = format!("{}/{CLOUD}/video/upload/sp_sd/dash/bbb.m3u8?r=0", app.base);
    keyframes(&hls).await;
    let (_, details) = app
        .admin(
            reqwest::Method::GET,
            "/resources/video/upload/dash/bbb",
            None,
        )
        .await;
    assert_eq!(details["derived"].as_array().map(Vec::len), Some(made));
}

#[tokio::test]
async fn stream_requests_that_cannot_be_served_are_clear_4xx() {
    let app = spawn_app().await;
    let (status, body) = app
        .upload_file(
            "video",
            &media("portrait-720x1080-h264-aac.mp4"),
            &[("public_id", "bbb")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Refusals: no profile, an unknown profile, a rendition or segment that does not exist.
    for (path, status) in [
        ("w_100/bbb.m3u8", 400),
        ("sp_nope/bbb.m3u8", 404),
        ("sp_hd/bbb.m3u8?r=9", 404),
        ("sp_hd/bbb.m3u8?r=0&s=99", 404),
        ("sp_hd/bbb.m3u8?r=x", 400),
        ("sp_hd/bbb.mp4?r=a&s=99", 404),
        ("sp_hd/bbb.mp4?r=0&s=-1", 400),
        ("sp_hd/bbb.mp4", 400),
        ("sp_hd/bbb.webm", 400),
    ] {
        let r = app.get(&format!("/{CLOUD}/video/upload/{path}")).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{path}");
        if status == 400 {
            assert!(r.headers().contains_key("x-cld-error"), "{path}");
        }
    }
    // A poster made with the stream's transformation ignores `sp_` (as the SDKs build it).
    let r = app
        .get(&format!("/{CLOUD}/video/upload/sp_hd,so_0.5/bbb.jpg"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap()[..2], [0xFF, 0xD8]);
    // A silent video has no audio track to offer.
    let (status, _) = app
        .upload_file(
            "video",
            &media("webm-vp9-square-642-bbb-noaudio.webm"),
            &[("public_id", "silent")],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, master) = text(&app, &format!("/{CLOUD}/video/upload/sp_sd/silent.m3u8")).await;
    assert_eq!(status, 200);
    assert!(
        !master.contains("EXT-X-MEDIA") && !master.contains("mp4a"),
        "{master}"
    );
    let r = app
        .get(&format!("/{CLOUD}/video/upload/sp_sd/silent.mp4?r=a&s=0"))
        .await;
    assert_eq!(r.status(), 404);
    // sp_ on an image.
    let (status, _) = app
        .upload_file(
            "image",
            &media("photo-denali.webp"),
            &[("public_id", "still")],
        )
        .await;
    assert_eq!(status, 200);
    let r = app
        .get(&format!("/{CLOUD}/image/upload/sp_hd/still.m3u8"))
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_made_by_different_runs_play_as_one_stream() {
    let app = spawn_app().await;
    let duration = upload_clip(&app, "runs", 14).await;
    // A player that seeks first: the run for segment 2 starts there and makes 2 and 3.
    for track in ["0", "a"] {
        let r = app
            .get(&format!(
                "/{CLOUD}/video/upload/sp_sd/runs.mp4?r={track}&s=2"
            ))
            .await;
        assert_eq!(r.status(), 200);
        assert!(!r.bytes().await.unwrap().is_empty());
    }
    // Then plays from the start: init and 0-1 come from another run, 2-3 from the first.
    let url = format!("{}/{CLOUD}/video/upload/sp_sd/runs.m3u8?r=0", app.base);
    let (keys, end) = keyframes(&url).await;
    assert_eq!(keys, [0.0, 4.0, 8.0, 12.0]);
    assert!((end - duration).abs() < 0.05, "video ends at {end}");
    let url = format!("{}/{CLOUD}/video/upload/sp_sd/runs.m3u8?r=a", app.base);
    let (_, end) = packets(&url, "a:0").await;
    assert!((end - duration).abs() < 0.05, "audio ends at {end}");
    // Every frame decodes, in order, once.
    let frames = tokio::task::spawn_blocking(move || {
        let url = format!("{}/{CLOUD}/video/upload/sp_sd/runs.m3u8?r=0", app.base);
        let out = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
            .args([
                "-show_entries",
                "stream=nb_read_frames",
                "-of",
                "csv=p=0",
                &url,
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        (app, text.lines().next().unwrap_or_default().to_string())
    })
    .await
    .unwrap();
    assert_eq!(frames.1, "350", "14 s at 25 fps");
    // One file per segment and track: nothing was made twice.
    let (_, details) = frames
        .0
        .admin(reqwest::Method::GET, "/resources/video/upload/runs", None)
        .await;
    assert_eq!(
        details["derived"].as_array().map(Vec::len),
        Some(2 * (1 + 4)),
        "{details}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_version_3_serves_mpeg_ts_with_sound_and_picture() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let duration = upload_clip(&app, "ts", 9).await;
    let (status, _, master) = text(
        &app,
        &format!("/{CLOUD}/video/upload/fl_hlsv3,sp_sd/ts.m3u8"),
    )
    .await;
    assert_eq!(status, 200, "{master}");
    let m3u8_rs::Playlist::MasterPlaylist(p) =
        m3u8_rs::parse_playlist_res(master.as_bytes()).unwrap()
    else {
        panic!("{master}");
    };
    assert_eq!(p.version, Some(3));
    assert!(p.alternatives.is_empty(), "the sound is in every variant");
    assert!(p.variants.iter().all(|v| {
        v.codecs
            .as_deref()
            .is_some_and(|c| c.ends_with(",mp4a.40.2"))
    }));
    let (_, _, media) = text(
        &app,
        &format!("/{CLOUD}/video/upload/fl_hlsv3,sp_sd/ts.m3u8?r=0"),
    )
    .await;
    assert!(
        !media.contains("EXT-X-MAP") && media.contains("ts.ts?r=0&s=2"),
        "{media}"
    );
    // One segment is an MPEG-TS holding both, at its place on the timeline.
    let r = app
        .get(&format!(
            "/{CLOUD}/video/upload/fl_hlsv3,sp_sd/ts.ts?r=0&s=1"
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp2t");
    let seg = dir.path().join("s1.ts");
    std::fs::write(&seg, r.bytes().await.unwrap()).unwrap();
    let probe = crate::helpers::ffprobe(&seg);
    assert_eq!(probe["format"]["format_name"], "mpegts");
    let kinds: Vec<_> = probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["codec_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["video", "audio"]);
    // The whole rendition plays: keyframes on the grid, sound to the end.
    let url = format!(
        "{}/{CLOUD}/video/upload/fl_hlsv3,sp_sd/ts.m3u8?r=0",
        app.base
    );
    let (keys, end) = keyframes(&url).await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!((end - duration).abs() < 0.1, "video ends at {end}");
    let (_, end) = packets(&url, "a:0").await;
    assert!((end - duration).abs() < 0.1, "audio ends at {end}");
    // Refusals: no audio-only playlist, no DASH.
    for (path, status) in [
        ("fl_hlsv3,sp_sd/ts.m3u8?r=a", 404),
        ("fl_hlsv3,sp_sd/ts.mpd", 400),
    ] {
        let r = app.get(&format!("/{CLOUD}/video/upload/{path}")).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
    }
}

/// `tfdt` of the first `moof` in `bytes`, as the signed 64-bit value it holds.
fn first_decode_time(bytes: &[u8]) -> i64 {
    let find = |data: &[u8], kind: &[u8]| {
        data.windows(4)
            .position(|w| w == kind)
            .unwrap_or_else(|| panic!("no {}", String::from_utf8_lossy(kind)))
    };
    let at = find(bytes, b"tfdt") + 4;
    match bytes[at] {
        1 => i64::from_be_bytes(bytes[at + 4..at + 12].try_into().unwrap()),
        _ => i64::from(u32::from_be_bytes(
            bytes[at + 4..at + 8].try_into().unwrap(),
        )),
    }
}

#[tokio::test]
async fn audio_segments_start_at_their_place_without_priming() {
    let app = spawn_app().await;
    upload_clip(&app, "prime", 9).await;
    // Segment 1 first (its own run), then 0: neither starts before its boundary, so the
    // first is not negative and the two do not overlap.
    let mut starts = Vec::new();
    for s in [1, 0] {
        let r = app
            .get(&format!("/{CLOUD}/video/upload/sp_sd/prime.mp4?r=a&s={s}"))
            .await;
        assert_eq!(r.status(), 200);
        starts.push(first_decode_time(&r.bytes().await.unwrap()));
    }
    let init = app
        .get(&format!("/{CLOUD}/video/upload/sp_sd/prime.mp4?r=a&init=1"))
        .await
        .bytes()
        .await
        .unwrap();
    // The audio timescale is the sample rate (mdhd), 44.1 kHz for the generated clip.
    let mdhd = init.windows(4).position(|w| w == b"mdhd").unwrap() + 4;
    let scale = i64::from(u32::from_be_bytes(
        init[mdhd + 12..mdhd + 16].try_into().unwrap(),
    ));
    assert_eq!(starts[1], 0, "segment 0 starts at zero, not before");
    assert!(
        starts[0] >= 4 * scale && starts[0] < 4 * scale + scale / 20,
        "segment 1 starts at 4 s: {} of {scale}",
        starts[0]
    );
}
