//! Upload presets: named upload defaults; an unsigned preset is what permits unsigned uploads.

use std::collections::BTreeMap;

use chrono::Utc;
use sqlx::Row;

use super::{Catalog, CatalogError, Preset};

fn preset_from_row(row: &sqlx::any::AnyRow) -> Result<Preset, CatalogError> {
    let settings: String = row
        .try_get("settings")
        .map_err(CatalogError::query("preset settings"))?;
    Ok(Preset {
        name: row
            .try_get("name")
            .map_err(CatalogError::query("preset name"))?,
        unsigned: row
            .try_get::<i64, _>("unsigned")
            .map_err(CatalogError::query("preset unsigned"))?
            != 0,
        settings: serde_json::from_str(&settings)
            .map_err(|e| CatalogError::Corrupt(format!("preset settings: {e}")))?,
    })
}

impl Catalog {
    pub async fn create_preset(&self, cloud: &str, preset: &Preset) -> Result<(), CatalogError> {
        let settings = serde_json::to_string(&preset.settings).unwrap_or_else(|_| "{}".into());
        let done = sqlx::query(
            "INSERT INTO upload_presets (cloud, name, unsigned, settings, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (cloud, name) DO NOTHING",
        )
        .bind(cloud)
        .bind(&preset.name)
        .bind(preset.unsigned)
        .bind(settings)
        .bind(Utc::now().to_rfc3339())
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("create preset"))?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::AlreadyExists(format!(
                "Upload preset {}",
                preset.name
            )));
        }
        Ok(())
    }

    pub async fn preset(&self, cloud: &str, name: &str) -> Result<Option<Preset>, CatalogError> {
        let row = sqlx::query(
            "SELECT name, CAST(unsigned AS INTEGER) AS unsigned, settings FROM upload_presets WHERE cloud = $1 AND name = $2",
        )
        .bind(cloud)
        .bind(name)
        .fetch_optional(&self.read)
        .await
        .map_err(CatalogError::query("get preset"))?;
        row.as_ref().map(preset_from_row).transpose()
    }

    /// Presets by name after `after`; true when more follow.
    pub async fn list_presets(
        &self,
        cloud: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<Preset>, bool), CatalogError> {
        let rows = sqlx::query(
            "SELECT name, CAST(unsigned AS INTEGER) AS unsigned, settings FROM upload_presets WHERE cloud = $1 AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(cloud)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.read)
        .await
        .map_err(CatalogError::query("list presets"))?;
        let mut presets = rows
            .iter()
            .map(preset_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let more = presets.len() > limit as usize;
        presets.truncate(limit as usize);
        Ok((presets, more))
    }

    /// Updates `unsigned` (when given) and merges `settings` into the stored ones.
    pub async fn update_preset(
        &self,
        cloud: &str,
        name: &str,
        unsigned: Option<bool>,
        settings: &BTreeMap<String, String>,
    ) -> Result<(), CatalogError> {
        let current = self
            .preset(cloud, name)
            .await?
            .ok_or_else(|| CatalogError::NotFound(format!("Upload preset {name} not found")))?;
        let mut merged = current.settings;
        merged.extend(settings.iter().map(|(k, v)| (k.clone(), v.clone())));
        sqlx::query(
            "UPDATE upload_presets SET unsigned = $1, settings = $2 WHERE cloud = $3 AND name = $4",
        )
        .bind(unsigned.unwrap_or(current.unsigned))
        .bind(serde_json::to_string(&merged).unwrap_or_else(|_| "{}".into()))
        .bind(cloud)
        .bind(name)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("update preset"))?;
        Ok(())
    }

    pub async fn delete_preset(&self, cloud: &str, name: &str) -> Result<(), CatalogError> {
        let done = sqlx::query("DELETE FROM upload_presets WHERE cloud = $1 AND name = $2")
            .bind(cloud)
            .bind(name)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("delete preset"))?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!(
                "Upload preset {name} not found"
            )));
        }
        Ok(())
    }
}
