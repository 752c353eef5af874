//! `sprite`: the pictures that carry a tag stacked into one PNG (type `sprite`, public id the
//! tag), with a CSS class per picture and a JSON of where each sits. The CSS and JSON are
//! kept beside the picture (raw files `{tag}.css` and `{tag}.json` of type `sprite`) and
//! delivered at `/{cloud}/image/sprite/{tag}.css` and `.json`.

use std::collections::BTreeMap;

use serde_json::json;

use super::upload::{Placing, UploadType};
use super::{Kino, ServiceError};
use crate::catalog::Asset;
use crate::params::Params;
use crate::plan::sprite::{Placed, sprite};
use crate::url::{DeliveryType, ResourceType, Transformation};

/// A made sprite: its picture and where each public id sits on it.
#[derive(Debug)]
pub struct Sprite {
    pub image: Asset,
    pub placed: BTreeMap<String, Placed>,
}

impl Kino {
    /// Makes (or makes again) the sprite of `tag`, each picture through `each`.
    pub async fn sprite(
        &self,
        cloud: &str,
        tag: &str,
        each: &Transformation,
    ) -> Result<Sprite, ServiceError> {
        crate::url::validate_public_id(tag)?;
        let pictures = self.tagged_pictures(cloud, tag).await?;
        let mut sources = Vec::with_capacity(pictures.len());
        for picture in &pictures {
            sources.push(self.sequence_source(picture, each).await?);
        }
        let ctx = self.plain_context(sources[0].clone());
        let (plan, layout) = sprite(&sources, &ctx)?;
        let made = self.run_to_staging(plan).await?;
        let (resource_type, media) = self.classify(UploadType::Image, &made, Some("png")).await?;
        let image = self
            .place(
                Placing {
                    cloud,
                    resource_type,
                    delivery_type: DeliveryType::Sprite,
                    public_id: tag.to_string(),
                    overwrite: true,
                    media,
                    original_name: None,
                    format: None,
                },
                made,
                &Params::new(),
            )
            .await?
            .asset;
        let placed: BTreeMap<String, Placed> = pictures
            .iter()
            .map(|p| p.public_id.clone())
            .zip(layout)
            .collect();
        let image_url = format!(
            "{}/{cloud}/image/sprite/v{}/{tag}.png",
            self.public_url, image.version
        );
        self.keep_sprite_text(cloud, &format!("{tag}.css"), css(&image_url, &placed))
            .await?;
        let infos = json!({"image_url": image_url, "image_infos": infos(&placed)});
        self.keep_sprite_text(cloud, &format!("{tag}.json"), infos.to_string())
            .await?;
        Ok(Sprite { image, placed })
    }

    /// Keeps `text` as the raw file `public_id` of type sprite.
    async fn keep_sprite_text(
        &self,
        cloud: &str,
        public_id: &str,
        text: String,
    ) -> Result<(), ServiceError> {
        let mut file = self.staging.create(text.len() as u64).await?;
        file.write(text.as_bytes()).await?;
        file.finish().await?;
        let placing = Placing {
            cloud,
            resource_type: ResourceType::Raw,
            delivery_type: DeliveryType::Sprite,
            public_id: public_id.to_string(),
            overwrite: true,
            media: None,
            original_name: None,
            format: None,
        };
        self.place(placing, file, &Params::new()).await?;
        Ok(())
    }
}

/// Where each picture sits, as the JSON and the API answer show it.
pub fn infos(placed: &BTreeMap<String, Placed>) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = placed
        .iter()
        .map(|(id, p)| {
            (
                id.clone(),
                json!({"x": p.x, "y": p.y, "width": p.width, "height": p.height}),
            )
        })
        .collect();
    serde_json::Value::Object(map)
}

/// One CSS class per picture (its public id, `/` as `_`), showing its part of the sprite.
fn css(image_url: &str, placed: &BTreeMap<String, Placed>) -> String {
    let mut out = String::new();
    for (id, p) in placed {
        let class: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        out.push_str(&format!(
            ".{class} {{ background: url('{image_url}') no-repeat; background-position: -{}px -{}px; width: {}px; height: {}px; }}\n",
            p.x, p.y, p.width, p.height
        ));
    }
    out
}
