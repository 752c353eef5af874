//! Adaptive streaming end to end: `sp_<profile>` HLS for a never-seen video, its media
//! playlists and segments made on demand, played by the ffmpeg CLI's HLS reader.

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

/// Video keyframe times and the last packet time, read from `url` by ffprobe (on a blocking
/// thread: the server answering it runs in this test's runtime).
async fn keyframes(url: &str, variant: usize) -> (Vec<f64>, f64) {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || probe_keyframes(&url, variant))
        .await
        .unwrap()
}

fn probe_keyframes(url: &str, variant: usize) -> (Vec<f64>, f64) {
    let out = std::process::Command::new("timeout")
        .args([
            "120",
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            &format!("v:{variant}"),
        ])
        .args(["-show_entries", "packet=pts_time,flags", "-of", "csv=p=0"])
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
        last = last.max(t);
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
    // A media playlist.
    let (status, _, variant) =
        text(&app, &format!("/{CLOUD}/video/upload/sp_hd/bbb.m3u8?r=4")).await;
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
    let duration = body["duration"].as_f64().unwrap();
    assert!(
        (total - duration).abs() < 1.0 / 25.0,
        "EXTINF sum {total} vs {duration}"
    );
    for s in &media_playlist.segments {
        assert!(s.duration.round() as u64 <= media_playlist.target_duration);
    }

    // ffmpeg's HLS reader plays the smallest rendition through: keyframes at every segment
    // start, the whole duration.
    let url = format!("{}/{CLOUD}/video/upload/sp_hd/bbb.m3u8?r=4", app.base);
    let (keys, last) = keyframes(&url, 0).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys[0].abs() < 0.05 && (keys[1] - 4.0).abs() < 0.05,
        "{keys:?}"
    );
    assert!(last > 5.0, "played to {last}");
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
        let (k, end) = keyframes(&url, 0).await;
        assert_eq!(k.len(), keys.len(), "rendition {r}: {k:?}");
        assert!(
            (end - last).abs() < 0.1,
            "rendition {r} ends at {end}, not {last}"
        );
    }
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
        ("sp_hd/bbb.mpd", 400),
        ("sp_hd/bbb.mp4", 400),
    ] {
        let r = app.get(&format!("/{CLOUD}/video/upload/{path}")).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
    }
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
