//! Incoming transformations: an upload's `transformation` (and `format`) applied before the
//! file is stored, so the asset's original is the transformed file. The file is planned and
//! run like a derived file (named transformations expanded, layers from the catalog, in a
//! worker when isolation is on) into the staging area, then probed again; nothing is stored
//! if any step fails.

use std::sync::atomic::AtomicBool;

use md5::{Digest, Md5};

use super::transform::{blocking, facts_of, media_of, rewrite_seekable, run_plan};
use super::upload::UploadType;
use super::{Kino, ServiceError};
use crate::engine::MediaInfo;
use crate::error::ErrorKind;
use crate::plan::{Plan, Source};
use crate::store::StagedFile;
use crate::url::{ResourceType, Transformation};

/// What an upload asks to be done to its file before it is stored.
#[derive(Debug)]
pub(super) struct IncomingTransformation<'a> {
    pub cloud: &'a str,
    /// The `transformation` parameter, empty for none.
    pub transformation: &'a str,
    /// The `format` parameter: the stored file's format.
    pub format: Option<&'a str>,
    /// The upload's tags, for conditions on them.
    pub tags: Vec<String>,
}

impl Kino {
    /// `file` (probed as `media`) transformed as `incoming` asks, probed again; `None` when
    /// nothing is asked or the file is not media.
    pub(super) async fn transform_incoming(
        &self,
        incoming: &IncomingTransformation<'_>,
        resource_type: ResourceType,
        file: &StagedFile,
        media: Option<&MediaInfo>,
    ) -> Result<Option<(StagedFile, MediaInfo)>, ServiceError> {
        let asked = !incoming.transformation.is_empty() || incoming.format.is_some();
        let Some(media) = media.filter(|_| asked && resource_type != ResourceType::Raw) else {
            return Ok(None);
        };
        let t = Transformation::parse_str(incoming.transformation)?;
        let t = self.expand_named(incoming.cloud, &t).await?;
        let format = incoming
            .format
            .or(t.format().filter(|f| *f != "auto"))
            .unwrap_or(&media.format)
            .to_ascii_lowercase();
        let base = Source {
            path: file.path().to_string_lossy().into_owned(),
            media: media_of(media),
        };
        let facts = facts_of(Some(media), &incoming.tags);
        let plan = self
            .plan_on(incoming.cloud, base, &facts, &t, &format)
            .await?;
        let staged = self.run_to_staging(plan).await?;
        let upload_type = match resource_type {
            ResourceType::Video => UploadType::Video,
            _ => UploadType::Auto,
        };
        let (_, media) = self.classify(upload_type, &staged, Some(&format)).await?;
        let media = media.ok_or_else(|| {
            ServiceError::BadInput("The incoming transformation made no media".into())
        })?;
        Ok(Some((staged, media)))
    }

    /// Runs `plan` (in a worker when isolation is on) into a new file in the staging area,
    /// remuxed into a seekable file when its format needs one. Nothing is left on failure.
    pub(super) async fn run_to_staging(&self, plan: Plan) -> Result<StagedFile, ServiceError> {
        let Some(_worker) = self.derived.worker().await else {
            return Err(ServiceError::Busy("the engine is shutting down".into()));
        };
        let dir = self.staging.dir().to_path_buf();
        let name = format!("made-{}", uuid_like());
        let (raw_path, done_path) = (
            dir.join(format!("{name}.part")),
            dir.join(format!("{name}.out")),
        );
        let rewrite = plan.rewrite_muxer().map(str::to_string);
        let isolation = self.isolation.clone();
        let written = raw_path.clone();
        let run = blocking(move || {
            let out = std::fs::File::create(&written)?;
            run_plan(isolation.as_deref(), &plan, out, &AtomicBool::new(false))
                .map_err(std::io::Error::other)?;
            match rewrite {
                Some(muxer) => {
                    let staged = rewrite_seekable(&written, &done_path, &muxer);
                    let _ = std::fs::remove_file(&written);
                    staged
                }
                None => {
                    let mut read = std::fs::File::open(&written)?;
                    let mut md5 = Md5::new();
                    let len = std::io::copy(&mut read, &mut md5)?;
                    Ok(StagedFile::adopt(written, len, md5))
                }
            }
        })
        .await;
        run.map_err(|e| {
            let _ = std::fs::remove_file(&raw_path);
            ServiceError::Failed {
                kind: ErrorKind::BadInput,
                message: format!("The transformation failed: {e}"),
            }
        })
    }
}

/// A random name for a staging file.
fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
        .collect()
}
