//! Strict transformations: with `security.strict_transformations` on, a delivery URL may only
//! make what the account has allowed. Allowed are signed URLs, transformations made only of
//! named ones (`t_name`), transformations a named entry marked `allowed_for_strict` defines, and
//! derived files that exist already (made eagerly). Anything else is refused with 401 before
//! any work, instead of being made on the fly.

use super::streaming::segment_file_row;
use super::{Kino, ServiceError};
use crate::catalog::Asset;
use crate::url::DeliveryPath;

impl Kino {
    /// Refuses `path` unless strict mode allows making it. `made` says whether what it asks
    /// for exists already.
    pub(super) async fn check_strict(
        &self,
        path: &DeliveryPath,
        made: bool,
    ) -> Result<(), ServiceError> {
        if !self.security.strict_transformations || made {
            return Ok(());
        }
        if let Some(signature) = &path.signature {
            if self
                .url_signed(&path.cloud, &path.signed_text, signature)
                .await?
            {
                return Ok(());
            }
            return Err(ServiceError::Unauthorized(
                "Invalid signature in the URL".into(),
            ));
        }
        let text = path.transformation.to_string();
        if path.transformation.only_named()
            || self.catalog.strict_allows(&path.cloud, &text).await?
        {
            return Ok(());
        }
        let what = if text.is_empty() {
            let ext = path.extension.as_deref().unwrap_or_default();
            format!("Delivery as .{ext}")
        } else {
            format!("Transformation {text}")
        };
        Err(ServiceError::Unauthorized(format!(
            "{what} is not allowed: strict transformations are on (sign the URL, name the \
             transformation, or mark it allowed_for_strict)"
        )))
    }

    /// Whether the adaptive stream `path` asks for was made eagerly (its first segment is
    /// stored).
    pub(super) async fn stream_made(
        &self,
        path: &DeliveryPath,
        asset: &Asset,
    ) -> Result<bool, ServiceError> {
        if !self.security.strict_transformations {
            return Ok(true);
        }
        let stream = self.stream_of(path, asset).await?;
        let Some(top) = stream.video.first() else {
            return Ok(false);
        };
        let track = crate::streaming::segment::track_transformation(Some(&top.transformation));
        let container = crate::streaming::segment::track_format(Some(&top.transformation));
        let first = segment_file_row(asset, &stream, &track, container, Some(0));
        Ok(self.catalog.find_derived(&first.id).await?.is_some())
    }
}
