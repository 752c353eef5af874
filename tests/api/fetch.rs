//! The `fetch` delivery type: media at a user's URL delivered and transformed by URL, fetched
//! once through the remote-fetch guard and kept as an asset of type `fetch`.

use std::sync::atomic::Ordering;

use crate::helpers::{CLOUD, error_message, ffprobe, file_server, json_of, media, spawn_app};

#[tokio::test]
async fn a_remote_picture_is_fetched_once_then_served_and_transformed() {
    let app = spawn_app().await;
    let (port, hits) = file_server().await;
    let remote = format!("http://127.0.0.1:{port}/photos/denali.webp");
    let dir = tempfile::tempdir().unwrap();

    let r = app
        .get(&format!("/{CLOUD}/image/fetch/c_scale,w_50/{remote}"))
        .await;
    assert_eq!(r.status(), 200);
    let out = dir.path().join("w50.png");
    std::fs::write(&out, r.bytes().await.unwrap()).unwrap();
    assert_eq!(ffprobe(&out)["streams"][0]["width"], 50);
    // The original, byte for byte, and another size: no new request to the remote server.
    let r = app.get(&format!("/{CLOUD}/image/fetch/{remote}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().await.unwrap(),
        std::fs::read(media("photo-denali.webp")).unwrap()
    );
    let r = app
        .get(&format!("/{CLOUD}/image/fetch/c_scale,w_30/{remote}"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 1, "fetched once");

    // It is an asset of type fetch whose public id is the URL.
    let (status, list) = app
        .admin(reqwest::Method::GET, "/resources/image/fetch", None)
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["resources"][0]["public_id"], remote.as_str());
    assert_eq!(list["resources"][0]["type"], "fetch");
}

#[tokio::test]
async fn fetch_urls_that_are_private_missing_or_not_media_are_clear_errors() {
    let app = spawn_app().await;
    let (port, hits) = file_server().await;
    for (url, status, says) in [
        (
            "http://10.1.2.3/a.png".to_string(),
            400,
            "which Kino does not fetch from",
        ),
        (
            "http://169.254.169.254/latest/meta-data".to_string(),
            400,
            "which Kino does not fetch from",
        ),
        (
            format!("http://127.0.0.1:{port}/missing.png"),
            404,
            "Resource not found",
        ),
        (format!("http://127.0.0.1:{port}/text.png"), 400, ""),
        (
            "ftp://example.com/a.png".to_string(),
            400,
            "Invalid fetch URL",
        ),
    ] {
        let (got, body) = json_of(app.get(&format!("/{CLOUD}/image/fetch/w_10/{url}")).await).await;
        assert_eq!(got, status, "{url}: {body}");
        assert!(error_message(&body).contains(says), "{url}: {body}");
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "only the allowed server was asked, twice"
    );
    let (_, list) = app
        .admin(reqwest::Method::GET, "/resources/image/fetch", None)
        .await;
    assert_eq!(list["resources"], serde_json::json!([]), "nothing kept");
    app.assert_alive().await;
}
