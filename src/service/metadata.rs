//! Structured metadata on assets: the `metadata` parameter of uploads, of the Upload API's
//! `metadata` method and of Admin updates, checked against the cloud's field definitions
//! before anything is written (a bad value changes nothing).

use super::{Kino, ServiceError};
use crate::catalog::Asset;
use crate::metadata::{Assignment, assign};
use crate::params::parse_context;
use crate::url::{DeliveryType, ResourceType};

impl Kino {
    /// What `raw` (`field=value|…`, or nothing) does to an asset, checked. A `new_asset` gets
    /// the defaults of fields not given and must end up with its mandatory fields.
    pub async fn metadata_assignment(
        &self,
        cloud: &str,
        raw: Option<&str>,
        new_asset: bool,
        clear_invalid: bool,
    ) -> Result<Assignment, ServiceError> {
        let given = match raw {
            Some(text) => parse_context(text)?,
            None if !new_asset => return Ok(Assignment::default()),
            None => Default::default(),
        };
        let fields = self.catalog.metadata_fields(cloud).await?;
        Ok(assign(&fields, &given, new_asset, clear_invalid)?)
    }

    /// Sets the metadata `raw` on each of `public_ids`, all of which must exist; returns
    /// the assets changed.
    pub async fn update_metadata(
        &self,
        cloud: &str,
        resource_type: ResourceType,
        delivery_type: DeliveryType,
        public_ids: &[String],
        raw: &str,
        clear_invalid: bool,
    ) -> Result<Vec<Asset>, ServiceError> {
        if public_ids.is_empty() {
            return Err(ServiceError::BadInput(
                "Missing required parameter - public_ids".into(),
            ));
        }
        let assignment = self
            .metadata_assignment(cloud, Some(raw), false, clear_invalid)
            .await?;
        let mut assets = Vec::with_capacity(public_ids.len());
        for id in public_ids {
            assets.push(
                self.require_asset(cloud, resource_type, delivery_type, id)
                    .await?,
            );
        }
        for asset in &assets {
            self.catalog.set_metadata(asset, &assignment).await?;
        }
        Ok(assets)
    }
}
