//! The `fetch` delivery type: `/{cloud}/image/fetch/{transformations}/{url}` delivers (and
//! transforms) media at a user's URL. The first request fetches it through the remote-fetch
//! guard (no private, loopback or link-local addresses unless allowed; redirects checked again;
//! size caps), probes it like an upload and keeps it as an asset of type `fetch` whose public
//! id is the URL; later requests, and their derived files, come from the store.

use super::upload::{Placing, UploadType, base_name};
use super::{Kino, ServiceError};
use crate::catalog::Asset;
use crate::params::{Params, encode_context};
use crate::url::{DeliveryType, ResourceType};

impl Kino {
    /// The asset fetched from `url`, fetching it now on its first request.
    pub async fn fetched(
        &self,
        cloud: &str,
        resource_type: ResourceType,
        url: &str,
    ) -> Result<Asset, ServiceError> {
        let upload_type = match resource_type {
            ResourceType::Image => UploadType::Image,
            ResourceType::Video => UploadType::Video,
            ResourceType::Raw => {
                return Err(ServiceError::BadInput(
                    "Raw files cannot be delivered by fetch".into(),
                ));
            }
        };
        if let Some(asset) = self
            .catalog
            .find_asset(cloud, resource_type, DeliveryType::Fetch, url)
            .await?
        {
            return Ok(asset);
        }
        self.pull(
            cloud,
            upload_type,
            url,
            DeliveryType::Fetch,
            url.to_string(),
            None,
        )
        .await
    }

    /// Fetches a fetched asset's URL again (the `explicit` call with type `fetch`): a new
    /// version with the same tags and context; its derived files are made again when asked.
    pub async fn refetch(
        &self,
        cloud: &str,
        resource_type: ResourceType,
        url: &str,
    ) -> Result<Asset, ServiceError> {
        let existing = self
            .catalog
            .find_asset(cloud, resource_type, DeliveryType::Fetch, url)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("Resource not found - {url}")))?;
        let upload_type = match resource_type {
            ResourceType::Video => UploadType::Video,
            _ => UploadType::Image,
        };
        self.pull(
            cloud,
            upload_type,
            url,
            DeliveryType::Fetch,
            url.to_string(),
            Some(&existing),
        )
        .await
    }

    /// Fetches `url` through the remote-fetch guard and keeps it as `public_id` (of type
    /// `delivery_type`), probed and checked like an upload. An asset already there is kept,
    /// unless this pull is `replacing` it (keeping its tags and context).
    pub(super) async fn pull(
        &self,
        cloud: &str,
        upload_type: UploadType,
        url: &str,
        delivery_type: DeliveryType,
        public_id: String,
        replacing: Option<&Asset>,
    ) -> Result<Asset, ServiceError> {
        let mut file = self.fetch_remote(url).await?;
        if file.is_empty() {
            return Err(ServiceError::BadInput(format!("Empty file at {url}")));
        }
        file.finish().await?;
        let path_name = ::url::Url::parse(url)
            .ok()
            .and_then(|u| u.path_segments()?.next_back().map(str::to_string))
            .unwrap_or_default();
        let original_name = base_name(&path_name);
        let ext_hint = original_name.as_ref().and_then(|n| n.1.clone());
        let (resource_type, media) = self
            .classify(upload_type, &file, ext_hint.as_deref())
            .await?;
        self.check_limits(resource_type, file.len(), media.as_ref())?;
        let placing = Placing {
            cloud,
            resource_type,
            delivery_type,
            public_id,
            overwrite: replacing.is_some(),
            media,
            original_name,
            format: None,
        };
        let mut params = Params::new();
        if let Some(old) = replacing {
            params.set("tags", old.tags.join(","));
            params.set("context", encode_context(&old.context));
        }
        Ok(self.place(placing, file, &params).await?.asset)
    }
}
