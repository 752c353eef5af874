//! The composition root: builds every part in order and serves until told to stop.
//!
//! `App::build` binds the listener first (so port 0 resolves and `url` fields can name the
//! real port), then opens the catalog, the stores and the HTTP client, and wires the router.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tower::Layer;
use tower::util::MapRequestLayer;

use crate::account::{Account, AccountKey};
use crate::api;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::service::Kino;
use crate::service::chunks::ChunkArea;
use crate::store::{BlobStore, LocalCache, LocalStore, S3Location, S3Store, Staging};

/// A built, bound, not yet serving Kino.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    kino: Kino,
    ingest: Ingest,
    /// How long stopping waits for requests in flight.
    grace_secs: u64,
}

/// The live ingest listeners, bound (so port 0 resolves) but not yet serving.
struct Ingest {
    rtmp: Option<TcpListener>,
    srt: Option<(srt_tokio::SrtIncoming, srt_tokio::SrtListener)>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("rtmp", &self.rtmp)
            .field("srt", &self.srt.is_some())
            .finish()
    }
}

impl Ingest {
    async fn bind(
        config: &crate::config::Live,
        live: &crate::live::Live,
    ) -> Result<Ingest, String> {
        let rtmp = if config.rtmp_listen.is_empty() {
            None
        } else {
            let l = TcpListener::bind(&config.rtmp_listen)
                .await
                .map_err(|e| format!("cannot listen for RTMP on {}: {e}", config.rtmp_listen))?;
            live.set_rtmp_address(l.local_addr().map_err(|e| e.to_string())?);
            Some(l)
        };
        let srt = if config.srt_listen.is_empty() {
            None
        } else {
            let (incoming, listener, address) = crate::live::srt::bind(&config.srt_listen).await?;
            live.set_srt_address(address);
            Some((incoming, listener))
        };
        live.set_public_host(config.public_host.clone());
        Ok(Ingest { rtmp, srt })
    }

    /// Serves the listeners on background tasks.
    fn spawn(self, kino: &Kino) {
        let gate = crate::service::live::gate(kino);
        let (live, recover) = (kino.live.clone(), gate.clone());
        tokio::spawn(async move { live.recover(&recover).await });
        if let Some(l) = self.rtmp {
            tokio::spawn(crate::live::rtmp::serve(l, kino.live.clone(), gate.clone()));
        }
        if let Some((incoming, listener)) = self.srt {
            tokio::spawn(crate::live::srt::serve(
                incoming,
                listener,
                kino.live.clone(),
                gate,
            ));
        }
    }
}

impl App {
    /// Builds everything from a validated config, the primary environment's credentials and
    /// the account-level key.
    pub async fn build(
        config: Config,
        account: Account,
        account_key: AccountKey,
    ) -> Result<App, String> {
        crate::engine::init().map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", config.data_dir.display()))?;
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;

        let catalog = Catalog::open(&config.database_url()).await.map_err(|e| {
            format!(
                "catalog {}: {e}: {}",
                config.database_url(),
                source_text(&e)
            )
        })?;
        let primary = primary_environment(&catalog, &account).await?;
        let tmp = config.data_dir.join("tmp");
        let staging = Staging::open(tmp.clone()).map_err(|e| format!("staging area: {e}"))?;
        let chunks = ChunkArea::open(config.data_dir.join("chunks"), tmp)
            .map_err(|e| format!("chunk area: {e}"))?;
        let store = open_store(&config).await?;
        let (http, fetcher, guard) = http_clients(&config)?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"))
            .trim_end_matches('/')
            .to_string();
        let workers = match config.limits.transform_workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => usize::try_from(n).unwrap_or(1),
        };
        let queue = usize::try_from(config.limits.transform_queue).unwrap_or(16);
        let node = node_id(&config.data_dir)?;
        let kino = Kino {
            node,
            metrics: Arc::default(),
            derived: crate::derived::Cache::new(
                workers,
                queue,
                usize::try_from(config.limits.max_account_transforms).unwrap_or(usize::MAX),
            ),
            primary: Arc::new(primary),
            account_key: Arc::new(account_key),
            catalog,
            store,
            staging,
            chunks,
            http,
            fetcher,
            guard,
            limits: config.limits.clone(),
            security: config.security.clone(),
            backup: config.backup,
            isolation: isolation(&config)?,
            secure_url: public_url.clone(),
            public_url,
            jobs: crate::service::jobs::JobQueue::new(config.jobs.clone()),
            runs: crate::service::segments::Runs::default(),
            live: crate::live::Live::new(crate::live::Settings {
                part_seconds: config.live.part_secs,
                segment_seconds: config.live.segment_secs,
                window: usize::try_from(config.live.window_segments).unwrap_or(8),
                recording_dir: config.data_dir.join("live"),
            })?,
        };
        let ingest = Ingest::bind(&config.live, &kino.live).await?;
        recover(&kino).await;
        Ok(App {
            listener,
            kino,
            ingest,
            grace_secs: config.shutdown_grace_secs,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.address().port()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and closes the catalog.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), String> {
        let router =
            api::router(self.kino.clone()).layer(tower_http::trace::TraceLayer::new_for_http());
        let app = MapRequestLayer::new(api::normalize_api_path).layer(router);
        self.ingest.spawn(&self.kino);
        let (stop_jobs, jobs_stopped) = tokio::sync::oneshot::channel::<()>();
        let jobs = tokio::spawn(crate::service::jobs::run(self.kino.clone(), async {
            let _ = jobs_stopped.await;
        }));
        // Stopping waits for requests in flight, but only for the grace period: a stream
        // that would take an hour must not keep the process alive.
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            let _ = stopping.send(());
        };
        let grace = Duration::from_secs(self.grace_secs);
        let serving = axum::serve(
            self.listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service(app),
        )
        .with_graceful_shutdown(signal)
        .into_future();
        let served = tokio::select! {
            served = serving => served.map_err(|e| format!("server error: {e}")),
            () = async {
                if stopped.await.is_ok() {
                    tokio::time::sleep(grace).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => {
                tracing::warn!(
                    seconds = grace.as_secs(),
                    "requests still in flight after the shutdown grace period: closing them"
                );
                Ok(())
            }
        };
        self.kino.live.drain(Duration::from_secs(30)).await;
        let _ = stop_jobs.send(());
        let _ = jobs.await;
        self.kino.catalog.close().await;
        served
    }
}

/// This node's name in shared claims: kept in `{data_dir}/node-id`, so a node that restarts
/// (after a crash too) recognises the claims it held.
fn node_id(data_dir: &std::path::Path) -> Result<String, String> {
    let path = data_dir.join("node-id");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let id = text.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    let id = format!("{:016x}", rand::random::<u64>());
    std::fs::write(&path, &id).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(id)
}

/// Cleans up after an earlier stop or crash of this node: its claims on derived files and its
/// running jobs are handed back, and blobs no catalog row names are removed.
async fn recover(kino: &Kino) {
    // Claims this node held when it stopped (or died) are its own: give them up.
    if let Err(e) = kino.catalog.release_node_claims(&kino.node).await {
        tracing::warn!(error = %e, "could not release this node's old claims");
    }
    let now = crate::service::jobs::now_ms();
    match kino.catalog.release_node_jobs(&kino.node, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            jobs = n,
            "jobs interrupted by an earlier stop are due again"
        ),
        Err(e) => tracing::warn!(error = %e, "could not hand back this node's old jobs"),
    }
    match kino.sweep_trash().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(blobs = n, "removed blobs orphaned by an earlier crash"),
        Err(e) => tracing::warn!(error = %e, "could not sweep orphaned blobs"),
    }
}

/// The worker set-up for untrusted media, when isolation is on.
fn isolation(config: &Config) -> Result<Option<Arc<crate::isolation::Isolation>>, String> {
    let settings = &config.isolation;
    if !settings.enabled {
        return Ok(None);
    }
    let worker = match &settings.worker {
        Some(path) => path.clone(),
        None => std::env::current_exe().map_err(|e| format!("isolation: {e}"))?,
    };
    Ok(Some(Arc::new(crate::isolation::Isolation {
        worker,
        max_memory_bytes: settings.max_memory_bytes,
        max_seconds: settings.max_seconds,
        max_transform_seconds: settings.max_transform_seconds,
    })))
}

/// The client for webhooks, the guarded one for media at users' URLs, and its guard.
type HttpClients = (
    reqwest::Client,
    reqwest::Client,
    Arc<crate::netguard::Guard>,
);

fn http_clients(config: &Config) -> Result<HttpClients, String> {
    let timeout = Duration::from_secs(config.limits.remote_timeout_secs);
    let guard = Arc::new(crate::netguard::Guard::new(config.fetch.networks()?));
    let fetcher = crate::service::remote::guarded_client(guard.clone(), timeout)
        .map_err(|e| format!("http client: {e}"))?;
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| format!("http client: {e}"))?;
    Ok((http, fetcher, guard))
}

/// The blob store the config names: a local directory (the default) or an S3 bucket.
async fn open_store(config: &Config) -> Result<Arc<dyn BlobStore>, String> {
    match config.storage.as_deref() {
        Some(url) if url.starts_with("s3://") => {
            let location = S3Location::parse(url).map_err(|e| format!("storage: {e}"))?;
            let cache = LocalCache::open(config.data_dir.join("cache"), config.cache_max_bytes)
                .map_err(|e| format!("blob cache: {e}"))?;
            let store = S3Store::open(location, cache)
                .await
                .map_err(|e| format!("blob store {url}: {e}"))?;
            Ok(Arc::new(store))
        }
        _ => {
            let store =
                LocalStore::open(config.blob_dir()).map_err(|e| format!("blob store: {e}"))?;
            Ok(Arc::new(store))
        }
    }
}

/// Records the environment of `CLOUDINARY_URL` as the primary one (made on first start).
async fn primary_environment(
    catalog: &Catalog,
    account: &Account,
) -> Result<crate::catalog::Environment, String> {
    catalog
        .ensure_primary_environment(
            &account.cloud_name,
            &account.api_key,
            account.api_secret.expose(),
        )
        .await
        .map_err(|e| format!("primary environment {}: {e}", account.cloud_name))
}

fn source_text(e: &dyn std::error::Error) -> String {
    e.source().map(|s| s.to_string()).unwrap_or_default()
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
