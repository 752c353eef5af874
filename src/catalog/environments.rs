//! Product environments: rows of `environments`, and the two operations that touch every
//! other table at once, renaming a cloud and deleting one.
//!
//! Every other table is keyed by cloud name, so a rename rewrites that column everywhere in
//! one transaction, and a deletion removes every row of the cloud in one transaction and puts
//! the blobs no other row needs in the trash (the service then deletes them).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::assets::{parse_time, trash_in};
use super::{Catalog, CatalogError};

/// One product environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub id: String,
    pub cloud: String,
    pub name: String,
    pub enabled: bool,
    /// The one made from `CLOUDINARY_URL`: it cannot be renamed, disabled or deleted.
    pub primary: bool,
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    /// The key it was made with (for the primary, the URL's).
    pub api_key: String,
    pub api_secret: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Tables whose rows belong to one cloud, children before parents.
const CLOUD_TABLES: [&str; 15] = [
    "asset_tags",
    "asset_metadata",
    "asset_context",
    "derived",
    "asset_versions",
    "assets",
    "folders",
    "upload_presets",
    "named_transformations",
    "streaming_profiles",
    "metadata_fields",
    "upload_mappings",
    "jobs",
    "live_streams",
    "api_keys",
];

/// Settings copied from a base environment: (table, columns besides `cloud`).
const SETTINGS_TABLES: [(&str, &str); 5] = [
    ("upload_presets", "name, unsigned, settings, created_at"),
    (
        "named_transformations",
        "name, transformation, allowed_for_strict, created_at, updated_at",
    ),
    (
        "streaming_profiles",
        "name, display_name, representations, created_at, updated_at",
    ),
    ("metadata_fields", "external_id, position, definition"),
    ("upload_mappings", "folder, template, created_at"),
];

const COLUMNS: &str = "id, cloud, name, CAST(enabled AS INTEGER) AS enabled, \
     CAST(is_primary AS INTEGER) AS is_primary, custom_attributes, api_key, api_secret, \
     created_at, updated_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Environment, CatalogError> {
    let text = |c: &str| {
        row.try_get::<String, _>(c)
            .map_err(|e| CatalogError::Corrupt(format!("environment {c}: {e}")))
    };
    // Selected as integers: the Any driver reads no SQLite BOOLEAN.
    let flag = |c: &str| {
        row.try_get::<i64, _>(c)
            .map(|v| v != 0)
            .map_err(|e| CatalogError::Corrupt(format!("environment {c}: {e}")))
    };
    let attributes = text("custom_attributes")?;
    Ok(Environment {
        id: text("id")?,
        cloud: text("cloud")?,
        name: text("name")?,
        enabled: flag("enabled")?,
        primary: flag("is_primary")?,
        custom_attributes: serde_json::from_str(&attributes).map_err(|e| {
            CatalogError::Corrupt(format!("environment custom_attributes {attributes:?}: {e}"))
        })?,
        api_key: text("api_key")?,
        api_secret: text("api_secret")?,
        created_at: parse_time(&text("created_at")?)?,
        updated_at: parse_time(&text("updated_at")?)?,
    })
}

fn attributes_text(env: &Environment) -> String {
    serde_json::Value::Object(env.custom_attributes.clone()).to_string()
}

impl Catalog {
    /// Records a new environment; `AlreadyExists` when its cloud name is taken.
    pub async fn insert_environment(&self, env: &Environment) -> Result<(), CatalogError> {
        let done = sqlx::query(
            "INSERT INTO environments (id, cloud, name, enabled, is_primary, custom_attributes, \
             api_key, api_secret, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (cloud) DO NOTHING",
        )
        .bind(&env.id)
        .bind(&env.cloud)
        .bind(&env.name)
        .bind(env.enabled)
        .bind(env.primary)
        .bind(attributes_text(env))
        .bind(&env.api_key)
        .bind(&env.api_secret)
        .bind(env.created_at.to_rfc3339())
        .bind(env.updated_at.to_rfc3339())
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("insert environment"))?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::AlreadyExists(format!(
                "Cloud name {}",
                env.cloud
            )));
        }
        Ok(())
    }

    /// The primary environment of `cloud` with the start-up credentials, made on first start
    /// (and marked primary, keeping its id, when the cloud exists already).
    pub async fn ensure_primary_environment(
        &self,
        cloud: &str,
        api_key: &str,
        api_secret: &str,
    ) -> Result<Environment, CatalogError> {
        let now = Utc::now();
        sqlx::query(
            "INSERT INTO environments (id, cloud, name, enabled, is_primary, custom_attributes, \
             api_key, api_secret, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, '{}', $6, $7, $8, $9) \
             ON CONFLICT (cloud) DO UPDATE SET api_key = excluded.api_key, \
             api_secret = excluded.api_secret, is_primary = excluded.is_primary, \
             enabled = excluded.enabled",
        )
        .bind(crate::ids::hex32())
        .bind(cloud)
        .bind(cloud)
        .bind(true)
        .bind(true)
        .bind(api_key)
        .bind(api_secret)
        .bind(now.to_rfc3339())
        .bind(now.to_rfc3339())
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("record the primary environment"))?;
        // A primary of an earlier start under another cloud name becomes an ordinary one.
        sqlx::query("UPDATE environments SET is_primary = $1 WHERE cloud <> $2")
            .bind(false)
            .bind(cloud)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("record the primary environment"))?;
        self.environment_by_cloud(cloud)
            .await?
            .ok_or_else(|| CatalogError::Corrupt(format!("environment {cloud} vanished")))
    }

    pub async fn environment_by_cloud(
        &self,
        cloud: &str,
    ) -> Result<Option<Environment>, CatalogError> {
        self.one_environment("cloud", cloud).await
    }

    pub async fn environment_by_id(&self, id: &str) -> Result<Option<Environment>, CatalogError> {
        self.one_environment("id", id).await
    }

    async fn one_environment(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<Option<Environment>, CatalogError> {
        let sql = format!("SELECT {COLUMNS} FROM environments WHERE {column} = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_optional(&self.read)
            .await
            .map_err(CatalogError::query("find environment"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every environment, oldest first.
    pub async fn list_environments(&self) -> Result<Vec<Environment>, CatalogError> {
        let sql = format!("SELECT {COLUMNS} FROM environments ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("list environments"))?;
        rows.iter().map(from_row).collect()
    }

    /// Saves an environment's name, state and attributes, and moves every row of its old
    /// cloud name `was` to its new one, in one transaction. `AlreadyExists` when the new
    /// cloud name is taken.
    pub async fn update_environment(
        &self,
        env: &Environment,
        was: &str,
    ) -> Result<(), CatalogError> {
        let failed = CatalogError::query("update environment");
        let mut tx = self.write.begin().await.map_err(failed)?;
        if env.cloud != was {
            let taken = sqlx::query("SELECT 1 AS one FROM environments WHERE cloud = $1")
                .bind(&env.cloud)
                .fetch_optional(&mut *tx)
                .await
                .map_err(failed)?;
            if taken.is_some() {
                return Err(CatalogError::AlreadyExists(format!(
                    "Cloud name {}",
                    env.cloud
                )));
            }
            for table in CLOUD_TABLES {
                let sql = format!("UPDATE {table} SET cloud = $1 WHERE cloud = $2");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&env.cloud)
                    .bind(was)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed)?;
            }
        }
        sqlx::query(
            "UPDATE environments SET cloud = $1, name = $2, enabled = $3, custom_attributes = $4, \
             updated_at = $5 WHERE id = $6",
        )
        .bind(&env.cloud)
        .bind(&env.name)
        .bind(env.enabled)
        .bind(attributes_text(env))
        .bind(env.updated_at.to_rfc3339())
        .bind(&env.id)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        Ok(())
    }

    /// Copies the settings of cloud `from` (presets, named transformations, streaming
    /// profiles, metadata fields, upload mappings) to the empty cloud `to`.
    pub async fn copy_settings(&self, from: &str, to: &str) -> Result<(), CatalogError> {
        let failed = CatalogError::query("copy settings");
        let mut tx = self.write.begin().await.map_err(failed)?;
        for (table, columns) in SETTINGS_TABLES {
            let sql = format!(
                "INSERT INTO {table} (cloud, {columns}) SELECT $1, {columns} FROM {table} \
                 WHERE cloud = $2"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(to)
                .bind(from)
                .execute(&mut *tx)
                .await
                .map_err(failed)?;
        }
        tx.commit().await.map_err(failed)?;
        Ok(())
    }

    /// Removes an environment and every row of its cloud in one transaction; the blobs no
    /// other row needs go to the trash, and their keys are returned for deletion.
    pub async fn delete_environment(&self, env: &Environment) -> Result<Vec<String>, CatalogError> {
        let failed = CatalogError::query("delete environment");
        let mut tx = self.write.begin().await.map_err(failed)?;
        let rows = sqlx::query(
            "SELECT blob_key FROM assets WHERE cloud = $1 \
             UNION SELECT blob_key FROM asset_versions WHERE cloud = $2 \
             UNION SELECT blob_key FROM derived WHERE cloud = $3",
        )
        .bind(&env.cloud)
        .bind(&env.cloud)
        .bind(&env.cloud)
        .fetch_all(&mut *tx)
        .await
        .map_err(failed)?;
        let keys = rows
            .iter()
            .map(|r| r.try_get::<String, _>("blob_key"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed)?;
        sqlx::query(
            "DELETE FROM live_stream_outputs WHERE stream_id IN \
             (SELECT id FROM live_streams WHERE cloud = $1)",
        )
        .bind(&env.cloud)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        for table in CLOUD_TABLES {
            let sql = format!("DELETE FROM {table} WHERE cloud = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&env.cloud)
                .execute(&mut *tx)
                .await
                .map_err(failed)?;
        }
        sqlx::query("DELETE FROM environments WHERE id = $1")
            .bind(&env.id)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        for key in &keys {
            trash_in(&mut tx, key).await?;
        }
        tx.commit().await.map_err(failed)?;
        Ok(keys)
    }
}
