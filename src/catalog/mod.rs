//! The catalog: what exists, under which public id, with which tags, context, presets and
//! named transformations.
//!
//! sqlx over SQLite, the embedded default. Every row is keyed by cloud name. Writes go through a
//! one-connection pool so SQLite never sees two writers (no `SQLITE_BUSY` under load); reads use
//! a wider pool. Queries stay in plain SQL that PostgreSQL also accepts, so a later issue can
//! add it with the same code.

mod assets;
mod derived;
mod error;
mod folders;
mod jobs;
mod live_streams;
mod model;
mod presets;
mod streaming_profiles;
mod transformations;

pub use assets::{Direction, ListQuery, Page};
pub use error::CatalogError;
pub use jobs::{ClaimedJob, JobRow, NewJob};
pub use live_streams::{LiveOutput, LiveStream};
pub use model::{Asset, Derived, NamedTransformation, NewAsset, Preset, Usage};
pub use streaming_profiles::StoredProfile;

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Handle to the catalog database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Catalog {
    read: SqlitePool,
    write: SqlitePool,
}

impl Catalog {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    pub async fn open(url: &str) -> Result<Catalog, CatalogError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(CatalogError::Connect)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(CatalogError::Connect)?;
        sqlx::migrate!("migrations/sqlite")
            .run(&write)
            .await
            .map_err(CatalogError::Migrate)?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(CatalogError::Connect)?;
        Ok(Catalog { read, write })
    }

    /// A trivial query, for readiness checks.
    pub async fn ping(&self) -> Result<(), CatalogError> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(CatalogError::query("ping"))?;
        Ok(())
    }

    /// Closes both pools (graceful shutdown).
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}
