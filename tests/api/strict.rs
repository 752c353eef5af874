//! Strict transformations, as a visitor probing the account would meet them: only what the
//! owner allowed is made; everything else is 401 with `X-Cld-Error`, and nothing is made.

use kino::signing::{Algorithm, url_signature};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{CLOUD, SECRET, TestApp, media, spawn_app_with};

async fn status_and_reason(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.get(path).await;
    let reason = r
        .headers()
        .get("x-cld-error")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (r.status().as_u16(), reason)
}

fn signed(transformation_and_id: &str, algorithm: Algorithm, long: bool) -> String {
    let sig = url_signature(transformation_and_id, SECRET, algorithm, long);
    format!("/{CLOUD}/image/upload/s--{sig}--/{transformation_and_id}")
}

/// A strict account with `pic` (eager `c_scale,w_50`) and named transformations: `thumb` and
/// `ok60` allowed for strict, `hidden70` and `hidden80` not.
async fn strict_app_with_picture() -> TestApp {
    let app = spawn_app_with(|c| c.security.strict_transformations = true).await;
    let (status, body) = app
        .upload_file(
            "image",
            &media("photo-denali.webp"),
            &[("public_id", "pic"), ("eager", "c_scale,w_50")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let named = [
        ("thumb", "c_fill,h_40,w_40", true),
        ("ok60", "c_scale,w_60", true),
        ("hidden70", "c_scale,w_70", false),
        ("hidden80", "c_scale,w_80", false),
    ];
    for (name, definition, allowed) in named {
        let (status, body) = app
            .admin(
                Method::POST,
                "/transformations",
                Some(json!({"name": name, "transformation": definition, "allowed_for_strict": allowed})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    app
}

/// The transformations of `pic`'s derived files.
async fn made_for_pic(app: &TestApp) -> Vec<String> {
    let (_, details) = app
        .admin(Method::GET, "/resources/image/upload/pic", None)
        .await;
    details["derived"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}.{}",
                d["transformation"].as_str().unwrap_or(""),
                d["format"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[tokio::test]
async fn only_allowed_transformations_are_made_when_strict() {
    let app = strict_app_with_picture().await;
    let image = |t: &str| format!("/{CLOUD}/image/upload/{t}pic.webp");
    let accepted = [
        image(""),
        image("t_thumb/"),
        image("t_hidden80/"),
        image("c_scale,w_60/"),
        image("c_scale,w_50/"),
        signed("c_scale,w_100/pic.webp", Algorithm::Sha1, false),
        signed("c_scale,w_110/pic.webp", Algorithm::Sha256, false),
        signed("c_scale,w_120/pic.webp", Algorithm::Sha256, true),
    ];
    for path in &accepted {
        let (status, reason) = status_and_reason(&app, path).await;
        assert_eq!(status, 200, "{path}: {reason}");
    }
    let refused = [
        (
            image("c_scale,w_130/"),
            "Transformation c_scale,w_130 is not allowed",
        ),
        (
            image("c_scale,w_70/"),
            "Transformation c_scale,w_70 is not allowed",
        ),
        (
            image("t_thumb/e_grayscale/"),
            "Transformation t_thumb/e_grayscale is not allowed",
        ),
        (
            format!("/{CLOUD}/image/upload/pic.png"),
            "Delivery as .png is not allowed",
        ),
        (
            format!("/{CLOUD}/image/upload/s--AAAAAAAA--/c_scale,w_140/pic.webp"),
            "Invalid signature in the URL",
        ),
        (
            signed("c_scale,w_150/pic.webp", Algorithm::Sha1, false).replace("w_150", "w_151"),
            "Invalid signature in the URL",
        ),
    ];
    for (path, reason) in &refused {
        let (status, got) = status_and_reason(&app, path).await;
        assert_eq!(status, 401, "{path}: {got}");
        assert!(got.starts_with(reason), "{path}: {got}");
    }
    // Nothing was made for the refused requests.
    let made = made_for_pic(&app).await;
    for t in [
        "c_scale,w_130.webp",
        "c_scale,w_70.webp",
        "t_thumb/e_grayscale.webp",
        "c_scale,w_140.webp",
        ".png",
    ] {
        assert!(!made.contains(&t.to_string()), "{t} was made: {made:?}");
    }
}

#[tokio::test]
async fn eager_streams_play_and_others_are_refused_when_strict() {
    let app = spawn_app_with(|c| c.security.strict_transformations = true).await;
    let (status, body) = app
        .upload_file(
            "video",
            &media("portrait-720x1080-h264-aac.mp4"),
            &[("public_id", "clip"), ("eager", "sp_sd/m3u8")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, reason) =
        status_and_reason(&app, &format!("/{CLOUD}/video/upload/sp_sd/clip.m3u8")).await;
    assert_eq!(status, 200, "the eager stream: {reason}");
    let (status, reason) =
        status_and_reason(&app, &format!("/{CLOUD}/video/upload/sp_hd/clip.m3u8")).await;
    assert_eq!(status, 401, "{reason}");
    assert!(
        reason.starts_with("Transformation sp_hd is not allowed"),
        "{reason}"
    );
}
