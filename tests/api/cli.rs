//! `kino upload` and `kino url` against a running server, as a user at a terminal drives them:
//! credentials from CLOUDINARY_URL, chunked uploads for big files, signed URLs.

use std::process::Command;

use crate::helpers::{CLOUD, KEY, SECRET, make_clip, media, spawn_app};

fn kino(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kino"))
        .args(args)
        .env(
            "CLOUDINARY_URL",
            format!("cloudinary://{KEY}:{SECRET}@{CLOUD}"),
        )
        .env("RUST_LOG", "error")
        .output()
        .expect("kino runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn kino_upload_sends_a_file_in_chunks_and_kino_url_signs() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    // 1: one request; 2: three chunks of 1 MiB (the server joins them).
    let big = make_clip(dir.path(), "big.mp4", 40, true);
    let size = std::fs::metadata(&big).unwrap().len();
    assert!(size > 2 * 1024 * 1024, "{size}");
    let small = media("alpha-balloon.png");
    for (file, args) in [
        (
            &small,
            vec!["--public-id", "pic", "--resource-type", "image"],
        ),
        (&big, vec!["--public-id", "clip", "--chunk-mb", "1"]),
    ] {
        let file = file.to_str().unwrap();
        let mut all = vec!["upload", file, "--server", app.base.as_str()];
        all.extend(args);
        let (ok, stdout, stderr) = tokio::task::spawn_blocking({
            let all: Vec<String> = all.iter().map(|s| s.to_string()).collect();
            move || kino(&all.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .unwrap();
        assert!(ok, "{stderr}");
        let answer: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
        assert_eq!(
            answer["bytes"],
            std::fs::metadata(file).unwrap().len(),
            "{answer}"
        );
    }
    let r = app.get(&format!("/{CLOUD}/video/upload/clip.mp4")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len() as u64, size);

    // A private copy: the URL kino prints is refused unsigned and served signed.
    let (status, body) = app
        .upload_file(
            "image",
            &small,
            &[("public_id", "secret"), ("type", "private")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let url = |sign: &[&str]| {
        let mut args = vec![
            "url",
            "secret",
            "-t",
            "c_scale,w_20",
            "-f",
            "png",
            "--type",
            "private",
            "--server",
            app.base.as_str(),
        ];
        args.extend(sign);
        let (ok, stdout, stderr) = kino(&args);
        assert!(ok, "{stderr}");
        stdout.trim().to_string()
    };
    let unsigned = url(&[]);
    assert_eq!(
        unsigned,
        format!("{}/{CLOUD}/image/private/c_scale,w_20/secret.png", app.base)
    );
    assert_eq!(
        app.client.get(&unsigned).send().await.unwrap().status(),
        401
    );
    for sign in [&["--sign"][..], &["--sign", "--long-signature"][..]] {
        let signed = url(sign);
        let r = app.client.get(&signed).send().await.unwrap();
        assert_eq!(r.status(), 200, "{signed}");
    }
    // Without credentials the client says so instead of inventing some.
    let out = Command::new(env!("CARGO_BIN_EXE_kino"))
        .args(["url", "x", "--data-dir", dir.path().to_str().unwrap()])
        .env_remove("CLOUDINARY_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no credentials"));
}

/// `kino serve` with CLOUDINARY_URL on a data dir that does not exist yet: it makes the dir,
/// generates the account-level key there, prints it, and that key manages environments.
#[tokio::test]
async fn kino_serve_prints_a_working_account_key_on_a_fresh_data_dir() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh").join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kino"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rtmp-listen",
            "127.0.0.1:0",
        ])
        .args(["--srt-listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env(
            "CLOUDINARY_URL",
            format!("cloudinary://{KEY}:{SECRET}@{CLOUD}"),
        )
        .env_remove("CLOUDINARY_ACCOUNT_URL")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("kino starts");
    let stdout = child.stdout.take().expect("stdout");
    let lines = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.starts_with("kino listening on ");
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    })
    .await
    .unwrap();
    let value = |prefix: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::to_string)
    };
    let (Some(account_url), Some(base)) = (
        value("CLOUDINARY_ACCOUNT_URL="),
        value("kino listening on "),
    ) else {
        let _ = child.kill();
        panic!("kino serve printed {lines:?}");
    };
    assert!(data.join("provisioning.json").exists());
    let key = kino::account::AccountKey::from_account_url(&account_url).expect("a valid line");
    let listed: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{base}/v1_1/provisioning/accounts/{}/sub_accounts",
            key.account_id
        ))
        .basic_auth(&key.key, Some(key.secret.expose()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(listed["sub_accounts"][0]["cloud_name"], CLOUD, "{listed}");
}
