//! Delivery URLs: `/{cloud}/{resource_type}/{type}/[s--sig--/][transformations/][v{n}/]{public_id}[.{ext}]`.
//!
//! Pure: turns a raw request path into a typed [`DeliveryPath`] with its [`Transformation`]
//! (typed parameters, canonical string, layer steps) and checks public ids. No I/O, no HTTP,
//! no libav — table tests pin the grammar down.

mod delivery;
mod eager;
mod expressions;
mod layers;
mod public_id;
mod transformation;
pub mod values;

pub use delivery::{DeliveryPath, parse_delivery_path};
pub use eager::{Eager, parse_eager, split_format};
pub use expressions::Facts;
pub use layers::{Layer, Step, steps};
pub use public_id::{PublicIdError, validate_public_id};
pub use transformation::{
    Component, LayerSource, MAX_COMPONENTS, Param, Transformation, TransformationError, Value,
};

use std::fmt;

/// `image`, `video` or `raw`: what kind of asset a public id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    Image,
    Video,
    Raw,
}

impl ResourceType {
    pub fn parse(s: &str) -> Option<ResourceType> {
        match s {
            "image" => Some(ResourceType::Image),
            "video" => Some(ResourceType::Video),
            "raw" => Some(ResourceType::Raw),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Image => "image",
            ResourceType::Video => "video",
            ResourceType::Raw => "raw",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The delivery type: who may fetch an asset and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryType {
    Upload,
    Private,
    Authenticated,
    /// The "public id" is a remote http(s) URL, fetched on first delivery and kept.
    Fetch,
    /// Made by the Upload API's `multi` from the pictures of a tag (the public id).
    Multi,
    /// A picture of text made by the Upload API's `text`.
    Text,
    /// Pictures of a tag stacked into one, with CSS and JSON (the Upload API's `sprite`).
    Sprite,
}

impl DeliveryType {
    pub fn parse(s: &str) -> Option<DeliveryType> {
        match s {
            "upload" => Some(DeliveryType::Upload),
            "private" => Some(DeliveryType::Private),
            "authenticated" => Some(DeliveryType::Authenticated),
            "fetch" => Some(DeliveryType::Fetch),
            "multi" => Some(DeliveryType::Multi),
            "text" => Some(DeliveryType::Text),
            "sprite" => Some(DeliveryType::Sprite),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryType::Upload => "upload",
            DeliveryType::Private => "private",
            DeliveryType::Authenticated => "authenticated",
            DeliveryType::Fetch => "fetch",
            DeliveryType::Multi => "multi",
            DeliveryType::Text => "text",
            DeliveryType::Sprite => "sprite",
        }
    }
}

impl fmt::Display for DeliveryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a delivery path could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Invalid resource type {0:?}: expected image, video or raw")]
    ResourceType(String),
    #[error("Invalid delivery type {0:?}: expected upload, private, authenticated or fetch")]
    DeliveryType(String),
    #[error("Invalid fetch URL {0:?}: expected an http or https URL")]
    FetchUrl(String),
    #[error("Missing public id in the URL")]
    MissingPublicId,
    #[error("Invalid public id: {0}")]
    PublicId(#[from] PublicIdError),
    #[error(transparent)]
    Transformation(#[from] TransformationError),
}
