//! `generate_archive`: a ZIP of assets chosen by public ids, prefixes and tags — their
//! originals, or the derived files of `transformations` (made now when they are not stored
//! yet). The ZIP is written to the staging area (entries stored, not recompressed: media is
//! compressed already), then either sent back (`mode=download`) or kept as a raw asset.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use md5::{Digest, Md5};

use super::transform::blocking;
use super::upload::Placing;
use super::{Kino, ServiceError};
use crate::catalog::{Asset, Direction, ListQuery};
use crate::params::Params;
use crate::store::StagedFile;
use crate::url::{DeliveryType, Eager, ResourceType};

/// The most assets one archive holds.
pub const MAX_ARCHIVE_ASSETS: usize = 1000;

/// What to put in an archive.
#[derive(Debug, Clone, Default)]
pub struct ArchiveRequest {
    /// The resource types searched (`all` is the three).
    pub resource_types: Vec<ResourceType>,
    pub delivery_type: Option<DeliveryType>,
    pub public_ids: Vec<String>,
    pub prefixes: Vec<String>,
    pub tags: Vec<String>,
    /// Derived versions to include instead of the originals.
    pub transformations: Vec<Eager>,
    pub flatten_folders: bool,
    pub flatten_transformations: bool,
    pub use_original_filename: bool,
    pub allow_missing: bool,
}

/// A finished archive in the staging area.
#[derive(Debug)]
pub struct Archive {
    pub file: StagedFile,
    pub resource_count: usize,
    pub file_count: usize,
    pub missing_public_ids: Vec<String>,
}

/// One file to add: where it is, and its name in the archive.
struct Entry {
    path: PathBuf,
    name: String,
}

impl Kino {
    /// Builds the archive `request` asks for.
    pub async fn build_archive(
        &self,
        cloud: &str,
        request: &ArchiveRequest,
    ) -> Result<Archive, ServiceError> {
        if request.public_ids.is_empty() && request.prefixes.is_empty() && request.tags.is_empty() {
            return Err(ServiceError::BadInput(
                "Missing required parameter - public_ids, prefixes or tags".into(),
            ));
        }
        let (assets, missing) = self.archive_assets(cloud, request).await?;
        if !missing.is_empty() && !request.allow_missing {
            return Err(ServiceError::NotFound(format!(
                "Resources not found: {}",
                missing.join(", ")
            )));
        }
        if assets.is_empty() {
            return Err(ServiceError::NotFound(
                "No resources match the archive's public ids, prefixes and tags".into(),
            ));
        }
        let mut entries = Vec::new();
        let mut names = HashSet::new();
        for asset in &assets {
            if request.transformations.is_empty() {
                let path = self.store.local_copy(&asset.blob_key).await?;
                let name = entry_name(asset, &asset.format, None, request);
                entries.push(Entry {
                    path,
                    name: unique(name, &mut names),
                });
                continue;
            }
            for eager in &request.transformations {
                let derived = self.stored_derived(asset, eager).await?;
                let path = self.store.local_copy(&derived.blob_key).await?;
                let folder =
                    (!request.flatten_transformations).then(|| eager.transformation.to_string());
                let name = entry_name(asset, &derived.format, folder.as_deref(), request);
                entries.push(Entry {
                    path,
                    name: unique(name, &mut names),
                });
            }
        }
        let file_count = entries.len();
        let file = self.write_zip(entries).await?;
        if file.len() > self.limits.max_raw_bytes {
            return Err(ServiceError::TooLarge(format!(
                "The archive is too large ({} bytes; the limit is {})",
                file.len(),
                self.limits.max_raw_bytes
            )));
        }
        Ok(Archive {
            file,
            resource_count: assets.len(),
            file_count,
            missing_public_ids: missing,
        })
    }

    /// Keeps a finished archive as a raw asset (`mode=create`), at `public_id` or a new one.
    pub async fn keep_archive(
        &self,
        cloud: &str,
        file: StagedFile,
        public_id: Option<&str>,
        tags: &[String],
    ) -> Result<Asset, ServiceError> {
        let public_id = match public_id.filter(|p| !p.is_empty()) {
            Some(p) if p.ends_with(".zip") => p.to_string(),
            Some(p) => format!("{p}.zip"),
            None => format!("{}.zip", crate::ids::hex32()),
        };
        crate::url::validate_public_id(&public_id)?;
        let mut params = Params::new();
        if !tags.is_empty() {
            params.set("tags", tags.join(","));
        }
        let placing = Placing {
            cloud,
            resource_type: ResourceType::Raw,
            delivery_type: DeliveryType::Upload,
            public_id,
            overwrite: true,
            media: None,
            original_name: Some(("archive".into(), Some("zip".into()))),
            format: None,
        };
        Ok(self.place(placing, file, &params).await?.asset)
    }

    /// The assets named by public id, prefix or tag (each once), and the public ids missing.
    async fn archive_assets(
        &self,
        cloud: &str,
        request: &ArchiveRequest,
    ) -> Result<(Vec<Asset>, Vec<String>), ServiceError> {
        let delivery_type = request.delivery_type.unwrap_or(DeliveryType::Upload);
        let mut found: Vec<Asset> = Vec::new();
        let mut seen = HashSet::new();
        let mut missing = Vec::new();
        let mut keep = |asset: Asset, found: &mut Vec<Asset>| -> Result<(), ServiceError> {
            if seen.insert(asset.asset_id.clone()) {
                if found.len() >= MAX_ARCHIVE_ASSETS {
                    return Err(ServiceError::BadInput(format!(
                        "An archive holds at most {MAX_ARCHIVE_ASSETS} assets"
                    )));
                }
                found.push(asset);
            }
            Ok(())
        };
        for public_id in &request.public_ids {
            let mut any = false;
            for rt in &request.resource_types {
                if let Some(asset) = self
                    .catalog
                    .find_asset(cloud, *rt, delivery_type, public_id)
                    .await?
                {
                    keep(asset, &mut found)?;
                    any = true;
                }
            }
            if !any {
                missing.push(public_id.clone());
            }
        }
        for (prefix, tag) in request
            .prefixes
            .iter()
            .map(|p| (Some(p.clone()), None))
            .chain(request.tags.iter().map(|t| (None, Some(t.clone()))))
        {
            for rt in &request.resource_types {
                let mut after_row = None;
                loop {
                    let page = self
                        .catalog
                        .list_assets(&ListQuery {
                            cloud: cloud.to_string(),
                            resource_type: Some(*rt),
                            delivery_type: Some(delivery_type),
                            prefix: prefix.clone(),
                            tag: tag.clone(),
                            direction: Direction::Asc,
                            limit: 500,
                            after_row,
                            ..ListQuery::default()
                        })
                        .await?;
                    for asset in page.items {
                        keep(asset, &mut found)?;
                    }
                    match page.next_row {
                        Some(row) => after_row = Some(row),
                        None => break,
                    }
                }
            }
        }
        Ok((found, missing))
    }

    /// Writes `entries` into a ZIP in the staging area.
    async fn write_zip(&self, entries: Vec<Entry>) -> Result<StagedFile, ServiceError> {
        let path = self
            .staging
            .dir()
            .join(format!("archive-{}.zip", crate::ids::hex32()));
        let written = path.clone();
        let made = blocking(move || {
            let file = std::fs::File::create(&written)?;
            let mut zip = zip::ZipWriter::new(file);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .large_file(true);
            for entry in entries {
                zip.start_file(entry.name, options)
                    .map_err(std::io::Error::other)?;
                let mut source = std::fs::File::open(&entry.path)?;
                std::io::copy(&mut source, &mut zip)?;
            }
            let mut file = zip.finish().map_err(std::io::Error::other)?;
            file.flush()?;
            file.sync_all()?;
            let mut read = std::fs::File::open(&written)?;
            let mut md5 = Md5::new();
            let len = std::io::copy(&mut read, &mut md5)?;
            Ok(StagedFile::adopt(written, len, md5))
        })
        .await;
        if made.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        made
    }
}

/// An entry's name: `[transformation/]public_id.format`, or the original file name; only
/// the last part of the public id with `flatten_folders`.
fn entry_name(
    asset: &Asset,
    format: &str,
    folder: Option<&str>,
    request: &ArchiveRequest,
) -> String {
    let mut base = match (&asset.original_filename, request.use_original_filename) {
        (Some(original), true) => original.clone(),
        _ => asset.public_id.clone(),
    };
    if request.flatten_folders {
        base = base.rsplit('/').next().unwrap_or_default().to_string();
    }
    let mut name = match folder {
        Some(f) => format!("{f}/{base}"),
        None => base,
    };
    // Raw public ids carry their extension already.
    if asset.resource_type != ResourceType::Raw && !format.is_empty() {
        name.push('.');
        name.push_str(format);
    }
    name
}

/// `name`, or `name` with ` (2)`, ` (3)` … before its extension when already taken.
fn unique(name: String, taken: &mut HashSet<String>) -> String {
    if taken.insert(name.clone()) {
        return name;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && !e.contains('/') => (s.to_string(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    (2..)
        .map(|n| format!("{stem} ({n}){ext}"))
        .find(|candidate| taken.insert(candidate.clone()))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_unique() {
        let mut taken = HashSet::new();
        assert_eq!(unique("a/b.jpg".into(), &mut taken), "a/b.jpg");
        assert_eq!(unique("a/b.jpg".into(), &mut taken), "a/b (2).jpg");
        assert_eq!(unique("a/b.jpg".into(), &mut taken), "a/b (3).jpg");
        assert_eq!(unique("readme".into(), &mut taken), "readme");
        assert_eq!(unique("readme".into(), &mut taken), "readme (2)");
    }
}
