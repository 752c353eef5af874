//! Splitting a delivery path into cloud, resource type, type, signature, transformations,
//! version and public id (reference §1.1 and Appendix B).

use percent_encoding::percent_decode_str;

use super::transformation::looks_like_component;
use super::{DeliveryType, ParseError, ResourceType, Transformation, validate_public_id};

/// A delivery request path, understood.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryPath {
    pub cloud: String,
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
    /// The text between `s--` and `--`, when the URL is signed.
    pub signature: Option<String>,
    /// The transformation components, parsed (empty when the URL has none).
    pub transformation: Transformation,
    pub version: Option<i64>,
    /// Percent-decoded; without the extension for images and videos, whole for raw.
    pub public_id: String,
    /// Lower-cased output extension (images and videos only).
    pub extension: Option<String>,
    /// What a URL signature covers: transformations and public id as sent, without version.
    pub signed_text: String,
}

fn version_of(segment: &str) -> Option<i64> {
    let digits = segment.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn signature_of(segment: &str) -> Option<&str> {
    let inner = segment.strip_prefix("s--")?.strip_suffix("--")?;
    let ok = (inner.len() == 8 || inner.len() == 32)
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(inner)
}

/// Parses a raw (still percent-encoded) request path such as `/demo/video/upload/v1/a/b.mp4`.
pub fn parse_delivery_path(raw_path: &str) -> Result<DeliveryPath, ParseError> {
    let mut segments = raw_path.trim_start_matches('/').split('/');
    let cloud = segments.next().unwrap_or_default().to_string();
    let rt_text = segments.next().unwrap_or_default();
    let resource_type =
        ResourceType::parse(rt_text).ok_or_else(|| ParseError::ResourceType(rt_text.into()))?;
    let type_text = segments.next().unwrap_or_default();
    let delivery_type =
        DeliveryType::parse(type_text).ok_or_else(|| ParseError::DeliveryType(type_text.into()))?;
    let mut rest: Vec<&str> = segments.collect();

    let signature = match rest.first().and_then(|s| signature_of(s)) {
        Some(sig) => {
            let sig = sig.to_string();
            rest.remove(0);
            Some(sig)
        }
        None => None,
    };

    // Transformations come first; the last segment is always (part of) the public id.
    let mut transformations: Vec<String> = Vec::new();
    while rest.len() > 1 && version_of(rest[0]).is_none() && looks_like_component(rest[0]) {
        transformations.push(rest.remove(0).to_string());
    }
    let mut signed: Vec<&str> = transformations.iter().map(String::as_str).collect();
    let version = match rest.first().and_then(|s| version_of(s)) {
        Some(v) if rest.len() > 1 => {
            rest.remove(0);
            Some(v)
        }
        _ => None,
    };
    if rest.is_empty() || rest.iter().all(|s| s.is_empty()) {
        return Err(ParseError::MissingPublicId);
    }
    signed.extend(rest.iter().copied());
    let signed_text = signed.join("/");

    let raw_id = rest.join("/");
    let decoded = percent_decode_str(&raw_id).decode_utf8_lossy().into_owned();
    if delivery_type == DeliveryType::Fetch {
        return Ok(DeliveryPath {
            cloud,
            resource_type,
            delivery_type,
            signature,
            transformation: Transformation::parse(&transformations)?,
            version,
            public_id: remote_url(&decoded)?,
            extension: None,
            signed_text,
        });
    }
    let (public_id, extension) = match resource_type {
        ResourceType::Raw => (decoded, None),
        ResourceType::Image | ResourceType::Video => split_extension(&decoded),
    };
    validate_public_id(&public_id)?;
    let transformation = Transformation::parse(&transformations)?;
    Ok(DeliveryPath {
        cloud,
        resource_type,
        delivery_type,
        signature,
        transformation,
        version,
        public_id,
        extension,
        signed_text,
    })
}

/// The remote URL of a fetch delivery: http or https, with the `//` after the scheme restored
/// when a proxy collapsed it.
fn remote_url(text: &str) -> Result<String, ParseError> {
    for scheme in ["https:", "http:"] {
        if let Some(rest) = text.strip_prefix(scheme) {
            let rest = rest.trim_start_matches('/');
            if !rest.is_empty() {
                return Ok(format!("{scheme}//{rest}"));
            }
        }
    }
    Err(ParseError::FetchUrl(text.to_string()))
}

/// `folder/dog.mp4` → (`folder/dog`, `mp4`); a dot inside a folder name is not an extension.
fn split_extension(id: &str) -> (String, Option<String>) {
    let last = id.rsplit('/').next().unwrap_or(id);
    match last.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && !ext.is_empty()
                && ext.len() <= 5
                && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            let id = &id[..id.len() - ext.len() - 1];
            (id.to_string(), Some(ext.to_ascii_lowercase()))
        }
        _ => (id.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, expect: &str) {
        let got = match parse_delivery_path(path) {
            Ok(p) => format!(
                "{} {} {} sig={:?} tx={:?} v={:?} id={:?} ext={:?} signed={:?}",
                p.cloud,
                p.resource_type,
                p.delivery_type,
                p.signature,
                p.transformation.to_string(),
                p.version,
                p.public_id,
                p.extension,
                p.signed_text
            ),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expect, "{path}");
    }

    #[test]
    fn delivery_paths() {
        check(
            "/demo/video/upload/v1750439473/clips/intro.mp4",
            r#"demo video upload sig=None tx="" v=Some(1750439473) id="clips/intro" ext=Some("mp4") signed="clips/intro.mp4""#,
        );
        check(
            "/demo/image/upload/sample",
            r#"demo image upload sig=None tx="" v=None id="sample" ext=None signed="sample""#,
        );
        check(
            "/demo/video/upload/my%20file%281%29.mp4",
            r#"demo video upload sig=None tx="" v=None id="my file(1)" ext=Some("mp4") signed="my%20file%281%29.mp4""#,
        );
        check(
            "/demo/video/authenticated/s--oehn9quz--/c_scale,w_100/x.mp4",
            r#"demo video authenticated sig=Some("oehn9quz") tx="c_scale,w_100" v=None id="x" ext=Some("mp4") signed="c_scale,w_100/x.mp4""#,
        );
        check(
            "/demo/image/upload/s----SjmNDA--/v3/image.jpg",
            r#"demo image upload sig=Some("--SjmNDA") tx="" v=Some(3) id="image" ext=Some("jpg") signed="image.jpg""#,
        );
        check(
            "/demo/raw/upload/v2/docs/readme.tar.gz",
            r#"demo raw upload sig=None tx="" v=Some(2) id="docs/readme.tar.gz" ext=None signed="docs/readme.tar.gz""#,
        );
        // A public id that itself looks like a version is kept when nothing follows it.
        check(
            "/demo/image/upload/v12",
            r#"demo image upload sig=None tx="" v=None id="v12" ext=None signed="v12""#,
        );
        check(
            "/demo/image/upload/folder.v2/x",
            r#"demo image upload sig=None tx="" v=None id="folder.v2/x" ext=None signed="folder.v2/x""#,
        );
    }

    #[test]
    fn fetch_paths_carry_the_remote_url() {
        // As the SDKs escape it (`?` and `=` percent-encoded), and with `//` collapsed by a proxy.
        check(
            "/demo/image/fetch/c_scale,w_100/https://example.com/a/b.jpg%3Fv%3D2",
            r#"demo image fetch sig=None tx="c_scale,w_100" v=None id="https://example.com/a/b.jpg?v=2" ext=None signed="c_scale,w_100/https://example.com/a/b.jpg%3Fv%3D2""#,
        );
        check(
            "/demo/video/fetch/http:/example.com/v.mp4",
            r#"demo video fetch sig=None tx="" v=None id="http://example.com/v.mp4" ext=None signed="http:/example.com/v.mp4""#,
        );
        check(
            "/demo/image/fetch/ftp://example.com/a.jpg",
            "error: Invalid fetch URL \"ftp://example.com/a.jpg\": expected an http or https URL",
        );
    }

    /// Every URL the Python SDK built (tests/data/sdk_video_urls.tsv) parses, and its
    /// transformation is already canonical.
    #[test]
    fn sdk_built_urls_are_canonical() {
        let vectors = include_str!("../../tests/data/sdk_video_urls.tsv");
        let mut checked = 0;
        for line in vectors
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (what, path) = line.split_once('\t').expect("tab-separated");
            let parsed = parse_delivery_path(path).unwrap_or_else(|e| panic!("{what}: {e}"));
            let sent = path.split('/').skip(4).collect::<Vec<_>>().join("/");
            let canonical = parsed.transformation.to_string();
            // raw_transformation appends unsorted items; everything else arrives canonical:
            // the URL is exactly the canonical string, the version and the public id.
            if !what.starts_with("raw_transformation") {
                let mut rebuilt = canonical.clone();
                if let Some(v) = parsed.version {
                    rebuilt.push_str(&format!("/v{v}"));
                }
                rebuilt.push('/');
                rebuilt.push_str(&parsed.public_id);
                if let Some(ext) = &parsed.extension {
                    rebuilt.push_str(&format!(".{ext}"));
                }
                let rebuilt = rebuilt.trim_start_matches('/');
                assert_eq!(rebuilt, sent, "{what}");
            }
            checked += 1;
        }
        assert!(checked > 90, "only {checked} vectors");
    }

    #[test]
    fn malformed_paths_name_the_problem() {
        check(
            "/demo/sound/upload/x",
            r#"error: Invalid resource type "sound": expected image, video or raw"#,
        );
        check(
            "/demo/image/public/x",
            r#"error: Invalid delivery type "public": expected upload, private, authenticated or fetch"#,
        );
        check("/demo/image/upload/", "error: Missing public id in the URL");
        check(
            "/demo/image/upload/v1/",
            "error: Missing public id in the URL",
        );
        check(
            "/demo/video/upload/w_100,zz_1/dog.mp4",
            r#"error: Unknown transformation parameter "zz_1""#,
        );
        check(
            "/demo/raw/upload/a/%2E%2E/b",
            r#"error: Invalid public id: public id "a/../b" must not contain empty, '.' or '..' path segments"#,
        );
    }
}
