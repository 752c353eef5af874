//! Limits with clear errors: the length of a transformation chain, the size of an output, and
//! how many transformations one account may have in progress.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{CLOUD, error_message, json_of, make_clip, media, spawn_app_with};

#[tokio::test]
async fn a_chain_longer_than_fifty_components_is_refused_by_name() {
    let app = spawn_app_with(|_| {}).await;
    let (status, body) = app
        .upload_file("image", &media("alpha-balloon.png"), &[("public_id", "b")])
        .await;
    assert_eq!(status, 200, "{body}");

    let fifty = vec!["w_10"; 50].join("/");
    let r = app
        .get(&format!("/{CLOUD}/image/upload/{fifty}/b.png"))
        .await;
    assert_eq!(r.status(), 200, "fifty components are allowed");

    let fifty_one = vec!["w_10"; 51].join("/");
    let r = app
        .get(&format!("/{CLOUD}/image/upload/{fifty_one}/b.png"))
        .await;
    assert_eq!(r.status(), 400);
    let header = r.headers()["x-cld-error"].to_str().unwrap().to_string();
    assert!(header.contains("more than 50 components"), "{header}");

    // Named transformations count once expanded.
    let thirty = vec!["h_10"; 30].join("/");
    let (status, body) = app
        .admin(
            Method::POST,
            "/transformations",
            Some(json!({"name": "thirty", "transformation": thirty})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = json_of(
        app.get(&format!("/{CLOUD}/image/upload/t_thirty/t_thirty/b.png"))
            .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        error_message(&body).contains("after expanding named transformations"),
        "{body}"
    );
    app.assert_alive().await;
}

#[tokio::test]
async fn an_output_larger_than_the_limit_is_refused_and_not_kept() {
    let app = spawn_app_with(|c| c.limits.max_output_bytes = 20_000).await;
    let (status, body) = app
        .upload_file("image", &media("alpha-balloon.png"), &[("public_id", "b")])
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) =
        json_of(app.get(&format!("/{CLOUD}/image/upload/w_800/b.png")).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_message(&body),
        "The transformation's output is larger than the maximum of 20000 bytes"
    );
    let (_, details) = app
        .admin(Method::GET, "/resources/image/upload/b", None)
        .await;
    assert_eq!(details["derived"], json!([]), "{details}");
    assert!(app.staging_leftovers().is_empty());

    // A small output of the same picture is made.
    let r = app.get(&format!("/{CLOUD}/image/upload/w_40/b.png")).await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.len() < 20_000 && bytes.starts_with(b"\x89PNG"));
}

#[tokio::test]
async fn an_account_with_too_many_transformations_in_progress_gets_429() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path(), "clip.mp4", 20, true);
    let app = spawn_app_with(|c| c.limits.max_account_transforms = 1).await;
    let (status, body) = app
        .upload_file("video", &clip, &[("public_id", "clip")])
        .await;
    assert_eq!(status, 200, "{body}");

    // One slow transformation streams; the account's only place is taken while it runs.
    let slow = app
        .get(&format!(
            "/{CLOUD}/video/upload/c_pad,w_1280,h_720,b_blurred:400:15/clip.mp4"
        ))
        .await;
    assert_eq!(slow.status(), 200);
    let thumb = format!("/{CLOUD}/video/upload/w_100/clip.jpg");
    let (status, body) = json_of(app.get(&thumb).await).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(
        error_message(&body),
        "Too many transformations in progress for this account (at most 1 at once); try again shortly"
    );

    // Its reader leaves, the run stops, and the place is free again.
    drop(slow);
    let started = Instant::now();
    loop {
        let r = app.get(&thumb).await;
        if r.status() == 200 {
            assert!(r.bytes().await.unwrap().starts_with(b"\xff\xd8"));
            break;
        }
        assert_eq!(r.status(), 429);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the place was never given back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
