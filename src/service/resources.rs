//! Operations on existing resources shared by the Upload API (destroy, rename, tags, context)
//! and the Admin API (update, bulk delete).

use std::collections::BTreeMap;

use super::{Kino, ServiceError};
use crate::catalog::{Asset, Direction, ListQuery};
use crate::url::{DeliveryType, ResourceType, validate_public_id};

/// A tag command of the Upload API's `tags` method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagCommand {
    Add,
    Remove,
    Replace,
    RemoveAll,
    SetExclusive,
}

impl TagCommand {
    pub fn parse(s: &str) -> Result<TagCommand, ServiceError> {
        Ok(match s {
            "add" => TagCommand::Add,
            "remove" => TagCommand::Remove,
            "replace" => TagCommand::Replace,
            "remove_all" => TagCommand::RemoveAll,
            "set_exclusive" => TagCommand::SetExclusive,
            other => {
                return Err(ServiceError::BadInput(format!(
                    "Invalid command {other:?}: expected add, remove, replace, remove_all or set_exclusive"
                )));
            }
        })
    }
}

/// Which assets a bulk delete removes.
#[derive(Debug, Clone)]
pub enum Selection {
    PublicIds(Vec<String>),
    Prefix(String),
    Tag(String),
    All,
}

/// Result of a bulk delete: each public id with `deleted` or `not_found`.
#[derive(Debug, Clone, Default)]
pub struct Deleted {
    pub outcome: BTreeMap<String, &'static str>,
    /// More matched than one call deletes; call again.
    pub partial: bool,
}

/// Bulk deletes stop after this many, as Cloudinary's do (`partial: true`).
const DELETE_BATCH: u32 = 1000;

impl Kino {
    /// The asset or a 404 with Cloudinary's wording.
    pub async fn require_asset(
        &self,
        cloud: &str,
        rt: ResourceType,
        dt: DeliveryType,
        public_id: &str,
    ) -> Result<Asset, ServiceError> {
        self.catalog
            .find_asset(cloud, rt, dt, public_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("Resource not found - {public_id}")))
    }

    /// Deletes one asset and its blob; false when there was none.
    pub async fn destroy(
        &self,
        cloud: &str,
        rt: ResourceType,
        dt: DeliveryType,
        public_id: &str,
    ) -> Result<bool, ServiceError> {
        let Some(asset) = self.catalog.find_asset(cloud, rt, dt, public_id).await? else {
            return Ok(false);
        };
        self.catalog.delete_asset(&asset).await?;
        self.discard_blob(&asset.blob_key).await;
        self.purge_derived(&asset.asset_id, None).await?;
        Ok(true)
    }

    /// Renames an asset (and/or changes its delivery type).
    pub async fn rename(
        &self,
        cloud: &str,
        rt: ResourceType,
        from: (DeliveryType, &str),
        to: (DeliveryType, &str),
        overwrite: bool,
    ) -> Result<Asset, ServiceError> {
        validate_public_id(to.1)?;
        let asset = self.require_asset(cloud, rt, from.0, from.1).await?;
        let replaced = self
            .catalog
            .rename_asset(&asset, to.1, to.0, overwrite)
            .await?;
        if let Some(key) = replaced {
            self.discard_blob(&key).await;
        }
        self.require_asset(cloud, rt, to.0, to.1).await
    }

    /// Applies a tag command to several public ids; returns the ids that exist.
    pub async fn tag_assets(
        &self,
        cloud: &str,
        rt: ResourceType,
        dt: DeliveryType,
        public_ids: &[String],
        command: TagCommand,
        tags: &[String],
    ) -> Result<Vec<String>, ServiceError> {
        if tags.is_empty() && !matches!(command, TagCommand::RemoveAll) {
            return Err(ServiceError::BadInput(
                "Missing required parameter - tag".into(),
            ));
        }
        if command == TagCommand::SetExclusive {
            // The tag leaves every other asset of this resource type first.
            for tag in tags {
                let others = self.list_all(cloud, rt, None, Some(tag.clone())).await?;
                for other in others.iter().filter(|a| !public_ids.contains(&a.public_id)) {
                    let kept: Vec<String> =
                        other.tags.iter().filter(|t| *t != tag).cloned().collect();
                    self.catalog.set_tags(other, &kept).await?;
                }
            }
        }
        let mut done = Vec::new();
        for id in public_ids {
            let Some(asset) = self.catalog.find_asset(cloud, rt, dt, id).await? else {
                continue;
            };
            let mut current = asset.tags.clone();
            match command {
                TagCommand::Add | TagCommand::SetExclusive => {
                    for t in tags {
                        if !current.contains(t) {
                            current.push(t.clone());
                        }
                    }
                }
                TagCommand::Remove => current.retain(|t| !tags.contains(t)),
                TagCommand::Replace => current = tags.to_vec(),
                TagCommand::RemoveAll => current.clear(),
            }
            self.catalog.set_tags(&asset, &current).await?;
            done.push(id.clone());
        }
        Ok(done)
    }

    /// Adds context keys to (or clears the context of) several public ids.
    pub async fn context_assets(
        &self,
        cloud: &str,
        rt: ResourceType,
        dt: DeliveryType,
        public_ids: &[String],
        add: Option<&BTreeMap<String, String>>,
    ) -> Result<Vec<String>, ServiceError> {
        let mut done = Vec::new();
        for id in public_ids {
            let Some(asset) = self.catalog.find_asset(cloud, rt, dt, id).await? else {
                continue;
            };
            let context = match add {
                Some(extra) => {
                    let mut c = asset.context.clone();
                    c.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
                    c
                }
                None => BTreeMap::new(),
            };
            self.catalog.set_context(&asset, &context).await?;
            done.push(id.clone());
        }
        Ok(done)
    }

    /// Every asset of a resource type matching a prefix or tag (for bulk operations).
    async fn list_all(
        &self,
        cloud: &str,
        rt: ResourceType,
        prefix: Option<String>,
        tag: Option<String>,
    ) -> Result<Vec<Asset>, ServiceError> {
        let mut out = Vec::new();
        let mut query = ListQuery {
            cloud: cloud.to_string(),
            resource_type: Some(rt),
            prefix,
            tag,
            direction: Direction::Asc,
            limit: 500,
            ..ListQuery::default()
        };
        loop {
            let page = self.catalog.list_assets(&query).await?;
            out.extend(page.items);
            match page.next_row {
                Some(row) => query.after_row = Some(row),
                None => return Ok(out),
            }
        }
    }

    /// Deletes the selected assets of one resource type (and delivery type, unless by tag).
    pub async fn delete_selection(
        &self,
        cloud: &str,
        rt: ResourceType,
        dt: Option<DeliveryType>,
        selection: Selection,
    ) -> Result<Deleted, ServiceError> {
        let mut result = Deleted::default();
        let mut query = ListQuery {
            cloud: cloud.to_string(),
            resource_type: Some(rt),
            delivery_type: dt,
            direction: Direction::Asc,
            limit: DELETE_BATCH,
            ..ListQuery::default()
        };
        match &selection {
            Selection::PublicIds(ids) => {
                for id in ids {
                    let found = self
                        .destroy(cloud, rt, dt.unwrap_or(DeliveryType::Upload), id)
                        .await?;
                    result
                        .outcome
                        .insert(id.clone(), if found { "deleted" } else { "not_found" });
                }
                return Ok(result);
            }
            Selection::Prefix(p) => query.prefix = Some(p.clone()),
            Selection::Tag(t) => query.tag = Some(t.clone()),
            Selection::All => {}
        }
        let page = self.catalog.list_assets(&query).await?;
        result.partial = page.next_row.is_some();
        for asset in page.items {
            self.catalog.delete_asset(&asset).await?;
            self.discard_blob(&asset.blob_key).await;
            self.purge_derived(&asset.asset_id, None).await?;
            result.outcome.insert(asset.public_id.clone(), "deleted");
        }
        Ok(result)
    }
}
