//! `multi`: one animated picture or video made of the pictures that carry a tag (in public
//! id order), each transformed by the request's transformation, fitted into the first one's
//! size and shown for the same delay (`dl_`, default 500 ms); or a PDF with one page per
//! picture. It is kept as an asset of type `multi` whose public id is the tag, delivered at
//! `/{cloud}/image/multi/{tag}.{format}`.

use super::transform::media_of;
use super::upload::{Placing, UploadType};
use super::{Kino, ServiceError};
use crate::catalog::{Asset, Direction, ListQuery};
use crate::params::Params;
use crate::plan::Source;
use crate::plan::sequence::{MAX_PICTURES, sequence};
use crate::url::{DeliveryType, Eager, ResourceType, Transformation, Value};

/// What `multi` makes.
#[derive(Debug, Clone)]
pub struct MultiRequest {
    pub tag: String,
    /// Public id of the result (default: the tag).
    pub public_id: Option<String>,
    /// The request's transformation: `f_` chooses the format (default gif), `dl_` the delay,
    /// the rest applies to each picture.
    pub transformation: Transformation,
}

impl Kino {
    /// Makes (or makes again) the `multi` asset of a tag.
    pub async fn multi(&self, cloud: &str, request: &MultiRequest) -> Result<Asset, ServiceError> {
        let (each, format, delay) = split_multi(&request.transformation);
        let upload_type = match format.as_str() {
            "gif" | "webp" | "pdf" => UploadType::Image,
            "mp4" | "webm" => UploadType::Video,
            other => {
                return Err(ServiceError::BadInput(format!(
                    "multi makes gif, webp, pdf, mp4 or webm, not {other}"
                )));
            }
        };
        let pictures = self.tagged_pictures(cloud, &request.tag).await?;
        let (made, resource_type, media) = if format == "pdf" {
            // libav reads no PDF: the document is an image without media facts.
            (
                self.pdf_of(&pictures, &each).await?,
                ResourceType::Image,
                None,
            )
        } else {
            let mut sources = Vec::with_capacity(pictures.len());
            for picture in &pictures {
                sources.push(self.sequence_source(picture, &each).await?);
            }
            let ctx = self.plain_context(sources[0].clone());
            let plan = sequence(&sources, &format, delay, &ctx)?;
            let made = self.run_to_staging(plan).await?;
            let (resource_type, media) = self.classify(upload_type, &made, Some(&format)).await?;
            (made, resource_type, media)
        };
        let public_id = request
            .public_id
            .clone()
            .unwrap_or_else(|| request.tag.clone());
        crate::url::validate_public_id(&public_id)?;
        let placing = Placing {
            cloud,
            resource_type,
            delivery_type: DeliveryType::Multi,
            public_id,
            overwrite: true,
            media,
            original_name: None,
            format: Some(format.clone()),
        };
        Ok(self.place(placing, made, &Params::new()).await?.asset)
    }

    /// The pictures (image uploads) with `tag`, by public id.
    pub(super) async fn tagged_pictures(
        &self,
        cloud: &str,
        tag: &str,
    ) -> Result<Vec<Asset>, ServiceError> {
        let page = self
            .catalog
            .list_assets(&ListQuery {
                cloud: cloud.to_string(),
                resource_type: Some(ResourceType::Image),
                delivery_type: Some(DeliveryType::Upload),
                tag: Some(tag.to_string()),
                direction: Direction::Asc,
                limit: u32::try_from(MAX_PICTURES + 1).unwrap_or(u32::MAX),
                ..ListQuery::default()
            })
            .await?;
        let mut pictures = page.items;
        if pictures.is_empty() {
            return Err(ServiceError::NotFound(format!(
                "No pictures are tagged {tag}"
            )));
        }
        if pictures.len() > MAX_PICTURES || page.next_row.is_some() {
            return Err(ServiceError::BadInput(format!(
                "multi joins at most {MAX_PICTURES} pictures; {tag} has more"
            )));
        }
        pictures.sort_by(|a, b| a.public_id.cmp(&b.public_id));
        Ok(pictures)
    }

    /// A PDF in the staging area with one page per picture, each a JPEG through `each`.
    async fn pdf_of(
        &self,
        pictures: &[Asset],
        each: &Transformation,
    ) -> Result<crate::store::StagedFile, ServiceError> {
        let mut pages = Vec::with_capacity(pictures.len());
        for picture in pictures {
            let eager = Eager {
                transformation: each.clone(),
                format: Some("jpg".into()),
            };
            let derived = self.stored_derived(picture, &eager).await?;
            let path = self.store.local_copy(&derived.blob_key).await?;
            let jpeg = tokio::fs::read(&path).await.map_err(|source| {
                ServiceError::Store(crate::store::StoreError::Read {
                    key: derived.blob_key.clone(),
                    source,
                })
            })?;
            let (width, height) = crate::header::dimensions(&jpeg).ok_or_else(|| {
                ServiceError::BadInput(format!("{} made no picture", picture.public_id))
            })?;
            pages.push(crate::pdf::Page {
                jpeg,
                width,
                height,
            });
        }
        let pdf = crate::pdf::write(&pages);
        let mut file = self.staging.create(self.limits.max_image_bytes).await?;
        file.write(&pdf)
            .await
            .map_err(ServiceError::from_store_limit)?;
        file.finish().await?;
        Ok(file)
    }

    /// A picture as a sequence input: the original, or its derived file for `each`.
    pub(super) async fn sequence_source(
        &self,
        picture: &Asset,
        each: &Transformation,
    ) -> Result<Source, ServiceError> {
        let not_media =
            || ServiceError::BadInput(format!("{} is not a picture", picture.public_id));
        if each.is_empty() {
            let media = picture.media.as_ref().map(media_of).ok_or_else(not_media)?;
            let path = self.store.local_copy(&picture.blob_key).await?;
            return Ok(Source {
                path: path.to_string_lossy().into_owned(),
                media,
            });
        }
        let eager = Eager {
            transformation: each.clone(),
            format: Some("png".into()),
        };
        let derived = self.stored_derived(picture, &eager).await?;
        let path = self.store.local_copy(&derived.blob_key).await?;
        let probed = path.clone();
        let info =
            tokio::task::spawn_blocking(move || crate::engine::probe(&probed, None, u64::MAX))
                .await
                .map_err(|e| ServiceError::BadInput(e.to_string()))?
                .map_err(|e| ServiceError::Media {
                    what: format!("the transformed {}", picture.public_id),
                    source: e,
                })?;
        Ok(Source {
            path: path.to_string_lossy().into_owned(),
            media: media_of(&info),
        })
    }
}

/// The transformation for each picture, the output format and the delay in milliseconds.
fn split_multi(t: &Transformation) -> (Transformation, String, u32) {
    let mut format = "gif".to_string();
    let mut delay = 500;
    let mut each = t.clone();
    for component in &mut each.components {
        component.params.retain(|p| match &p.value {
            Value::Format(f) => {
                format = f.to_ascii_lowercase();
                false
            }
            Value::Delay(ms) => {
                delay = *ms;
                false
            }
            _ => true,
        });
    }
    each.components.retain(|c| !c.params.is_empty());
    (each, format, delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_delay_come_out_of_the_transformation() {
        let t = Transformation::parse_str("c_scale,w_100/dl_200,f_mp4").unwrap();
        let (each, format, delay) = split_multi(&t);
        assert_eq!(
            (each.to_string(), format.as_str(), delay),
            ("c_scale,w_100".into(), "mp4", 200)
        );
        let (each, format, delay) = split_multi(&Transformation::default());
        assert_eq!(
            (each.to_string(), format.as_str(), delay),
            (String::new(), "gif", 500)
        );
    }
}
