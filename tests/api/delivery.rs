//! Delivery of originals: Range, conditional requests, caching, signatures, errors.

use reqwest::header;

use crate::helpers::*;

async fn uploaded_video(app: &TestApp) -> (serde_json::Value, Vec<u8>) {
    let path = media("landscape-540p-h264-aac-flower.mp4");
    let (status, body) = app
        .upload_file("video", &path, &[("public_id", "flower")])
        .await;
    assert_eq!(status, 200, "{body}");
    (body, std::fs::read(path).unwrap())
}

#[tokio::test]
async fn ranges() {
    let app = spawn_app().await;
    let (body, bytes) = uploaded_video(&app).await;
    let url = body["url"].as_str().unwrap().to_string();
    let len = bytes.len();

    let full = app.client.get(&url).send().await.unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(full.headers()[header::ACCEPT_RANGES], "bytes");
    assert!(
        full.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable"),
        "versioned URL"
    );
    assert_eq!(full.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let part = app
        .client
        .get(&url)
        .header(header::RANGE, "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()[header::CONTENT_RANGE],
        format!("bytes 100-199/{len}").as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[100..200]);

    let tail = app
        .client
        .get(&url)
        .header(header::RANGE, "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &bytes[len - 10..]);

    let beyond = app
        .client
        .get(&url)
        .header(header::RANGE, format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(
        beyond.headers()[header::CONTENT_RANGE],
        format!("bytes */{len}").as_str()
    );
}

#[tokio::test]
async fn conditional_requests_head_and_unversioned_urls() {
    let app = spawn_app().await;
    let (body, bytes) = uploaded_video(&app).await;
    let url = body["url"].as_str().unwrap().to_string();
    let len = bytes.len();
    let full = app.client.get(&url).send().await.unwrap();
    let etag = full.headers()[header::ETAG].to_str().unwrap().to_string();
    let modified = full.headers()[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_string();

    let cached = app
        .client
        .get(&url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    let cached = app
        .client
        .get(&url)
        .header(header::IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    let head = app.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()[header::CONTENT_LENGTH],
        len.to_string().as_str()
    );
    assert!(head.bytes().await.unwrap().is_empty());

    // Without a version the URL still works but is not immutable.
    let plain = app.get(&format!("/{CLOUD}/video/upload/flower.mp4")).await;
    assert_eq!(plain.status(), 200);
    assert!(
        !plain.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
}

#[tokio::test]
async fn delivery_errors_carry_x_cld_error() {
    let app = spawn_app().await;
    uploaded_video(&app).await;
    let cases = [
        (
            format!("/{CLOUD}/video/upload/missing.mp4"),
            404,
            "Resource not found - missing",
        ),
        (
            format!("/{CLOUD}/video/upload/flower.docx"),
            400,
            "Invalid extension in transformation: docx",
        ),
        (
            format!("/{CLOUD}/video/upload/w_100,c_nope/flower.mp4"),
            400,
            "Invalid transformation parameter \"c_nope\"",
        ),
        (
            format!("/{CLOUD}/sound/upload/flower.mp4"),
            400,
            "Invalid resource type",
        ),
        (
            "/nobody/video/upload/flower.mp4".to_string(),
            404,
            "Unknown customer nobody",
        ),
    ];
    for (path, status, message) in cases {
        let r = app.get(&path).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        let header = r.headers()["x-cld-error"].to_str().unwrap().to_string();
        assert!(header.starts_with(message), "{path}: {header}");
        let (_, body) = json_of(r).await;
        assert!(error_message(&body).starts_with(message), "{path}: {body}");
    }
}

#[tokio::test]
async fn private_and_authenticated_originals_need_a_signature() {
    let app = spawn_app().await;
    let (status, body) = app
        .upload_bytes(
            "raw",
            b"secret bytes".to_vec(),
            "s.txt",
            &[("public_id", "s.txt"), ("type", "authenticated")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The upload response's URL is signed and works.
    let signed = body["url"].as_str().unwrap();
    assert!(signed.contains("/raw/authenticated/s--"), "{signed}");
    assert_eq!(
        app.client
            .get(signed)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "secret bytes"
    );
    let unsigned = app.get(&format!("/{CLOUD}/raw/authenticated/s.txt")).await;
    assert_eq!(unsigned.status(), 401);
    let forged = app
        .get(&format!("/{CLOUD}/raw/authenticated/s--AAAAAAAA--/s.txt"))
        .await;
    assert_eq!(forged.status(), 401);
    // The same id under `upload` does not exist.
    assert_eq!(
        app.get(&format!("/{CLOUD}/raw/upload/s.txt"))
            .await
            .status(),
        404
    );
}
