//! The command line: `kino serve` and `kino config print`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::account::{Account, AccountKey};
use crate::config::Config;
use crate::startup::{App, shutdown_signal};

#[derive(Debug, Parser)]
#[command(
    name = "kino",
    version,
    about = "A self-hosted, video-first media server speaking Cloudinary's APIs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// `kino worker`: the engine without the server, for isolating untrusted media.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The plan (JSON, as `plan::Plan` serializes); `-` or absent reads stdin.
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// Where the output goes; `-` or absent writes stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Run the plan this many times (into the same output): for benchmarks.
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
    /// Probe this file instead of running a plan; prints one JSON line (`{"info": …}` or
    /// `{"error": …}`). This is how the server reads uploads it does not trust.
    #[arg(long, conflicts_with = "plan")]
    pub probe: Option<PathBuf>,
    /// With `--probe`: the uploaded file's extension.
    #[arg(long, requires = "probe")]
    pub hint: Option<String>,
    /// With `--probe`: pictures with more pixels are refused before decoding.
    #[arg(long, requires = "probe", default_value_t = u64::MAX)]
    pub max_pixels: u64,
    /// End with one JSON line on stderr saying how the run went (`{"done": …}` or
    /// `{"failed": …}`): how the server reads a transformation it runs here.
    #[arg(long, conflicts_with = "probe")]
    pub report: bool,
    /// The plan is a merged plan (several outputs of one run); they leave on stdout
    /// interleaved in frames (`isolation::FramedSink`).
    #[arg(long, conflicts_with = "probe")]
    pub merged: bool,
    /// Read an analysis job (`isolation::AnalysisJob`) instead of a plan and print what it
    /// finds as one JSON line.
    #[arg(long, conflicts_with_all = ["probe", "merged"])]
    pub analyse: bool,
}

/// `kino plan`: what the engine would run, for benches and debugging.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The source media file.
    #[arg(long)]
    pub input: PathBuf,
    /// A transformation string as in a delivery URL (`c_scale,w_320/e_reverse`).
    #[arg(long, default_value = "")]
    pub transformation: String,
    /// The output extension (`mp4`, `webm`, `jpg`, …).
    #[arg(long, default_value = "mp4")]
    pub format: String,
    /// Print the equivalent `ffmpeg` arguments (one per line) writing to this path instead.
    #[arg(long)]
    pub ffmpeg: Option<String>,
    /// Plan a run of streaming segments this many seconds long (from the start).
    #[arg(long)]
    pub segments: Option<f64>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Upload, Admin and delivery APIs.
    Serve(ServeArgs),
    /// Inspect the effective configuration.
    Config(ConfigArgs),
    /// Run one serialized transformation plan out of process: plan JSON in, media out.
    Worker(WorkerArgs),
    /// Print the plan for a local file and a transformation (JSON, or the `ffmpeg` command).
    Plan(PlanArgs),
    /// Upload a file to a running Kino (signed; chunked; a progress bar on a terminal).
    Upload(UploadArgs),
    /// Print a delivery URL, signed on request.
    Url(UrlArgs),
}

/// Where a running Kino is, and whose credentials to use: `CLOUDINARY_URL`, else the data
/// dir's `account.json` (what `kino serve` generated).
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The server's base URL.
    #[arg(long, env = "KINO_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The data dir whose account.json holds the credentials (when CLOUDINARY_URL is unset).
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The file to upload.
    pub file: PathBuf,
    /// image, video, raw or auto.
    #[arg(long, default_value = "auto")]
    pub resource_type: String,
    #[arg(long)]
    pub public_id: Option<String>,
    #[arg(long)]
    pub folder: Option<String>,
    /// Chunk size in MiB (larger files go in several requests).
    #[arg(long, default_value_t = 20)]
    pub chunk_mb: u64,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct UrlArgs {
    pub public_id: String,
    /// The transformation, as in a URL (`c_fill,w_300,h_200/e_grayscale`).
    #[arg(short, long)]
    pub transformation: Option<String>,
    /// The extension to deliver (`jpg`, `mp4`, `m3u8`, …).
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(long, default_value = "image")]
    pub resource_type: String,
    /// upload, private or authenticated.
    #[arg(long = "type", default_value = "upload")]
    pub delivery_type: String,
    /// Add the `s--…--` signature.
    #[arg(short, long)]
    pub sign: bool,
    /// Sign with the 32-character SHA-256 form.
    #[arg(long, requires = "sign")]
    pub long_signature: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Settings given on the command line win over `kino.toml` and `KINO_*` variables.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Config file (default: ./kino.toml when it exists).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
    #[arg(long)]
    pub listen: Option<String>,
    /// Directory for the catalog, blobs and staging files.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Catalog URL (sqlite://PATH or postgres://USER:PASSWORD@HOST/DB).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Blob store URL (file://DIR).
    #[arg(long)]
    pub storage: Option<String>,
    /// Base URL used in `url`/`secure_url` of responses.
    #[arg(long)]
    pub public_url: Option<String>,
    /// Where encoders publish over RTMP (default 127.0.0.1:1935; empty: no RTMP).
    #[arg(long)]
    pub rtmp_listen: Option<String>,
    /// Where encoders publish over SRT (default 127.0.0.1:9710; empty: no SRT).
    #[arg(long)]
    pub srt_listen: Option<String>,
    /// Networks remote media may come from although they are private or loopback
    /// (comma-separated CIDRs, e.g. 10.1.0.0/16).
    #[arg(long)]
    pub allow_fetch_from: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration as TOML (credentials are never part of it).
    Print,
}

fn effective_config(args: &ServeArgs) -> Result<Config, String> {
    let default_file = PathBuf::from("kino.toml");
    let file = match &args.config {
        Some(path) => Some(path.clone()),
        None => default_file.exists().then_some(default_file),
    };
    let mut config = Config::load(file.as_deref(), std::env::vars())?;
    if let Some(v) = &args.listen {
        config.listen = v.clone();
    }
    if let Some(v) = &args.data_dir {
        config.data_dir = v.clone();
    }
    if let Some(v) = &args.database_url {
        config.database_url = Some(v.clone());
    }
    if let Some(v) = &args.storage {
        config.storage = Some(v.clone());
    }
    if let Some(v) = &args.public_url {
        config.public_url = Some(v.clone());
    }
    if let Some(v) = &args.rtmp_listen {
        config.live.rtmp_listen = v.clone();
    }
    if let Some(v) = &args.srt_listen {
        config.live.srt_listen = v.clone();
    }
    if let Some(v) = &args.allow_fetch_from {
        config.fetch.allow_networks = v.clone();
    }
    let problems = config.validate();
    if !problems.is_empty() {
        return Err(format!(
            "invalid configuration:\n  - {}",
            problems.join("\n  - ")
        ));
    }
    Ok(config)
}

fn account(config: &Config) -> Result<Account, String> {
    match std::env::var("CLOUDINARY_URL") {
        Ok(url) if !url.trim().is_empty() => Account::from_cloudinary_url(url.trim()),
        _ => Account::load_or_generate(&config.data_dir),
    }
}

/// The account-level key: `CLOUDINARY_ACCOUNT_URL`, else the data dir's (made on first start).
fn account_key(config: &Config) -> Result<AccountKey, String> {
    match std::env::var("CLOUDINARY_ACCOUNT_URL") {
        Ok(url) if !url.trim().is_empty() => AccountKey::from_account_url(url.trim()),
        _ => AccountKey::load_or_generate(&config.data_dir),
    }
}

/// `kino serve`: prints the SDK lines and the address on stdout, then serves until SIGTERM.
pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let config = effective_config(&args)?;
    // Generated credentials are kept in the data dir, which may not exist yet.
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", config.data_dir.display()))?;
    let account = account(&config)?;
    let account_key = account_key(&config)?;
    let cloudinary_url = account.cloudinary_url();
    let account_url = account_key.account_url();
    let app = App::build(config, account, account_key).await?;
    println!("CLOUDINARY_URL={cloudinary_url}");
    println!("CLOUDINARY_ACCOUNT_URL={account_url}");
    println!("kino listening on http://{}", app.address());
    app.run_until_stopped(shutdown_signal()).await
}

/// `kino config print`.
pub fn config(args: &ConfigArgs) -> Result<(), String> {
    match args.action {
        ConfigAction::Print => {
            let config = effective_config(&args.serve)?;
            let text = toml::to_string_pretty(&config).map_err(|e| e.to_string())?;
            println!("{text}");
            let source = if std::env::var("CLOUDINARY_URL").is_ok() {
                "CLOUDINARY_URL"
            } else {
                "data_dir/account.json"
            };
            println!("# account: from {source} (credentials are not printed)");
            Ok(())
        }
    }
}

fn client_account(args: &ClientArgs) -> Result<Account, String> {
    match std::env::var("CLOUDINARY_URL") {
        Ok(url) if !url.trim().is_empty() => Account::from_cloudinary_url(url.trim()),
        _ => Account::load_existing(&args.data_dir),
    }
}

/// `kino upload`: prints the server's JSON answer.
pub async fn upload(args: &UploadArgs) -> Result<(), String> {
    let account = client_account(&args.client)?;
    let job = crate::client::Upload {
        base: &args.client.server,
        file: &args.file,
        resource_type: &args.resource_type,
        public_id: args.public_id.as_deref(),
        folder: args.folder.as_deref(),
        chunk_bytes: args.chunk_mb.max(1) * 1024 * 1024,
    };
    let answer = crate::client::upload(&account, &job).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// `kino url`: prints the URL.
pub fn url(args: &UrlArgs) -> Result<(), String> {
    let account = client_account(&args.client)?;
    let spec = crate::client::UrlSpec {
        base: &args.client.server,
        public_id: &args.public_id,
        resource_type: &args.resource_type,
        delivery_type: &args.delivery_type,
        transformation: args.transformation.as_deref(),
        format: args.format.as_deref(),
        sign: args.sign,
        long_signature: args.long_signature,
    };
    println!("{}", crate::client::delivery_url(&account, &spec));
    Ok(())
}

/// `kino worker`: see `isolation::worker`.
pub fn worker(args: &WorkerArgs) -> Result<(), String> {
    crate::isolation::worker::main(args)
}

/// Prints the plan for a local file (JSON), or the `ffmpeg` arguments doing the same work.
pub fn plan(args: &PlanArgs) -> Result<(), String> {
    crate::engine::init().map_err(|e| e.to_string())?;
    let info = crate::engine::probe(&args.input, None, u64::MAX).map_err(|e| e.to_string())?;
    let t =
        crate::url::Transformation::parse_str(&args.transformation).map_err(|e| e.to_string())?;
    let steps = crate::url::steps(&t).map_err(|e| e.to_string())?;
    let base = crate::plan::Source {
        path: args.input.to_string_lossy().into_owned(),
        media: crate::service::transform::media_of(&info),
    };
    let analysis = crate::service::analysis::analyse(&base, &steps).map_err(|e| e.to_string())?;
    let ctx = crate::plan::Context {
        base,
        layers: std::collections::HashMap::new(),
        font_dir: crate::service::transform::FONT_DIR.into(),
        max_dimension: 16384,
        focus: analysis.focus,
        faces: analysis.faces,
        trim: analysis.trim,
        edge_color: analysis.edge_color,
    };
    let mut plan = crate::plan::build(&steps, &args.format, &ctx).map_err(|e| e.to_string())?;
    if let Some(every) = args.segments.filter(|s| *s > 0.0) {
        plan = plan.into_segments(0.0, every);
    }
    match &args.ffmpeg {
        Some(out) => println!("{}", plan.ffmpeg_args(out).join("\n")),
        None => println!(
            "{}",
            serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())?
        ),
    }
    Ok(())
}
