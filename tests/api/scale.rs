//! Scale-out: several nodes on one PostgreSQL catalog and one S3 bucket, and what happens when
//! either goes away. These run for real under `scripts/backends.sh` (`make test-scale`); on the
//! embedded default they say so and return. The fault tests stop the shared servers, so they
//! run alone, after the rest (`fault` in their names; see the Makefile).

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{
    Backends, CLOUD, TestApp, engine_runs, error_message, ffprobe, json_of, media, spawn_app,
    spawn_node,
};

fn skipped(test: &str) -> bool {
    if Backends::shared() {
        return false;
    }
    eprintln!("{test}: skipped, it needs PostgreSQL and S3 (run it with scripts/backends.sh)");
    true
}

/// Two nodes on the same PostgreSQL database and bucket, with `public_id` uploaded through the
/// first.
async fn two_nodes_with_clip(public_id: &str) -> (TestApp, TestApp) {
    let a = spawn_app().await;
    let b = spawn_node(&a.backends).await;
    upload_clip(&a, public_id).await;
    (a, b)
}

async fn upload_clip(node: &TestApp, public_id: &str) {
    let (status, body) = node
        .upload_file(
            "video",
            &media("portrait-720x1080-h264-aac.mp4"),
            &[("public_id", public_id)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn fetch_bytes(node: &TestApp, path: &str) -> (u16, Vec<u8>) {
    let r = node.get(path).await;
    let status = r.status().as_u16();
    (status, r.bytes().await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_on_one_node_is_delivered_and_transformed_by_another() {
    if skipped("an_upload_on_one_node_is_delivered_and_transformed_by_another") {
        return;
    }
    let (a, b) = two_nodes_with_clip("shared/clip").await;

    // The original, byte for byte, from the other node (it has no local copy: S3 serves it).
    let original = std::fs::read(media("portrait-720x1080-h264-aac.mp4")).unwrap();
    let (status, bytes) = fetch_bytes(&b, &format!("/{CLOUD}/video/upload/shared/clip.mp4")).await;
    assert_eq!(status, 200);
    assert!(bytes == original, "node B served other bytes");
    let (status, listed) = b.admin(Method::GET, "/resources/video", None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["resources"][0]["public_id"], "shared/clip");

    // A transformation made by B, probed.
    let dir = tempfile::tempdir().unwrap();
    let (status, made) = fetch_bytes(
        &b,
        &format!("/{CLOUD}/video/upload/w_180,c_scale/shared/clip.mp4"),
    )
    .await;
    assert_eq!(status, 200);
    let out = dir.path().join("b.mp4");
    std::fs::write(&out, made).unwrap();
    let probe = ffprobe(&out);
    assert_eq!(probe["streams"][0]["width"], 180, "{probe}");
    // …stored once, where A finds it without making it again.
    let runs = engine_runs(&a).await;
    let (status, _) = fetch_bytes(
        &a,
        &format!("/{CLOUD}/video/upload/w_180,c_scale/shared/clip.mp4"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(engine_runs(&a).await, runs, "A served B's derived file");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_split_across_two_nodes_makes_one_derived_file() {
    if skipped("a_burst_split_across_two_nodes_makes_one_derived_file") {
        return;
    }
    let (a, b) = two_nodes_with_clip("burst").await;
    let runs_before = engine_runs(&a).await + engine_runs(&b).await;

    let path = format!("/{CLOUD}/video/upload/w_200,h_200,c_fill/burst.mp4");
    let requests = (0..8).map(|i| {
        let node = if i % 2 == 0 { &a } else { &b };
        fetch_bytes(node, &path)
    });
    let answers = join_all(requests).await;

    assert!(
        answers.iter().all(|(s, _)| *s == 200),
        "every request served"
    );
    // Readers on the making node get the stream as it is encoded, the others the stored
    // (faststart) file: the same picture either way.
    let dir = tempfile::tempdir().unwrap();
    for (i, (_, bytes)) in answers.iter().enumerate() {
        let out = dir.path().join(format!("{i}.mp4"));
        std::fs::write(&out, bytes).unwrap();
        let probe = ffprobe(&out);
        let video = &probe["streams"][0];
        assert_eq!(
            (&video["width"], &video["height"]),
            (&200.into(), &200.into()),
            "{probe}"
        );
    }
    let runs = engine_runs(&a).await + engine_runs(&b).await - runs_before;
    assert_eq!(runs, 1, "one engine run on the two nodes together");
    assert_eq!(a.stored_blobs("derived/").await.len(), 1);
    let (_, details) = b
        .admin(Method::GET, "/resources/video/upload/burst", None)
        .await;
    assert_eq!(
        details["derived"].as_array().map(Vec::len),
        Some(1),
        "{details}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_upload_is_stored_in_parts_and_read_back_by_range() {
    // On both backends: 20 MiB is a multipart upload on S3 (8 MiB parts).
    let app = spawn_app().await;
    let bytes: Vec<u8> = (0..20 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (status, body) = app
        .upload_bytes("raw", bytes.clone(), "big.bin", &[("public_id", "big.bin")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bytes"], bytes.len());

    let path = format!("/{CLOUD}/raw/upload/big.bin");
    let (status, whole) = fetch_bytes(&app, &path).await;
    assert_eq!(status, 200);
    assert!(whole == bytes, "the blob reads back whole");
    let start = 9 * 1024 * 1024 - 10;
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .header("range", format!("bytes={start}-{}", start + 99))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        &bytes[start..start + 100]
    );
}

/// Stops or starts one of the shared servers (`postgres` or `s3`).
fn backend(action: &str) {
    let script = std::env::var("KINO_TEST_BACKENDS").expect("scripts/backends.sh runs the tests");
    let status = std::process::Command::new("bash")
        .args([script.as_str(), action])
        .status()
        .expect("backends script runs");
    assert!(status.success(), "{action}");
}

/// Retries `call` until it answers 200 (the backend is back), for at most 30 s.
async fn until_ok<F, Fut>(mut call: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    let started = Instant::now();
    loop {
        let (status, body) = call().await;
        if status == 200 {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "service did not resume: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_postgres_stopped_is_a_503_and_service_resumes() {
    if skipped("fault_postgres_stopped_is_a_503_and_service_resumes") {
        return;
    }
    let app = spawn_app().await;
    upload_clip(&app, "before").await;

    backend("postgres-stop");
    let (ready_status, ready) = json_of(app.get("/readyz").await).await;
    let alive = app.get("/healthz").await.status();
    let (status, body) = app.admin(Method::GET, "/resources/video", None).await;
    let (upload_status, upload_body) = app
        .upload_bytes(
            "raw",
            b"lost?".to_vec(),
            "a.txt",
            &[("public_id", "during")],
        )
        .await;
    backend("postgres-start");

    assert_eq!(ready_status, 503, "{ready}");
    assert_eq!(
        error_message(&ready),
        "The catalog database is unavailable; try again shortly"
    );
    assert_eq!(alive, 200, "alive, though not ready");
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        error_message(&body),
        "The catalog database is unavailable; try again shortly"
    );
    assert_eq!(upload_status, 503, "{upload_body}");
    let listed = until_ok(|| app.admin(Method::GET, "/resources/raw", None)).await;
    assert_eq!(
        listed["resources"].as_array().map(Vec::len),
        Some(0),
        "{listed}"
    );
    let videos = until_ok(|| app.admin(Method::GET, "/resources/video", None)).await;
    assert_eq!(videos["resources"][0]["public_id"], "before");
    app.assert_alive().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_s3_stopped_is_a_503_and_service_resumes() {
    if skipped("fault_s3_stopped_is_a_503_and_service_resumes") {
        return;
    }
    let (app, other) = two_nodes_with_clip("kept").await;

    backend("s3-stop");
    let (ready_status, ready) = json_of(app.get("/readyz").await).await;
    let (upload_status, upload_body) = app
        .upload_bytes(
            "raw",
            b"lost?".to_vec(),
            "a.txt",
            &[("public_id", "during")],
        )
        .await;
    // The other node has no local copy: it must ask S3.
    let (delivery_status, delivery) =
        fetch_bytes(&other, &format!("/{CLOUD}/video/upload/kept.mp4")).await;
    backend("s3-start");

    assert_eq!(ready_status, 503, "{ready}");
    assert_eq!(
        error_message(&ready),
        "The blob store is unavailable; try again shortly"
    );
    assert_eq!(upload_status, 503, "{upload_body}");
    assert_eq!(
        delivery_status,
        503,
        "{}",
        String::from_utf8_lossy(&delivery)
    );
    let delivery: Value = serde_json::from_slice(&delivery).expect("a JSON error");
    assert_eq!(
        error_message(&delivery),
        "The blob store is unavailable; try again shortly"
    );
    assert_eq!(
        error_message(&upload_body),
        "The blob store is unavailable; try again shortly"
    );
    // Nothing half-written became visible.
    let listed = until_ok(|| app.admin(Method::GET, "/resources/raw", None)).await;
    assert_eq!(
        listed["resources"].as_array().map(Vec::len),
        Some(0),
        "{listed}"
    );
    assert!(app.stored_blobs(&format!("{CLOUD}/raw/")).await.is_empty());
    // And service resumed by itself.
    let started = Instant::now();
    loop {
        let (status, _) = fetch_bytes(&other, &format!("/{CLOUD}/video/upload/kept.mp4")).await;
        if status == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "delivery did not resume"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (status, body) = app
        .upload_bytes("raw", b"after".to_vec(), "b.txt", &[("public_id", "after")])
        .await;
    assert_eq!(status, 200, "{body}");
}
