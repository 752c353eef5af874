//! Asset rows: insert-or-replace, lookup, listing with cursors, tags, context, rename, delete.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};

use super::metadata::write_metadata;
use super::sql::Sql;
use super::versions::insert_version;
use crate::engine::MediaInfo;

use super::{Asset, Catalog, CatalogError, NewAsset, Usage};
use crate::url::{DeliveryType, ResourceType};

/// Listing order by creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    Asc,
    #[default]
    Desc,
}

/// Which assets to list, and where the previous page stopped.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub cloud: String,
    pub resource_type: Option<ResourceType>,
    pub delivery_type: Option<DeliveryType>,
    pub prefix: Option<String>,
    pub public_ids: Vec<String>,
    pub tag: Option<String>,
    pub direction: Direction,
    pub limit: u32,
    /// Row id the previous page ended at (decoded from `next_cursor`).
    pub after_row: Option<i64>,
}

/// One page of a listing; `next_row` is set when more rows follow.
///
/// `C` is the keyset position the page ended at: the row id for assets, the name for
/// listings ordered by name (named transformations).
#[derive(Debug, Clone)]
pub struct Page<T, C = i64> {
    pub items: Vec<T>,
    pub next_row: Option<C>,
}

pub(super) const ASSET_COLUMNS: &str = "id, cloud, asset_id, resource_type, delivery_type, public_id, format, \
    version, version_id, bytes, width, height, etag, blob_key, original_filename, media, context, \
    created_at, updated_at";

pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>, CatalogError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| CatalogError::Corrupt(format!("timestamp {text:?}: {e}")))
}

/// The probe facts stored as JSON (`null` for raw files).
pub(super) fn parse_media(text: &str) -> Result<Option<MediaInfo>, CatalogError> {
    if text == "null" {
        return Ok(None);
    }
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| CatalogError::Corrupt(format!("media: {e}")))
}

pub(super) fn asset_from_row(row: &sqlx::any::AnyRow) -> Result<Asset, CatalogError> {
    let get_str = |name: &str| -> Result<String, CatalogError> {
        row.try_get::<String, _>(name)
            .map_err(|e| CatalogError::Corrupt(format!("{name}: {e}")))
    };
    let get_i64 = |name: &str| -> Result<i64, CatalogError> {
        row.try_get::<i64, _>(name)
            .map_err(|e| CatalogError::Corrupt(format!("{name}: {e}")))
    };
    let rt = get_str("resource_type")?;
    let dt = get_str("delivery_type")?;
    let media = parse_media(&get_str("media")?)?;
    let context: BTreeMap<String, String> = serde_json::from_str(&get_str("context")?)
        .map_err(|e| CatalogError::Corrupt(format!("context: {e}")))?;
    Ok(Asset {
        row: get_i64("id")?,
        cloud: get_str("cloud")?,
        asset_id: get_str("asset_id")?,
        resource_type: ResourceType::parse(&rt)
            .ok_or_else(|| CatalogError::Corrupt(format!("resource_type {rt:?}")))?,
        delivery_type: DeliveryType::parse(&dt)
            .ok_or_else(|| CatalogError::Corrupt(format!("delivery_type {dt:?}")))?,
        public_id: get_str("public_id")?,
        format: get_str("format")?,
        version: get_i64("version")?,
        version_id: get_str("version_id")?,
        bytes: get_i64("bytes")?,
        width: row.try_get("width").ok().flatten(),
        height: row.try_get("height").ok().flatten(),
        etag: get_str("etag")?,
        blob_key: get_str("blob_key")?,
        original_filename: row.try_get("original_filename").ok().flatten(),
        media,
        context,
        tags: Vec::new(),
        metadata: BTreeMap::new(),
        created_at: parse_time(&get_str("created_at")?)?,
        updated_at: parse_time(&get_str("updated_at")?)?,
    })
}

/// The duration to store, -1 for none (bound as a number and turned into NULL by the SQL:
/// PostgreSQL would keep a typeless NULL's parameter type for the prepared statement).
fn duration_or_none(new: &NewAsset) -> f64 {
    new.media
        .as_ref()
        .and_then(|m| m.duration)
        .filter(|d| d.is_finite() && *d >= 0.0)
        .unwrap_or(-1.0)
}

pub(super) fn media_json(new: &NewAsset) -> String {
    serde_json::to_string(&new.media).unwrap_or_else(|_| "null".into())
}

fn context_json(context: &BTreeMap<String, String>) -> String {
    serde_json::to_string(context).unwrap_or_else(|_| "{}".into())
}

impl Catalog {
    /// Records that `blob_key` is about to be written, so a crash before the asset row commits
    /// leaves a trash entry (swept at start-up) rather than an orphan blob.
    pub async fn expect_blob(&self, blob_key: &str) -> Result<(), CatalogError> {
        sqlx::query("INSERT INTO blob_trash (blob_key, created_at) VALUES ($1, $2) ON CONFLICT (blob_key) DO NOTHING")
            .bind(blob_key)
            .bind(Utc::now().to_rfc3339())
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("expect blob"))?;
        Ok(())
    }

    /// Blob keys no row points at; the caller deletes the blobs then calls [`Catalog::forget_trash`].
    pub async fn trash(&self) -> Result<Vec<String>, CatalogError> {
        let rows = sqlx::query("SELECT blob_key FROM blob_trash")
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("list trash"))?;
        Ok(rows
            .iter()
            .filter_map(|r| r.try_get("blob_key").ok())
            .collect())
    }

    /// Whether `blob_key` is in the trash, that is, no row needs its blob.
    pub async fn in_trash(&self, blob_key: &str) -> Result<bool, CatalogError> {
        let found = sqlx::query("SELECT 1 AS one FROM blob_trash WHERE blob_key = $1")
            .bind(blob_key)
            .fetch_optional(&self.write)
            .await
            .map_err(CatalogError::query("check trash"))?;
        Ok(found.is_some())
    }

    pub async fn forget_trash(&self, blob_key: &str) -> Result<(), CatalogError> {
        sqlx::query("DELETE FROM blob_trash WHERE blob_key = $1")
            .bind(blob_key)
            .execute(&self.write)
            .await
            .map_err(CatalogError::query("forget trash"))?;
        Ok(())
    }

    /// Inserts the asset, or replaces the current version of the same public id (keeping its
    /// `asset_id` and `created_at`). Returns the stored asset and the blob key it replaced.
    pub async fn put_asset(&self, new: &NewAsset) -> Result<(Asset, Option<String>), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin put"))?;
        let existing = sqlx::query(
            "SELECT id, blob_key FROM assets WHERE cloud = $1 AND resource_type = $2 AND delivery_type = $3 AND public_id = $4",
        )
        .bind(&new.cloud)
        .bind(new.resource_type.as_str())
        .bind(new.delivery_type.as_str())
        .bind(&new.public_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(CatalogError::query("find existing"))?;
        let now = new.now.to_rfc3339();
        let (row, replaced) = match existing {
            Some(r) => {
                let row: i64 = r.try_get("id").map_err(CatalogError::query("read id"))?;
                let old_key: String = r
                    .try_get("blob_key")
                    .map_err(CatalogError::query("read key"))?;
                update_row(&mut tx, row, new, &now).await?;
                let replaced = (old_key != new.blob_key).then_some(old_key);
                (row, replaced)
            }
            None => (insert_row(&mut tx, new, &now).await?, None),
        };
        replace_tags(&mut tx, row, &new.cloud, &new.tags).await?;
        replace_context(&mut tx, row, &new.cloud, &new.context).await?;
        write_metadata(&mut tx, row, &new.cloud, &new.metadata).await?;
        if new.backup {
            insert_version(&mut tx, new).await?;
        }
        // The new blob is now referenced; the replaced one becomes trash in the same commit.
        sqlx::query("DELETE FROM blob_trash WHERE blob_key = $1")
            .bind(&new.blob_key)
            .execute(&mut *tx)
            .await
            .map_err(CatalogError::query("claim blob"))?;
        if let Some(old) = &replaced {
            trash_in(&mut tx, old).await?;
        }
        tx.commit()
            .await
            .map_err(CatalogError::query("commit put"))?;
        let asset = self
            .asset_by_row(row)
            .await?
            .ok_or_else(|| CatalogError::Corrupt("asset vanished after insert".into()))?;
        Ok((asset, replaced))
    }

    async fn asset_by_row(&self, row: i64) -> Result<Option<Asset>, CatalogError> {
        let sql = format!("SELECT {ASSET_COLUMNS} FROM assets WHERE id = $1");
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(row)
            .fetch_optional(&self.write)
            .await
            .map_err(CatalogError::query("asset by row"))?;
        match found {
            Some(r) => {
                let mut assets = vec![asset_from_row(&r)?];
                self.load_tags(&mut assets, &self.write).await?;
                Ok(assets.pop())
            }
            None => Ok(None),
        }
    }

    /// The assets with these asset ids (without their tags), in no particular order.
    pub async fn assets_by_ids(&self, ids: &[String]) -> Result<Vec<Asset>, CatalogError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE asset_id IN ("
        ));
        q.bind_list(ids.iter().cloned()).push(")");
        let rows = q
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("assets by ids"))?;
        rows.iter().map(asset_from_row).collect()
    }

    /// The asset at (cloud, resource type, type, public id), with its tags.
    pub async fn find_asset(
        &self,
        cloud: &str,
        resource_type: ResourceType,
        delivery_type: DeliveryType,
        public_id: &str,
    ) -> Result<Option<Asset>, CatalogError> {
        let sql = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE cloud = $1 AND resource_type = $2 AND delivery_type = $3 AND public_id = $4"
        );
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cloud)
            .bind(resource_type.as_str())
            .bind(delivery_type.as_str())
            .bind(public_id)
            .fetch_optional(&self.read)
            .await
            .map_err(CatalogError::query("find asset"))?;
        match found {
            Some(r) => {
                let mut assets = vec![asset_from_row(&r)?];
                self.load_tags(&mut assets, &self.read).await?;
                Ok(assets.pop())
            }
            None => Ok(None),
        }
    }

    /// Fills in the tags and the structured metadata of `assets`.
    pub(super) async fn load_tags(
        &self,
        assets: &mut [Asset],
        pool: &sqlx::AnyPool,
    ) -> Result<(), CatalogError> {
        if assets.is_empty() {
            return Ok(());
        }
        let mut q = Sql::new("SELECT asset_row, tag FROM asset_tags WHERE asset_row IN (");
        q.bind_list(assets.iter().map(|a| a.row))
            .push(") ORDER BY tag");
        let rows = q
            .build()
            .fetch_all(pool)
            .await
            .map_err(CatalogError::query("load tags"))?;
        let mut by_row: HashMap<i64, Vec<String>> = HashMap::new();
        for r in rows {
            let row: i64 = r
                .try_get("asset_row")
                .map_err(CatalogError::query("tag row"))?;
            let tag: String = r.try_get("tag").map_err(CatalogError::query("tag"))?;
            by_row.entry(row).or_default().push(tag);
        }
        for a in assets.iter_mut() {
            a.tags = by_row.remove(&a.row).unwrap_or_default();
        }
        self.load_metadata(assets, pool).await
    }

    /// One page of assets matching `query`, in creation order.
    pub async fn list_assets(&self, query: &ListQuery) -> Result<Page<Asset>, CatalogError> {
        let columns = ASSET_COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = Sql::new(format!("SELECT {columns} FROM assets a WHERE a.cloud = "));
        q.bind(query.cloud.clone());
        if let Some(rt) = query.resource_type {
            q.push(" AND a.resource_type = ")
                .bind(rt.as_str().to_string());
        }
        if let Some(dt) = query.delivery_type {
            q.push(" AND a.delivery_type = ")
                .bind(dt.as_str().to_string());
        }
        if let Some(prefix) = &query.prefix {
            q.push(" AND substr(a.public_id, 1, CAST(")
                .bind(prefix.chars().count() as i64)
                .push(" AS INTEGER)) = ")
                .bind(prefix.clone());
        }
        if !query.public_ids.is_empty() {
            q.push(" AND a.public_id IN (")
                .bind_list(query.public_ids.iter().cloned())
                .push(")");
        }
        if let Some(tag) = &query.tag {
            q.push(" AND EXISTS (SELECT 1 FROM asset_tags t WHERE t.asset_row = a.id AND t.tag = ")
                .bind(tag.clone())
                .push(")");
        }
        let (cmp, order) = match query.direction {
            Direction::Asc => (">", "ASC"),
            Direction::Desc => ("<", "DESC"),
        };
        if let Some(after) = query.after_row {
            q.push(&format!(" AND a.id {cmp} ")).bind(after);
        }
        q.push(&format!(" ORDER BY a.id {order} LIMIT "))
            .bind(i64::from(query.limit) + 1);
        let rows = q
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("list assets"))?;
        let mut items = rows
            .iter()
            .map(asset_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next_row = if items.len() > query.limit as usize {
            items.truncate(query.limit as usize);
            items.last().map(|a| a.row)
        } else {
            None
        };
        self.load_tags(&mut items, &self.read).await?;
        Ok(Page { items, next_row })
    }

    /// Replaces, adds or removes tags of one asset.
    pub async fn set_tags(&self, asset: &Asset, tags: &[String]) -> Result<(), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin tags"))?;
        replace_tags(&mut tx, asset.row, &asset.cloud, tags).await?;
        touch(&mut tx, asset.row).await?;
        tx.commit()
            .await
            .map_err(CatalogError::query("commit tags"))?;
        Ok(())
    }

    /// Replaces the context of one asset.
    pub async fn set_context(
        &self,
        asset: &Asset,
        context: &BTreeMap<String, String>,
    ) -> Result<(), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin set context"))?;
        sqlx::query("UPDATE assets SET context = $1, updated_at = $2 WHERE id = $3")
            .bind(context_json(context))
            .bind(Utc::now().to_rfc3339())
            .bind(asset.row)
            .execute(&mut *tx)
            .await
            .map_err(CatalogError::query("set context"))?;
        replace_context(&mut tx, asset.row, &asset.cloud, context).await?;
        tx.commit()
            .await
            .map_err(CatalogError::query("commit set context"))?;
        Ok(())
    }

    /// Moves an asset to another public id and/or delivery type.
    pub async fn rename_asset(
        &self,
        asset: &Asset,
        to_public_id: &str,
        to_type: DeliveryType,
        overwrite: bool,
    ) -> Result<Option<String>, CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin rename"))?;
        let target = sqlx::query(
            "SELECT id, blob_key FROM assets WHERE cloud = $1 AND resource_type = $2 AND delivery_type = $3 AND public_id = $4",
        )
        .bind(&asset.cloud)
        .bind(asset.resource_type.as_str())
        .bind(to_type.as_str())
        .bind(to_public_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(CatalogError::query("find rename target"))?;
        let mut replaced = None;
        if let Some(t) = target {
            let id: i64 = t.try_get("id").map_err(CatalogError::query("target id"))?;
            if id != asset.row {
                if !overwrite {
                    return Err(CatalogError::AlreadyExists(format!(
                        "Resource {to_public_id}"
                    )));
                }
                let key: String = t
                    .try_get("blob_key")
                    .map_err(CatalogError::query("target key"))?;
                delete_row(&mut tx, id).await?;
                trash_in(&mut tx, &key).await?;
                replaced = Some(key);
            }
        }
        sqlx::query(
            "UPDATE assets SET public_id = $1, delivery_type = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(to_public_id)
        .bind(to_type.as_str())
        .bind(Utc::now().to_rfc3339())
        .bind(asset.row)
        .execute(&mut *tx)
        .await
        .map_err(CatalogError::query("rename asset"))?;
        tx.commit()
            .await
            .map_err(CatalogError::query("commit rename"))?;
        Ok(replaced)
    }

    /// Removes an asset row; its blob goes to the trash in the same commit.
    pub async fn delete_asset(&self, asset: &Asset) -> Result<(), CatalogError> {
        let mut tx = self
            .write
            .begin()
            .await
            .map_err(CatalogError::query("begin delete"))?;
        delete_row(&mut tx, asset.row).await?;
        trash_in(&mut tx, &asset.blob_key).await?;
        tx.commit()
            .await
            .map_err(CatalogError::query("commit delete"))?;
        Ok(())
    }

    /// Distinct tags of a resource type, alphabetically, after `after`; true when more follow.
    pub async fn list_tags(
        &self,
        cloud: &str,
        resource_type: ResourceType,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<String>, bool), CatalogError> {
        let mut q = Sql::new(
            "SELECT DISTINCT t.tag FROM asset_tags t JOIN assets a ON a.id = t.asset_row WHERE t.cloud = ",
        );
        q.bind(cloud.to_string())
            .push(" AND a.resource_type = ")
            .bind(resource_type.as_str().to_string());
        if let Some(p) = prefix {
            q.push(" AND substr(t.tag, 1, CAST(")
                .bind(p.chars().count() as i64)
                .push(" AS INTEGER)) = ")
                .bind(p.to_string());
        }
        if let Some(a) = after {
            q.push(" AND t.tag > ").bind(a.to_string());
        }
        q.push(" ORDER BY t.tag LIMIT ").bind(i64::from(limit) + 1);
        let rows = q
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(CatalogError::query("list tags"))?;
        let mut items: Vec<String> = rows.iter().filter_map(|r| r.try_get("tag").ok()).collect();
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        Ok((items, more))
    }

    /// Number of assets and total bytes of a cloud.
    pub async fn usage(&self, cloud: &str) -> Result<Usage, CatalogError> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS b FROM assets WHERE cloud = $1",
        )
        .bind(cloud)
        .fetch_one(&self.read)
        .await
        .map_err(CatalogError::query("usage"))?;
        Ok(Usage {
            assets: r.try_get("n").map_err(CatalogError::query("usage count"))?,
            bytes: r.try_get("b").map_err(CatalogError::query("usage bytes"))?,
        })
    }
}

async fn replace_tags(
    conn: &mut AnyConnection,
    row: i64,
    cloud: &str,
    tags: &[String],
) -> Result<(), CatalogError> {
    sqlx::query("DELETE FROM asset_tags WHERE asset_row = $1")
        .bind(row)
        .execute(&mut *conn)
        .await
        .map_err(CatalogError::query("clear tags"))?;
    for tag in tags {
        sqlx::query("INSERT INTO asset_tags (asset_row, cloud, tag) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(row)
            .bind(cloud)
            .bind(tag)
            .execute(&mut *conn)
            .await
            .map_err(CatalogError::query("insert tag"))?;
    }
    Ok(())
}

async fn touch(conn: &mut AnyConnection, row: i64) -> Result<(), CatalogError> {
    sqlx::query("UPDATE assets SET updated_at = $1 WHERE id = $2")
        .bind(Utc::now().to_rfc3339())
        .bind(row)
        .execute(&mut *conn)
        .await
        .map_err(CatalogError::query("touch asset"))?;
    Ok(())
}

async fn delete_row(conn: &mut AnyConnection, row: i64) -> Result<(), CatalogError> {
    for table in ["asset_metadata", "asset_context"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE asset_row = $1"
        )))
        .bind(row)
        .execute(&mut *conn)
        .await
        .map_err(CatalogError::query("delete attached rows"))?;
    }
    sqlx::query("DELETE FROM asset_tags WHERE asset_row = $1")
        .bind(row)
        .execute(&mut *conn)
        .await
        .map_err(CatalogError::query("delete tags"))?;
    sqlx::query("DELETE FROM assets WHERE id = $1")
        .bind(row)
        .execute(&mut *conn)
        .await
        .map_err(CatalogError::query("delete asset"))?;
    Ok(())
}

/// Mirrors an asset's context into `asset_context`, where search finds it.
async fn replace_context(
    conn: &mut AnyConnection,
    row: i64,
    cloud: &str,
    context: &BTreeMap<String, String>,
) -> Result<(), CatalogError> {
    sqlx::query("DELETE FROM asset_context WHERE asset_row = $1")
        .bind(row)
        .execute(&mut *conn)
        .await
        .map_err(CatalogError::query("clear context rows"))?;
    for (key, value) in context {
        sqlx::query(
            "INSERT INTO asset_context (asset_row, cloud, key, value) VALUES ($1, $2, $3, $4)",
        )
        .bind(row)
        .bind(cloud)
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await
        .map_err(CatalogError::query("write context row"))?;
    }
    Ok(())
}

/// Puts `key` in the trash unless an asset or a backed-up version still points at it.
pub(super) async fn trash_in(conn: &mut AnyConnection, key: &str) -> Result<(), CatalogError> {
    sqlx::query(
        "INSERT INTO blob_trash (blob_key, created_at) SELECT $1, $2 \
         WHERE NOT EXISTS (SELECT 1 FROM asset_versions WHERE blob_key = $3) \
         AND NOT EXISTS (SELECT 1 FROM assets WHERE blob_key = $4) \
         ON CONFLICT (blob_key) DO NOTHING",
    )
    .bind(key)
    .bind(Utc::now().to_rfc3339())
    .bind(key)
    .bind(key)
    .execute(&mut *conn)
    .await
    .map_err(CatalogError::query("trash blob"))?;
    Ok(())
}

async fn update_row(
    conn: &mut AnyConnection,
    row: i64,
    new: &NewAsset,
    now: &str,
) -> Result<(), CatalogError> {
    sqlx::query(
        "UPDATE assets SET format = $1, version = $2, version_id = $3, bytes = $4, width = $5, height = $6, \
         etag = $7, blob_key = $8, original_filename = $9, media = $10, context = $11, updated_at = $12, \
         duration = NULLIF($13, -1.0) WHERE id = $14",
    )
    .bind(&new.format)
    .bind(new.version)
    .bind(&new.version_id)
    .bind(new.bytes)
    .bind(new.width)
    .bind(new.height)
    .bind(&new.etag)
    .bind(&new.blob_key)
    .bind(&new.original_filename)
    .bind(media_json(new))
    .bind(context_json(&new.context))
    .bind(now)
    .bind(duration_or_none(new))
    .bind(row)
    .execute(&mut *conn)
    .await
    .map_err(CatalogError::query("replace asset"))?;
    Ok(())
}

async fn insert_row(
    conn: &mut AnyConnection,
    new: &NewAsset,
    now: &str,
) -> Result<i64, CatalogError> {
    let r = sqlx::query(
        "INSERT INTO assets (cloud, asset_id, resource_type, delivery_type, public_id, format, version, \
         version_id, bytes, width, height, etag, blob_key, original_filename, media, context, created_at, updated_at, \
         duration) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, NULLIF($19, -1.0)) \
         RETURNING id",
    )
    .bind(&new.cloud)
    .bind(&new.asset_id)
    .bind(new.resource_type.as_str())
    .bind(new.delivery_type.as_str())
    .bind(&new.public_id)
    .bind(&new.format)
    .bind(new.version)
    .bind(&new.version_id)
    .bind(new.bytes)
    .bind(new.width)
    .bind(new.height)
    .bind(&new.etag)
    .bind(&new.blob_key)
    .bind(&new.original_filename)
    .bind(media_json(new))
    .bind(context_json(&new.context))
    .bind(now)
    .bind(now)
    .bind(duration_or_none(new))
    .fetch_one(&mut *conn)
    .await
    .map_err(CatalogError::query("insert asset"))?;
    r.try_get("id").map_err(CatalogError::query("read id"))
}
