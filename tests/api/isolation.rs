//! Uploads are probed in `kino worker` processes: a reader that runs out of memory or time, or
//! cannot run at all, costs that request a clear error, and the server keeps serving.

use crate::helpers::{TestApp, error_message, media, spawn_app_with};

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
