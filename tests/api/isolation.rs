//! Uploads are probed, and transformations run, in `kino worker` processes: a worker that runs
//! out of memory or time, or cannot run at all, costs that request a clear error, and the
//! server keeps serving.

use crate::helpers::{CLOUD, TestApp, error_message, ffprobe, json_of, media, spawn_app_with};

async fn upload_clip(app: &TestApp) -> (u16, serde_json::Value) {
    app.upload_file(
        "video",
        &media("portrait-720x1080-h264-aac.mp4"),
        &[("public_id", "clip")],
    )
    .await
}

async fn assert_nothing_kept(app: &TestApp) {
    assert!(app.all_public_ids().await.is_empty());
    assert!(app.staging_leftovers().is_empty());
    app.assert_alive().await;
}

#[tokio::test]
async fn a_reader_out_of_memory_is_a_clear_error_and_the_server_lives() {
    let app = spawn_app_with(|c| c.isolation.max_memory_bytes = 32 * 1024 * 1024).await;
    let (status, body) = upload_clip(&app).await;
    assert_eq!(status, 400, "{body}");
    let message = error_message(&body);
    assert!(
        message.contains("the file could not be read safely"),
        "{message}"
    );
    assert_nothing_kept(&app).await;
}

#[tokio::test]
async fn a_reader_out_of_time_is_stopped() {
    let app = spawn_app_with(|c| c.isolation.max_seconds = 0).await;
    let (status, body) = upload_clip(&app).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        error_message(&body).contains("reading it took longer than 0 s"),
        "{body}"
    );
    assert_nothing_kept(&app).await;
}

#[tokio::test]
async fn uploads_are_read_by_the_worker_process() {
    // Proof that the probe is not done in the server: with no worker, nothing can be probed.
    let app = spawn_app_with(|c| c.isolation.worker = Some("/nonexistent/kino".into())).await;
    let (status, body) = upload_clip(&app).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(error_message(&body), "Internal server error");
    assert_nothing_kept(&app).await;
    // The same upload, with the worker, works.
    let app = spawn_app_with(|_| {}).await;
    let (status, body) = upload_clip(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["width"], 720);
}

/// A worker that notes each command line in `log`, then runs the real one.
fn logging_worker(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join("worker.log");
    let script = dir.join("kino-worker");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            env!("CARGO_BIN_EXE_kino")
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (script, log)
}

#[tokio::test]
async fn transformations_run_in_the_worker_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (script, log) = logging_worker(dir.path());
    let app = spawn_app_with(|c| c.isolation.worker = Some(script)).await;
    let (status, body) = upload_clip(&app).await;
    assert_eq!(status, 200, "{body}");

    let r = app
        .get(&format!("/{CLOUD}/video/upload/c_scale,w_320/clip.mp4"))
        .await;
    assert_eq!(r.status(), 200);
    let out = dir.path().join("out.mp4");
    std::fs::write(&out, r.bytes().await.expect("body")).expect("write");
    assert_eq!(ffprobe(&out)["streams"][0]["width"], 320);

    let commands = std::fs::read_to_string(&log).expect("worker log");
    let lines: Vec<&str> = commands.lines().collect();
    assert_eq!(lines.len(), 2, "{commands}");
    assert!(lines[0].contains("--probe"), "{commands}");
    assert!(
        lines[1].contains("--plan - --output - --report"),
        "{commands}"
    );
}

#[tokio::test]
async fn a_transformation_out_of_time_is_stopped_and_nothing_is_kept() {
    let app = spawn_app_with(|_| {}).await;
    let (status, body) = upload_clip(&app).await;
    assert_eq!(status, 200, "{body}");
    let app = app
        .restart_with(|c| c.isolation.max_transform_seconds = 0)
        .await;

    let (status, body) = json_of(
        app.get(&format!("/{CLOUD}/video/upload/w_320/clip.mp4"))
            .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_message(&body),
        "The transformation failed: the media could not be transformed safely (it took longer than 0 s)"
    );
    let (_, details) = app
        .admin(reqwest::Method::GET, "/resources/video/upload/clip", None)
        .await;
    assert_eq!(details["derived"], serde_json::json!([]), "{details}");
    assert!(app.staging_leftovers().is_empty());
    app.assert_alive().await;
}

#[tokio::test]
async fn a_transformation_out_of_memory_is_a_clear_error_and_the_server_lives() {
    let app = spawn_app_with(|_| {}).await;
    let (status, body) = upload_clip(&app).await;
    assert_eq!(status, 200, "{body}");
    // Too little address space for the decoder and encoder of a 720x1080 clip.
    let app = app
        .restart_with(|c| c.isolation.max_memory_bytes = 48 * 1024 * 1024)
        .await;

    let (status, body) = json_of(
        app.get(&format!("/{CLOUD}/video/upload/w_320/clip.mp4"))
            .await,
    )
    .await;
    assert!(matches!(status, 400 | 500), "{status} {body}");
    assert!(
        error_message(&body).starts_with("The transformation failed: "),
        "{body}"
    );
    app.assert_alive().await;
    // With room again, the same URL is made.
    let app = app.restart_with(|_| {}).await;
    let r = app
        .get(&format!("/{CLOUD}/video/upload/w_320/clip.mp4"))
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn an_eager_ladder_runs_in_one_worker_with_its_outputs_framed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (script, log) = logging_worker(dir.path());
    let app = spawn_app_with(|c| c.isolation.worker = Some(script)).await;
    let (status, body) = app
        .upload_file(
            "video",
            &media("portrait-720x1080-h264-aac.mp4"),
            &[("public_id", "clip"), ("eager", "sp_sd/m3u8")],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let commands = std::fs::read_to_string(&log).expect("worker log");
    let merged: Vec<&str> = commands
        .lines()
        .filter(|l| l.contains("--merged"))
        .collect();
    assert_eq!(merged.len(), 1, "{commands}");
    // Every rendition's segments came out of that one run and are stored.
    let (_, details) = app
        .admin(reqwest::Method::GET, "/resources/video/upload/clip", None)
        .await;
    let derived = details["derived"].as_array().expect("derived").len();
    assert!(derived >= 4, "{details}");
    let r = app
        .get(&format!("/{CLOUD}/video/upload/sp_sd/clip.m3u8"))
        .await;
    assert_eq!(r.status(), 200);
    let master = r.text().await.expect("master playlist");
    let variants = master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF"))
        .count();
    assert!(variants >= 2, "{master}");
    assert!(
        !commands
            .lines()
            .any(|l| l.contains("--plan - --output - --report") && !l.contains("--merged")),
        "nothing was made outside the ladder run: {commands}"
    );
}

#[tokio::test]
async fn pictures_are_looked_at_in_a_worker_only_when_the_plan_needs_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (script, log) = logging_worker(dir.path());
    let app = spawn_app_with(|c| c.isolation.worker = Some(script)).await;
    let (status, body) = app
        .upload_file(
            "image",
            &media("face-astronaut.png"),
            &[("public_id", "face")],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    for (t, analysed) in [
        ("c_scale,w_100", false),
        ("c_fill,g_auto,w_100,h_60", true),
        ("c_thumb,g_face,w_80,h_80", true),
    ] {
        let before = std::fs::read_to_string(&log)
            .expect("worker log")
            .lines()
            .count();
        let r = app
            .get(&format!("/{CLOUD}/image/upload/{t}/face.png"))
            .await;
        assert_eq!(r.status(), 200, "{t}");
        let commands = std::fs::read_to_string(&log).expect("worker log");
        let new: Vec<&str> = commands.lines().skip(before).collect();
        let looked = new
            .iter()
            .filter(|l| l.ends_with("worker --analyse"))
            .count();
        assert_eq!(looked, usize::from(analysed), "{t}: {new:?}");
        assert!(new.iter().any(|l| l.contains("--plan -")), "{t}: {new:?}");
    }
}
