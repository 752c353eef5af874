//! Backed-up versions: one row per version uploaded with backup on. The current version's row
//! shares its blob with the asset row; [`super::assets`] trashes a blob only when no asset and
//! no version row points at it, so these rows are what keeps an overwritten or deleted file.

use sqlx::{AnyConnection, Row};

use super::assets::{media_json, parse_media, parse_time, trash_in};
use super::{AssetVersion, Catalog, CatalogError, NewAsset};
use crate::url::{DeliveryType, ResourceType};

const VERSION_COLUMNS: &str = "version_id, cloud, asset_id, resource_type, delivery_type, public_id, \
    format, version, bytes, width, height, etag, blob_key, original_filename, media, created_at";

fn version_from_row(row: &sqlx::any::AnyRow) -> Result<AssetVersion, CatalogError> {
    let get_str = |name: &'static str| -> Result<String, CatalogError> {
        row.try_get::<String, _>(name)
            .map_err(CatalogError::query(name))
    };
    let get_i64 = |name: &'static str| -> Result<i64, CatalogError> {
        row.try_get::<i64, _>(name)
            .map_err(CatalogError::query(name))
    };
    let rt = get_str("resource_type")?;
    let dt = get_str("delivery_type")?;
    Ok(AssetVersion {
        version_id: get_str("version_id")?,
        cloud: get_str("cloud")?,
        asset_id: get_str("asset_id")?,
        resource_type: ResourceType::parse(&rt)
            .ok_or_else(|| CatalogError::Corrupt(format!("resource_type {rt:?}")))?,
        delivery_type: DeliveryType::parse(&dt)
            .ok_or_else(|| CatalogError::Corrupt(format!("delivery_type {dt:?}")))?,
        public_id: get_str("public_id")?,
        format: get_str("format")?,
        version: get_i64("version")?,
        bytes: get_i64("bytes")?,
        width: row.try_get("width").ok().flatten(),
        height: row.try_get("height").ok().flatten(),
        etag: get_str("etag")?,
        blob_key: get_str("blob_key")?,
        original_filename: row.try_get("original_filename").ok().flatten(),
        media: parse_media(&get_str("media")?)?,
        created_at: parse_time(&get_str("created_at")?)?,
    })
}

/// Records `new` as a backed-up version, in the transaction that stores it.
pub(super) async fn insert_version(
    conn: &mut AnyConnection,
    new: &NewAsset,
) -> Result<(), CatalogError> {
    sqlx::query(
        "INSERT INTO asset_versions (version_id, cloud, asset_id, resource_type, delivery_type, public_id, \
         format, version, bytes, width, height, etag, blob_key, original_filename, media, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (version_id) DO NOTHING",
    )
    .bind(&new.version_id)
    .bind(&new.cloud)
    .bind(&new.asset_id)
    .bind(new.resource_type.as_str())
    .bind(new.delivery_type.as_str())
    .bind(&new.public_id)
    .bind(&new.format)
    .bind(new.version)
    .bind(new.bytes)
    .bind(new.width)
    .bind(new.height)
    .bind(&new.etag)
    .bind(&new.blob_key)
    .bind(&new.original_filename)
    .bind(media_json(new))
    .bind(new.now.to_rfc3339())
    .execute(&mut *conn)
    .await
    .map_err(CatalogError::query("back up version"))?;
    Ok(())
}

impl Catalog {
    /// The backed-up versions of an asset, newest first.
    pub async fn versions(
        &self,
        cloud: &str,
        asset_id: &str,
    ) -> Result<Vec<AssetVersion>, CatalogError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM asset_versions WHERE cloud = $1 AND asset_id = $2 \
             ORDER BY created_at DESC, version DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cloud)
            .bind(asset_id)
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("list versions"))?;
        rows.iter().map(version_from_row).collect()
    }

    /// The backed-up versions kept under a public id (of any asset that had it), newest first.
    pub async fn versions_at(
        &self,
        cloud: &str,
        resource_type: ResourceType,
        delivery_type: DeliveryType,
        public_id: &str,
    ) -> Result<Vec<AssetVersion>, CatalogError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM asset_versions WHERE cloud = $1 AND resource_type = $2 \
             AND delivery_type = $3 AND public_id = $4 ORDER BY created_at DESC, version DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cloud)
            .bind(resource_type.as_str())
            .bind(delivery_type.as_str())
            .bind(public_id)
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("versions at public id"))?;
        rows.iter().map(version_from_row).collect()
    }

    /// Forgets these backed-up versions of an asset; their blobs become trash unless the
    /// current asset still uses one. Returns the (version id, blob key) of those that existed.
    pub async fn delete_versions(
        &self,
        cloud: &str,
        asset_id: &str,
        version_ids: &[String],
    ) -> Result<Vec<(String, String)>, CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin delete versions"))?;
        let mut deleted = Vec::new();
        for version_id in version_ids {
            let found = sqlx::query(
                "DELETE FROM asset_versions WHERE cloud = $1 AND asset_id = $2 AND version_id = $3 \
                 RETURNING blob_key",
            )
            .bind(cloud)
            .bind(asset_id)
            .bind(version_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(CatalogError::query("delete version"))?;
            if let Some(row) = found {
                let key: String = row
                    .try_get("blob_key")
                    .map_err(CatalogError::query("read version key"))?;
                trash_in(&mut tx, &key).await?;
                deleted.push((version_id.clone(), key));
            }
        }
        tx.commit()
            .await
            .map_err(CatalogError::query("commit delete versions"))?;
        Ok(deleted)
    }
}
