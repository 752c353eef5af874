//! Backups and restore, and auto-upload mappings: which files are kept, which go, and what a
//! restore or a mapped first request leaves in the catalog and the store.

use std::sync::atomic::Ordering;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{CLOUD, TestApp, error_message, ffprobe, file_server, media, spawn_app};

async fn upload(app: &TestApp, file: &str, public_id: &str, backup: &str) -> serde_json::Value {
    let (status, body) = app
        .upload_file(
            "image",
            &media(file),
            &[("public_id", public_id), ("backup", backup)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn original(app: &TestApp, public_id: &str) -> (u16, Vec<u8>) {
    let r = app.get(&format!("/{CLOUD}/image/upload/{public_id}")).await;
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn overwritten_and_deleted_backed_up_files_are_kept_and_restored() {
    let app = spawn_app().await;
    let first = upload(&app, "alpha-balloon.png", "kept", "true").await;
    let second = upload(&app, "photo-denali.webp", "kept", "true").await;
    assert_eq!(first["asset_id"], second["asset_id"]);
    assert_eq!(app.stored_blobs("demo/image").await.len(), 2, "both kept");

    let (status, details) = app
        .admin(
            Method::GET,
            "/resources/image/upload/kept?versions=true",
            None,
        )
        .await;
    assert_eq!(status, 200, "{details}");
    let versions = details["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["version_id"], second["version_id"]);
    assert_eq!(versions[0]["restorable"], false, "the current one");
    assert_eq!(versions[1]["restorable"], true);
    assert_eq!(versions[1]["format"], "png");

    // Restore the first version; the second stays backed up.
    let (status, restored) = app
        .admin(
            Method::POST,
            "/resources/image/upload/restore",
            Some(json!({"public_ids": ["kept"]})),
        )
        .await;
    assert_eq!(status, 200, "{restored}");
    assert_eq!(restored["kept"]["format"], "png");
    assert_eq!(restored["kept"]["etag"], first["etag"]);
    let (_, bytes) = original(&app, "kept.png").await;
    assert_eq!(bytes, std::fs::read(media("alpha-balloon.png")).unwrap());
    assert_eq!(app.stored_blobs("demo/image").await.len(), 2);

    // Deleted, then brought back by asset id.
    let (status, _) = app
        .admin(
            Method::DELETE,
            "/resources/image/upload?public_ids[]=kept",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(original(&app, "kept.png").await.0, 404);
    let (status, restored) = app
        .admin(
            Method::POST,
            "/resources/restore",
            Some(json!({"asset_ids": [first["asset_id"]], "versions": [second["version_id"]]})),
        )
        .await;
    assert_eq!(status, 200, "{restored}");
    let asset_id = first["asset_id"].as_str().unwrap();
    assert_eq!(restored[asset_id]["format"], "webp");
    let (status, bytes) = original(&app, "kept.webp").await;
    assert_eq!(status, 200);
    assert_eq!(bytes, std::fs::read(media("photo-denali.webp")).unwrap());

    // Deleting the backup of the version not in use lets its file go.
    let (status, body) = app
        .admin(
            Method::DELETE,
            &format!(
                "/resources/backup/{asset_id}?version_ids[]={}",
                first["version_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deleted_version_ids"], json!([first["version_id"]]));
    assert_eq!(app.stored_blobs("demo/image").await.len(), 1);
    // The file in use stays even when its backup row goes.
    let (status, _) = app
        .admin(
            Method::DELETE,
            &format!(
                "/resources/backup/{asset_id}?version_ids[]={}",
                second["version_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(original(&app, "kept.webp").await.0, 200);
    assert_eq!(app.stored_blobs("demo/image").await.len(), 1);
}

#[tokio::test]
async fn without_backup_replaced_files_go_and_restore_finds_nothing() {
    let app = spawn_app().await;
    upload(&app, "alpha-balloon.png", "plain", "false").await;
    let current = upload(&app, "photo-denali.webp", "plain", "false").await;
    assert_eq!(app.stored_blobs("demo/image").await.len(), 1);
    let (status, restored) = app
        .admin(
            Method::POST,
            "/resources/image/upload/restore",
            Some(json!({"public_ids": ["plain"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(restored["plain"], json!({"error": "no_backup"}));

    // A version that never existed is refused whole, and nothing changes.
    let (status, body) = app
        .admin(
            Method::POST,
            "/resources/image/upload/restore",
            Some(json!({"public_ids": ["plain"], "versions": ["0123456789abcdef"]})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(error_message(&body).contains("0123456789abcdef"), "{body}");
    let (_, details) = app
        .admin(Method::GET, "/resources/image/upload/plain", None)
        .await;
    assert_eq!(details["version"], current["version"]);
    assert_eq!(details["etag"], current["etag"]);
}

#[tokio::test]
async fn a_mapped_folder_pulls_missing_assets_from_its_origin_once() {
    let app = spawn_app().await;
    let (port, hits) = file_server().await;
    let template = format!("http://127.0.0.1:{port}");
    let (status, body) = app
        .admin(
            Method::POST,
            "/upload_mappings",
            Some(json!({"folder": "remote", "template": template})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "created");

    let r = app
        .get(&format!(
            "/{CLOUD}/image/upload/c_scale,w_64/remote/trips/denali.png"
        ))
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.headers().get("x-cld-error"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w64.png");
    std::fs::write(&out, r.bytes().await.unwrap()).unwrap();
    assert_eq!(ffprobe(&out)["streams"][0]["width"], 64);
    let (status, details) = app
        .admin(
            Method::GET,
            "/resources/image/upload/remote/trips/denali",
            None,
        )
        .await;
    assert_eq!(status, 200, "{details}");
    assert_eq!(details["format"], "webp", "what the origin sent");
    let r = app
        .get(&format!("/{CLOUD}/image/upload/remote/trips/denali.webp"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 1, "pulled once");

    // Outside the folder, and at a missing origin file: 404, nothing kept.
    assert_eq!(
        app.get(&format!("/{CLOUD}/image/upload/other/x.png"))
            .await
            .status(),
        404
    );
    let r = app
        .get(&format!("/{CLOUD}/image/upload/remote/missing/x.png"))
        .await;
    assert_eq!(r.status(), 404);
    assert!(
        !app.all_public_ids()
            .await
            .iter()
            .any(|p| p.contains("missing"))
    );
}

#[tokio::test]
async fn upload_mappings_are_managed_and_checked() {
    let app = spawn_app().await;
    for folder in ["b", "a", "c"] {
        let (status, _) = app
            .admin(
                Method::POST,
                "/upload_mappings",
                Some(json!({"folder": folder, "template": format!("https://{folder}.example/")})),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, page) = app
        .admin(Method::GET, "/upload_mappings?max_results=2", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["mappings"][0]["folder"], "a");
    assert_eq!(page["mappings"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .admin(
            Method::GET,
            &format!("/upload_mappings?next_cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(
        rest["mappings"],
        json!([{"folder": "c", "template": "https://c.example/"}])
    );

    let (status, body) = app
        .admin(
            Method::PUT,
            "/upload_mappings",
            Some(json!({"folder": "a", "template": "https://new.example/a/"})),
        )
        .await;
    assert_eq!((status, body["message"].as_str()), (200, Some("updated")));
    let (_, one) = app
        .admin(Method::GET, "/upload_mappings?folder=a", None)
        .await;
    assert_eq!(
        one,
        json!({"folder": "a", "template": "https://new.example/a/"})
    );
    let (status, _) = app
        .admin(Method::DELETE, "/upload_mappings?folder=a", None)
        .await;
    assert_eq!(status, 200);

    for (method, body, status, says) in [
        (
            Method::GET,
            None,
            404,
            "Upload mapping for folder a not found",
        ),
        (
            Method::POST,
            Some(json!({"folder": "b", "template": "https://x.example/"})),
            409,
            "already exists",
        ),
        (
            Method::POST,
            Some(json!({"folder": "d", "template": "ftp://x.example/"})),
            400,
            "an http or https URL prefix",
        ),
        (Method::POST, Some(json!({"folder": "d"})), 400, "template"),
        (Method::DELETE, None, 404, "not found"),
    ] {
        let path = if body.is_none() {
            "/upload_mappings?folder=a"
        } else {
            "/upload_mappings"
        };
        let (got, answer) = app.admin(method.clone(), path, body).await;
        assert_eq!(got, status, "{method} {answer}");
        assert!(error_message(&answer).contains(says), "{answer}");
    }
}
