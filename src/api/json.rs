//! Wire JSON for resources, built from catalog types (which know nothing of the wire).
//! Field names and types follow the reference (§5.5, §7.3, Appendix Q): `video.bit_rate` is a
//! string, `audio` is `{}` without a track, `created_at` is ISO-8601 with `Z`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use crate::catalog::{Asset, Derived, Environment};
use crate::engine::MediaKind;
use crate::service::Kino;
use crate::signing::{Algorithm, url_signature};
use crate::url::{DeliveryType, ResourceType};

/// Characters the Python SDK leaves unescaped in public ids: `A-Za-z0-9_.-/:`.
const PUBLIC_ID_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'/')
    .remove(b':');

/// The delivery path of an asset's original, as the SDKs would build it.
pub fn delivery_path(asset: &Asset, secret: &str) -> String {
    transformed_path(asset, "", &asset.format, secret)
}

/// The delivery path of `transformation` (URL syntax, may be empty) of an asset as `format`.
pub fn transformed_path(asset: &Asset, transformation: &str, format: &str, secret: &str) -> String {
    let mut file = utf8_percent_encode(&asset.public_id, PUBLIC_ID_ESCAPE).to_string();
    let t = if transformation.is_empty() {
        String::new()
    } else {
        format!("{transformation}/")
    };
    if asset.delivery_type == DeliveryType::Fetch {
        // The remote URL itself, escaped as the SDKs escape it; no version, no extension.
        return format!("/{}/{}/fetch/{t}{file}", asset.cloud, asset.resource_type);
    }
    if asset.resource_type != ResourceType::Raw && !format.is_empty() {
        file = format!("{file}.{format}");
    }
    let signature = match asset.delivery_type {
        DeliveryType::Authenticated => {
            format!(
                "s--{}--/",
                url_signature(&format!("{t}{file}"), secret, Algorithm::Sha1, false)
            )
        }
        DeliveryType::Upload
        | DeliveryType::Private
        | DeliveryType::Fetch
        | DeliveryType::Multi
        | DeliveryType::Text
        | DeliveryType::Sprite => String::new(),
    };
    format!(
        "/{}/{}/{}/{signature}{t}v{}/{file}",
        asset.cloud, asset.resource_type, asset.delivery_type, asset.version
    )
}

/// One entry of an upload's `eager` list.
pub fn eager_item(
    kino: &Kino,
    env: &Environment,
    asset: &Asset,
    made: &crate::service::eager::EagerMade,
) -> Value {
    let path = transformed_path(asset, &made.transformation, &made.format, &env.api_secret);
    let mut m = Map::new();
    m.insert("transformation".into(), json!(made.transformation));
    if let (Some(w), Some(h)) = (made.width, made.height) {
        m.insert("width".into(), json!(w));
        m.insert("height".into(), json!(h));
    }
    m.insert("bytes".into(), json!(made.bytes));
    m.insert("format".into(), json!(made.format));
    m.insert("url".into(), json!(format!("{}{path}", kino.public_url)));
    m.insert(
        "secure_url".into(),
        json!(format!("{}{path}", kino.secure_url)),
    );
    Value::Object(m)
}

pub(crate) fn iso(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Fields every resource rendering shares (list items, details, upload responses).
fn base(kino: &Kino, env: &Environment, asset: &Asset) -> Map<String, Value> {
    let path = delivery_path(asset, &env.api_secret);
    let mut m = Map::new();
    m.insert("asset_id".into(), json!(asset.asset_id));
    m.insert("public_id".into(), json!(asset.public_id));
    if !asset.format.is_empty() {
        m.insert("format".into(), json!(asset.format));
    }
    m.insert("version".into(), json!(asset.version));
    m.insert("resource_type".into(), json!(asset.resource_type.as_str()));
    m.insert("type".into(), json!(asset.delivery_type.as_str()));
    m.insert("created_at".into(), json!(iso(&asset.created_at)));
    m.insert("bytes".into(), json!(asset.bytes));
    if let (Some(w), Some(h)) = (asset.width, asset.height) {
        m.insert("width".into(), json!(w));
        m.insert("height".into(), json!(h));
    }
    m.insert("asset_folder".into(), json!(asset.folder()));
    m.insert("folder".into(), json!(asset.folder()));
    m.insert("display_name".into(), json!(asset.display_name()));
    m.insert("url".into(), json!(format!("{}{path}", kino.public_url)));
    m.insert(
        "secure_url".into(),
        json!(format!("{}{path}", kino.secure_url)),
    );
    if let Some(media) = &asset.media
        && media.kind != MediaKind::Image
        && let Some(d) = media.duration
    {
        m.insert("duration".into(), json!(d));
    }
    m
}

fn context_value(asset: &Asset) -> Value {
    if asset.context.is_empty() {
        json!({})
    } else {
        json!({"custom": asset.context})
    }
}

/// Video and audio facts (§5.5).
fn media_fields(m: &mut Map<String, Value>, asset: &Asset) {
    let Some(media) = &asset.media else {
        return;
    };
    if media.kind == MediaKind::Image {
        m.insert("pages".into(), json!(media.pages));
        return;
    }
    m.insert("pages".into(), json!(0));
    m.insert("is_audio".into(), json!(media.kind == MediaKind::Audio));
    m.insert("rotation".into(), json!(media.rotation));
    if let Some(rate) = media.frame_rate {
        m.insert("frame_rate".into(), json!(rate));
    }
    if let Some(rate) = media.bit_rate {
        m.insert("bit_rate".into(), json!(rate));
    }
    if let Some(n) = media.nb_frames {
        m.insert("nb_frames".into(), json!(n));
    }
    let video = match &media.video {
        Some(v) => {
            let mut o = Map::new();
            o.insert("pix_format".into(), json!(v.pix_format));
            o.insert("codec".into(), json!(v.codec));
            o.insert("level".into(), json!(v.level));
            if let Some(p) = &v.profile {
                o.insert("profile".into(), json!(p));
            }
            if let Some(b) = v.bit_rate {
                o.insert("bit_rate".into(), json!(b.to_string()));
            }
            if let Some(d) = &v.dar {
                o.insert("dar".into(), json!(d));
            }
            o.insert("time_base".into(), json!(v.time_base));
            Value::Object(o)
        }
        None => json!({}),
    };
    m.insert("video".into(), video);
    let audio = match &media.audio {
        Some(a) => {
            let mut o = Map::new();
            o.insert("codec".into(), json!(a.codec));
            if let Some(b) = a.bit_rate {
                o.insert("bit_rate".into(), json!(b.to_string()));
            }
            o.insert("frequency".into(), json!(a.frequency));
            o.insert("channels".into(), json!(a.channels));
            if let Some(l) = &a.channel_layout {
                o.insert("channel_layout".into(), json!(l));
            }
            Value::Object(o)
        }
        None => json!({}),
    };
    m.insert("audio".into(), audio);
}

/// The response of an upload (and of rename and explicit).
pub fn upload_response(
    kino: &Kino,
    env: &Environment,
    asset: &Asset,
    existing: bool,
    overwritten: bool,
) -> Value {
    let mut m = base(kino, env, asset);
    m.insert("version_id".into(), json!(asset.version_id));
    m.insert(
        "signature".into(),
        json!(crate::signing::response_signature(
            &asset.public_id,
            asset.version,
            &env.api_secret
        )),
    );
    m.insert("tags".into(), json!(asset.tags));
    m.insert("etag".into(), json!(asset.etag));
    m.insert("placeholder".into(), json!(false));
    if let Some(name) = &asset.original_filename {
        m.insert("original_filename".into(), json!(name));
    }
    if !asset.context.is_empty() {
        m.insert("context".into(), context_value(asset));
    }
    if !asset.metadata.is_empty() {
        m.insert("metadata".into(), json!(asset.metadata));
    }
    media_fields(&mut m, asset);
    if asset
        .media
        .as_ref()
        .is_some_and(|x| x.kind == MediaKind::Video)
    {
        let path = delivery_path(asset, &env.api_secret);
        let playback = path.replacen(
            &format!("/v{}/", asset.version),
            &format!("/sp_auto/v{}/", asset.version),
            1,
        );
        let playback = match playback.rsplit_once('.') {
            Some((stem, _)) => format!("{stem}.m3u8"),
            None => format!("{playback}.m3u8"),
        };
        m.insert(
            "playback_url".into(),
            json!(format!("{}{playback}", kino.secure_url)),
        );
    }
    if existing {
        m.insert("existing".into(), json!(true));
    }
    if overwritten {
        m.insert("overwritten".into(), json!(true));
    }
    m.insert("api_key".into(), json!(env.api_key));
    Value::Object(m)
}

/// A list item; tags and context only when asked for.
pub fn list_item(
    kino: &Kino,
    env: &Environment,
    asset: &Asset,
    with_tags: bool,
    with_context: bool,
) -> Value {
    let mut m = base(kino, env, asset);
    if with_tags {
        m.insert("tags".into(), json!(asset.tags));
    }
    if with_context && !asset.context.is_empty() {
        m.insert("context".into(), context_value(asset));
    }
    Value::Object(m)
}

/// One entry of a resource's `derived` list.
pub fn derived_item(kino: &Kino, asset: &Asset, d: &Derived) -> Value {
    let tail = format!(
        "{}/{}/{}/{}/v{}/{}.{}",
        asset.cloud,
        asset.resource_type,
        asset.delivery_type,
        d.transformation,
        d.version,
        asset.public_id,
        d.format
    );
    json!({
        "transformation": d.transformation,
        "format": d.format,
        "bytes": d.bytes,
        "id": d.id,
        "url": format!("{}/{tail}", kino.public_url),
        "secure_url": format!("{}/{tail}", kino.secure_url),
    })
}

pub fn details(kino: &Kino, env: &Environment, asset: &Asset, derived: &[Derived]) -> Value {
    let mut m = base(kino, env, asset);
    m.insert("tags".into(), json!(asset.tags));
    m.insert("context".into(), context_value(asset));
    if !asset.metadata.is_empty() {
        m.insert("metadata".into(), json!(asset.metadata));
    }
    m.insert("etag".into(), json!(asset.etag));
    m.insert("placeholder".into(), json!(false));
    m.insert("status".into(), json!("active"));
    m.insert("access_mode".into(), json!("public"));
    m.insert("uploaded_at".into(), json!(iso(&asset.updated_at)));
    if let Some(name) = &asset.original_filename {
        m.insert("original_filename".into(), json!(name));
        m.insert("filename".into(), json!(name));
    }
    if let (Some(w), Some(h)) = (asset.width, asset.height) {
        m.insert("pixels".into(), json!(w * h));
        if h > 0 {
            m.insert("aspect_ratio".into(), json!(w as f64 / h as f64));
        }
    }
    media_fields(&mut m, asset);
    let derived: Vec<Value> = derived
        .iter()
        .map(|d| derived_item(kino, asset, d))
        .collect();
    m.insert("derived".into(), Value::Array(derived));
    m.insert("next_cursor".into(), Value::Null);
    m.insert(
        "last_updated".into(),
        json!({"updated_at": iso(&asset.updated_at)}),
    );
    Value::Object(m)
}
