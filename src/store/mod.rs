//! Blobs: the bytes of originals (and later derived files), behind the [`BlobStore`] trait.
//!
//! Invariant: nothing is visible half-written. Bytes first land in the [`staging`] area (a
//! temp file, hashed and size-capped while it streams in), and only a complete, fsynced file
//! is moved under its key. The catalog row that points at a blob is written after that.

mod local;
pub mod staging;

pub use local::LocalStore;
pub use staging::{StagedFile, Staging};

use std::ops::Range;
use std::path::PathBuf;
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
    /// A local path to the blob when the store has one (libav seeks in it directly).
    fn local_path(&self, key: &str) -> Option<PathBuf>;
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
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::TooLarge { .. } => ErrorKind::TooLarge,
            _ => ErrorKind::Internal,
        }
    }
}
