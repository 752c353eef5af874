//! Auto-upload mappings (lazy migration): a delivery of a missing asset under a mapped folder
//! pulls `template` + the rest of its path from the origin, keeps it as an ordinary upload at
//! the requested public id, and serves it; later requests find it in the catalog.

use super::upload::UploadType;
use super::{Kino, ServiceError};
use crate::catalog::{Asset, UploadMapping};
use crate::url::{DeliveryType, ResourceType};

impl Kino {
    /// The asset a mapping brings in for the missing `public_id` (its delivery extension
    /// `extension`), or `None` when no mapping covers its folder.
    pub async fn auto_uploaded(
        &self,
        cloud: &str,
        resource_type: ResourceType,
        public_id: &str,
        extension: Option<&str>,
    ) -> Result<Option<Asset>, ServiceError> {
        let upload_type = match resource_type {
            ResourceType::Image => UploadType::Image,
            ResourceType::Video => UploadType::Video,
            ResourceType::Raw => return Ok(None),
        };
        let Some((mapping, rest)) = self.mapping_for(cloud, public_id).await? else {
            return Ok(None);
        };
        let url = origin_url(&mapping.template, rest, extension);
        tracing::info!(%url, public_id, "auto-upload mapping pulls a missing asset");
        let asset = self
            .pull(
                cloud,
                upload_type,
                &url,
                DeliveryType::Upload,
                public_id.to_string(),
                None,
            )
            .await?;
        Ok(Some(asset))
    }

    /// The mapping of the deepest folder holding `public_id`, and the path below it.
    async fn mapping_for<'p>(
        &self,
        cloud: &str,
        public_id: &'p str,
    ) -> Result<Option<(UploadMapping, &'p str)>, ServiceError> {
        let cuts = public_id.rmatch_indices('/').map(|(i, _)| i);
        for cut in cuts {
            let (folder, rest) = (&public_id[..cut], &public_id[cut + 1..]);
            if rest.is_empty() {
                continue;
            }
            if let Some(mapping) = self.catalog.mapping(cloud, folder).await? {
                return Ok(Some((mapping, rest)));
            }
        }
        Ok(None)
    }
}

/// Checks a mapping before it is stored: a folder path and an http(s) URL prefix.
pub fn check_mapping(mapping: &UploadMapping) -> Result<(), ServiceError> {
    let folder = &mapping.folder;
    if folder.is_empty()
        || folder.starts_with('/')
        || folder.ends_with('/')
        || folder
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(ServiceError::BadInput(format!(
            "Invalid folder {folder:?}: a folder path like \"remote_media\" is expected"
        )));
    }
    let template = &mapping.template;
    let parsed = ::url::Url::parse(template)
        .map_err(|e| ServiceError::BadInput(format!("Invalid template {template:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ServiceError::BadInput(format!(
            "Invalid template {template:?}: an http or https URL prefix is expected"
        )));
    }
    Ok(())
}

/// `template` joined with the path below the mapped folder (one `/` between them).
fn origin_url(template: &str, rest: &str, extension: Option<&str>) -> String {
    let mut url = template.to_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    url.push_str(rest);
    if let Some(ext) = extension {
        url.push('.');
        url.push_str(ext);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(folder: &str, template: &str) -> UploadMapping {
        UploadMapping {
            folder: folder.into(),
            template: template.into(),
        }
    }

    #[test]
    fn joins_the_template_and_the_path() {
        assert_eq!(
            origin_url("https://o.example/media/", "a/dog", Some("jpg")),
            "https://o.example/media/a/dog.jpg"
        );
        assert_eq!(
            origin_url("https://o.example/media", "dog", None),
            "https://o.example/media/dog"
        );
    }

    #[test]
    fn checks_folders_and_templates() {
        assert!(check_mapping(&mapping("remote", "https://o.example/")).is_ok());
        assert!(check_mapping(&mapping("a/b", "http://o.example/x")).is_ok());
        for (folder, template) in [
            ("", "https://o.example/"),
            ("/a", "https://o.example/"),
            ("a/../b", "https://o.example/"),
            ("a", "ftp://o.example/"),
            ("a", "not a url"),
            ("a", "file:///etc/"),
        ] {
            assert!(
                check_mapping(&mapping(folder, template)).is_err(),
                "{folder} {template}"
            );
        }
    }
}
