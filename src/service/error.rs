//! Service-layer failures: the caller's mistakes, said plainly, or a lower layer's error.

use crate::catalog::CatalogError;
use crate::engine::EngineError;
use crate::error::ErrorKind;
use crate::metadata::MetadataError;
use crate::params::ParamError;
use crate::plan::PlanError;
use crate::store::StoreError;
use crate::url::{PublicIdError, TransformationError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Unauthorized(String),
    /// Known caller, but what it asks for is switched off (a disabled environment).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("Invalid public_id: {0}")]
    PublicId(#[from] PublicIdError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Transformation(#[from] TransformationError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// The engine's queue is full.
    #[error("{0}")]
    Busy(String),
    /// The account has as many transformations in progress as it may.
    #[error("{0}")]
    RateLimited(String),
    /// A transformation that failed while running, as its flight reported it.
    #[error("{message}")]
    Failed { kind: ErrorKind, message: String },
    #[error("{what}: {source}")]
    Media {
        what: String,
        #[source]
        source: EngineError,
    },
}

impl ServiceError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::BadInput(_)
            | ServiceError::Param(_)
            | ServiceError::PublicId(_)
            | ServiceError::Metadata(_) => ErrorKind::BadInput,
            ServiceError::Unauthorized(_) => ErrorKind::Unauthorized,
            ServiceError::Forbidden(_) => ErrorKind::Forbidden,
            ServiceError::NotFound(_) => ErrorKind::NotFound,
            ServiceError::TooLarge(_) => ErrorKind::TooLarge,
            ServiceError::Catalog(e) => e.kind(),
            ServiceError::Store(e) => e.kind(),
            ServiceError::Media { source, .. } => source.kind(),
            ServiceError::Transformation(_) => ErrorKind::BadInput,
            ServiceError::Plan(e) => e.kind(),
            ServiceError::Busy(_) => ErrorKind::Busy,
            ServiceError::RateLimited(_) => ErrorKind::RateLimited,
            ServiceError::Failed { kind, .. } => *kind,
        }
    }

    /// A store "too large" is a user error with Cloudinary's wording.
    pub fn from_store_limit(e: StoreError) -> ServiceError {
        match e {
            StoreError::TooLarge { limit } => {
                ServiceError::TooLarge(format!("File size too large. Maximum is {limit}."))
            }
            other => ServiceError::Store(other),
        }
    }
}
