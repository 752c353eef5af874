//! API keys beyond the main one: rows of `api_keys`.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::assets::parse_time;
use super::{Catalog, CatalogError};

/// An API key and its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub api_key: String,
    pub api_secret: String,
    pub name: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which keys a deletion names.
#[derive(Debug, Clone, Copy)]
pub enum KeyChoice<'a> {
    Key(&'a str),
    Name(&'a str),
}

const COLUMNS: &str =
    "api_key, api_secret, name, CAST(enabled AS INTEGER) AS enabled, created_at, updated_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey, CatalogError> {
    let text = |c: &str| {
        row.try_get::<String, _>(c)
            .map_err(|e| CatalogError::Corrupt(format!("api key {c}: {e}")))
    };
    Ok(ApiKey {
        api_key: text("api_key")?,
        api_secret: text("api_secret")?,
        name: text("name")?,
        // Selected as an integer: the Any driver reads no SQLite BOOLEAN.
        enabled: row
            .try_get::<i64, _>("enabled")
            .map_err(|e| CatalogError::Corrupt(format!("api key enabled: {e}")))?
            != 0,
        created_at: parse_time(&text("created_at")?)?,
        updated_at: parse_time(&text("updated_at")?)?,
    })
}

impl Catalog {
    pub async fn insert_api_key(&self, cloud: &str, key: &ApiKey) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO api_keys (api_key, cloud, api_secret, name, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.api_key)
        .bind(cloud)
        .bind(&key.api_secret)
        .bind(&key.name)
        .bind(key.enabled)
        .bind(key.created_at.to_rfc3339())
        .bind(key.updated_at.to_rfc3339())
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("insert api key"))?;
        Ok(())
    }

    /// The keys of `cloud`, oldest first.
    pub async fn list_api_keys(&self, cloud: &str) -> Result<Vec<ApiKey>, CatalogError> {
        let sql =
            format!("SELECT {COLUMNS} FROM api_keys WHERE cloud = $1 ORDER BY created_at, api_key");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cloud)
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("list api keys"))?;
        rows.iter().map(from_row).collect()
    }

    pub async fn find_api_key(
        &self,
        cloud: &str,
        api_key: &str,
    ) -> Result<Option<ApiKey>, CatalogError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE cloud = $1 AND api_key = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cloud)
            .bind(api_key)
            .fetch_optional(&self.read)
            .await
            .map_err(CatalogError::query("find api key"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// Saves a key's name and state; `NotFound` when it does not exist.
    pub async fn update_api_key(&self, cloud: &str, key: &ApiKey) -> Result<(), CatalogError> {
        let done = sqlx::query(
            "UPDATE api_keys SET name = $1, enabled = $2, updated_at = $3 \
             WHERE cloud = $4 AND api_key = $5",
        )
        .bind(&key.name)
        .bind(key.enabled)
        .bind(key.updated_at.to_rfc3339())
        .bind(cloud)
        .bind(&key.api_key)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("update api key"))?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!(
                "API key {} not found",
                key.api_key
            )));
        }
        Ok(())
    }

    /// Deletes the key `api_key`, or the keys named `name`; how many went.
    pub async fn delete_api_keys(
        &self,
        cloud: &str,
        which: KeyChoice<'_>,
    ) -> Result<u64, CatalogError> {
        let (sql, value) = match which {
            KeyChoice::Key(k) => ("DELETE FROM api_keys WHERE cloud = $1 AND api_key = $2", k),
            KeyChoice::Name(n) => ("DELETE FROM api_keys WHERE cloud = $1 AND name = $2", n),
        };
        let done = sqlx::query(sql)
            .bind(cloud)
            .bind(value.to_string())
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("delete api key"))?;
        Ok(done.rows_affected())
    }
}
