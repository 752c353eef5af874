//! The remote fetch guard, as an attacker would probe it: uploads from URLs that point at the
//! server's own machine or the networks behind it are refused before any connection, in every
//! spelling of the address, and redirects are checked again.

use std::sync::atomic::Ordering;

use reqwest::multipart::Form;

use crate::helpers::{CLOUD, SECRET, TestApp, error_message, file_server, spawn_app_with};

async fn upload_from(app: &TestApp, url: &str) -> (u16, serde_json::Value) {
    let mut form = Form::new();
    for (k, v) in app.signed(&[("file", url)], SECRET) {
        form = form.text(k, v);
    }
    app.post_form(&format!("/v1_1/{CLOUD}/image/upload"), form)
        .await
}

#[tokio::test]
async fn urls_to_this_machine_or_private_networks_are_refused_in_every_spelling() {
    let app = spawn_app_with(|c| c.fetch.allow_networks = String::new()).await;
    let (port, hits) = file_server().await;
    let urls = [
        format!("http://127.0.0.1:{port}/ok.jpg"),
        format!("http://localhost:{port}/ok.jpg"),
        format!("http://[::1]:{port}/ok.jpg"),
        format!("http://[::ffff:127.0.0.1]:{port}/ok.jpg"),
        format!("http://[::ffff:7f00:1]:{port}/ok.jpg"),
        format!("http://[64:ff9b::7f00:1]:{port}/ok.jpg"),
        format!("http://2130706433:{port}/ok.jpg"),
        format!("http://0x7f.1:{port}/ok.jpg"),
        format!("http://0177.0.0.1:{port}/ok.jpg"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/x.jpg".to_string(),
        "http://192.168.1.1/x.jpg".to_string(),
        "http://100.64.0.1/x.jpg".to_string(),
        "http://[fd00::1]/x.jpg".to_string(),
        "http://[fe80::1]/x.jpg".to_string(),
        "http://0.0.0.0/x.jpg".to_string(),
    ];
    for url in &urls {
        let (status, body) = upload_from(&app, url).await;
        assert_eq!(status, 400, "{url}: {body}");
        let message = error_message(&body);
        assert!(
            message.starts_with(&format!("Error in loading {url} - "))
                && message.ends_with("which Kino does not fetch from"),
            "{url}: {message}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no connection was made");
    assert!(app.all_public_ids().await.is_empty());
}

#[tokio::test]
async fn an_allowed_network_is_fetched_and_redirects_are_checked_again() {
    let app = spawn_app_with(|c| c.fetch.allow_networks = "127.0.0.1/32".into()).await;
    let (port, _) = file_server().await;
    let (status, body) = upload_from(&app, &format!("http://127.0.0.1:{port}/ok.jpg")).await;
    assert_eq!(status, 200, "an allowed network: {body}");

    let cases = [
        (
            format!("http://127.0.0.2:{port}/ok.jpg"),
            "127.0.0.2 is a loopback address",
        ),
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "169.254.169.254 is a link-local address",
        ),
        // reqwest does not follow other schemes: the redirect itself is the answer.
        (
            "file:///etc/passwd".to_string(),
            "server answered 302 Found",
        ),
    ];
    for (target, reason) in &cases {
        let url = format!("http://127.0.0.1:{port}/to?{target}");
        let (status, body) = upload_from(&app, &url).await;
        assert_eq!(status, 400, "{url}: {body}");
        let message = error_message(&body);
        assert!(message.contains(reason), "{url}: {message}");
    }
    let ids = app.all_public_ids().await;
    assert_eq!(ids.len(), 1, "only the allowed upload was stored: {ids:?}");
}
