//! Auto-upload mappings: `folder` → `template`, a URL prefix that missing assets under the
//! folder are pulled from on their first delivery.

use chrono::Utc;
use sqlx::Row;

use super::{Catalog, CatalogError};

/// One mapping, as the Admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadMapping {
    pub folder: String,
    pub template: String,
}

fn mapping_from_row(row: &sqlx::any::AnyRow) -> Result<UploadMapping, CatalogError> {
    Ok(UploadMapping {
        folder: row
            .try_get("folder")
            .map_err(CatalogError::query("mapping folder"))?,
        template: row
            .try_get("template")
            .map_err(CatalogError::query("mapping template"))?,
    })
}

impl Catalog {
    pub async fn create_mapping(
        &self,
        cloud: &str,
        mapping: &UploadMapping,
    ) -> Result<(), CatalogError> {
        let done = sqlx::query(
            "INSERT INTO upload_mappings (cloud, folder, template, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (cloud, folder) DO NOTHING",
        )
        .bind(cloud)
        .bind(&mapping.folder)
        .bind(&mapping.template)
        .bind(Utc::now().to_rfc3339())
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("create mapping"))?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::AlreadyExists(format!(
                "Upload mapping for folder {}",
                mapping.folder
            )));
        }
        Ok(())
    }

    /// Changes the template of an existing mapping.
    pub async fn update_mapping(
        &self,
        cloud: &str,
        mapping: &UploadMapping,
    ) -> Result<(), CatalogError> {
        let done = sqlx::query(
            "UPDATE upload_mappings SET template = $1 WHERE cloud = $2 AND folder = $3",
        )
        .bind(&mapping.template)
        .bind(cloud)
        .bind(&mapping.folder)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("update mapping"))?;
        if done.rows_affected() == 0 {
            return Err(not_found(&mapping.folder));
        }
        Ok(())
    }

    pub async fn delete_mapping(&self, cloud: &str, folder: &str) -> Result<(), CatalogError> {
        let done = sqlx::query("DELETE FROM upload_mappings WHERE cloud = $1 AND folder = $2")
            .bind(cloud)
            .bind(folder)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("delete mapping"))?;
        if done.rows_affected() == 0 {
            return Err(not_found(folder));
        }
        Ok(())
    }

    pub async fn mapping(
        &self,
        cloud: &str,
        folder: &str,
    ) -> Result<Option<UploadMapping>, CatalogError> {
        let row = sqlx::query(
            "SELECT folder, template FROM upload_mappings WHERE cloud = $1 AND folder = $2",
        )
        .bind(cloud)
        .bind(folder)
        .fetch_optional(&self.read)
        .await
        .map_err(CatalogError::query("get mapping"))?;
        row.as_ref().map(mapping_from_row).transpose()
    }

    /// Mappings by folder after `after`; true when more follow.
    pub async fn list_mappings(
        &self,
        cloud: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<UploadMapping>, bool), CatalogError> {
        let rows = sqlx::query(
            "SELECT folder, template FROM upload_mappings WHERE cloud = $1 AND folder > $2 \
             ORDER BY folder LIMIT $3",
        )
        .bind(cloud)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.read)
        .await
        .map_err(CatalogError::query("list mappings"))?;
        let mut mappings = rows
            .iter()
            .map(mapping_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let more = mappings.len() > limit as usize;
        mappings.truncate(limit as usize);
        Ok((mappings, more))
    }
}

fn not_found(folder: &str) -> CatalogError {
    CatalogError::NotFound(format!("Upload mapping for folder {folder} not found"))
}
