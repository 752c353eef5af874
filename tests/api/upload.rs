//! Uploads as users drive them: probe facts, chunked uploads, overwrite, restart.

use reqwest::multipart::{Form, Part};

use crate::helpers::*;

#[tokio::test]
async fn a_video_upload_reports_what_ffprobe_sees() {
    let app = spawn_app().await;
    let path = media("landscape-540p-h264-aac-flower.mp4");
    let (status, body) = app
        .upload_file("video", &path, &[("public_id", "clips/flower")])
        .await;
    assert_eq!(status, 200, "{body}");
    let probe = ffprobe(&path);
    let video = probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .unwrap();
    assert_eq!(body["public_id"], "clips/flower");
    assert_eq!(body["resource_type"], "video");
    assert_eq!(body["format"], "mp4");
    assert_eq!(body["width"], video["width"]);
    assert_eq!(body["height"], video["height"]);
    let duration: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (body["duration"].as_f64().unwrap() - duration).abs() < 0.05,
        "{body}"
    );
    assert_eq!(body["video"]["codec"], "h264");
    assert!(
        body["video"]["bit_rate"].is_string(),
        "video.bit_rate is a string on the wire"
    );
    assert_eq!(body["audio"]["codec"], "aac");
    assert!(body["audio"]["frequency"].is_i64());
    assert_eq!(body["is_audio"], false);
    assert_eq!(body["bytes"], std::fs::metadata(&path).unwrap().len());
    let playback = body["playback_url"].as_str().unwrap();
    assert!(
        playback.contains("/video/upload/sp_auto/v") && playback.ends_with("/clips/flower.m3u8"),
        "{playback}"
    );
}

#[tokio::test]
async fn rotated_video_reports_display_size_and_rotation() {
    let app = spawn_app().await;
    let path = media("rotated-90-720p-h264-aac.mp4");
    let (status, body) = app.upload_file("video", &path, &[]).await;
    assert_eq!(status, 200, "{body}");
    let rotation = body["rotation"].as_i64().unwrap();
    assert!(rotation == 90 || rotation == 270, "{body}");
    assert!(
        body["height"].as_i64() > body["width"].as_i64(),
        "display size is portrait: {body}"
    );
}

#[tokio::test]
async fn audio_only_uploads_are_videos_with_is_audio() {
    let app = spawn_app().await;
    let (status, body) = app.upload_file("auto", &media("t-rex-roar.mp3"), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resource_type"], "video");
    assert_eq!(body["is_audio"], true);
    assert_eq!(body["format"], "mp3");
    assert_eq!(body["video"], serde_json::json!({}));
}

#[tokio::test]
async fn auto_detects_images_videos_and_raw() {
    let app = spawn_app().await;
    let (_, image) = app
        .upload_file("auto", &media("exif-orient-1.jpg"), &[])
        .await;
    assert_eq!(image["resource_type"], "image");
    assert_eq!(image["format"], "jpg");
    let (_, video) = app
        .upload_file("auto", &media("portrait-720x1080-h264-aac.mp4"), &[])
        .await;
    assert_eq!(video["resource_type"], "video");
    let (_, raw) = app
        .upload_bytes("auto", b"{\"a\":1}".to_vec(), "data.json", &[])
        .await;
    assert_eq!(raw["resource_type"], "raw");
    assert!(
        raw["public_id"].as_str().unwrap().ends_with(".json"),
        "{raw}"
    );
}

/// `upload_large` as Node sends it: `/-1` totals until the last chunk, chunks out of nothing
/// but the Content-Range, then the bytes come back identical.
#[tokio::test]
async fn chunked_upload_assembles_the_whole_file() {
    let app = spawn_app().await;
    let clip = make_clip(app.dir.path(), "long.mp4", 3, false);
    let bytes = std::fs::read(&clip).unwrap();
    let total = bytes.len();
    let chunk = total / 3 + 1;
    let mut last = serde_json::Value::Null;
    for (i, part) in bytes.chunks(chunk).enumerate() {
        let start = i * chunk;
        let end = start + part.len() - 1;
        let total_text = if end + 1 == total {
            total.to_string()
        } else {
            "-1".into()
        };
        let mut form = Form::new();
        for (k, v) in app.signed(&[("public_id", "big/clip")], SECRET) {
            form = form.text(k, v);
        }
        form = form.part("file", Part::bytes(part.to_vec()).file_name("long"));
        let r = app
            .client
            .post(format!("{}/v1_1/{CLOUD}/video/upload", app.base))
            .header("X-Unique-Upload-Id", "abc123upload")
            .header("Content-Range", format!("bytes {start}-{end}/{total_text}"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(r).await;
        assert_eq!(status, 200, "{body}");
        if end + 1 < total {
            assert_eq!(body["done"], false);
            assert_eq!(body["public_id"], "big/clip");
        }
        last = body;
    }
    assert_eq!(last["public_id"], "big/clip");
    assert_eq!(last["bytes"], total);
    assert_eq!(last["width"], 320);
    let delivered = app
        .get(&format!("/{CLOUD}/video/upload/v1/big/clip.mp4"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        delivered.as_ref(),
        bytes.as_slice(),
        "bytes delivered back identical"
    );
    assert_eq!(app.staging_leftovers(), Vec::<std::path::PathBuf>::new());
}

#[tokio::test]
async fn overwrite_bumps_the_version_and_keeps_the_asset_id() {
    let app = spawn_app().await;
    let (_, first) = app
        .upload_bytes("raw", b"one".to_vec(), "a.txt", &[("public_id", "doc.txt")])
        .await;
    let (_, second) = app
        .upload_bytes(
            "raw",
            b"two!".to_vec(),
            "a.txt",
            &[("public_id", "doc.txt")],
        )
        .await;
    assert_eq!(first["asset_id"], second["asset_id"]);
    assert!(
        second["version"].as_i64() > first["version"].as_i64(),
        "a new version every overwrite"
    );
    assert_eq!(second["overwritten"], true);
    let body = app
        .get(&format!("/{CLOUD}/raw/upload/doc.txt"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body, "two!");
    // The replaced blob is gone from the store.
    let blobs = app.stored_blobs("").await;
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    let (_, kept) = app
        .upload_bytes(
            "raw",
            b"three".to_vec(),
            "a.txt",
            &[("public_id", "doc.txt"), ("overwrite", "0")],
        )
        .await;
    assert_eq!(kept["existing"], true);
    assert_eq!(kept["version"], second["version"]);
}

#[tokio::test]
async fn restart_keeps_assets_and_their_bytes() {
    let app = spawn_app().await;
    let path = media("alpha-balloon.png");
    let (status, body) = app
        .upload_file("image", &path, &[("public_id", "keep/me"), ("tags", "a,b")])
        .await;
    assert_eq!(status, 200, "{body}");
    let app = app.restart().await;
    let (status, details) = app
        .admin(
            reqwest::Method::GET,
            "/resources/image/upload/keep/me",
            None,
        )
        .await;
    assert_eq!(status, 200, "{details}");
    assert_eq!(details["tags"], serde_json::json!(["a", "b"]));
    let bytes = app
        .get(&format!("/{CLOUD}/image/upload/keep/me.png"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), std::fs::read(&path).unwrap().as_slice());
}

#[tokio::test]
async fn an_incoming_transformation_replaces_the_file_and_leaves_no_staging_files() {
    let app = spawn_app().await;
    let (status, body) = app
        .upload_file(
            "image",
            &media("photo-denali.webp"),
            &[
                ("public_id", "small"),
                ("transformation", "c_scale,w_50/e_grayscale"),
                ("format", "jpg"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["width"].as_i64(), body["format"].as_str()),
        (Some(50), Some("jpg"))
    );
    let r = app.get(&format!("/{CLOUD}/image/upload/small.jpg")).await;
    let bytes = r.bytes().await.unwrap();
    assert_eq!(bytes.len() as i64, body["bytes"].as_i64().unwrap());
    assert_eq!(&bytes[..2], b"\xff\xd8", "a JPEG");
    let (status, body) = app
        .upload_file(
            "image",
            &media("photo-denali.webp"),
            &[("public_id", "refused"), ("transformation", "w_abc")],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(!app.all_public_ids().await.contains(&"refused".to_string()));
    assert!(
        app.staging_leftovers().is_empty(),
        "{:?}",
        app.staging_leftovers()
    );
    assert_eq!(app.stored_blobs("").await.len(), 1);
}
