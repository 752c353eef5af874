//! The OpenAPI document at `/openapi.json` against the routes that exist: every documented
//! operation reaches a handler (not the "no route" or "method not allowed" fallbacks), and every
//! API route in `src/api` is documented.

use std::path::Path;

use serde_json::Value;

use crate::helpers::{CLOUD, KEY, SECRET, json_of, spawn_app};

/// A documented path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{cloud}" | "{account}" | "{environment}" => CLOUD,
            "{rt}" | "{resource_type}" => "image",
            "{dt}" => "upload",
            s if s.starts_with('{') => "sample",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the route template `route` (axum syntax) serves the documented path `doc`.
fn serves(route: &str, doc: &str) -> bool {
    let (r, d): (Vec<&str>, Vec<&str>) = (route.split('/').collect(), doc.split('/').collect());
    if r.last().is_some_and(|s| s.starts_with("{*")) {
        return d.len() >= r.len()
            && r[..r.len() - 1]
                .iter()
                .zip(&d)
                .all(|(a, b)| a == b || a.starts_with('{'));
    }
    r.len() == d.len() && r.iter().zip(&d).all(|(a, b)| a == b || a.starts_with('{'))
}

/// API route templates written in `src/api` (string literals of API paths).
fn routes_in_source() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for literal in text.split('"').skip(1).step_by(2) {
                    let api = literal.starts_with("/v1_1/") || literal.starts_with("/v2/");
                    if api && literal.matches('/').count() >= 3 && !literal.contains(' ') {
                        out.push(literal.to_string());
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api"),
        &mut out,
    );
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let app = spawn_app().await;
    let (status, doc) = json_of(app.get("/openapi.json").await).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            let url = format!("{}{}", app.base, concrete(path));
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .client
                .request(method.clone(), &url)
                .basic_auth(KEY, Some(SECRET))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                !message.starts_with("No route for")
                    && !message.starts_with("Method ")
                    && !message.starts_with("Unknown Upload API method"),
                "{method} {path}: {status} {message}"
            );
            assert!(status < 500, "{method} {path}: {status} {body}");
            operations += 1;
        }
    }
    assert!(operations >= 65, "{operations}");
}

#[tokio::test]
async fn every_api_route_is_documented() {
    let app = spawn_app().await;
    let (_, doc) = json_of(app.get("/openapi.json").await).await;
    let documented: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
    let routes = routes_in_source();
    assert!(routes.len() >= 20, "{routes:?}");
    for route in &routes {
        assert!(
            documented.iter().any(|d| serves(route, d)),
            "{route} is not in the OpenAPI document"
        );
    }
    // And the matching is not vacuous.
    assert!(serves(
        "/v1_1/{cloud}/{resource_type}/{action}",
        "/v1_1/{cloud}/{resource_type}/upload"
    ));
    assert!(serves(
        "/v1_1/{cloud}/folders/{*path}",
        "/v1_1/{cloud}/folders/{path}"
    ));
    assert!(!serves("/v1_1/{cloud}/ping", "/v1_1/{cloud}/usage"));
}
