//! Delivering a transformed asset: expand named transformations, find the derived file or
//! join the flight making it, or plan it and start one.
//!
//! Order of work for a new output: resolve layer assets → plan (pure) → take a queue place (or
//! 503) → start the flight → the engine runs on a blocking thread behind a worker permit,
//! writing into the flight's staging file → the file is moved into the store and the derived
//! row written → readers see the end. Every request, the first included, reads the flight.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use md5::{Digest, Md5};

use super::analysis::{self, Analysis};
use super::claims::Claimed;
use super::{Kino, ServiceError};
use crate::catalog::{Asset, Derived};
use crate::derived::{self, Flight, Follower, State};
use crate::engine::{MediaInfo, MediaKind};
use crate::error::ErrorKind;
use crate::plan::{self, Context, Media, Plan, Source};
use crate::store::StagedFile;
use crate::url::{DeliveryPath, DeliveryType, Facts, ResourceType, Step, Transformation, steps};

/// Fonts for text layers (Debian's fonts-dejavu-core).
pub const FONT_DIR: &str = "/usr/share/fonts/truetype/dejavu";

/// What a transformed delivery serves.
#[derive(Debug)]
pub enum Transformed {
    /// Already in the store.
    Stored(Derived),
    /// Being made: read it as it grows.
    Live { follower: Follower, format: String },
}

/// What the client said about itself that `f_auto` and `dpr_auto` depend on.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Client {
    /// `Accept` lists `image/avif`.
    pub avif: bool,
    /// `Accept` lists `image/webp`.
    pub webp: bool,
    /// The device pixel ratio hint (`Sec-CH-DPR` or `DPR`).
    pub dpr: Option<f64>,
}

/// Planner input from what the probe stored.
/// What conditions and expressions may ask about an asset.
pub fn facts_of(media: Option<&MediaInfo>, tags: &[String]) -> Facts {
    let dimension = |d: Option<u32>| f64::from(d.unwrap_or(0));
    Facts {
        width: dimension(media.and_then(|m| m.width)),
        height: dimension(media.and_then(|m| m.height)),
        duration: media.and_then(|m| m.duration).unwrap_or(0.0),
        pages: f64::from(media.map_or(1, |m| m.pages.max(1))),
        tags: tags.to_vec(),
    }
}

pub fn media_of(info: &MediaInfo) -> Media {
    Media {
        width: info.width.unwrap_or(0),
        height: info.height.unwrap_or(0),
        duration: info.duration.unwrap_or(0.0),
        fps: info
            .frame_rate
            .filter(|f| *f > 0.0 && *f < 1000.0)
            .unwrap_or(25.0),
        has_video: info.video.is_some() || info.kind == MediaKind::Image,
        image: info.kind == MediaKind::Image,
        alpha: info.alpha,
        shrinkable: info.kind == MediaKind::Image && info.format == "jpg",
        lossless: info.kind == MediaKind::Image
            && matches!(info.format.as_str(), "png" | "gif" | "bmp" | "tiff"),
        has_audio: info.audio.is_some(),
        sample_rate: info
            .audio
            .as_ref()
            .map_or(44_100, |a| a.frequency.max(1) as u32),
        orientation: info
            .orientation
            .unwrap_or_else(|| plan::orientation::from_rotation(info.rotation)),
    }
}

impl Kino {
    /// Expands `t_` names, reading their definitions from the catalog.
    pub async fn expand_named(
        &self,
        cloud: &str,
        t: &Transformation,
    ) -> Result<Transformation, ServiceError> {
        let mut named: HashMap<String, Transformation> = HashMap::new();
        let mut todo = t.named_references();
        while let Some(name) = todo.pop() {
            if named.contains_key(&name) || named.len() > 50 {
                continue;
            }
            let def = self
                .catalog
                .find_named_transformation(cloud, &name)
                .await?
                .ok_or_else(|| {
                    ServiceError::BadInput(format!("Unknown named transformation: {name}"))
                })?;
            let parsed = Transformation::parse_str(&def.transformation)?;
            todo.extend(parsed.named_references());
            named.insert(name, parsed);
        }
        Ok(t.expand(&named)?)
    }

    /// What `path` makes of `asset`: the expanded transformation, the output format and the
    /// derived id.
    pub(super) async fn target(
        &self,
        path: &DeliveryPath,
        asset: &Asset,
        client: Client,
    ) -> Result<(Transformation, String, String), ServiceError> {
        let mut expanded = self.expand_named(&path.cloud, &path.transformation).await?;
        if expanded.has_auto_dpr() {
            let dpr = client.dpr.unwrap_or(1.0).clamp(1.0, 4.0);
            expanded = expanded.with_dpr((dpr * 10.0).round() / 10.0);
        }
        let format = output_format(path, &expanded, asset, client);
        let id = derived::derived_id(
            &asset.asset_id,
            asset.version,
            &expanded.to_string(),
            &format,
        );
        Ok((expanded, format, id))
    }

    /// A delivery URL's transformation: what [`Kino::transformed`] serves, once strict
    /// transformations (when on) allow it.
    pub async fn deliver_transformed(
        &self,
        path: &DeliveryPath,
        asset: &Asset,
        client: Client,
    ) -> Result<Transformed, ServiceError> {
        if self.security.strict_transformations {
            let (_, _, id) = self.target(path, asset, client).await?;
            let made = self.catalog.find_derived(&id).await?.is_some();
            self.check_strict(path, made).await?;
        }
        self.transformed(path, asset, client).await
    }

    /// Serves `path` (which has a transformation or asks for another format) of `asset`.
    pub async fn transformed(
        &self,
        path: &DeliveryPath,
        asset: &Asset,
        client: Client,
    ) -> Result<Transformed, ServiceError> {
        if asset.resource_type == ResourceType::Raw {
            return Err(ServiceError::BadInput(
                "Raw files cannot be transformed".into(),
            ));
        }
        let (expanded, format, id) = self.target(path, asset, client).await?;
        let plan = Box::pin(self.plan_for(asset, &expanded, &format));
        self.derive(
            asset,
            &id,
            path.transformation.to_string(),
            format.clone(),
            plan,
        )
        .await
    }

    /// The derived file `id` of `asset`: stored, being made (joined), or started now with the
    /// plan `plan` resolves to (only awaited when the file must be made). `shown` is the
    /// transformation text resource details list for it.
    pub(super) async fn derive(
        &self,
        asset: &Asset,
        id: &str,
        shown: String,
        format: String,
        plan: std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Plan, ServiceError>> + Send + '_>,
        >,
    ) -> Result<Transformed, ServiceError> {
        use crate::metrics::Lookup;
        if let Some(found) = self.catalog.find_derived(id).await? {
            self.metrics.count_derived(Lookup::Stored);
            return Ok(Transformed::Stored(found));
        }
        if let Some(flight) = self.derived.running(id) {
            self.metrics.count_derived(Lookup::Joined);
            return follow(&flight, format).await;
        }
        // Another node may be making it: then wait for its row rather than make it twice.
        let claim = match self.claim_or_wait(id).await? {
            Claimed::Mine(claim) => claim,
            Claimed::Running(flight) => {
                self.metrics.count_derived(Lookup::Joined);
                return follow(&flight, format).await;
            }
            Claimed::Made(found) => {
                self.metrics.count_derived(Lookup::Stored);
                return Ok(Transformed::Stored(found));
            }
        };
        // The queue place comes first: planning may analyse the picture (faces, g_auto), and
        // a flood of such requests must be refused before that work, not after it.
        let queued = self.queue_place(&asset.cloud)?;
        let plan = plan.await?;
        let staging = self
            .staging
            .dir()
            .join(format!("derived-{id}-{}.part", rand::random::<u32>()));
        let (flight, writer) =
            Flight::create(staging, self.limits.max_output_bytes).map_err(|e| {
                ServiceError::Failed {
                    kind: ErrorKind::Internal,
                    message: format!("creating a staging file: {e}"),
                }
            })?;
        if let Err(other) = self.derived.register(id, flight.clone()) {
            let _ = std::fs::remove_file(&flight.path);
            self.metrics.count_derived(Lookup::Joined);
            return follow(&other, format).await;
        }
        self.metrics.count_derived(Lookup::Made);
        let follower = flight.follow();
        let row = Derived {
            id: id.to_string(),
            cloud: asset.cloud.clone(),
            asset_id: asset.asset_id.clone(),
            version: asset.version,
            transformation: shown,
            format: format.clone(),
            blob_key: derived::blob_key(&asset.asset_id, id, &format),
            bytes: 0,
            etag: String::new(),
            created_at: chrono::Utc::now(),
        };
        let kino = self.clone();
        let id = id.to_string();
        self.derived.count_run();
        tokio::spawn(async move {
            let _queued = queued;
            let state = tokio::select! {
                state = kino.make(&flight, writer, plan, row) => state,
                never = claim.keep_alive() => match never {},
            };
            drop(claim);
            flight.finish(state);
            kino.derived.forget(&id);
        });
        started(follower, format).await
    }

    /// A place in the engine's queue for a transformation of `cloud`'s media.
    pub(super) fn queue_place(&self, cloud: &str) -> Result<derived::Queued, ServiceError> {
        self.derived
            .enqueue(cloud)
            .map_err(|refused| match refused {
                derived::Refused::Full => ServiceError::Busy(
                    "Too many transformations in progress; try again shortly".into(),
                ),
                derived::Refused::Account(n) => ServiceError::RateLimited(format!(
                    "Too many transformations in progress for this account (at most {n} at once); \
                 try again shortly"
                )),
            })
    }

    /// Plans the output: the asset and its layers on local paths, with what the probe knows.
    pub(super) async fn plan_for(
        &self,
        asset: &Asset,
        t: &Transformation,
        format: &str,
    ) -> Result<Plan, ServiceError> {
        let base = self.source_of(asset).await?;
        let facts = facts_of(asset.media.as_ref(), &asset.tags);
        self.plan_on(&asset.cloud, base, &facts, t, format).await
    }

    /// Plans the output of `t` on `base` (a stored asset's copy, or an upload not stored yet),
    /// with the layers of `cloud`; conditions and variables are worked out with `facts`.
    pub(super) async fn plan_on(
        &self,
        cloud: &str,
        base: Source,
        facts: &Facts,
        t: &Transformation,
        format: &str,
    ) -> Result<Plan, ServiceError> {
        let resolved;
        let t = if t.is_deferred() {
            resolved = t.resolve(facts)?;
            &resolved
        } else {
            t
        };
        let steps = steps(t)?;
        let mut layers = HashMap::new();
        for (rt, public_id, key) in plan::layer_assets(&steps) {
            let rt = ResourceType::parse(rt).unwrap_or(ResourceType::Image);
            let found = self
                .catalog
                .find_asset(cloud, rt, DeliveryType::Upload, &public_id)
                .await?
                .ok_or_else(|| {
                    ServiceError::NotFound(format!("Layer resource not found - {public_id}"))
                })?;
            let source = if rt == ResourceType::Raw {
                // A file the engine reads whole (subtitles), not media.
                Source {
                    path: self.local_path_of(&found).await?,
                    media: Media::file(),
                }
            } else {
                self.source_of(&found).await?
            };
            layers.insert(key, source);
        }
        let analysis = self.analyse(&base, &steps).await?;
        let ctx = Context {
            base,
            layers,
            font_dir: FONT_DIR.into(),
            max_dimension: u32::try_from(self.limits.max_output_dimension).unwrap_or(u32::MAX),
            focus: analysis.focus,
            faces: analysis.faces,
            trim: analysis.trim,
            edge_color: analysis.edge_color,
        };
        Ok(plan::build(&steps, format, &ctx)?)
    }

    /// A plan context for `base` with no layers and no analyses: what generated pictures
    /// (`multi`, `sprite`, `text`) are planned with.
    pub(super) fn plain_context(&self, base: Source) -> Context {
        Context {
            base,
            layers: HashMap::new(),
            font_dir: FONT_DIR.into(),
            max_dimension: u32::try_from(self.limits.max_output_dimension).unwrap_or(u32::MAX),
            focus: None,
            faces: Vec::new(),
            trim: None,
            edge_color: None,
        }
    }

    /// What the plan needs to know about the picture, looked at in a worker when isolation is
    /// on (nothing is decoded when the steps need nothing).
    async fn analyse(&self, base: &Source, steps: &[Step]) -> Result<Analysis, ServiceError> {
        if !analysis::needed(steps) {
            return Ok(Analysis::default());
        }
        if let Some(isolation) = &self.isolation {
            let job = crate::isolation::AnalysisJob {
                base: base.clone(),
                steps: steps.to_vec(),
            };
            return isolation
                .analyse(&job)
                .await
                .map_err(|e| ServiceError::Failed {
                    kind: e.kind(),
                    message: e.to_string(),
                });
        }
        let (base, steps) = (base.clone(), steps.to_vec());
        tokio::task::spawn_blocking(move || analysis::analyse(&base, &steps))
            .await
            .map_err(|e| ServiceError::Failed {
                kind: ErrorKind::Internal,
                message: e.to_string(),
            })?
    }

    async fn local_path_of(&self, asset: &Asset) -> Result<String, ServiceError> {
        let path = self.store.local_copy(&asset.blob_key).await?;
        Ok(path.to_string_lossy().into_owned())
    }

    async fn source_of(&self, asset: &Asset) -> Result<Source, ServiceError> {
        let media = asset.media.as_ref().map(media_of).ok_or_else(|| {
            ServiceError::BadInput(format!(
                "{} is not media that can be transformed",
                asset.public_id
            ))
        })?;
        Ok(Source {
            path: self.local_path_of(asset).await?,
            media,
        })
    }

    /// Runs the engine for a flight, then stores the output and records the row.
    async fn make(
        &self,
        flight: &Arc<Flight>,
        writer: derived::FlightWriter,
        plan: Plan,
        mut row: Derived,
    ) -> State {
        let Some(_worker) = self.derived.worker().await else {
            return failed(ErrorKind::Internal, "the engine is shutting down");
        };
        if flight.cancel.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = std::fs::remove_file(&flight.path);
            return failed(ErrorKind::Internal, "cancelled before it started");
        }
        let cancel = flight.cancel.clone();
        let frames_needed = plan.max_frames.is_some();
        let rewrite = plan.rewrite_muxer().map(str::to_string);
        let isolation = self.isolation.clone();
        let started = std::time::Instant::now();
        let run = tokio::task::spawn_blocking(move || {
            run_plan(isolation.as_deref(), &plan, writer, &cancel)
        })
        .await;
        if matches!(run, Ok(Ok(_))) {
            self.metrics
                .observe_transform(started.elapsed().as_secs_f64());
        }
        let stats = match run {
            Ok(Ok(stats)) => stats,
            Ok(Err(_)) if flight.over_limit() => {
                let _ = std::fs::remove_file(&flight.path);
                return failed(ErrorKind::TooLarge, &too_large(flight.max_bytes));
            }
            Ok(Err(e)) => {
                let _ = std::fs::remove_file(&flight.path);
                if matches!(e, crate::engine::EngineError::Cancelled) {
                    tracing::debug!(id = row.id, "transformation cancelled: its readers left");
                } else {
                    tracing::warn!(error = %e, id = row.id, "transformation failed");
                }
                return failed(e.kind(), &format!("The transformation failed: {e}"));
            }
            Err(e) => {
                let _ = std::fs::remove_file(&flight.path);
                return failed(ErrorKind::Internal, &format!("the engine task failed: {e}"));
            }
        };
        if frames_needed && stats.video_frames == 0 {
            let _ = std::fs::remove_file(&flight.path);
            return failed(ErrorKind::BadInput, "No frame could be taken at that time");
        }
        match self.store_flight(flight, rewrite, &mut row).await {
            Ok(()) => State::Done,
            Err(e) => {
                let _ = std::fs::remove_file(&flight.path);
                tracing::warn!(error = %e, id = row.id, "storing a derived file failed");
                failed(ErrorKind::Internal, "storing the output failed")
            }
        }
    }

    /// Moves the flight's output into the store (rewritten into a seekable file when `rewrite` names
    /// a muxer) and records the row. Readers still on the flight keep reading its file.
    pub(super) async fn store_flight(
        &self,
        flight: &Flight,
        rewrite: Option<String>,
        row: &mut Derived,
    ) -> Result<(), ServiceError> {
        let staged = match rewrite {
            None => {
                let path = flight.path.clone();
                blocking(move || std::fs::File::open(path)?.sync_all()).await?;
                let (bytes, _) = flight.digest();
                StagedFile::adopt(flight.path.clone(), bytes, flight.hasher())
            }
            Some(muxer) => {
                let src = flight.path.clone();
                let dst = src.with_extension("seekable");
                let staged = blocking(move || rewrite_seekable(&src, &dst, &muxer)).await;
                let _ = std::fs::remove_file(&flight.path);
                staged?
            }
        };
        self.store_derived(staged, row).await
    }

    /// Puts a finished derived file into the store, then records its row.
    pub(super) async fn store_derived(
        &self,
        staged: StagedFile,
        row: &mut Derived,
    ) -> Result<(), ServiceError> {
        row.bytes = i64::try_from(staged.len()).unwrap_or(i64::MAX);
        row.etag = staged.md5_hex();
        self.catalog.expect_blob(&row.blob_key).await?;
        self.store.put(&row.blob_key, staged).await?;
        self.catalog.put_derived(row).await?;
        Ok(())
    }

    /// Removes an asset's derived files (all, or `ids`): rows first, then blobs.
    pub async fn purge_derived(
        &self,
        asset_id: &str,
        ids: Option<&[String]>,
    ) -> Result<usize, ServiceError> {
        let keys = self.catalog.purge_derived(asset_id, ids).await?;
        for key in &keys {
            self.discard_blob(key).await;
        }
        Ok(keys.len())
    }
}

/// Runs `plan` in a worker process when isolation is on, else in this one.
pub(super) fn run_plan(
    isolation: Option<&crate::isolation::Isolation>,
    plan: &Plan,
    writer: impl std::io::Write + Send + 'static,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<crate::engine::RunStats, crate::engine::EngineError> {
    match isolation {
        Some(isolation) => isolation.run(plan, writer, cancel),
        None => crate::engine::run(plan, writer, cancel),
    }
}

/// Remuxes a finished output into the seekable file `dst`, hashed and synced.
pub(super) fn rewrite_seekable(src: &Path, dst: &Path, muxer: &str) -> std::io::Result<StagedFile> {
    if let Err(e) = crate::engine::remux_seekable(src, dst, muxer) {
        let _ = std::fs::remove_file(dst);
        return Err(std::io::Error::other(e));
    }
    let mut file = std::fs::File::open(dst)?;
    file.sync_all()?;
    let mut md5 = Md5::new();
    let bytes = std::io::copy(&mut file, &mut md5)?;
    Ok(StagedFile::adopt(dst.to_path_buf(), bytes, md5))
}

/// Runs blocking file work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, ServiceError> {
    let internal = |message: String| ServiceError::Failed {
        kind: ErrorKind::Internal,
        message,
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| internal(e.to_string()))
}

/// Why a flight whose output outgrew `limit` failed.
pub(super) fn too_large(limit: u64) -> String {
    format!("The transformation's output is larger than the maximum of {limit} bytes")
}

pub(super) fn failed(kind: ErrorKind, message: &str) -> State {
    State::Failed {
        kind,
        message: message.to_string(),
    }
}

pub(super) async fn follow(
    flight: &Arc<Flight>,
    format: String,
) -> Result<Transformed, ServiceError> {
    started(flight.follow(), format).await
}

/// Waits for the first bytes (or the failure that came before them).
async fn started(follower: Follower, format: String) -> Result<Transformed, ServiceError> {
    match follower.flight().started().await {
        Ok(()) => Ok(Transformed::Live { follower, format }),
        Err((kind, message)) => Err(ServiceError::Failed { kind, message }),
    }
}

/// The output format: `f_`, else the URL's extension, else the original's. `f_auto` keeps
/// video as MP4 and gives pictures the best the client accepts: AVIF, then WebP, then PNG
/// for transparent pictures and JPEG for the rest (animations: WebP, else GIF).
fn output_format(path: &DeliveryPath, t: &Transformation, asset: &Asset, client: Client) -> String {
    let ext = path
        .extension
        .clone()
        .unwrap_or_else(|| asset.format.clone());
    let asked = t.format().map(str::to_string).unwrap_or(ext);
    let asked = match asked.as_str() {
        "jpeg" | "jpe" => "jpg".to_string(),
        "tif" => "tiff".to_string(),
        _ => asked,
    };
    if asked == "auto" || asked.starts_with("auto:") {
        return auto_format(asset, client).into();
    }
    asked
}

fn auto_format(asset: &Asset, client: Client) -> &'static str {
    if asset.resource_type == ResourceType::Video {
        return "mp4";
    }
    let media = asset.media.as_ref();
    let animated = media.is_some_and(|m| m.pages > 1);
    let alpha = media.is_some_and(|m| m.alpha);
    match (animated, client.avif, client.webp) {
        (true, _, true) => "webp",
        (true, _, false) => "gif",
        (false, true, _) => "avif",
        (false, false, true) => "webp",
        (false, false, false) if alpha => "png",
        _ => "jpg",
    }
}
