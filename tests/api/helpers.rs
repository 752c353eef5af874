//! `spawn_app()` and one helper per endpoint, so tests read as what a user does.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use kino::account::{Account, AccountKey, Secret};
use kino::config::Config;
use kino::params::Params;
use kino::signing::{Algorithm, Version, hex_digest, string_to_sign};
use kino::startup::App;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

pub const CLOUD: &str = "demo";
pub const KEY: &str = "123456789012345";
pub const SECRET: &str = "test-secret-abcdef";
/// The account-level (provisioning) credentials and account id.
pub const ACCOUNT: &str = "acct-0001";
pub const ACCOUNT_KEY: &str = "987654321098765";
pub const ACCOUNT_SECRET: &str = "account-secret-ghijkl";

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        kino::telemetry::init();
    }
});

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub backends: Backends,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts Kino with a config adjusted by `adjust` (limits, for instance).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    LazyLock::force(&TRACING);
    let dir = tempfile::tempdir().expect("temp dir");
    let backends = Backends::fresh().await;
    start(dir, backends, adjust).await
}

/// Starts another node on `backends` (shared with a running app), with its own data dir.
pub async fn spawn_node(backends: &Backends) -> TestApp {
    LazyLock::force(&TRACING);
    let dir = tempfile::tempdir().expect("temp dir");
    start(dir, backends.clone(), |_| {}).await
}

/// Where an app keeps its catalog and blobs: SQLite and a directory in its data dir, unless
/// `scripts/backends.sh` runs the tests, when each app gets its own PostgreSQL database (and
/// its own S3 bucket).
#[derive(Debug, Clone, Default)]
pub struct Backends {
    pub database_url: Option<String>,
    pub storage: Option<String>,
}

impl Backends {
    /// True when `scripts/backends.sh` runs the tests (PostgreSQL and S3 are up).
    pub fn shared() -> bool {
        std::env::var_os("KINO_TEST_POSTGRES").is_some()
            && std::env::var_os("KINO_TEST_S3").is_some()
    }

    pub async fn fresh() -> Backends {
        let mut backends = Backends::default();
        if let Ok(server) = std::env::var("KINO_TEST_POSTGRES") {
            let name = format!("kino_{}", random_hex(12));
            let mut admin =
                <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{server}/postgres"))
                    .await
                    .expect("the test PostgreSQL server answers");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .expect("a test database is created");
            backends.database_url = Some(format!("{server}/{name}"));
        }
        if let Ok(endpoint) = std::env::var("KINO_TEST_S3") {
            // Kino creates the bucket when it opens the store.
            backends.storage = Some(format!(
                "s3://kino-{}?endpoint={endpoint}&region=us-east-1&path_style=true",
                random_hex(12)
            ));
        }
        backends
    }
}

pub fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rand::random::<u32>() % 16, 16).unwrap_or('0'))
        .collect()
}

async fn start(
    dir: tempfile::TempDir,
    backends: Backends,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        database_url: backends.database_url.clone(),
        storage: backends.storage.clone(),
        ..Config::default()
    };
    // Uploads are probed by the kino binary built with these tests (the test binary is not one).
    config.isolation.worker = Some(PathBuf::from(env!("CARGO_BIN_EXE_kino")));
    // The tests' own file servers listen on 127.0.0.1; other special addresses stay refused.
    config.fetch.allow_networks = "127.0.0.1".into();
    // Live ingest on free ports too: tests run side by side.
    config.live.rtmp_listen = "127.0.0.1:0".into();
    config.live.srt_listen = "127.0.0.1:0".into();
    adjust(&mut config);
    let account = Account {
        cloud_name: CLOUD.into(),
        api_key: KEY.into(),
        api_secret: Secret::new(SECRET),
    };
    let account_key = AccountKey {
        account_id: ACCOUNT.into(),
        key: ACCOUNT_KEY.into(),
        secret: Secret::new(ACCOUNT_SECRET),
    };
    let app = App::build(config, account, account_key)
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = rx.await;
    }));
    TestApp {
        base,
        client: reqwest::Client::new(),
        dir,
        backends,
        stop: Some(tx),
        handle: Some(handle),
    }
}

impl TestApp {
    /// Stops gracefully and starts again on the same data dir (a new port).
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// Stops gracefully and starts again on the same data dir with settings changed.
    pub async fn restart_with(mut self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        self.shutdown().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        start(dir, self.backends.clone(), adjust).await
    }

    pub async fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server stops cleanly");
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Keys of the blobs stored under `prefix` (`""` for all), in whichever store the app uses.
    pub async fn stored_blobs(&self, prefix: &str) -> Vec<String> {
        match self.backends.storage.as_deref() {
            Some(url) if url.starts_with("s3://") => list_bucket(url, prefix).await,
            _ => {
                let root = self.data_dir().join("blobs");
                let mut files = Vec::new();
                walk_files(&root, &mut files);
                let mut keys: Vec<String> = files
                    .iter()
                    .filter_map(|f| f.strip_prefix(&root).ok())
                    .map(|k| k.to_string_lossy().into_owned())
                    .filter(|k| k.starts_with(prefix))
                    .collect();
                keys.sort();
                keys
            }
        }
    }

    /// The catalog this app runs on.
    pub fn database_url(&self) -> String {
        self.backends
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir().join("kino.db").display()))
    }

    /// Files left in the staging area (must be none after any request).
    pub fn staging_leftovers(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.data_dir().join("tmp"))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }

    /// Signs `fields` as the SDKs do and adds `api_key`, `timestamp` (unless given) and `signature`.
    pub fn signed(&self, fields: &[(&str, &str)], secret: &str) -> Vec<(String, String)> {
        signed_with(fields, KEY, secret)
    }

    /// A signed multipart upload of the file at `path` to `cloud` with its `key` and `secret`.
    pub async fn upload_to(
        &self,
        cloud: &str,
        (key, secret): (&str, &str),
        resource_type: &str,
        path: &Path,
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut form = Form::new();
        for (k, v) in signed_with(fields, key, secret) {
            form = form.text(k, v);
        }
        let bytes = std::fs::read(path).expect("read media");
        form = form.part("file", Part::bytes(bytes).file_name("upload"));
        self.post_form(&format!("/v1_1/{cloud}/{resource_type}/upload"), form)
            .await
    }
}

/// `fields` signed as the SDKs sign them with `key` and `secret`.
pub fn signed_with(fields: &[(&str, &str)], key: &str, secret: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !pairs.iter().any(|(k, _)| k == "timestamp") {
        pairs.push(("timestamp".into(), chrono_now().to_string()));
    }
    let mut params = Params::new();
    for (k, v) in &pairs {
        params.push(k, v.clone());
    }
    let text = string_to_sign(&params, Version::V2);
    pairs.push((
        "signature".into(),
        hex_digest(&text, secret, Algorithm::Sha1),
    ));
    pairs.push(("api_key".into(), key.into()));
    pairs
}

impl TestApp {
    /// A signed multipart upload of `bytes` named `filename`.
    pub async fn upload_bytes(
        &self,
        resource_type: &str,
        bytes: Vec<u8>,
        filename: &str,
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut form = Form::new();
        for (k, v) in self.signed(fields, SECRET) {
            form = form.text(k, v);
        }
        form = form.part("file", Part::bytes(bytes).file_name(filename.to_string()));
        self.post_form(&format!("/v1_1/{CLOUD}/{resource_type}/upload"), form)
            .await
    }

    pub async fn upload_file(
        &self,
        resource_type: &str,
        path: &Path,
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        let bytes = std::fs::read(path).expect("read media");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("file")
            .to_string();
        self.upload_bytes(resource_type, bytes, &name, fields).await
    }

    pub async fn post_form(&self, path: &str, form: Form) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .await
            .expect("request");
        json_of(r).await
    }

    /// An Admin API call with basic auth.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, format!("{}/v1_1/{CLOUD}{path}", self.base))
            .basic_auth(KEY, Some(SECRET));
        if let Some(b) = body {
            req = req.json(&b);
        }
        json_of(req.send().await.expect("request")).await
    }

    /// An Admin API POST with basic auth and a body of any content type.
    pub async fn admin_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &'static str,
    ) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/v1_1/{CLOUD}{path}", self.base))
            .basic_auth(KEY, Some(SECRET))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        json_of(r).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }

    /// Public ids of every image, video and raw asset (to prove nothing was stored).
    pub async fn all_public_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for rt in ["image", "video", "raw"] {
            let (status, body) = self
                .admin(
                    reqwest::Method::GET,
                    &format!("/resources/{rt}?max_results=500"),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            for r in body["resources"].as_array().into_iter().flatten() {
                ids.push(r["public_id"].as_str().unwrap_or_default().to_string());
            }
        }
        ids
    }

    pub async fn assert_alive(&self) {
        assert_eq!(
            self.get("/healthz").await.status(),
            200,
            "server must keep serving"
        );
    }
}

pub async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

/// The `error.message` of an error body (panics when the shape is wrong).
pub fn error_message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
        .to_string()
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub fn now() -> i64 {
    chrono_now()
}

pub fn media(name: &str) -> PathBuf {
    let dir = std::env::var("KINO_MEDIA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/media"));
    let path = dir.join(name);
    assert!(path.exists(), "test media missing: {}", path.display());
    path
}

/// Runs the ffmpeg CLI (installed by `make test`'s setup step); panics with its stderr.
pub fn ffmpeg(args: &[&str]) {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed (make setup)");
    assert!(
        out.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `ffprobe` JSON of a file.
pub fn ffprobe(path: &Path) -> Value {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .expect("ffprobe is installed (make setup)");
    assert!(out.status.success(), "ffprobe failed on {}", path.display());
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

/// A short generated H.264/AAC clip; `faststart` puts the index first.
pub fn make_clip(dir: &Path, name: &str, seconds: u32, faststart: bool) -> PathBuf {
    let path = dir.join(name);
    let t = seconds.to_string();
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-t",
        &t,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
    ];
    if faststart {
        args.extend(["-movflags", "+faststart"]);
    }
    let out = path.to_str().expect("utf-8 path").to_string();
    args.push(&out);
    ffmpeg(&args);
    path
}

/// The plan the server would make for `transformation` of a local `path` as `.{ext}` (no
/// layers, no analyses).
pub fn plan_of(path: &Path, transformation: &str, ext: &str) -> kino::plan::Plan {
    kino::engine::init().expect("libav");
    let info = kino::engine::probe(path, None, u64::MAX).expect("probe");
    let ctx = kino::plan::Context {
        base: kino::plan::Source {
            path: path.to_string_lossy().into_owned(),
            media: kino::service::transform::media_of(&info),
        },
        layers: std::collections::HashMap::new(),
        font_dir: kino::service::transform::FONT_DIR.into(),
        max_dimension: 8192,
        focus: None,
        faces: Vec::new(),
        trim: None,
        edge_color: None,
    };
    let t = kino::url::Transformation::parse_str(transformation).expect("transformation");
    kino::plan::build(&kino::url::steps(&t).expect("steps"), ext, &ctx).expect("plan")
}

fn walk_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every key under `prefix` in the bucket of an `s3://` storage URL.
async fn list_bucket(storage: &str, prefix: &str) -> Vec<String> {
    let location = kino::store::S3Location::parse(storage).expect("an s3 URL");
    let env = |n: &str| std::env::var(n).unwrap_or_default();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(location.region.clone()))
        .endpoint_url(location.endpoint.clone().unwrap_or_default())
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            env("AWS_ACCESS_KEY_ID"),
            env("AWS_SECRET_ACCESS_KEY"),
            None,
            None,
            "test",
        ))
        .build();
    let listed = aws_sdk_s3::Client::from_conf(config)
        .list_objects_v2()
        .bucket(&location.bucket)
        .prefix(format!("{}{prefix}", location.prefix))
        .send()
        .await
        .expect("the bucket lists");
    let mut keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .map(str::to_string)
        .collect();
    keys.sort();
    keys
}

/// `kino_engine_runs_total` from `/metrics`.
pub async fn engine_runs(app: &TestApp) -> u64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("kino_engine_runs_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no engine run counter in {text}"))
}

/// A tiny HTTP server on 127.0.0.1: `/to?<url>` redirects to `<url>`, `/missing…` is a 404,
/// `/text…` is plain text, anything else is a picture (`photo-denali.webp`). Counts the
/// requests it gets.
pub async fn file_server() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let picture = std::fs::read(media("photo-denali.webp")).unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let picture = picture.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 4096];
                let n = socket.read(&mut request).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&request[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let answer = match path.split_once("/to?") {
                    Some((_, target)) => format!(
                        "HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .into_bytes(),
                    None if path.starts_with("/missing") => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
                    }
                    None if path.starts_with("/text") => {
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".to_vec()
                    }
                    None => {
                        let mut a = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: image/webp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            picture.len()
                        )
                        .into_bytes();
                        a.extend_from_slice(&picture);
                        a
                    }
                };
                let _ = socket.write_all(&answer).await;
            });
        }
    });
    (port, hits)
}
