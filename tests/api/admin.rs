//! The Admin face's error shapes, auth, and a sabotaged catalog.

use reqwest::Method;

use crate::helpers::*;

#[tokio::test]
async fn every_rejection_is_json() {
    let app = spawn_app().await;
    // Unknown route.
    let (status, body) = json_of(app.get("/v1_1/demo/nothing/here/at/all").await).await;
    assert_eq!(status, 404);
    assert!(error_message(&body).contains("No route"), "{body}");
    // Wrong method.
    let r = app
        .client
        .put(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(r).await;
    assert_eq!(status, 405);
    assert!(error_message(&body).contains("not allowed"), "{body}");
    // Malformed JSON body.
    let (status, body) = app
        .admin_raw("/upload_presets", "application/json", "{not json")
        .await;
    assert_eq!(status, 400);
    assert!(
        error_message(&body).starts_with("Malformed JSON body"),
        "{body}"
    );
    // Wrong content type.
    let (status, body) = app
        .admin_raw("/upload_presets", "application/xml", "<a/>")
        .await;
    assert_eq!(status, 400);
    assert!(
        error_message(&body).contains("Unsupported content type"),
        "{body}"
    );
    // Oversize body.
    let small = spawn_app_with(|c| c.limits.max_form_bytes = 100).await;
    let oversize = serde_json::json!({"name": "x".repeat(500)});
    let (status, body) = small
        .admin(reqwest::Method::POST, "/upload_presets", Some(oversize))
        .await;
    assert_eq!(status, 400);
    assert!(
        error_message(&body).contains("larger than 100 bytes"),
        "{body}"
    );
}

#[tokio::test]
async fn admin_needs_the_right_credentials_and_cloud() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.get(&format!("/v1_1/{CLOUD}/ping")).await).await;
    assert_eq!(status, 401, "{body}");
    let r = app
        .client
        .get(format!("{}/v1_1/{CLOUD}/ping", app.base))
        .basic_auth(KEY, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await.0, 401);
    let r = app
        .client
        .get(format!("{}/v1_1/other/ping", app.base))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(r).await;
    assert_eq!(status, 401);
    assert_eq!(error_message(&body), "Invalid cloud_name other");
    assert_eq!(
        app.admin(Method::GET, "/ping", None).await,
        (200, serde_json::json!({"status": "ok"}))
    );
}

/// Node's Admin client encodes `/` inside path segments; both spellings reach the same asset.
#[tokio::test]
async fn percent_encoded_slashes_route_like_slashes() {
    let app = spawn_app().await;
    let (status, _) = app
        .upload_bytes("raw", b"x".to_vec(), "a.txt", &[("public_id", "a/b.txt")])
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .admin(Method::GET, "/resources/raw/upload/a%2Fb.txt", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["public_id"], "a/b.txt");
}

/// Sabotage: a broken catalog gives a clean, generic 500 JSON, never a panic or a leak.
#[tokio::test]
async fn a_damaged_catalog_is_a_clean_500() {
    let app = spawn_app().await;
    let (status, _) = app
        .upload_bytes("raw", b"x".to_vec(), "a.txt", &[("tags", "t")])
        .await;
    assert_eq!(status, 200);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url()).await.unwrap();
    sqlx::query("DROP TABLE asset_tags")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (status, body) = app
        .admin(Method::GET, "/resources/raw?tags=true", None)
        .await;
    assert_eq!(status, 500);
    assert_eq!(error_message(&body), "Internal server error");
    app.assert_alive().await;
}

/// A second API key opens the Admin API until it is disabled (on either database).
#[tokio::test]
async fn a_disabled_api_key_is_refused() {
    let app = spawn_app().await;
    let account = format!("{}/v1_1/provisioning/accounts/{ACCOUNT}", app.base);
    let listed: serde_json::Value = app
        .client
        .get(format!("{account}/sub_accounts"))
        .basic_auth(ACCOUNT_KEY, Some(ACCOUNT_SECRET))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let primary = listed["sub_accounts"][0]["id"].as_str().unwrap();
    let keys = format!("{account}/sub_accounts/{primary}/access_keys");
    let made: serde_json::Value = app
        .client
        .post(&keys)
        .basic_auth(ACCOUNT_KEY, Some(ACCOUNT_SECRET))
        .json(&serde_json::json!({"name": "second"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (key, secret) = (
        made["api_key"].as_str().unwrap(),
        made["api_secret"].as_str().unwrap(),
    );
    let ping = |k: String, s: String| {
        let request = app
            .client
            .get(format!("{}/v1_1/{CLOUD}/ping", app.base))
            .basic_auth(k, Some(s));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(ping(key.into(), secret.into()).await, 200);
    let disabled = app
        .client
        .put(format!("{keys}/{key}"))
        .basic_auth(ACCOUNT_KEY, Some(ACCOUNT_SECRET))
        .json(&serde_json::json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    assert_eq!(ping(key.into(), secret.into()).await, 401);
    assert_eq!(
        ping(KEY.into(), SECRET.into()).await,
        200,
        "the main key still works"
    );
}
