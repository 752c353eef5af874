//! Bad input: each gets a clear JSON error, nothing is stored or left in staging, and the
//! server keeps serving.

use reqwest::multipart::{Form, Part};

use crate::helpers::*;

/// Asserts the aftermath every refused upload must have.
async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(
        app.all_public_ids().await,
        Vec::<String>::new(),
        "nothing may be stored"
    );
    assert_eq!(
        app.staging_leftovers(),
        Vec::<std::path::PathBuf>::new(),
        "staging must be clean"
    );
    app.assert_alive().await;
}

#[tokio::test]
async fn wrong_secret_is_401_naming_the_signature() {
    let app = spawn_app().await;
    let mut form = Form::new();
    for (k, v) in app.signed(&[("public_id", "x")], "not-the-secret") {
        form = form.text(k, v);
    }
    form = form.part("file", Part::bytes(b"hello".to_vec()).file_name("a.txt"));
    let (status, body) = app
        .post_form(&format!("/v1_1/{CLOUD}/raw/upload"), form)
        .await;
    assert_eq!(status, 401);
    let message = error_message(&body);
    assert!(message.starts_with("Invalid Signature"), "{message}");
    assert!(
        message.contains("public_id=x&timestamp="),
        "says what was signed: {message}"
    );
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn stale_timestamp_is_refused() {
    let app = spawn_app().await;
    let old = (now() - 7200).to_string();
    let (status, body) = app
        .upload_bytes(
            "raw",
            b"hello".to_vec(),
            "a.txt",
            &[("timestamp", old.as_str())],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        error_message(&body).starts_with("Stale request - reported time is"),
        "{body}"
    );
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn unsigned_upload_needs_a_preset() {
    let app = spawn_app().await;
    let form = Form::new()
        .text("timestamp", now().to_string())
        .part("file", Part::bytes(b"hello".to_vec()).file_name("a.txt"));
    let (status, body) = app
        .post_form(&format!("/v1_1/{CLOUD}/raw/upload"), form)
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_message(&body),
        "Upload preset must be specified when using unsigned upload"
    );
    let form = Form::new()
        .text("upload_preset", "nope")
        .part("file", Part::bytes(b"hello".to_vec()).file_name("a.txt"));
    let (status, body) = app
        .post_form(&format!("/v1_1/{CLOUD}/raw/upload"), form)
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_message(&body), "Upload preset nope not found");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn truncated_videos_are_refused() {
    let app = spawn_app().await;
    for faststart in [false, true] {
        let clip = make_clip(
            app.dir.path(),
            &format!("clip-{faststart}.mp4"),
            2,
            faststart,
        );
        let bytes = std::fs::read(&clip).unwrap();
        let half = bytes[..bytes.len() * 6 / 10].to_vec();
        let (status, body) = app.upload_bytes("video", half, "clip.mp4", &[]).await;
        assert_eq!(status, 400, "faststart={faststart}: {body}");
        let message = error_message(&body);
        assert!(message.starts_with("Invalid video file"), "{message}");
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_text_file_is_not_an_image_or_a_video() {
    let app = spawn_app().await;
    for rt in ["image", "video"] {
        let text = b"just some words, not pixels\n".repeat(50);
        let (status, body) = app.upload_bytes(rt, text, "notes.jpg", &[]).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            error_message(&body).starts_with(&format!("Invalid {rt} file")),
            "{body}"
        );
    }
    // A still image declared as video is refused with a hint.
    let (status, body) = app
        .upload_file("video", &media("alpha-balloon.png"), &[])
        .await;
    assert_eq!(status, 400);
    assert!(
        error_message(&body).contains("upload it with resource_type image"),
        "{body}"
    );
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn an_empty_file_is_refused() {
    let app = spawn_app().await;
    let (status, body) = app.upload_bytes("auto", Vec::new(), "empty.bin", &[]).await;
    assert_eq!(status, 400);
    assert_eq!(error_message(&body), "Empty file");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn public_ids_with_path_tricks_are_refused() {
    let app = spawn_app().await;
    for (field, value) in [
        ("public_id", "../../etc/passwd"),
        ("public_id", "/absolute"),
        ("public_id", "a/./b"),
        ("folder", "x/../.."),
    ] {
        let (status, body) = app
            .upload_bytes("raw", b"x".to_vec(), "a.txt", &[(field, value)])
            .await;
        assert_eq!(status, 400, "{field}={value}: {body}");
        assert!(
            error_message(&body).starts_with("Invalid public_id"),
            "{body}"
        );
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn oversize_uploads_are_refused_while_streaming() {
    let app = spawn_app_with(|c| {
        c.limits.max_image_bytes = 1000;
        c.limits.max_video_bytes = 2000;
        c.limits.max_raw_bytes = 3000;
    })
    .await;
    let (status, body) = app
        .upload_bytes("raw", vec![7u8; 5000], "big.bin", &[])
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_message(&body),
        "File size too large. Maximum is 3000."
    );
    // Within the streaming cap but over the image limit once the type is known.
    let png = std::fs::read(media("alpha-balloon.png")).unwrap();
    assert!(png.len() > 3000);
    let (status, body) = app.upload_bytes("image", png, "b.png", &[]).await;
    assert_eq!(status, 400);
    assert!(
        error_message(&body).starts_with("File size too large."),
        "{body}"
    );
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_remote_url_that_does_not_answer_is_a_clear_error() {
    let app = spawn_app_with(|c| c.limits.remote_timeout_secs = 2).await;
    // A port where nothing listens (a freed ephemeral port could be taken by another test's
    // server meanwhile; port 1 is privileged and unused).
    let dead = "http://127.0.0.1:1/x.jpg".to_string();
    // A server that accepts connections, holds them and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hang = format!(
        "http://127.0.0.1:{}/x.jpg",
        silent.local_addr().unwrap().port()
    );
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    for url in [&dead, &hang] {
        let mut form = Form::new();
        for (k, v) in app.signed(&[("file", url.as_str())], SECRET) {
            form = form.text(k, v);
        }
        let (status, body) = app
            .post_form(&format!("/v1_1/{CLOUD}/image/upload"), form)
            .await;
        assert_eq!(status, 400, "{url}: {body}");
        let message = error_message(&body);
        assert!(
            message.starts_with(&format!("Error in loading {url} - ")),
            "{url}: {message}"
        );
    }
    holder.abort();
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_missing_file_parameter_is_named() {
    let app = spawn_app().await;
    let mut form = Form::new();
    for (k, v) in app.signed(&[], SECRET) {
        form = form.text(k, v);
    }
    let (status, body) = app
        .post_form(&format!("/v1_1/{CLOUD}/image/upload"), form)
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_message(&body), "Missing required parameter - file");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn videos_over_the_length_or_resolution_limits_are_refused() {
    let clip = media("portrait-720x1080-h264-aac.mp4");
    type Limit = fn(&mut kino::config::Config);
    let cases: [(Limit, &str); 2] = [
        (|c| c.limits.max_video_seconds = 1, "Video is too long: "),
        (
            |c| c.limits.max_video_pixels = 640 * 480,
            "Video resolution too large: 720x1080 is more than the maximum of 307200 pixels",
        ),
    ];
    for (limit, message) in cases {
        let app = spawn_app_with(limit).await;
        let (status, body) = app.upload_file("video", &clip, &[]).await;
        assert_eq!(status, 400, "{body}");
        assert!(error_message(&body).starts_with(message), "{body}");
        assert_nothing_stored(&app).await;
    }
}

/// Found by fuzzing: a parameter name with a multi-byte character after `[` used to panic.
#[tokio::test]
async fn odd_parameter_names_are_not_a_panic() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(format!("{}/v1_1/{CLOUD}/image/upload", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("tags%5B%C3%A9=x&tags%5B%5D%C3%A9%5B=y&file=data%3A%2C")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(!error_message(&body).is_empty(), "{body}");
    app.assert_alive().await;
}
