//! Product environments: clouds made through the Provisioning API are served side by side
//! with the primary one, each with its own keys, assets and settings; renaming, disabling and
//! deleting one does what it says to its URLs, its keys and its stored files.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    ACCOUNT, ACCOUNT_KEY, ACCOUNT_SECRET, CLOUD, KEY, SECRET, TestApp, error_message, ffprobe,
    json_of, media, spawn_app,
};

/// A Provisioning API call with the account-level key.
async fn provisioning(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(
            method,
            format!("{}/v1_1/provisioning/accounts/{ACCOUNT}{path}", app.base),
        )
        .basic_auth(ACCOUNT_KEY, Some(ACCOUNT_SECRET));
    if let Some(b) = body {
        request = request.json(&b);
    }
    json_of(request.send().await.expect("request")).await
}

/// An Admin API call to `cloud` with `key` and `secret`; the status.
async fn admin_status(app: &TestApp, cloud: &str, (key, secret): (&str, &str), path: &str) -> u16 {
    app.client
        .get(format!("{}/v1_1/{cloud}{path}", app.base))
        .basic_auth(key, Some(secret))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// The main key and secret of a rendered environment.
fn main_key(env: &Value) -> (String, String) {
    let key = &env["api_access_keys"][0];
    (
        key["key"].as_str().expect("key").to_string(),
        key["secret"].as_str().expect("secret").to_string(),
    )
}

/// Makes an environment from `body`; returns it rendered, after checking the answer.
async fn create(app: &TestApp, body: Value) -> Value {
    let (status, env) = provisioning(app, Method::POST, "/sub_accounts", Some(body)).await;
    assert_eq!(status, 200, "{env}");
    env
}

/// Uploads `photo-denali.webp` as `public_id` into `cloud` with its keys.
async fn upload_into(app: &TestApp, cloud: &str, keys: (&str, &str), public_id: &str) -> Value {
    let (status, up) = app
        .upload_to(
            cloud,
            keys,
            "image",
            &media("photo-denali.webp"),
            &[("public_id", public_id)],
        )
        .await;
    assert_eq!(status, 200, "{up}");
    up
}

/// The id of the primary environment.
async fn primary_id(app: &TestApp) -> String {
    let (_, listed) = provisioning(app, Method::GET, "/sub_accounts", None).await;
    listed["sub_accounts"][0]["id"]
        .as_str()
        .expect("id")
        .to_string()
}

/// Width and height of a delivered picture, decoded.
async fn delivered_size(app: &TestApp, path: &str) -> Result<(u32, u32), u16> {
    let r = app.get(path).await;
    let status = r.status().as_u16();
    if status != 200 {
        return Err(status);
    }
    let bytes = r.bytes().await.expect("body");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("delivered.png");
    std::fs::write(&file, &bytes).expect("write");
    let stream = &ffprobe(&file)["streams"][0];
    let size = |k: &str| {
        stream[k]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .expect("a size")
    };
    Ok((size("width"), size("height")))
}

#[tokio::test]
async fn a_new_environment_gets_its_own_cloud_and_keys() {
    let app = spawn_app().await;
    let shop = create(
        &app,
        json!({"name": "Shop EU", "cloud_name": "Shop_EU", "custom_attributes": {"region": "eu"}}),
    )
    .await;
    assert_eq!(shop["cloud_name"], "shop_eu", "cloud names are lower-cased");
    assert_eq!(shop["enabled"], true);
    assert_eq!(shop["custom_attributes"], json!({"region": "eu"}));
    assert_eq!(shop["id"].as_str().map(str::len), Some(32));
    assert_ne!(main_key(&shop).0, KEY);
    let made = create(&app, json!({"name": "My Product (2)"})).await;
    let cloud = made["cloud_name"].as_str().expect("a cloud name");
    assert!(
        cloud.starts_with("my-product-2-"),
        "made from the name: {cloud}"
    );

    let (_, listed) = provisioning(&app, Method::GET, "/sub_accounts", None).await;
    let clouds: Vec<&str> = listed["sub_accounts"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["cloud_name"].as_str())
        .collect();
    assert_eq!(clouds, [CLOUD, "shop_eu", cloud]);
    let (status, body) = provisioning(
        &app,
        Method::POST,
        "/sub_accounts",
        Some(json!({"name": "again", "cloud_name": "shop_eu"})),
    )
    .await;
    assert_eq!(status, 409, "a taken cloud name: {body}");
}

#[tokio::test]
async fn assets_and_keys_stay_in_their_environment() {
    let app = spawn_app().await;
    let shop = create(&app, json!({"name": "Shop", "cloud_name": "shop"})).await;
    let (key, secret) = main_key(&shop);
    let up = upload_into(&app, "shop", (&key, &secret), "mountain").await;
    assert!(
        up["secure_url"]
            .as_str()
            .unwrap_or_default()
            .contains("/shop/image/upload/"),
        "{up}"
    );
    assert_eq!(up["api_key"], key.as_str());
    assert_eq!(
        delivered_size(&app, "/shop/image/upload/w_40,h_30,c_fill/mountain.png").await,
        Ok((40, 30))
    );
    assert_eq!(
        delivered_size(&app, &format!("/{CLOUD}/image/upload/mountain.png")).await,
        Err(404),
        "the primary cloud has no such asset"
    );
    assert_eq!(app.stored_blobs("shop/").await.len(), 1);

    assert_eq!(
        admin_status(&app, "shop", (&key, &secret), "/resources/image").await,
        200
    );
    assert_eq!(
        admin_status(&app, "shop", (KEY, SECRET), "/resources/image").await,
        401
    );
    assert_eq!(
        admin_status(&app, CLOUD, (&key, &secret), "/resources/image").await,
        401
    );
    let (status, body) = app.admin(Method::GET, "/resources/image", None).await;
    assert_eq!(status, 200);
    assert!(
        body["resources"].as_array().expect("a list").is_empty(),
        "{body}"
    );
}

#[tokio::test]
async fn only_the_account_key_manages_environments() {
    let app = spawn_app().await;
    let list = |account: &str, (key, secret): (&str, &str)| {
        app.client
            .get(format!(
                "{}/v1_1/provisioning/accounts/{account}/sub_accounts",
                app.base
            ))
            .basic_auth(key, Some(secret))
            .send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(
            list(ACCOUNT, (ACCOUNT_KEY, ACCOUNT_SECRET))
                .await
                .expect("request")
        ),
        200
    );
    assert_eq!(
        status(list(ACCOUNT, (KEY, SECRET)).await.expect("request")),
        401,
        "an environment's key is not the account's"
    );
    assert_eq!(
        status(
            list("someone-else", (ACCOUNT_KEY, ACCOUNT_SECRET))
                .await
                .expect("request")
        ),
        404
    );
    assert_eq!(
        admin_status(&app, "nowhere", (KEY, SECRET), "/ping").await,
        401
    );
}

#[tokio::test]
async fn a_base_environment_lends_its_settings_and_a_rename_moves_everything() {
    let app = spawn_app().await;
    let (status, _) = app
        .admin(
            Method::POST,
            "/transformations/thumb",
            Some(json!({"transformation": "w_16,h_16,c_fill"})),
        )
        .await;
    assert_eq!(status, 200);
    let env = create(
        &app,
        json!({"name": "Staging", "cloud_name": "staging", "base_sub_account_id": primary_id(&app).await}),
    )
    .await;
    let id = env["id"].as_str().expect("id");
    let (key, secret) = main_key(&env);
    upload_into(&app, "staging", (&key, &secret), "a").await;
    assert_eq!(
        delivered_size(&app, "/staging/image/upload/t_thumb/a.png").await,
        Ok((16, 16)),
        "the named transformation came with the copied settings"
    );

    let (status, renamed) = provisioning(
        &app,
        Method::PUT,
        &format!("/sub_accounts/{id}"),
        Some(json!({"cloud_name": "preprod", "name": "Pre-production"})),
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["cloud_name"], "preprod");
    assert_eq!(renamed["name"], "Pre-production");
    assert!(
        delivered_size(&app, "/preprod/image/upload/t_thumb/a.png")
            .await
            .is_ok()
    );
    assert_eq!(
        delivered_size(&app, "/staging/image/upload/a.png").await,
        Err(404)
    );
    assert_eq!(
        admin_status(
            &app,
            "preprod",
            (&key, &secret),
            "/resources/image/upload/a"
        )
        .await,
        200,
        "the asset and the keys moved"
    );
}

#[tokio::test]
async fn a_disabled_environment_is_refused_until_enabled() {
    let app = spawn_app().await;
    let env = create(&app, json!({"name": "Paused", "cloud_name": "paused"})).await;
    let id = env["id"].as_str().expect("id");
    let (key, secret) = main_key(&env);
    let keys = (key.as_str(), secret.as_str());
    upload_into(&app, "paused", keys, "a").await;
    let path = format!("/sub_accounts/{id}");
    let toggle =
        |enabled: Value| provisioning(&app, Method::PUT, &path, Some(json!({"enabled": enabled})));
    // The SDKs send booleans as text.
    assert_eq!(toggle(json!("false")).await.0, 200);
    assert_eq!(
        delivered_size(&app, "/paused/image/upload/a.png").await,
        Err(403)
    );
    assert_eq!(admin_status(&app, "paused", keys, "/ping").await, 403);
    assert_eq!(toggle(json!(true)).await.0, 200);
    assert_eq!(admin_status(&app, "paused", keys, "/ping").await, 200);
    assert!(
        delivered_size(&app, "/paused/image/upload/a.png")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_primary_environment_stays_and_bad_changes_change_nothing() {
    let app = spawn_app().await;
    let primary = primary_id(&app).await;
    for change in [json!({"enabled": false}), json!({"cloud_name": "other"})] {
        let (status, body) = provisioning(
            &app,
            Method::PUT,
            &format!("/sub_accounts/{primary}"),
            Some(change),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(error_message(&body).contains("primary"), "{body}");
    }
    let (status, _) = provisioning(
        &app,
        Method::DELETE,
        &format!("/sub_accounts/{primary}"),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(admin_status(&app, CLOUD, (KEY, SECRET), "/ping").await, 200);

    let env = create(&app, json!({"name": "Kept", "cloud_name": "kept"})).await;
    let id = env["id"].as_str().expect("id");
    for bad in [
        json!({"cloud_name": "has space"}),
        json!({"enabled": "maybe"}),
        json!({"custom_attributes": [1]}),
        json!({"name": "   "}),
    ] {
        let (status, body) =
            provisioning(&app, Method::PUT, &format!("/sub_accounts/{id}"), Some(bad)).await;
        assert_eq!(status, 400, "{body}");
    }
    let (_, after) = provisioning(&app, Method::GET, &format!("/sub_accounts/{id}"), None).await;
    assert_eq!(after, env, "nothing changed");
    let (status, _) = provisioning(
        &app,
        Method::POST,
        "/sub_accounts",
        Some(json!({"cloud_name": "nameless"})),
    )
    .await;
    assert_eq!(status, 400, "a name is required");
    let (status, _) = provisioning(&app, Method::GET, "/sub_accounts/0123", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_deleted_environment_takes_its_files_with_it() {
    let app = spawn_app().await;
    let env = create(&app, json!({"name": "Gone", "cloud_name": "gone"})).await;
    let id = env["id"].as_str().expect("id");
    let (key, secret) = main_key(&env);
    let keys = (key.as_str(), secret.as_str());
    upload_into(&app, "gone", keys, "a").await;
    assert!(
        delivered_size(&app, "/gone/image/upload/w_10/a.png")
            .await
            .is_ok()
    );
    assert!(!app.stored_blobs("").await.is_empty());

    let (status, body) =
        provisioning(&app, Method::DELETE, &format!("/sub_accounts/{id}"), None).await;
    assert_eq!((status, body), (200, json!({"message": "ok"})));
    assert_eq!(
        delivered_size(&app, "/gone/image/upload/a.png").await,
        Err(404)
    );
    assert_eq!(admin_status(&app, "gone", keys, "/ping").await, 401);
    assert_eq!(
        app.stored_blobs("").await,
        Vec::<String>::new(),
        "its original and derived files were deleted (the primary environment has none)"
    );
    let (status, _) = provisioning(&app, Method::GET, &format!("/sub_accounts/{id}"), None).await;
    assert_eq!(status, 404);
    assert_eq!(admin_status(&app, CLOUD, (KEY, SECRET), "/ping").await, 200);
}
