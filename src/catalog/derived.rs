//! Derived rows: which transformation outputs exist in the blob store, per asset version.
//!
//! A row is written after its blob is in place; purging an asset's rows moves their blob keys
//! to the trash in the same commit, so a crash never leaves a row without a blob or a blob
//! nobody will delete.

use chrono::Utc;
use sqlx::Row;

use super::assets::{parse_time, trash_in};
use super::{Catalog, CatalogError, Derived};

const COLUMNS: &str =
    "id, cloud, asset_id, version, transformation, format, blob_key, bytes, etag, created_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Derived, CatalogError> {
    let corrupt = |c: &str| {
        let c = c.to_string();
        move |e: sqlx::Error| CatalogError::Corrupt(format!("derived {c}: {e}"))
    };
    Ok(Derived {
        id: row.try_get("id").map_err(corrupt("id"))?,
        cloud: row.try_get("cloud").map_err(corrupt("cloud"))?,
        asset_id: row.try_get("asset_id").map_err(corrupt("asset_id"))?,
        version: row.try_get("version").map_err(corrupt("version"))?,
        transformation: row
            .try_get("transformation")
            .map_err(corrupt("transformation"))?,
        format: row.try_get("format").map_err(corrupt("format"))?,
        blob_key: row.try_get("blob_key").map_err(corrupt("blob_key"))?,
        bytes: row.try_get("bytes").map_err(corrupt("bytes"))?,
        etag: row.try_get("etag").map_err(corrupt("etag"))?,
        created_at: parse_time(
            &row.try_get::<String, _>("created_at")
                .map_err(corrupt("created_at"))?,
        )?,
    })
}

impl Catalog {
    pub async fn find_derived(&self, id: &str) -> Result<Option<Derived>, CatalogError> {
        let sql = format!("SELECT {COLUMNS} FROM derived WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(CatalogError::query("find derived"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// Records a derived file whose blob is in place (and takes its key out of the trash).
    pub async fn put_derived(&self, d: &Derived) -> Result<(), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin derived"))?;
        let sql = format!(
            "INSERT INTO derived ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET blob_key = excluded.blob_key, bytes = excluded.bytes, etag = excluded.etag"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&d.id)
            .bind(&d.cloud)
            .bind(&d.asset_id)
            .bind(d.version)
            .bind(&d.transformation)
            .bind(&d.format)
            .bind(&d.blob_key)
            .bind(d.bytes)
            .bind(&d.etag)
            .bind(Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await
            .map_err(CatalogError::query("put derived"))?;
        sqlx::query("DELETE FROM blob_trash WHERE blob_key = $1")
            .bind(&d.blob_key)
            .execute(&mut *tx)
            .await
            .map_err(CatalogError::query("claim derived blob"))?;
        tx.commit()
            .await
            .map_err(CatalogError::query("commit derived"))?;
        Ok(())
    }

    /// Up to `limit` derived files of `cloud` made with the transformation `text` (as the
    /// delivery URL wrote it, `t_name` for a named one), oldest first.
    pub async fn derived_with_transformation(
        &self,
        cloud: &str,
        text: &str,
        limit: i64,
    ) -> Result<Vec<Derived>, CatalogError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM derived WHERE cloud = $1 AND transformation = $2 \
             ORDER BY created_at, id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cloud)
            .bind(text)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("derived with transformation"))?;
        rows.iter().map(from_row).collect()
    }

    /// The derived files of an asset, newest first.
    pub async fn list_derived(&self, asset_id: &str) -> Result<Vec<Derived>, CatalogError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM derived WHERE asset_id = $1 ORDER BY created_at DESC, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(asset_id)
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("list derived"))?;
        rows.iter().map(from_row).collect()
    }

    /// Forgets the derived files of an asset (all of them, or only `ids`); their blob keys go
    /// to the trash and are returned for the caller to delete.
    pub async fn purge_derived(
        &self,
        asset_id: &str,
        ids: Option<&[String]>,
    ) -> Result<Vec<String>, CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin purge"))?;
        let rows = sqlx::query("SELECT id, blob_key FROM derived WHERE asset_id = $1")
            .bind(asset_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(CatalogError::query("find derived to purge"))?;
        let mut keys = Vec::new();
        for r in &rows {
            let id: String = r.try_get("id").map_err(CatalogError::query("derived id"))?;
            if ids.is_some_and(|only| !only.contains(&id)) {
                continue;
            }
            let key: String = r
                .try_get("blob_key")
                .map_err(CatalogError::query("derived key"))?;
            sqlx::query("DELETE FROM derived WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(CatalogError::query("delete derived"))?;
            trash_in(&mut tx, &key).await?;
            keys.push(key);
        }
        tx.commit()
            .await
            .map_err(CatalogError::query("commit purge"))?;
        Ok(keys)
    }
}
