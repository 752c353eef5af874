//! Catalog failures, named by step.

use crate::error::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("connecting to the catalog database")]
    Connect(#[source] sqlx::Error),
    #[error("applying catalog migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("catalog query {step}")]
    Query {
        step: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("catalog row is damaged: {0}")]
    Corrupt(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
}

impl CatalogError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CatalogError::AlreadyExists(_) => ErrorKind::Conflict,
            CatalogError::NotFound(_) => ErrorKind::NotFound,
            CatalogError::Refused(_) => ErrorKind::BadInput,
            CatalogError::Connect(_) => ErrorKind::Busy,
            CatalogError::Query { source, .. } if is_unavailable(source) => ErrorKind::Busy,
            _ => ErrorKind::Internal,
        }
    }

    /// Adapter for `map_err`: names the step of a failed query.
    pub(crate) fn query(step: &'static str) -> impl Fn(sqlx::Error) -> CatalogError + Copy {
        move |source| CatalogError::Query { step, source }
    }
}

fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
    )
}
