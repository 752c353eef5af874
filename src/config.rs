//! Settings, layered: built-in defaults → optional `kino.toml` → `KINO_*` environment → CLI flags.
//!
//! Zero configuration must work (SQLite and blobs under `./data`). [`Config::validate`] reports
//! every problem at once so a user fixes a config file in one go, not one error per start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The whole effective configuration of one `kino serve` process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds; port 0 picks a free port (tests).
    pub listen: String,
    /// Where the embedded catalog, the local blob store and staging files live.
    pub data_dir: PathBuf,
    /// Catalog location; default `sqlite://{data_dir}/kino.db`.
    pub database_url: Option<String>,
    /// Blob store location: `file://DIR` (default `file://{data_dir}/blobs`) or
    /// `s3://BUCKET[/PREFIX]?endpoint=URL&region=R&path_style=true`.
    pub storage: Option<String>,
    /// Bytes of remote blobs kept on local disk (`{data_dir}/cache`) for libav to seek in.
    pub cache_max_bytes: u64,
    /// Base URL put into `url`/`secure_url` of responses; default `http://{bound address}`.
    pub public_url: Option<String>,
    /// Size and time limits.
    pub limits: Limits,
    /// The background job queue (eager transformations, notifications).
    pub jobs: Jobs,
    /// Live ingest (RTMP, SRT) and low-latency HLS.
    pub live: Live,
    /// Fetching media from URLs users give.
    pub fetch: Fetch,
    /// Who may make what through delivery URLs.
    pub security: Security,
    /// Reading untrusted media in `kino worker` processes.
    pub isolation: IsolationSettings,
    /// Keep every uploaded version, so overwritten and deleted assets can be restored
    /// (Cloudinary's account-level backup; an upload's `backup` parameter overrides it).
    pub backup: bool,
    /// Seconds a stopping server waits for requests in flight (a long transformation being
    /// streamed) before it closes them.
    pub shutdown_grace_secs: u64,
}

/// How untrusted media is read out of process: uploads probed, transformations run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IsolationSettings {
    /// Probe uploads and run transformations in `kino worker` processes (false: in the
    /// server).
    pub enabled: bool,
    /// The `kino` binary workers run; default this executable.
    pub worker: Option<PathBuf>,
    /// Address space a worker may use, in bytes.
    pub max_memory_bytes: u64,
    /// CPU and wall-clock seconds a probing worker may take.
    pub max_seconds: u64,
    /// Wall-clock seconds a transforming worker may take (CPU: this times the cores).
    pub max_transform_seconds: u64,
}

impl Default for IsolationSettings {
    fn default() -> Self {
        IsolationSettings {
            enabled: true,
            worker: None,
            max_memory_bytes: 4 * 1024 * 1024 * 1024,
            max_seconds: 120,
            max_transform_seconds: 3600,
        }
    }
}

/// Delivery rules of the account.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Security {
    /// Only named transformations, transformations marked `allowed_for_strict`, derived files
    /// that already exist (eager ones) and signed URLs may be delivered; other transformations
    /// are refused (401) instead of made on the fly.
    pub strict_transformations: bool,
    /// Strict referral: comma-separated domains (`example.com` also allows its subdomains)
    /// whose pages may embed this account's media. When set, unsigned deliveries need a
    /// `Referer` on one of them.
    pub allowed_referrers: String,
    /// With `allowed_referrers` set: requests without any `Referer` are served too.
    pub allow_missing_referrer: bool,
    /// Comma-separated output formats (`pdf,zip`) only signed URLs may deliver.
    pub restricted_formats: String,
    /// Comma-separated delivery types (`upload`, `private`, `authenticated`, `fetch`) only
    /// signed URLs may deliver.
    pub restricted_types: String,
}

impl Security {
    /// A comma-separated setting as lower-case items.
    pub fn list(text: &str) -> Vec<String> {
        text.split(',')
            .map(|s| s.trim().trim_start_matches('.').to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// Which addresses remote media may come from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fetch {
    /// Networks (CIDRs, comma-separated) that may be fetched from although they are loopback,
    /// private, link-local or otherwise special; empty by default.
    pub allow_networks: String,
}

impl Fetch {
    /// The allowed networks, parsed.
    pub fn networks(&self) -> Result<Vec<crate::netguard::Network>, String> {
        self.allow_networks
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(crate::netguard::Network::parse)
            .collect()
    }
}

/// Live ingest listeners and the shape of live playlists.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Live {
    /// Where the RTMP server listens (empty: no RTMP); port 0 picks a free port.
    pub rtmp_listen: String,
    /// Where the SRT listener listens (empty: no SRT).
    pub srt_listen: String,
    /// Host put into the input URIs the API shows; default the listener's address.
    pub public_host: Option<String>,
    /// Length of a low-latency HLS part, in seconds.
    pub part_secs: f64,
    /// Shortest segment, in seconds (a segment ends at the first keyframe after this).
    pub segment_secs: f64,
    /// Complete segments in a live playlist's window (at least 6).
    pub window_segments: u64,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            rtmp_listen: "127.0.0.1:1935".into(),
            srt_listen: "127.0.0.1:9710".into(),
            public_host: None,
            part_secs: 1.0,
            segment_secs: 2.0,
            window_segments: 8,
        }
    }
}

/// How background jobs are run and retried.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Jobs {
    /// Jobs run at once by this process.
    pub workers: u64,
    /// Seconds a claimed job stays claimed without a heartbeat; a job whose claimer died is
    /// taken again after this.
    pub lease_secs: u64,
    /// Seconds before the first retry of a failed job; each further retry waits twice as long.
    pub retry_secs: u64,
    /// Attempts before a job is given up (kept as `failed`, with its error).
    pub max_attempts: u64,
    /// Seconds a webhook receiver has to answer.
    pub notify_timeout_secs: u64,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            workers: 1,
            lease_secs: 60,
            retry_secs: 30,
            max_attempts: 6,
            notify_timeout_secs: 30,
        }
    }
}

/// Limits that protect the server from absurd input.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest image upload, in bytes.
    pub max_image_bytes: u64,
    /// Largest video or audio upload, in bytes.
    pub max_video_bytes: u64,
    /// Largest raw upload, in bytes.
    pub max_raw_bytes: u64,
    /// Seconds allowed for fetching a remote `file` URL.
    pub remote_timeout_secs: u64,
    /// Largest urlencoded or JSON request body (data URIs travel in these), in bytes.
    pub max_form_bytes: u64,
    /// Largest width or height a transformation may produce, in pixels.
    pub max_output_dimension: u64,
    /// Most pixels (width × height) an uploaded picture or video frame may have.
    pub max_image_pixels: u64,
    /// Longest uploaded video or audio, in seconds.
    pub max_video_seconds: u64,
    /// Largest frame (width × height) of an uploaded video, in pixels.
    pub max_video_pixels: u64,
    /// Transformations running at once (0: one per core).
    pub transform_workers: u64,
    /// Transformations waiting for a worker before new ones get 503.
    pub transform_queue: u64,
    /// Transformations one account may have queued or running at once before new ones get
    /// 429 (0: no limit but the queue's).
    pub max_account_transforms: u64,
    /// The largest output a transformation may make, in bytes.
    pub max_output_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            storage: None,
            cache_max_bytes: 20 * 1024 * 1024 * 1024,
            public_url: None,
            limits: Limits::default(),
            jobs: Jobs::default(),
            live: Live::default(),
            fetch: Fetch::default(),
            security: Security::default(),
            isolation: IsolationSettings::default(),
            backup: false,
            shutdown_grace_secs: 30,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: u64 = 1024 * 1024;
        Limits {
            max_image_bytes: 100 * MIB,
            max_video_bytes: 20 * 1024 * MIB,
            max_raw_bytes: 10 * 1024 * MIB,
            remote_timeout_secs: 60,
            max_form_bytes: 80 * MIB,
            max_output_dimension: 8192,
            max_image_pixels: 100_000_000,
            max_video_seconds: 6 * 3600,
            max_video_pixels: 7680 * 4320,
            transform_workers: 0,
            transform_queue: 16,
            max_account_transforms: 0,
            max_output_bytes: 8 * 1024 * MIB,
        }
    }
}

/// Keys that may come from the environment, as `KINO_` + the key upper-cased,
/// sections joined by `__` (`KINO_LIMITS__MAX_IMAGE_BYTES`).
const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "storage",
    "cache_max_bytes",
    "public_url",
    "backup",
    "shutdown_grace_secs",
    "limits.max_image_bytes",
    "limits.max_video_bytes",
    "limits.max_raw_bytes",
    "limits.remote_timeout_secs",
    "limits.max_form_bytes",
    "limits.max_output_dimension",
    "limits.max_image_pixels",
    "limits.max_video_seconds",
    "limits.max_video_pixels",
    "limits.transform_workers",
    "limits.transform_queue",
    "limits.max_account_transforms",
    "limits.max_output_bytes",
    "jobs.workers",
    "jobs.lease_secs",
    "jobs.retry_secs",
    "jobs.max_attempts",
    "jobs.notify_timeout_secs",
    "live.rtmp_listen",
    "live.srt_listen",
    "live.public_host",
    "live.part_secs",
    "live.segment_secs",
    "live.window_segments",
    "fetch.allow_networks",
    "security.strict_transformations",
    "security.allowed_referrers",
    "security.allow_missing_referrer",
    "security.restricted_formats",
    "security.restricted_types",
    "isolation.enabled",
    "isolation.worker",
    "isolation.max_memory_bytes",
    "isolation.max_seconds",
    "isolation.max_transform_seconds",
];

impl Config {
    /// Builds the config from an optional TOML file and the given environment.
    /// CLI flags are applied afterwards by the caller.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, String> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
                text.parse::<toml::Table>()
                    .map_err(|e| format!("config file {}: {e}", path.display()))?
            }
            None => toml::Table::new(),
        };
        for (name, value) in env {
            let Some(key) = env_key(&name) else { continue };
            insert_path(&mut table, key, typed_value(&value));
        }
        Config::deserialize(toml::Value::Table(table)).map_err(|e| format!("config: {e}"))
    }

    /// Every problem with this config, empty when it is usable.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "listen: {:?} is not an address like 127.0.0.1:8080",
                self.listen
            ));
        }
        if self.data_dir.as_os_str().is_empty() {
            problems.push("data_dir: must not be empty".into());
        }
        if let Some(db) = &self.database_url
            && crate::catalog::Backend::of_url(db).is_none()
        {
            problems.push(format!(
                "database_url: {db:?} is not supported (use sqlite://PATH or postgres://USER@HOST/DB)"
            ));
        }
        if let Some(storage) = &self.storage {
            if let Some(_s3) = storage.strip_prefix("s3://") {
                if let Err(e) = crate::store::S3Location::parse(storage) {
                    problems.push(format!("storage: {e}"));
                }
            } else if !storage.starts_with("file://") {
                problems.push(format!(
                    "storage: {storage:?} is not supported (use file://DIR or s3://BUCKET?endpoint=URL&region=R&path_style=true)"
                ));
            }
        }
        if let Err(e) = self.fetch.networks() {
            problems.push(format!("fetch.allow_networks: {e}"));
        }
        if let Some(public) = &self.public_url {
            match url::Url::parse(public) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                _ => problems.push(format!("public_url: {public:?} is not an http(s) URL")),
            }
        }
        for (name, addr) in [
            ("live.rtmp_listen", &self.live.rtmp_listen),
            ("live.srt_listen", &self.live.srt_listen),
        ] {
            if !addr.is_empty() && addr.parse::<SocketAddr>().is_err() {
                problems.push(format!(
                    "{name}: {addr:?} is not an address like 127.0.0.1:1935 (or empty for none)"
                ));
            }
        }
        if !(0.2..=10.0).contains(&self.live.part_secs) {
            problems.push("live.part_secs: must be between 0.2 and 10".into());
        }
        if self.live.segment_secs < self.live.part_secs || self.live.segment_secs > 30.0 {
            problems.push("live.segment_secs: must be at least part_secs and at most 30".into());
        }
        for t in Security::list(&self.security.restricted_types) {
            if crate::url::DeliveryType::parse(&t).is_none() {
                problems.push(format!(
                    "security.restricted_types: {t:?} is not one of upload, private, authenticated, fetch"
                ));
            }
        }
        problems.extend(self.zero_problems());
        problems
    }

    /// Settings that must not be 0.
    fn zero_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let l = &self.limits;
        for (name, value) in [
            ("limits.max_image_bytes", l.max_image_bytes),
            ("limits.max_video_bytes", l.max_video_bytes),
            ("limits.max_raw_bytes", l.max_raw_bytes),
            ("limits.remote_timeout_secs", l.remote_timeout_secs),
            ("limits.max_form_bytes", l.max_form_bytes),
            ("limits.max_output_dimension", l.max_output_dimension),
            ("limits.max_image_pixels", l.max_image_pixels),
            ("limits.max_video_seconds", l.max_video_seconds),
            ("limits.max_video_pixels", l.max_video_pixels),
            ("limits.transform_queue", l.transform_queue),
            ("limits.max_output_bytes", l.max_output_bytes),
            (
                "isolation.max_memory_bytes",
                self.isolation.max_memory_bytes,
            ),
            ("isolation.max_seconds", self.isolation.max_seconds),
            (
                "isolation.max_transform_seconds",
                self.isolation.max_transform_seconds,
            ),
            ("jobs.workers", self.jobs.workers),
            ("jobs.lease_secs", self.jobs.lease_secs),
            ("jobs.retry_secs", self.jobs.retry_secs),
            ("jobs.max_attempts", self.jobs.max_attempts),
            ("jobs.notify_timeout_secs", self.jobs.notify_timeout_secs),
        ] {
            if value == 0 {
                problems.push(format!("{name}: must be greater than 0"));
            }
        }
        problems
    }

    /// The catalog URL, defaulting to a SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("kino.db").display()))
    }

    /// The directory of the local blob store.
    pub fn blob_dir(&self) -> PathBuf {
        match &self.storage {
            Some(s) => PathBuf::from(s.trim_start_matches("file://")),
            None => self.data_dir.join("blobs"),
        }
    }
}

fn env_key(name: &str) -> Option<&'static str> {
    let rest = name.strip_prefix("KINO_")?;
    let wanted = rest.to_ascii_lowercase().replace("__", ".");
    ENV_KEYS.iter().copied().find(|k| *k == wanted)
}

/// Environment values are text; numbers and booleans become typed so serde accepts them.
fn typed_value(raw: &str) -> toml::Value {
    if let Ok(n) = raw.parse::<i64>() {
        return toml::Value::Integer(n);
    }
    if raw.contains('.')
        && let Ok(x) = raw.parse::<f64>()
    {
        return toml::Value::Float(x);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

fn insert_path(table: &mut toml::Table, dotted: &str, value: toml::Value) {
    match dotted.split_once('.') {
        None => {
            table.insert(dotted.to_string(), value);
        }
        Some((section, key)) => {
            let entry = table
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(inner) = entry {
                insert_path(inner, key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn zero_config_is_valid() {
        let config = Config::load(None, env(&[])).unwrap();
        assert_eq!(config.validate(), Vec::<String>::new());
        assert_eq!(config.listen, "127.0.0.1:8080");
    }

    #[test]
    fn environment_overrides_and_ignores_unrelated_kino_variables() {
        let config = Config::load(
            None,
            env(&[
                ("KINO_LISTEN", "0.0.0.0:9000"),
                ("KINO_LIMITS__MAX_IMAGE_BYTES", "1234"),
                ("KINO_BIN", "/elsewhere"),
            ]),
        )
        .unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000");
        assert_eq!(config.limits.max_image_bytes, 1234);
    }

    #[test]
    fn validate_reports_every_problem_at_once() {
        let mut config = Config {
            listen: "nowhere".into(),
            database_url: Some("mysql://x".into()),
            ..Config::default()
        };
        config.limits.max_raw_bytes = 0;
        let problems = config.validate();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("listen:"));
        assert!(problems[1].starts_with("database_url:"));
        assert!(problems[2].starts_with("limits.max_raw_bytes:"));
    }

    #[test]
    fn file_layer_is_read_and_unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("kino-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            "listen = \"127.0.0.1:1\"\n[limits]\nmax_raw_bytes = 5\n",
        )
        .unwrap();
        let config = Config::load(Some(&good), env(&[("KINO_LISTEN", "127.0.0.1:2")])).unwrap();
        assert_eq!(config.listen, "127.0.0.1:2", "env wins over the file");
        assert_eq!(config.limits.max_raw_bytes, 5);
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "lisen = \"x\"\n").unwrap();
        let err = Config::load(Some(&bad), env(&[])).unwrap_err();
        assert!(err.contains("lisen"), "{err}");
    }
}
