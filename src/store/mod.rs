//! Blobs: the bytes of originals (and later derived files), behind the [`BlobStore`] trait.
//!
//! Invariant: nothing is visible half-written. Bytes first land in the [`staging`] area (a
//! temp file, hashed and size-capped while it streams in), and only a complete, fsynced file
//! is moved under its key. The catalog row that points at a blob is written after that.

mod cache;
mod local;
mod s3;
pub mod staging;

pub use cache::LocalCache;
pub use local::LocalStore;
pub use s3::{S3Location, S3Store};
pub use staging::{StagedFile, Staging};

use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;

use tokio::io::AsyncRead;

use crate::error::ErrorKind;

/// A stream of blob bytes.
pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

/// Where blobs live. Keys are `/`-separated relative paths chosen by Kino, never by users.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Moves a complete staged file under `key`, atomically.
    async fn put(&self, key: &str, file: StagedFile) -> Result<(), StoreError>;
    /// Reads `key`, or only `range` of it.
    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<BlobReader, StoreError>;
    /// Removes `key`; a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// A local file holding the blob, for libav to seek in: the blob itself on local disk,
    /// a cached copy of a remote one.
    async fn local_copy(&self, key: &str) -> Result<PathBuf, StoreError>;
    /// Whether the store answers (`/readyz`): its directory is there, its bucket reachable.
    async fn check(&self) -> Result<(), StoreError>;
}

/// Reads the file holding `key`, or only `range` of it.
async fn read_file(
    key: &str,
    path: &Path,
    range: Option<Range<u64>>,
) -> Result<BlobReader, StoreError> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let read_err = |source| StoreError::Read {
        key: key.into(),
        source,
    };
    let mut file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::NotFound(key.into()));
        }
        Err(e) => return Err(read_err(e)),
    };
    match range {
        None => Ok(Box::pin(file)),
        Some(r) => {
            file.seek(std::io::SeekFrom::Start(r.start))
                .await
                .map_err(read_err)?;
            Ok(Box::pin(file.take(r.end.saturating_sub(r.start))))
        }
    }
}

/// `key` as a relative path that stays under the directory it is joined to.
fn safe_relative(key: &str) -> Result<&Path, StoreError> {
    let relative = Path::new(key);
    let safe = !key.is_empty()
        && relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if safe {
        Ok(relative)
    } else {
        Err(StoreError::BadKey(key.into()))
    }
}

/// A failure of the blob store, named by the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("blob {0} not found")]
    NotFound(String),
    #[error("creating a staging file")]
    CreateStaging(#[source] std::io::Error),
    #[error("writing a staging file")]
    WriteStaging(#[source] std::io::Error),
    #[error("upload is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("moving blob {key} into place")]
    Commit {
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error("reading blob {key}")]
    Read {
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error("deleting blob {key}")]
    Delete {
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error("blob key {0:?} is not a safe relative path")]
    BadKey(String),
    /// The remote store did not answer (down, unreachable, timing out): worth a retry.
    #[error("the blob store is unavailable ({step}): {message}")]
    Unavailable { step: &'static str, message: String },
    /// The remote store answered with an error.
    #[error("the blob store refused {step} of {key}: {message}")]
    Remote {
        step: &'static str,
        key: String,
        message: String,
    },
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::TooLarge { .. } => ErrorKind::TooLarge,
            StoreError::Unavailable { .. } => ErrorKind::Busy,
            _ => ErrorKind::Internal,
        }
    }
}
