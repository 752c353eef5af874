//! Folders: created explicitly through the Admin API, or implied by public ids with `/`.

use std::collections::BTreeSet;

use chrono::Utc;
use sqlx::Row;

use super::{Catalog, CatalogError};

impl Catalog {
    pub async fn create_folder(&self, cloud: &str, path: &str) -> Result<(), CatalogError> {
        // Creating `a/b` also creates `a`, as Cloudinary does.
        let mut prefix = String::new();
        for segment in path.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(segment);
            sqlx::query("INSERT INTO folders (cloud, path, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(cloud)
                .bind(&prefix)
                .bind(Utc::now().to_rfc3339())
                .execute(&self.write)
                .await
                .map_err(CatalogError::query("create folder"))?;
        }
        Ok(())
    }

    /// The direct sub-folders of `parent` ("" for the root), sorted by path.
    pub async fn subfolders(&self, cloud: &str, parent: &str) -> Result<Vec<String>, CatalogError> {
        let prefix = if parent.is_empty() {
            String::new()
        } else {
            format!("{parent}/")
        };
        let len = prefix.chars().count() as i64;
        let explicit =
            sqlx::query("SELECT path FROM folders WHERE cloud = $1 AND substr(path, 1, CAST($2 AS INTEGER)) = $3")
                .bind(cloud)
                .bind(len)
                .bind(&prefix)
                .fetch_all(&self.read)
                .await
                .map_err(CatalogError::query("list folders"))?;
        let implied = sqlx::query(
            "SELECT DISTINCT public_id FROM assets WHERE cloud = $1 AND substr(public_id, 1, CAST($2 AS INTEGER)) = $3",
        )
        .bind(cloud)
        .bind(len)
        .bind(&prefix)
        .fetch_all(&self.read)
        .await
        .map_err(CatalogError::query("list implied folders"))?;
        let mut out = BTreeSet::new();
        for (row, is_asset) in explicit
            .iter()
            .map(|r| (r, false))
            .chain(implied.iter().map(|r| (r, true)))
        {
            let column = if is_asset { "public_id" } else { "path" };
            let path: String = row
                .try_get(column)
                .map_err(CatalogError::query("folder path"))?;
            let rest = &path[prefix.len()..];
            match rest.split_once('/') {
                Some((child, _)) => {
                    out.insert(format!("{prefix}{child}"));
                }
                None if !is_asset && !rest.is_empty() => {
                    out.insert(path.clone());
                }
                None => {}
            }
        }
        Ok(out.into_iter().collect())
    }

    /// True when `path` exists, explicitly or through an asset inside it.
    pub async fn folder_exists(&self, cloud: &str, path: &str) -> Result<bool, CatalogError> {
        let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
        Ok(self
            .subfolders(cloud, parent)
            .await?
            .iter()
            .any(|f| f == path))
    }

    /// Deletes an empty folder (and its empty explicit sub-folders).
    pub async fn delete_folder(&self, cloud: &str, path: &str) -> Result<(), CatalogError> {
        let prefix = format!("{path}/");
        let len = prefix.chars().count() as i64;
        let used = sqlx::query(
            "SELECT COUNT(*) AS n FROM assets WHERE cloud = $1 AND substr(public_id, 1, CAST($2 AS INTEGER)) = $3",
        )
        .bind(cloud)
        .bind(len)
        .bind(&prefix)
        .fetch_one(&self.read)
        .await
        .map_err(CatalogError::query("count folder assets"))?;
        let n: i64 = used
            .try_get("n")
            .map_err(CatalogError::query("folder count"))?;
        if n > 0 {
            return Err(CatalogError::Refused(format!("Folder {path} is not empty")));
        }
        let done = sqlx::query(
            "DELETE FROM folders WHERE cloud = $1 AND (path = $2 OR substr(path, 1, CAST($3 AS INTEGER)) = $4)",
        )
        .bind(cloud)
        .bind(path)
        .bind(len)
        .bind(&prefix)
        .execute(&self.write)
        .await
        .map_err(CatalogError::query("delete folder"))?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!(
                "Can't find folder with path {path}"
            )));
        }
        Ok(())
    }
}
