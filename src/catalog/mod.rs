//! The catalog: what exists, under which public id, with which tags, context, presets and
//! named transformations.
//!
//! sqlx's Any driver over SQLite (the embedded default) or PostgreSQL (several nodes): one set
//! of queries in SQL both accept, with `$n` placeholders; only the migrations differ
//! (`migrations/sqlite`, `migrations/postgres`), and job claiming, which uses
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL. Every row is keyed by cloud name. On SQLite, writes
//! go through a one-connection pool so SQLite never sees two writers (no `SQLITE_BUSY` under
//! load) and reads use a wider pool; PostgreSQL has one pool for both.

mod api_keys;
mod assets;
mod claims;
mod derived;
mod environments;
mod error;
mod folders;
mod jobs;
mod live_streams;
mod metadata;
mod model;
mod presets;
mod search;
mod sql;
mod streaming_profiles;
mod transformations;
mod upload_mappings;
mod versions;

pub use api_keys::{ApiKey, KeyChoice};
pub use assets::{Direction, ListQuery, Page};
pub use environments::Environment;
pub use error::CatalogError;
pub use jobs::{ClaimedJob, JobRow, NewJob};
pub use live_streams::{LiveOutput, LiveStream};
pub use model::{Asset, AssetVersion, Derived, NamedTransformation, NewAsset, Preset, Usage};
pub use search::{Found, SortKey};
pub use streaming_profiles::StoredProfile;
pub use upload_mappings::UploadMapping;

use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

/// Which database the catalog is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, if Kino supports it.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// Handle to the catalog database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Catalog {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
}

/// How long a request waits for a database connection before it is told the catalog is
/// unavailable (503), e.g. while PostgreSQL restarts.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl Catalog {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    pub async fn open(url: &str) -> Result<Catalog, CatalogError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)
            .ok_or_else(|| CatalogError::Refused(format!("unsupported database URL {url:?}")))?;
        match backend {
            Backend::Sqlite => Catalog::open_sqlite(url).await,
            Backend::Postgres => Catalog::open_postgres(url).await,
        }
    }

    async fn open_sqlite(url: &str) -> Result<Catalog, CatalogError> {
        // `mode=rwc` creates the file; the pragmas are set on every new connection.
        let url = if url.contains('?') {
            url.to_string()
        } else {
            format!("{url}?mode=rwc")
        };
        let options = || {
            AnyPoolOptions::new()
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .execute(conn)
                        .await?;
                        Ok(())
                    })
                })
        };
        let write = options()
            .max_connections(1)
            .connect(&url)
            .await
            .map_err(CatalogError::Connect)?;
        sqlx::migrate!("migrations/sqlite")
            .run(&write)
            .await
            .map_err(CatalogError::Migrate)?;
        let read = options()
            .max_connections(8)
            .connect(&url)
            .await
            .map_err(CatalogError::Connect)?;
        Ok(Catalog {
            read,
            write,
            backend: Backend::Sqlite,
        })
    }

    async fn open_postgres(url: &str) -> Result<Catalog, CatalogError> {
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(CatalogError::Connect)?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(CatalogError::Migrate)?;
        Ok(Catalog {
            read: pool.clone(),
            write: pool,
            backend: Backend::Postgres,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A trivial query, for readiness checks.
    pub async fn ping(&self) -> Result<(), CatalogError> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(CatalogError::query("ping"))?;
        Ok(())
    }

    /// When this catalog was set up (its first migration), as RFC 3339 UTC: the product
    /// environment's `created_at`.
    pub async fn created_at(&self) -> Result<String, CatalogError> {
        let row = sqlx::query("SELECT CAST(MIN(installed_on) AS TEXT) AS t FROM _sqlx_migrations")
            .fetch_one(&self.read)
            .await
            .map_err(CatalogError::query("created at"))?;
        let text: Option<String> = sqlx::Row::try_get(&row, "t")
            .map_err(|e| CatalogError::Corrupt(format!("created at: {e}")))?;
        let text = text.unwrap_or_default();
        // SQLite writes `2026-11-29 07:36:41`, PostgreSQL `2026-11-29 07:36:41.123456+00`.
        let parsed = chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S")
            .map(|t| t.and_utc())
            .or_else(|_| {
                chrono::DateTime::parse_from_str(&format!("{text}00"), "%Y-%m-%d %H:%M:%S%.f%z")
                    .map(|t| t.to_utc())
            })
            .map_err(|e| CatalogError::Corrupt(format!("created at {text:?}: {e}")))?;
        Ok(parsed.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    /// Closes both pools (graceful shutdown).
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}
