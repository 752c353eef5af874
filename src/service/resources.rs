//! Operations on existing resources shared by the Upload API (destroy, rename, tags, context)
//! and the Admin API (update, bulk delete).

use std::collections::BTreeMap;

use super::{Kino, ServiceError};
use crate::catalog::{Asset, Direction, ListQuery};
use crate::url::{DeliveryType, Eager, ResourceType, validate_public_id};

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

/// What a bulk delete removes of each selected asset.
#[derive(Debug, Clone, Default)]
pub struct DeleteScope {
    /// Only derived files go; the originals stay (`keep_original`).
    pub keep_original: bool,
    /// Only the derived files of these transformations (eager syntax), when given.
    pub transformations: Option<Vec<Eager>>,
}

/// Result of a bulk delete: each public id with `deleted` or `not_found`, and how many
/// originals and derived files went.
#[derive(Debug, Clone, Default)]
pub struct Deleted {
    pub outcome: BTreeMap<String, &'static str>,
    pub counts: BTreeMap<String, (u32, u32)>,
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

    /// Deletes the selected assets of one resource type (and delivery type, unless by tag),
    /// or only their derived files.
    pub async fn delete_selection(
        &self,
        cloud: &str,
        rt: ResourceType,
        dt: Option<DeliveryType>,
        selection: Selection,
        scope: &DeleteScope,
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
                let dt = dt.unwrap_or(DeliveryType::Upload);
                for id in ids {
                    let found = self.catalog.find_asset(cloud, rt, dt, id).await?;
                    let status = match found {
                        Some(asset) => {
                            let counts = self.delete_parts(&asset, scope).await?;
                            result.counts.insert(id.clone(), counts);
                            "deleted"
                        }
                        None => "not_found",
                    };
                    result.outcome.insert(id.clone(), status);
                }
                return Ok(result);
            }
            Selection::Prefix(p) => query.prefix = Some(p.clone()),
            Selection::Tag(t) => query.tag = Some(t.clone()),
            Selection::All => {}
        }
        loop {
            let page = self.catalog.list_assets(&query).await?;
            for asset in &page.items {
                let counts = self.delete_parts(asset, scope).await?;
                result.counts.insert(asset.public_id.clone(), counts);
                result.outcome.insert(asset.public_id.clone(), "deleted");
            }
            match page.next_row {
                // Kept originals stay listed, so page on; deleted ones make room for the
                // next call (`partial`), as Cloudinary's batches do.
                Some(row) if scope.keep_original => query.after_row = Some(row),
                Some(_) => {
                    result.partial = true;
                    return Ok(result);
                }
                None => return Ok(result),
            }
        }
    }

    /// Deletes an asset and its derived files, or only (some of) the derived files; returns
    /// (originals, derived files) removed.
    async fn delete_parts(
        &self,
        asset: &Asset,
        scope: &DeleteScope,
    ) -> Result<(u32, u32), ServiceError> {
        if !scope.keep_original {
            self.catalog.delete_asset(asset).await?;
            self.discard_blob(&asset.blob_key).await;
            let derived = self.purge_derived(&asset.asset_id, None).await?;
            return Ok((1, u32::try_from(derived).unwrap_or(u32::MAX)));
        }
        let ids = match &scope.transformations {
            None => None,
            Some(wanted) => {
                let rows = self.catalog.list_derived(&asset.asset_id).await?;
                let ids: Vec<String> = rows
                    .into_iter()
                    .filter(|d| {
                        wanted.iter().any(|e| {
                            e.transformation.to_string() == d.transformation
                                && e.format.as_ref().is_none_or(|f| *f == d.format)
                        })
                    })
                    .map(|d| d.id)
                    .collect();
                Some(ids)
            }
        };
        let derived = self.purge_derived(&asset.asset_id, ids.as_deref()).await?;
        Ok((0, u32::try_from(derived).unwrap_or(u32::MAX)))
    }

    /// Deletes derived files by id (`DELETE /derived_resources`): each `deleted` or `not_found`.
    pub async fn delete_derived_ids(
        &self,
        cloud: &str,
        ids: &[String],
    ) -> Result<BTreeMap<String, &'static str>, ServiceError> {
        let mut outcome = BTreeMap::new();
        for id in ids {
            let found = self.catalog.find_derived(id).await?;
            let status = match found.filter(|d| d.cloud == cloud) {
                Some(d) => {
                    self.purge_derived(&d.asset_id, Some(std::slice::from_ref(id)))
                        .await?;
                    "deleted"
                }
                None => "not_found",
            };
            outcome.insert(id.clone(), status);
        }
        Ok(outcome)
    }
}
