//! Video transformations by delivery URL, end to end: upload, request a transformed URL, and
//! check the bytes with ffprobe and decoded pixels; the derived cache; bad input.

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, engine_runs, error_message, ffmpeg, ffprobe, media, spawn_app};

use crate::helpers::CLOUD;

/// Fetches a delivery URL into a file; returns the status, headers and the file path.
async fn fetch(
    app: &TestApp,
    path: &str,
    dir: &Path,
    name: &str,
) -> (u16, reqwest::header::HeaderMap, PathBuf) {
    let r = app.get(path).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.expect("body");
    let out = dir.join(name);
    std::fs::write(&out, &bytes).expect("write");
    (status, headers, out)
}

fn streams(probe: &Value, kind: &str) -> Vec<Value> {
    probe["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["codec_type"] == kind)
        .cloned()
        .collect()
}

fn duration(probe: &Value) -> f64 {
    probe["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0.0)
}

/// Decodes one frame at `at` seconds to 8-bit gray pixels (width × height).
fn gray_frame(path: &Path, at: &str, w: usize, h: usize) -> Vec<u8> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        // Output seeking (decode and drop) also works on a single picture.
        .args([
            "-ss",
            at,
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .expect("ffmpeg");
    assert_eq!(out.stdout.len(), w * h, "one {w}x{h} gray frame");
    out.stdout
}

/// Mean and standard deviation of a column range of a gray frame.
fn region_stats(px: &[u8], w: usize, cols: std::ops::Range<usize>) -> (f64, f64) {
    let vals: Vec<f64> = px
        .chunks(w)
        .flat_map(|row| row[cols.clone()].iter().map(|v| f64::from(*v)))
        .collect();
    let mean = vals.iter().sum::<f64>() / vals.len() as f64;
    let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len() as f64;
    (mean, var.sqrt())
}

/// A 1080x1920 portrait clip with a moving test pattern and a tone.
fn portrait_clip(dir: &Path) -> PathBuf {
    let path = dir.join("portrait.mp4");
    let p = path.to_string_lossy().into_owned();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1080x1920:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        &p,
    ]);
    path
}

async fn upload_video(app: &TestApp, path: &Path, public_id: &str) {
    let (status, body) = app
        .upload_file("video", path, &[("public_id", public_id)])
        .await;
    assert_eq!(status, 200, "{body}");
}

const REFERENCE: &str =
    "c_scale,h_320/b_blurred:400:15,c_pad,h_320,w_480/e_volume:mute/e_accelerate:100";

#[tokio::test]
async fn the_reference_example_on_a_portrait_video() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &portrait_clip(dir.path()), "portrait").await;
    let (status, headers, out) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/{REFERENCE}/portrait.mp4"),
        dir.path(),
        "o.mp4",
    )
    .await;
    assert_eq!(
        status,
        200,
        "{}",
        std::fs::read_to_string(&out).unwrap_or_default()
    );
    assert_eq!(headers["content-type"], "video/mp4");
    let probe = ffprobe(&out);
    let video = streams(&probe, "video");
    assert_eq!(
        (video[0]["width"].as_u64(), video[0]["height"].as_u64()),
        (Some(480), Some(320))
    );
    assert!(
        streams(&probe, "audio").is_empty(),
        "muted: no audio stream"
    );
    let d = duration(&probe);
    assert!((d - 2.0).abs() < 0.15, "half of 4 s, got {d}");
    // The picture is 180 px wide in the middle; the padding left of it is a blurred copy of
    // the colourful pattern: neither flat nor black.
    let px = gray_frame(&out, "1", 480, 320);
    let (mean, sd) = region_stats(&px, 480, 0..140);
    assert!(
        mean > 20.0 && sd > 4.0,
        "padding looks flat: mean {mean}, sd {sd}"
    );
    let (_, centre_sd) = region_stats(&px, 480, 160..320);
    assert!(
        centre_sd > sd,
        "the sharp centre varies more than the blurred padding"
    );
    app.assert_alive().await;
}

#[tokio::test]
async fn a_rotated_phone_video_is_transformed_upright() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    // Coded 1280x720 with a +90° display matrix: displayed 720x1280.
    upload_video(&app, &media("rotated-90-720p-h264-aac.mp4"), "phone").await;
    let (status, _, out) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/{REFERENCE}/phone.mp4"),
        dir.path(),
        "o.mp4",
    )
    .await;
    assert_eq!(status, 200);
    let probe = ffprobe(&out);
    let v = &streams(&probe, "video")[0];
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(480), Some(320))
    );
    let d = duration(&probe);
    assert!((d - 4.97 / 2.0).abs() < 0.2, "got {d}");
    // Fill to a portrait box keeps the picture portrait (it was rotated before scaling).
    let (_, _, out) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/c_fit,w_200,h_200/phone.webm"),
        dir.path(),
        "o.webm",
    )
    .await;
    let v = &streams(&ffprobe(&out), "video")[0];
    assert_eq!(
        (
            v["width"].as_u64(),
            v["height"].as_u64(),
            v["codec_name"].as_str()
        ),
        (Some(112), Some(200), Some("vp9"))
    );
}

#[tokio::test]
async fn outputs_by_extension() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("landscape-540p-h264-aac-flower.mp4"), "flower").await;
    let cases: &[(&str, &str, &str)] = &[
        ("so_1,w_320", "jpg", "mjpeg"),
        ("w_200", "png", "png"),
        ("c_fill,w_160,h_160", "webm", "vp9"),
        ("du_2,w_160", "ogv", "theora"),
        ("du_2", "mp3", "mp3"),
        ("du_2", "m4a", "aac"),
        ("du_2", "ogg", "vorbis"),
        ("du_2", "wav", "pcm_s16le"),
        ("du_2,w_160", "mov", "h264"),
        ("du_2,w_160", "mkv", "h264"),
        ("du_2,vc_h265,w_160", "mp4", "hevc"),
        ("vs_10,dl_100,w_160", "gif", "gif"),
    ];
    for (tx, ext, codec) in cases {
        let (status, headers, out) = fetch(
            &app,
            &format!("/{CLOUD}/video/upload/{tx}/flower.{ext}"),
            dir.path(),
            &format!("o.{ext}"),
        )
        .await;
        assert_eq!(
            status,
            200,
            "{tx} .{ext}: {}",
            String::from_utf8_lossy(&std::fs::read(&out).unwrap())
        );
        let probe = ffprobe(&out);
        let first = &probe["streams"][0];
        assert_eq!(first["codec_name"], *codec, "{tx} .{ext}: {probe}");
        assert!(!headers["content-type"].is_empty());
    }
    // The frame is the requested size, and the GIF is animated (many frames).
    let (_, _, jpg) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/so_1,w_320/flower.jpg"),
        dir.path(),
        "f.jpg",
    )
    .await;
    let s = &ffprobe(&jpg)["streams"][0];
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(320), Some(180))
    );
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(dir.path().join("o.gif"))
        .output()
        .unwrap();
    let frames: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert_eq!(frames, 10, "vs_10 samples ten frames");
}

#[tokio::test]
async fn an_animated_webp_from_a_video() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("landscape-540p-h264-aac-flower.mp4"), "flower").await;
    // libav reads no animated WebP back: count its frames in the file itself.
    let (status, _, webp) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/fl_awebp,vs_6,w_120/flower.webp"),
        dir.path(),
        "a.webp",
    )
    .await;
    assert_eq!(status, 200);
    let bytes = std::fs::read(&webp).unwrap();
    assert!(bytes.starts_with(b"RIFF") && &bytes[8..16] == b"WEBPVP8X");
    assert_eq!(bytes[20] & 0x02, 0x02, "the animation flag");
    let frames = bytes.windows(4).filter(|w| w == b"ANMF").count();
    assert_eq!(frames, 6, "vs_6 samples six frames");
}

#[tokio::test]
async fn derived_files_are_cached_listed_and_removed_with_the_asset() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("portrait-720x1080-h264-aac.mp4"), "clips/p").await;
    let url = format!("/{CLOUD}/video/upload/w_200,c_scale/v1/clips/p.mp4");
    let (status, first_headers, first) = fetch(&app, &url, dir.path(), "1.mp4").await;
    assert_eq!(status, 200);
    assert!(
        first_headers.get("etag").is_none(),
        "the first response streams while encoding"
    );
    let (status, headers, second) = fetch(&app, &url, dir.path(), "2.mp4").await;
    assert_eq!(status, 200);
    assert_fragments_then_faststart(&first, &second);
    let (_, _, third) = fetch(&app, &url, dir.path(), "2b.mp4").await;
    assert_eq!(
        std::fs::read(&second).unwrap(),
        std::fs::read(&third).unwrap(),
        "same bytes from the cache"
    );
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert_eq!(
        headers["content-length"].to_str().unwrap(),
        std::fs::metadata(&second).unwrap().len().to_string()
    );
    let r = app
        .client
        .get(format!("{}{url}", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = app
        .client
        .get(format!("{}{url}", app.base))
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().len(), 100);
    // Same parameters in another order: the same derived file.
    let (_, h, _) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/c_scale,w_200/clips/p.mp4"),
        dir.path(),
        "3.mp4",
    )
    .await;
    assert_eq!(h["etag"].to_str().unwrap(), etag);

    let (status, body) = app
        .admin(Method::GET, "/resources/video/upload/clips/p", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let derived = body["derived"].as_array().unwrap();
    assert_eq!(derived.len(), 1, "{body}");
    assert_eq!(derived[0]["transformation"], "c_scale,w_200");
    assert_eq!(derived[0]["format"], "mp4");
    assert_eq!(derived[0]["id"].as_str().unwrap().len(), 32);
    assert_eq!(app.stored_blobs("derived/").await.len(), 1);

    // Overwriting drops the old version's outputs; destroying drops the rest.
    let (status, _) = app
        .upload_file(
            "video",
            &media("portrait-720x1080-h264-aac.mp4"),
            &[("public_id", "clips/p"), ("overwrite", "true")],
        )
        .await;
    assert_eq!(status, 200);
    // Stale outputs are removed on overwrite.
    assert!(app.stored_blobs("derived/").await.is_empty());
    fetch(&app, &url, dir.path(), "4.mp4").await;
    assert_eq!(app.stored_blobs("derived/").await.len(), 1);
    let (status, _) = app
        .post_form(
            &format!("/v1_1/{CLOUD}/video/destroy"),
            signed_form(&app, &[("public_id", "clips/p")]),
        )
        .await;
    assert_eq!(status, 200);
    // The outputs are removed with the asset.
    assert!(app.stored_blobs("derived/").await.is_empty());
    assert!(app.staging_leftovers().is_empty());
}

/// The first reader got fragments as they were made; the cache keeps a classic MP4 with the
/// index first, holding the same frames.
fn assert_fragments_then_faststart(live: &Path, stored: &Path) {
    let boxes = |p: &Path| top_level_boxes(&std::fs::read(p).unwrap());
    assert!(
        boxes(live).contains(&"moof".to_string()),
        "{:?}",
        boxes(live)
    );
    let kept = boxes(stored);
    assert_eq!(kept[..2], ["ftyp", "moov"], "faststart: {kept:?}");
    assert!(!kept.contains(&"moof".to_string()), "{kept:?}");
    assert_eq!(ffprobe_frames(live), ffprobe_frames(stored));
    let (a, b) = (duration(&ffprobe(live)), duration(&ffprobe(stored)));
    assert!((a - b).abs() < 0.05, "{a} vs {b}");
}

/// The four-letter types of an MP4's top-level boxes, in order.
fn top_level_boxes(data: &[u8]) -> Vec<String> {
    let mut boxes = Vec::new();
    let mut at = 0usize;
    while at + 8 <= data.len() {
        let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        boxes.push(String::from_utf8_lossy(&data[at + 4..at + 8]).into_owned());
        let size = if size == 1 {
            u64::from_be_bytes(data[at + 8..at + 16].try_into().unwrap()) as usize
        } else {
            size
        };
        if size < 8 {
            break;
        }
        at += size;
    }
    boxes
}

/// Video frames counted by decoding.
fn ffprobe_frames(path: &Path) -> u64 {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn signed_form(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in app.signed(fields, crate::helpers::SECRET) {
        form = form.text(k, v);
    }
    form
}

#[tokio::test]
async fn six_concurrent_identical_requests_share_one_transform() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("landscape-720p-h264-aac51-bbb.mp4"), "bbb").await;
    let url = format!(
        "{}/{CLOUD}/video/upload/c_fill,h_240,w_240/e_reverse/bbb.mp4",
        app.base
    );
    let runs_before = engine_runs(&app).await;
    let requests = (0..6).map(|_| {
        let client = app.client.clone();
        let url = url.clone();
        tokio::spawn(async move { client.get(url).send().await.unwrap().bytes().await.unwrap() })
    });
    let bodies: Vec<_> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(bodies.iter().all(|b| *b == bodies[0]), "identical bytes");
    let out = dir.path().join("r.mp4");
    std::fs::write(&out, &bodies[0]).unwrap();
    let v = &streams(&ffprobe(&out), "video")[0];
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(240), Some(240))
    );
    let (_, body) = app
        .admin(Method::GET, "/resources/video/upload/bbb", None)
        .await;
    assert_eq!(
        body["derived"].as_array().map(Vec::len),
        Some(1),
        "one transform, one derived file"
    );
    assert_eq!(app.stored_blobs("derived/").await.len(), 1);
    assert_eq!(engine_runs(&app).await - runs_before, 1, "one engine run");
}

#[tokio::test]
async fn bad_transformations_are_clear_4xx_errors() {
    let app = spawn_app().await;
    upload_video(&app, &media("portrait-720x1080-h264-aac.mp4"), "clip").await;
    let cases: &[(&str, u16, &str)] = &[
        ("w_100,zz_1/clip.mp4", 400, "zz_1"),
        ("w_abc/clip.mp4", 400, "w_abc"),
        ("e_volume:loud/clip.mp4", 400, "e_volume:loud"),
        ("so_30/clip.mp4", 400, "past the end"),
        ("w_20000/clip.mp4", 400, "maximum"),
        ("w_9000/clip.mp4", 400, "over the maximum of 8192"),
        ("c_scale,w_100/missing.mp4", 404, "Resource not found"),
        ("w_100/clip.xyz", 400, "Invalid extension"),
        ("l_video:nothere/fl_layer_apply/clip.mp4", 404, "nothere"),
        ("t_undefined/clip.mp4", 400, "undefined"),
    ];
    for (tail, status, needle) in cases {
        let r = app.get(&format!("/{CLOUD}/video/upload/{tail}")).await;
        assert_eq!(r.status().as_u16(), *status, "{tail}");
        let header = r
            .headers()
            .get("x-cld-error")
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        assert!(header.contains(needle), "{tail}: X-Cld-Error {header:?}");
        let body: Value = r.json().await.unwrap();
        assert!(error_message(&body).contains(needle), "{tail}: {body}");
    }
    app.assert_alive().await;
}

#[tokio::test]
async fn image_video_and_text_layers() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("landscape-540p-h264-aac-flower.mp4"), "flower").await;
    upload_video(&app, &media("portrait-720x1080-h264-aac.mp4"), "short").await;
    let (status, body) = app
        .upload_file(
            "image",
            &media("alpha-balloon.png"),
            &[("public_id", "logo")],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Image overlay, video picture-in-picture with timing, text: the size stays the base's.
    for tx in [
        "l_logo/c_scale,w_100/fl_layer_apply,g_north_east,x_10,y_10",
        "l_video:short/c_scale,w_200/du_1,fl_layer_apply,g_south_west,so_1",
        "co_white,l_text:Arial_40_bold:Hello%252C%20World/fl_layer_apply,g_south,y_20",
    ] {
        let (status, _, out) = fetch(
            &app,
            &format!("/{CLOUD}/video/upload/{tx}/flower.mp4"),
            dir.path(),
            "l.mp4",
        )
        .await;
        assert_eq!(
            status,
            200,
            "{tx}: {}",
            String::from_utf8_lossy(&std::fs::read(&out).unwrap())
        );
        let probe = ffprobe(&out);
        let v = &streams(&probe, "video")[0];
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(960), Some(540)),
            "{tx}"
        );
    }
    // The logo changes the top-right corner of the picture and nothing on the left.
    let (_, _, plain) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/so_1,w_960/flower.png"),
        dir.path(),
        "plain.png",
    )
    .await;
    let (_, _, with) = fetch(&app, &format!("/{CLOUD}/video/upload/so_1/l_logo/c_scale,w_100/fl_layer_apply,g_north_east,x_10,y_10/flower.png"), dir.path(), "with.png").await;
    let a = gray_frame(&plain, "0", 960, 540);
    let b = gray_frame(&with, "0", 960, 540);
    let diff = |cols: std::ops::Range<usize>| -> u64 {
        a.chunks(960)
            .zip(b.chunks(960))
            .take(100)
            .map(|(r1, r2)| {
                r1[cols.clone()]
                    .iter()
                    .zip(&r2[cols.clone()])
                    .map(|(x, y)| u64::from(x.abs_diff(*y)))
                    .sum::<u64>()
            })
            .sum()
    };
    assert!(diff(850..950) > 1000, "the logo is drawn top right");
    assert_eq!(diff(0..100), 0, "nothing drawn top left");
}

#[tokio::test]
async fn splice_and_named_transformations() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("landscape-540p-h264-aac-flower.mp4"), "flower").await;
    upload_video(&app, &media("portrait-720x1080-h264-aac.mp4"), "short").await;
    // Splice: the other clip after this one, scaled to fit.
    let (status, _, out) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/fl_splice,l_video:short/fl_layer_apply/flower.mp4"),
        dir.path(),
        "s.mp4",
    )
    .await;
    assert_eq!(status, 200);
    let probe = ffprobe(&out);
    let d = duration(&probe);
    assert!((d - (5.06 + 1.09)).abs() < 0.3, "durations add up: {d}");
    assert_eq!(streams(&probe, "audio").len(), 1);
    // With so_0 on the apply component the other clip comes first: the opening frame is the
    // portrait clip, pillarboxed in black, where the flower clip fills the frame.
    let (status, _, first) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/fl_splice,l_video:short/fl_layer_apply,so_0/flower.mp4"),
        dir.path(),
        "p.mp4",
    )
    .await;
    assert_eq!(status, 200);
    let v = &streams(&ffprobe(&first), "video")[0];
    let (w, h) = (
        v["width"].as_u64().unwrap() as usize,
        v["height"].as_u64().unwrap() as usize,
    );
    let left_band = |path: &Path| region_stats(&gray_frame(path, "0.2", w, h), w, 0..w / 10).0;
    assert!(left_band(&first) < 20.0, "prepended: black bars first");
    assert!(left_band(&out) > 40.0, "appended: the flower first");

    // A named transformation is usable as t_name.
    let (status, body) = app
        .admin(
            Method::POST,
            "/transformations",
            Some(
                serde_json::json!({"name": "small", "transformation": "c_scale,w_160/e_grayscale"}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, out) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/t_small/flower.webm"),
        dir.path(),
        "n.webm",
    )
    .await;
    assert_eq!(status, 200);
    let v = &streams(&ffprobe(&out), "video")[0];
    assert_eq!(v["width"].as_u64(), Some(160));
}

#[tokio::test]
async fn the_worker_runs_a_serialized_plan() {
    let dir = tempfile::tempdir().unwrap();
    let src = media("landscape-540p-h264-aac-flower.mp4");
    let plan = crate::helpers::plan_of(&src, "c_fill,w_128,h_128/e_accelerate:100", "mp4");
    let plan_file = dir.path().join("plan.json");
    std::fs::write(&plan_file, serde_json::to_string(&plan).unwrap()).unwrap();
    let out = dir.path().join("w.mp4");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_kino"))
        .args(["worker", "--plan"])
        .arg(&plan_file)
        .arg("--output")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let probe = ffprobe(&out);
    let v = &streams(&probe, "video")[0];
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(128), Some(128))
    );
    assert!((duration(&probe) - 2.53).abs() < 0.2);
    // The same through pipes: the plan on stdin, the (fragmented) MP4 on stdout.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kino"))
        .arg("worker")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let json = serde_json::to_vec(&plan).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &json));
    let piped = child.wait_with_output().unwrap();
    assert!(piped.status.success());
    let out = dir.path().join("piped.mp4");
    std::fs::write(&out, &piped.stdout).unwrap();
    let v = &streams(&ffprobe(&out), "video")[0];
    assert_eq!(v["width"].as_u64(), Some(128));
}

/// A 20 s 720p clip: long enough that its transform is still running when the tests act.
fn long_clip(dir: &Path) -> PathBuf {
    let path = dir.join("long.mp4");
    let p = path.to_string_lossy().into_owned();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=30",
        "-t",
        "20",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        &p,
    ]);
    path
}

#[tokio::test]
async fn a_client_that_leaves_cancels_its_transform_and_leaves_nothing() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &long_clip(dir.path()), "long").await;
    let url = format!("{}/{CLOUD}/video/upload/e_blur:400/long.mp4", app.base);
    let mut r = app.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.chunk().await.unwrap().is_some(),
        "the first bytes stream at once"
    );
    drop(r);
    // The run notices at its next write; then the staging file is gone and nothing is stored.
    let mut clean = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if app.staging_leftovers().is_empty() {
            clean = true;
            break;
        }
    }
    assert!(clean, "staging emptied: {:?}", app.staging_leftovers());
    assert_eq!(app.stored_blobs("derived/").await.len(), 0);
    let (_, body) = app
        .admin(Method::GET, "/resources/video/upload/long", None)
        .await;
    assert_eq!(body["derived"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_full_transform_queue_answers_503_at_once() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.limits.transform_workers = 1;
        c.limits.transform_queue = 0;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &long_clip(dir.path()), "long").await;
    let busy = app
        .get(&format!("/{CLOUD}/video/upload/e_blur:400/long.mp4"))
        .await;
    assert_eq!(busy.status(), 200);
    let r = app
        .get(&format!("/{CLOUD}/video/upload/e_blur:300/long.mp4"))
        .await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("x-cld-error"));
    let body: Value = r.json().await.unwrap();
    assert!(!error_message(&body).is_empty(), "{body}");
    drop(busy);
    app.assert_alive().await;
}

/// A 640x360 grey clip whose only subject (a moving test pattern) sits on the right.
fn subject_on_the_right(dir: &Path) -> PathBuf {
    let path = dir.join("subject-right.mp4");
    let p = path.to_string_lossy().into_owned();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=640x360:r=25:d=3",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=160x160:r=25:d=3",
        "-filter_complex",
        "[0][1]overlay=x=450:y=100",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        &p,
    ]);
    path
}

#[tokio::test]
async fn g_auto_keeps_the_subject_in_a_fill_crop() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &subject_on_the_right(dir.path()), "subject").await;
    let detail = |t: &str, name: &str| {
        let url = format!("/{CLOUD}/video/upload/{t},h_360,w_180/subject.mp4");
        let app = &app;
        let dir = dir.path().to_path_buf();
        let name = name.to_string();
        async move {
            let (status, _, out) = fetch(app, &url, &dir, &name).await;
            assert_eq!(status, 200);
            let v = &streams(&ffprobe(&out), "video")[0];
            assert_eq!(
                (v["width"].as_u64(), v["height"].as_u64()),
                (Some(180), Some(360))
            );
            let px = gray_frame(&out, "1.5", 180, 360);
            region_stats(&px, 180, 0..180).1
        }
    };
    let centre = detail("c_fill,g_center", "centre.mp4").await;
    let auto = detail("c_fill,g_auto", "auto.mp4").await;
    let crop_auto = detail("c_auto", "crop-auto.mp4").await;
    assert!(
        crop_auto > 30.0,
        "c_auto found the pattern too: σ={crop_auto}"
    );
    assert!(
        centre < 3.0,
        "the centre of the clip is plain grey: σ={centre}"
    );
    assert!(
        auto > 30.0,
        "g_auto moved the crop onto the pattern: σ={auto}"
    );
    // A still frame takes the same decision.
    let (status, _, jpg) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/c_fill,g_auto,h_360,w_180/so_1/subject.jpg"),
        dir.path(),
        "auto.jpg",
    )
    .await;
    assert_eq!(status, 200);
    let px = gray_frame(&jpg, "0", 180, 360);
    assert!(region_stats(&px, 180, 0..180).1 > 30.0);
}

#[tokio::test]
async fn an_odd_sized_source_becomes_even_sized_h264() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("odd.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=853x481:rate=25",
        "-t",
        "1",
        "-c:v",
        "libx264rgb",
        "-preset",
        "ultrafast",
        src.to_str().unwrap(),
    ]);
    upload_video(&app, &src, "odd").await;
    for t in ["e_grayscale", "c_crop,w_501,h_301", "q_50"] {
        let (status, _, out) = fetch(
            &app,
            &format!("/{CLOUD}/video/upload/{t}/odd.mp4"),
            dir.path(),
            "out.mp4",
        )
        .await;
        assert_eq!(status, 200, "{t}");
        let v = &streams(&ffprobe(&out), "video")[0];
        let (w, h) = (v["width"].as_u64().unwrap(), v["height"].as_u64().unwrap());
        assert!(w % 2 == 0 && h % 2 == 0, "{t}: {w}x{h}");
        assert!(w >= 500 && h >= 300, "{t}: {w}x{h}");
    }
}

#[tokio::test]
async fn cached_outputs_are_complete_seekable_files() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("landscape-540p-h264-aac-flower.mp4"), "flower").await;
    // Streamed while made, the first reader's copy has no duration in its header; the cached
    // one is rewritten with it (Matroska/WebM duration and cues, WAV sizes).
    for ext in ["webm", "mkv", "wav", "mov"] {
        let path = format!("/{CLOUD}/video/upload/du_2,w_160/flower.{ext}");
        let (status, _, _) = fetch(&app, &path, dir.path(), &format!("live.{ext}")).await;
        assert_eq!(status, 200, ".{ext}");
        let (status, headers, stored) = fetch(&app, &path, dir.path(), &format!("s.{ext}")).await;
        assert_eq!(status, 200, ".{ext}");
        assert!(
            headers.contains_key("etag"),
            ".{ext}: served from the cache"
        );
        let probe = ffprobe(&stored);
        let d = probe["format"]["duration"]
            .as_str()
            .and_then(|d| d.parse::<f64>().ok())
            .unwrap_or_else(|| panic!(".{ext} has no duration: {probe}"));
        assert!((d - 2.0).abs() < 0.1, ".{ext} lasts {d}");
    }
}

#[tokio::test]
async fn codec_profiles_are_honoured_or_refused() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("landscape-540p-h264-aac-flower.mp4"), "flower").await;
    let cases = [
        (
            "vc_h264:baseline:3.0",
            "mp4",
            "Constrained Baseline",
            "yuv420p",
        ),
        ("vc_h264:high", "mp4", "High", "yuv420p"),
        ("vc_h265:main10", "mp4", "Main 10", "yuv420p10le"),
        ("vc_vp9:2", "webm", "Profile 2", "yuv420p10le"),
    ];
    for (vc, ext, profile, pix) in cases {
        let (status, _, out) = fetch(
            &app,
            &format!("/{CLOUD}/video/upload/du_1,w_160,{vc}/flower.{ext}"),
            dir.path(),
            &format!("p.{ext}"),
        )
        .await;
        assert_eq!(status, 200, "{vc}");
        let v = &streams(&ffprobe(&out), "video")[0];
        assert_eq!(v["profile"], profile, "{vc}: {v}");
        assert_eq!(v["pix_fmt"], pix, "{vc}: {v}");
    }
    for vc in ["vc_h265:high", "vc_vp9:3", "vc_h264:main10"] {
        let r = app
            .get(&format!("/{CLOUD}/video/upload/{vc}/flower.mp4"))
            .await;
        assert_eq!(r.status(), 400, "{vc}");
        let why = r.headers()["x-cld-error"].to_str().unwrap().to_string();
        assert!(why.contains("profile"), "{why}");
    }
}

#[tokio::test]
async fn time_effects_rates_codecs_and_quality_do_what_they_say() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let clip = crate::helpers::make_clip(dir.path(), "two.mp4", 2, true);
    upload_video(&app, &clip, "two").await;
    let get = |t: &'static str, ext: &'static str| {
        let app = &app;
        let dir = dir.path().to_path_buf();
        async move {
            let (status, _, out) = fetch(
                app,
                &format!("/{CLOUD}/video/upload/{t}/two.{ext}"),
                &dir,
                &format!("{}.{ext}", t.replace([',', ':', '/'], "_")),
            )
            .await;
            assert_eq!(status, 200, "{t}");
            out
        }
    };
    for (t, seconds) in [
        ("e_loop:2", 6.0),
        ("e_boomerang", 4.0),
        ("e_accelerate:100", 1.0),
    ] {
        let d = duration(&ffprobe(&get(t, "mp4").await));
        assert!((d - seconds).abs() < 0.15, "{t}: {d} s, not {seconds}");
    }
    // A fade in starts black and ends as the source.
    let faded = get("e_fade:1000", "mp4").await;
    let first = gray_frame(&faded, "0", 320, 240);
    let later = gray_frame(&faded, "1.5", 320, 240);
    let mean = |px: &[u8]| px.iter().map(|p| f64::from(*p)).sum::<f64>() / px.len() as f64;
    assert!(
        mean(&first) < 25.0 && mean(&later) > 60.0,
        "{} then {}",
        mean(&first),
        mean(&later)
    );
    // Frame rates: a value, and a range that caps the source's 25 fps.
    for (t, rate) in [("fps_10", "10/1"), ("fps_5-15", "15/1")] {
        let v = &streams(&ffprobe(&get(t, "mp4").await), "video")[0];
        assert_eq!(v["avg_frame_rate"], rate, "{t}");
    }
    // Audio codecs in a video container, and none.
    let a = streams(&ffprobe(&get("ac_mp3", "mp4").await), "audio");
    assert_eq!(a[0]["codec_name"], "mp3");
    let a = streams(&ffprobe(&get("ac_vorbis", "webm").await), "audio");
    assert_eq!(a[0]["codec_name"], "vorbis");
    assert!(streams(&ffprobe(&get("ac_none", "mp4").await), "audio").is_empty());
    // Lower quality, fewer bytes.
    let low = std::fs::metadata(get("q_10", "mp4").await).unwrap().len();
    let high = std::fs::metadata(get("q_90", "mp4").await).unwrap().len();
    assert!(low < high, "q_10 {low} bytes, q_90 {high} bytes");
}

#[tokio::test]
async fn preview_progress_bar_deshake_prores_and_waveform() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("landscape-540p-h264-aac-flower.mp4"), "flower").await;
    let get = |t: &'static str, ext: &'static str, id: &'static str| {
        let app = &app;
        let dir = dir.path().to_path_buf();
        async move {
            let (status, _, out) = fetch(
                app,
                &format!("/{CLOUD}/video/upload/{t}/{id}.{ext}"),
                &dir,
                &format!("{}.{ext}", t.replace([',', ':', '/'], "_")),
            )
            .await;
            assert_eq!(
                status,
                200,
                "{t}: {}",
                String::from_utf8_lossy(&std::fs::read(&out).unwrap())
            );
            out
        }
    };
    // A 2 s preview in two pieces of a 5 s clip.
    let d = duration(&ffprobe(
        &get("e_preview:duration_2:max_seg_2", "mp4", "flower").await,
    ));
    assert!((d - 2.0).abs() < 0.15, "preview lasts {d}");
    // The progress bar: green along the bottom at the end, not at the start.
    let bar = get(
        "w_320,e_progressbar:color_rgb:00ff00:width_12",
        "mp4",
        "flower",
    )
    .await;
    let v = &streams(&ffprobe(&bar), "video")[0];
    let (w, h) = (
        v["width"].as_u64().unwrap() as usize,
        v["height"].as_u64().unwrap() as usize,
    );
    let bottom = |at: &str| {
        let px = gray_frame(&bar, at, w, h);
        region_stats(&px[(h - 6) * w..], w, 0..w).0
    };
    let (start, end) = (bottom("0.1"), bottom("4.9"));
    assert!(end > start + 40.0, "the bar grows: {start} then {end}");
    // Deshake keeps the picture's size.
    let v = &streams(
        &ffprobe(&get("w_320,e_deshake:32", "mp4", "flower").await),
        "video",
    )[0];
    assert_eq!(v["width"].as_u64(), Some(320));
    // ProRes 422 HQ in .mov; refused in .mp4.
    let v = &streams(
        &ffprobe(&get("du_1,w_160,vc_prores", "mov", "flower").await),
        "video",
    )[0];
    assert_eq!(
        (v["codec_name"].as_str(), v["profile"].as_str()),
        (Some("prores"), Some("HQ"))
    );
    let r = app
        .get(&format!("/{CLOUD}/video/upload/vc_prores/flower.mp4"))
        .await;
    assert_eq!(r.status(), 400);
    // A waveform picture of a sound.
    let (status, body) = app
        .upload_file("video", &media("t-rex-roar.mp3"), &[("public_id", "roar")])
        .await;
    assert_eq!(status, 200, "{body}");
    let wave = get("fl_waveform,w_400,h_100,co_rgb:00ff00", "png", "roar").await;
    let s = &ffprobe(&wave)["streams"][0];
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(400), Some(100))
    );
    let middle = gray_frame(&wave, "0", 400, 100);
    assert!(middle.iter().any(|p| *p > 100), "the waveform is drawn");
    assert!(middle[..400].iter().all(|p| *p < 20), "on black");
}

/// The loudest sample of `path` between `from` and `from + seconds`, in dB.
fn max_volume(path: &Path, from: f64, seconds: f64) -> f64 {
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "info",
            "-ss",
            &from.to_string(),
            "-t",
            &seconds.to_string(),
            "-i",
        ])
        .arg(path)
        .args(["-vn", "-af", "volumedetect", "-f", "null", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find_map(|l| l.split("max_volume: ").nth(1))
        .and_then(|v| v.trim_end_matches(" dB").trim().parse().ok())
        .unwrap_or(-120.0)
}

#[tokio::test]
async fn an_audio_layer_is_mixed_in_from_its_start() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(
        &app,
        &media("webm-vp9-square-642-bbb-noaudio.webm"),
        "silent",
    )
    .await;
    upload_video(&app, &media("t-rex-roar.mp3"), "roar").await;
    let (status, _, out) = fetch(
        &app,
        &format!("/{CLOUD}/video/upload/w_200/l_audio:roar/fl_layer_apply,so_2/silent.mp4"),
        dir.path(),
        "mixed.mp4",
    )
    .await;
    assert_eq!(
        status,
        200,
        "{}",
        String::from_utf8_lossy(&std::fs::read(&out).unwrap())
    );
    let probe = ffprobe(&out);
    assert_eq!(
        streams(&probe, "audio").len(),
        1,
        "the silent video now has sound"
    );
    let d = duration(&probe);
    let source = duration(&ffprobe(&media("webm-vp9-square-642-bbb-noaudio.webm")));
    assert!(
        (d - source).abs() < 0.2,
        "the base's length: {d} vs {source}"
    );
    let (before, after) = (max_volume(&out, 0.0, 1.8), max_volume(&out, 2.0, 2.0));
    assert!(
        before < -60.0 && after > -30.0,
        "silent, then the roar: {before} dB, {after} dB"
    );
    // A layer without sound is a clear error.
    upload_video(&app, &media("webm-vp9-square-642-bbb-noaudio.webm"), "mute").await;
    let r = app
        .get(&format!(
            "/{CLOUD}/video/upload/l_audio:mute/fl_layer_apply/silent.mp4"
        ))
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_subtitles_layer_burns_its_cues_in() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("landscape-540p-h264-aac-flower.mp4"), "flower").await;
    let srt = "1\n00:00:00,500 --> 00:00:03,000\nHELLO KINO\n";
    let (status, body) = app
        .upload_bytes(
            "raw",
            srt.as_bytes().to_vec(),
            "subs.srt",
            &[("public_id", "subs.srt")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let frame = |t: &'static str, name: &'static str| {
        let app = &app;
        let dir = dir.path().to_path_buf();
        async move {
            let (status, _, out) = fetch(
                app,
                &format!("/{CLOUD}/video/upload/w_320/{t}flower.mp4"),
                &dir,
                name,
            )
            .await;
            assert_eq!(
                status,
                200,
                "{t}: {}",
                String::from_utf8_lossy(&std::fs::read(&out).unwrap())
            );
            (
                gray_frame(&out, "1.5", 320, 180),
                gray_frame(&out, "4", 320, 180),
            )
        }
    };
    let (plain, _) = frame("", "plain.mp4").await;
    let mut sizes = Vec::new();
    for (t, name) in [
        ("l_subtitles:subs.srt/fl_layer_apply/", "subs.mp4"),
        ("l_subtitles:arial_40:subs.srt/fl_layer_apply/", "big.mp4"),
    ] {
        let (during, after) = frame(t, name).await;
        // Bright letters in the lower part while the cue shows, none after it.
        let changed = |px: &[u8]| {
            px[130 * 320..]
                .iter()
                .zip(&plain[130 * 320..])
                .filter(|(a, b)| a.abs_diff(**b) > 60)
                .count()
        };
        assert!(
            changed(&during) > 100,
            "{t}: {} pixels changed",
            changed(&during)
        );
        sizes.push(changed(&during));
        let (_, plain_after) = frame("", "plain2.mp4").await;
        let later: usize = after[130 * 320..]
            .iter()
            .zip(&plain_after[130 * 320..])
            .filter(|(a, b)| a.abs_diff(**b) > 60)
            .count();
        assert!(later < 20, "{t}: the cue is over, {later} pixels differ");
    }
    assert!(
        sizes[1] > sizes[0],
        "arial_40 letters are bigger: {sizes:?}"
    );
    let r = app
        .get(&format!(
            "/{CLOUD}/video/upload/l_subtitles:nope.srt/fl_layer_apply/flower.mp4"
        ))
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_spliced_picture_lasts_its_duration_and_a_still_cannot_be_spliced_onto() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_video(&app, &media("portrait-720x1080-h264-aac.mp4"), "clip").await;
    let (status, body) = app
        .upload_file(
            "image",
            &media("alpha-balloon.png"),
            &[("public_id", "logo")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for (tail, extra) in [("", 1.0), (",du_2", 2.0)] {
        let r = app
            .get(&format!(
                "/{CLOUD}/video/upload/c_scale,w_160/l_logo,fl_splice{tail}/fl_layer_apply/clip.mp4"
            ))
            .await;
        assert_eq!(r.status(), 200);
        let out = dir.path().join("spliced.mp4");
        std::fs::write(&out, r.bytes().await.unwrap()).unwrap();
        let seconds: f64 = ffprobe(&out)["format"]["duration"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .unwrap();
        assert!((seconds - (1.09 + extra)).abs() < 0.2, "{tail}: {seconds}");
    }
    let r = app
        .get(&format!(
            "/{CLOUD}/image/upload/l_logo,fl_splice/fl_layer_apply/logo.mp4"
        ))
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        error_message(&body).contains("not to a still picture"),
        "{body}"
    );
    app.assert_alive().await;
}

/// The RGB colour of pixel (`x`, `y`) of the frame at `at` seconds of a `w`-wide video.
fn rgb_at(path: &Path, at: &str, w: usize, (x, y): (usize, usize)) -> [u8; 3] {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-ss", at, "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("ffmpeg");
    let i = (y * w + x) * 3;
    let px = out.stdout.get(i..i + 3).expect("a decoded frame");
    [px[0], px[1], px[2]]
}

#[tokio::test]
async fn a_transition_blends_two_clips_through_a_luma_matte() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let clip = |name: &str, source: &str, tone: &str| {
        let path = dir.path().join(format!("{name}.mp4"));
        let (video, audio) = (
            format!("{source}:s=160x120:r=25:d=2"),
            format!("sine=frequency={tone}:duration=2"),
        );
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &video,
            "-f",
            "lavfi",
            "-i",
            &audio,
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            path.to_str().unwrap(),
        ]);
        path
    };
    upload_video(&app, &clip("red", "color=c=red", "440"), "red").await;
    upload_video(&app, &clip("blue", "color=c=blue", "880"), "blue").await;
    // The matte: black fading to white over one second.
    let ramp = dir.path().join("ramp.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=white:s=64x64:r=25:d=1,fade=t=in:st=0:d=1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        ramp.to_str().unwrap(),
    ]);
    upload_video(&app, &ramp, "ramp").await;

    let (status, _, out) = fetch(
        &app,
        &format!(
            "/{CLOUD}/video/upload/l_video:blue,fl_splice/e_transition,l_video:ramp/fl_layer_apply/fl_layer_apply/red.mp4"
        ),
        dir.path(),
        "joined.mp4",
    )
    .await;
    assert_eq!(status, 200);
    let probe = ffprobe(&out);
    let seconds = duration(&probe);
    assert!(
        (seconds - 3.0).abs() < 0.15,
        "2 s + 2 s overlapping by 1 s: {seconds}"
    );
    assert_eq!(streams(&probe, "audio").len(), 1, "the sound crossfades");
    let [r, _, b] = rgb_at(&out, "0.5", 160, (80, 60));
    assert!(r > 200 && b < 60, "red before the transition: {r},{b}");
    let [r, _, b] = rgb_at(&out, "1.5", 160, (80, 60));
    assert!(
        (60..200).contains(&r) && (60..200).contains(&b),
        "half and half: {r},{b}"
    );
    let [r, _, b] = rgb_at(&out, "2.6", 160, (80, 60));
    assert!(r < 60 && b > 200, "blue after it: {r},{b}");

    // A transition clip that does not exist is named; the server keeps serving.
    let r = app
        .get(&format!(
            "/{CLOUD}/video/upload/l_video:blue,fl_splice/e_transition,l_video:nope/fl_layer_apply/fl_layer_apply/red.mp4"
        ))
        .await;
    assert_eq!(r.status(), 404);
    app.assert_alive().await;
}
