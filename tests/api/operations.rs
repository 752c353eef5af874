//! Running Kino: request ids, `/metrics`, `/healthz` (alive) and `/readyz` (catalog and store
//! answer), and stopping with requests in flight. The fault tests in `scale` check `/readyz`
//! while a backend is down.

use crate::helpers::{CLOUD, json_of, media, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "trace-7f3a.1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["x-request-id"],
        "trace-7f3a.1",
        "the client's id is echoed"
    );

    let mut seen = std::collections::HashSet::new();
    for sent in [None, Some("has space"), Some("quote\"d")] {
        let mut req = app
            .client
            .get(format!("{}/{CLOUD}/image/upload/none.jpg", app.base));
        if let Some(id) = sent {
            req = req.header("x-request-id", id);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 404);
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(id.len(), 32, "a new id: {id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert!(seen.insert(id), "ids are not reused");
    }
}

#[tokio::test]
async fn readiness_says_the_catalog_and_store_answer() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.get("/readyz").await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "catalog": "ok", "store": "ok"})
    );
    let (status, body) = json_of(app.get("/healthz").await).await;
    assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})));
}

/// The value of the sample `name` (with its labels, as printed) on a metrics page.
fn sample(page: &str, name: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} not on the page:\n{page}"))
}

#[tokio::test]
async fn metrics_count_requests_bytes_transforms_and_cache_hits() {
    let app = spawn_app().await;
    let (status, body) = app
        .upload_file("image", &media("alpha-balloon.png"), &[("public_id", "b")])
        .await;
    assert_eq!(status, 200, "{body}");
    let mut sent = 0;
    for _ in 0..3 {
        let r = app.get(&format!("/{CLOUD}/image/upload/w_50/b.png")).await;
        assert_eq!(r.status(), 200);
        sent += r.bytes().await.unwrap().len();
    }
    assert_eq!(app.get("/nowhere").await.status(), 404);

    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let page = r.text().await.unwrap();
    let upload = r#"kino_http_requests_total{route="/v1_1/{cloud}/{resource_type}/{action}",method="POST",status="200"}"#;
    assert_eq!(sample(&page, upload), 1.0);
    let delivery =
        r#"kino_http_requests_total{route="/{cloud}/{rt}/{dt}/{*rest}",method="GET",status="200"}"#;
    assert_eq!(sample(&page, delivery), 3.0);
    assert_eq!(
        sample(
            &page,
            r#"kino_http_requests_total{route="unmatched",method="GET",status="404"}"#
        ),
        1.0
    );
    assert!(sample(&page, "kino_http_sent_bytes_total") >= sent as f64);
    // One transformation made, the two after it served from the store.
    assert_eq!(
        sample(&page, r#"kino_derived_lookups_total{found="made"}"#),
        1.0
    );
    assert_eq!(
        sample(&page, r#"kino_derived_lookups_total{found="stored"}"#),
        2.0
    );
    assert_eq!(sample(&page, "kino_transform_seconds_count"), 1.0);
    assert_eq!(
        sample(&page, r#"kino_transform_seconds_bucket{le="+Inf"}"#),
        1.0
    );
    assert!(sample(&page, "kino_transform_seconds_sum") > 0.0);
    assert_eq!(sample(&page, "kino_engine_queued"), 0.0);
    assert_eq!(sample(&page, "kino_live_sessions"), 0.0);
}

/// The Admin `config` call the CLI reads its folder mode from, on either catalog.
#[tokio::test]
async fn config_says_when_the_environment_began_and_its_folder_mode() {
    let app = spawn_app().await;
    let (status, body) = app
        .admin(reqwest::Method::GET, "/config?settings=true", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cloud_name"], CLOUD);
    assert_eq!(
        body["settings"],
        serde_json::json!({"folder_mode": "fixed"})
    );
    let created = body["created_at"].as_str().expect("created_at");
    let t = chrono::DateTime::parse_from_rfc3339(created).expect("RFC 3339");
    assert!(
        (chrono::Utc::now() - t.to_utc()).num_minutes().abs() < 60,
        "{created}"
    );
    let (_, plain) = app.admin(reqwest::Method::GET, "/config", None).await;
    assert!(plain.get("settings").is_none(), "{plain}");
}

/// A refused upload says `Connection: close`: its body may be left unread, so a keep-alive
/// client must not send its next request on that connection.
#[tokio::test]
async fn a_refused_upload_closes_its_connection() {
    let app = spawn_app().await;
    let form = reqwest::multipart::Form::new()
        .text("api_key", crate::helpers::KEY)
        .text("timestamp", crate::helpers::now().to_string())
        .text("signature", "0000")
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![0u8; 4096]).file_name("x.bin"),
        );
    let r = app
        .client
        .post(format!("{}/v1_1/{CLOUD}/image/upload", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["connection"], "close");
    // A good request keeps its connection.
    assert!(
        app.get("/healthz")
            .await
            .headers()
            .get("connection")
            .is_none()
    );
}

/// A request that never ends (an upload whose body stops coming) holds a stopping server only
/// for the grace period; then the server stops (without the deadline it waited for ever).
#[tokio::test]
async fn stopping_waits_for_requests_in_flight_only_for_the_grace_period() {
    use futures::StreamExt;
    let mut app = spawn_app_with(|c| c.shutdown_grace_secs = 1).await;
    let first: Result<bytes::Bytes, std::io::Error> = Ok(bytes::Bytes::from_static(b"--x\r\n"));
    let endless = futures::stream::iter([first]).chain(futures::stream::pending());
    let request = app
        .client
        .post(format!("{}/v1_1/{CLOUD}/image/upload", app.base))
        .header("content-type", "multipart/form-data; boundary=x")
        .body(reqwest::Body::wrap_stream(endless))
        .send();
    let in_flight = tokio::spawn(request);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!in_flight.is_finished(), "the upload is still sending");
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(30), app.shutdown()).await;
    assert!(stopped.is_ok(), "the server stopped after its grace period");
    // In the process, `kino serve` exits now; here the test's runtime still holds the
    // connection, so the client is let go of by hand.
    in_flight.abort();
}
