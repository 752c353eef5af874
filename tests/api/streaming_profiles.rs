//! Streaming profiles over HTTP in the shapes other clients send: a JSON array of long-name
//! objects (the OpenAPI shape), Node's form body, and Node's `%2F`-encoded profile paths.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{error_message, spawn_app};

#[tokio::test]
async fn profiles_in_every_client_shape() {
    let app = spawn_app().await;
    // A JSON array with transformation arrays of long-name objects.
    let (status, body) = app
        .admin(
            Method::POST,
            "/streaming_profiles",
            Some(json!({
                "name": "square",
                "representations": [
                    {"transformation": [{"crop": "limit", "width": 1200, "height": 1200, "bit_rate": "5m"}]},
                    {"transformation": [{"crop": "limit", "width": 600, "height": 600, "bit_rate": "1m"}]}
                ]
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["representations"].as_array().map(Vec::len),
        Some(2)
    );
    // Node: a form body with representations as a JSON string.
    let (status, body) = app
        .admin_raw(
            "/streaming_profiles",
            "application/x-www-form-urlencoded",
            "name=custom&display_name=C&representations=%5B%7B%22transformation%22%3A%22br_3m%2Cc_limit%2Ch_720%2Cw_1280%22%7D%5D",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Node reads one profile at `streaming_profiles%2F<name>`.
    let (status, body) = app
        .admin(Method::GET, "/streaming_profiles%2Fcustom", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["representations"][0]["transformation"],
        json!([{"bit_rate": "3m", "crop": "limit", "height": 720, "width": 1280}])
    );
    // Refusals: a taken name, a predefined name, a bad ladder, an unknown profile.
    for (name, reps, status) in [
        ("custom", json!([{"transformation": "w_10"}]), 409),
        ("hd", json!([{"transformation": "w_10"}]), 409),
        ("bad", json!([{"transformation": "w_abc"}]), 400),
        ("empty", json!([]), 400),
        ("bad name", json!([{"transformation": "w_10"}]), 400),
    ] {
        let (got, body) = app
            .admin(
                Method::POST,
                "/streaming_profiles",
                Some(json!({"name": name, "representations": reps})),
            )
            .await;
        assert_eq!(got, status, "{name}: {body}");
        assert!(!error_message(&body).is_empty());
    }
    let (status, _) = app
        .admin(Method::GET, "/streaming_profiles/nope", None)
        .await;
    assert_eq!(status, 404);
    // A predefined profile can be changed (stored as an override) but not deleted.
    let (status, body) = app
        .admin(
            Method::PUT,
            "/streaming_profiles/sd",
            Some(json!({"display_name": "Small"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["predefined"], true);
    assert_eq!(
        body["data"]["representations"].as_array().map(Vec::len),
        Some(3)
    );
    let (status, body) = app
        .admin(Method::DELETE, "/streaming_profiles/sd", None)
        .await;
    assert_eq!(status, 400, "{body}");
}
