//! Streaming profile rows: custom profiles, and changed copies of predefined ones.

use chrono::Utc;
use sqlx::Row;

use super::{Catalog, CatalogError};

/// A stored profile: representations as transformation strings, checked by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProfile {
    pub name: String,
    pub display_name: Option<String>,
    pub representations: Vec<String>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<StoredProfile, CatalogError> {
    let corrupt =
        |what: &str, e: String| CatalogError::Corrupt(format!("streaming profile {what}: {e}"));
    let reps: String = row
        .try_get("representations")
        .map_err(|e| corrupt("representations", e.to_string()))?;
    Ok(StoredProfile {
        name: row
            .try_get("name")
            .map_err(|e| corrupt("name", e.to_string()))?,
        display_name: row
            .try_get("display_name")
            .map_err(|e| corrupt("display_name", e.to_string()))?,
        representations: serde_json::from_str(&reps)
            .map_err(|e| corrupt("representations", e.to_string()))?,
    })
}

impl Catalog {
    /// Every stored profile of `cloud`, by name.
    pub async fn list_streaming_profiles(
        &self,
        cloud: &str,
    ) -> Result<Vec<StoredProfile>, CatalogError> {
        let rows = sqlx::query(
            "SELECT name, display_name, representations FROM streaming_profiles \
             WHERE cloud = $1 ORDER BY name",
        )
        .bind(cloud)
        .fetch_all(&self.read)
        .await
        .map_err(CatalogError::query("list streaming profiles"))?;
        rows.iter().map(from_row).collect()
    }

    pub async fn find_streaming_profile(
        &self,
        cloud: &str,
        name: &str,
    ) -> Result<Option<StoredProfile>, CatalogError> {
        let row = sqlx::query(
            "SELECT name, display_name, representations FROM streaming_profiles \
             WHERE cloud = $1 AND name = $2",
        )
        .bind(cloud)
        .bind(name)
        .fetch_optional(&self.read)
        .await
        .map_err(CatalogError::query("find streaming profile"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// Stores a profile; with `create`, `AlreadyExists` when the name is taken.
    pub async fn put_streaming_profile(
        &self,
        cloud: &str,
        profile: &StoredProfile,
        create: bool,
    ) -> Result<(), CatalogError> {
        let now = Utc::now().to_rfc3339();
        let reps = serde_json::to_string(&profile.representations)
            .map_err(|e| CatalogError::Corrupt(e.to_string()))?;
        let sql = if create {
            "INSERT INTO streaming_profiles \
             (cloud, name, display_name, representations, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cloud, name) DO NOTHING"
        } else {
            "INSERT INTO streaming_profiles \
             (cloud, name, display_name, representations, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cloud, name) DO UPDATE SET \
             display_name = excluded.display_name, representations = excluded.representations, \
             updated_at = excluded.updated_at"
        };
        let done = sqlx::query(sql)
            .bind(cloud)
            .bind(&profile.name)
            .bind(&profile.display_name)
            .bind(&reps)
            .bind(&now)
            .bind(&now)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("store streaming profile"))?;
        if create && done.rows_affected() == 0 {
            return Err(CatalogError::AlreadyExists(format!(
                "Streaming profile {}",
                profile.name
            )));
        }
        Ok(())
    }

    /// Removes a stored profile; false when there was none.
    pub async fn delete_streaming_profile(
        &self,
        cloud: &str,
        name: &str,
    ) -> Result<bool, CatalogError> {
        let done = sqlx::query("DELETE FROM streaming_profiles WHERE cloud = $1 AND name = $2")
            .bind(cloud)
            .bind(name)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("delete streaming profile"))?;
        Ok(done.rows_affected() > 0)
    }
}
