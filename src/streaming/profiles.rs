//! Streaming profiles: a name and a ladder of representations, each a transformation.
//!
//! Built-ins come from `profiles/*.json`, compiled in. Custom profiles arrive from the Admin
//! API in the SDKs' shapes — `representations` as a JSON string or array, each transformation
//! as URL text (`c_limit,w_1280,br_3m`) or as objects with the SDK's long names
//! (`{"crop":"limit","width":1280,"bit_rate":"3m"}`) — and are read back as those objects.
//! Pure: JSON in, checked transformations out.

use serde_json::{Map, Value, json};

use crate::url::Transformation;

/// A streaming profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub display_name: Option<String>,
    pub predefined: bool,
    pub representations: Vec<Transformation>,
}

impl Profile {
    /// The Admin API's object (`representations` with long-name transformation objects).
    pub fn to_json(&self, with_representations: bool) -> Value {
        let mut v = json!({
            "name": self.name,
            "display_name": self.display_name,
            "predefined": self.predefined,
        });
        if with_representations {
            v["representations"] = self
                .representations
                .iter()
                .map(|t| json!({ "transformation": long_form(t) }))
                .collect();
        }
        v
    }

    /// The representations as stored: one URL-syntax transformation each.
    pub fn representation_texts(&self) -> Vec<String> {
        self.representations
            .iter()
            .map(ToString::to_string)
            .collect()
    }
}

const BUILT_IN: &[&str] = &[
    include_str!("../../profiles/4k.json"),
    include_str!("../../profiles/full_hd.json"),
    include_str!("../../profiles/hd.json"),
    include_str!("../../profiles/sd.json"),
    include_str!("../../profiles/full_hd_wifi.json"),
    include_str!("../../profiles/full_hd_lean.json"),
    include_str!("../../profiles/hd_lean.json"),
];

/// The predefined profiles, in Cloudinary's order.
pub fn built_in() -> Vec<Profile> {
    BUILT_IN
        .iter()
        .filter_map(|text| {
            let v: Value = serde_json::from_str(text).ok()?;
            Some(Profile {
                name: v["name"].as_str()?.to_string(),
                display_name: v["display_name"].as_str().map(str::to_string),
                predefined: true,
                representations: parse_representations(&v["representations"]).ok()?,
            })
        })
        .collect()
}

/// The predefined profile called `name`.
pub fn find_built_in(name: &str) -> Option<Profile> {
    built_in().into_iter().find(|p| p.name == name)
}

/// Reads `representations` in any of the SDKs' shapes (see the module docs).
pub fn parse_representations(value: &Value) -> Result<Vec<Transformation>, String> {
    let list = match value {
        Value::String(text) => serde_json::from_str::<Value>(text)
            .map_err(|_| "representations must be a JSON array".to_string())?,
        other => other.clone(),
    };
    let Value::Array(items) = list else {
        return Err("representations must be a JSON array".into());
    };
    if items.is_empty() {
        return Err("representations must not be empty".into());
    }
    items
        .iter()
        .map(|item| {
            let t = match item {
                Value::Object(o) => o.get("transformation").unwrap_or(item),
                other => other,
            };
            let text = url_form(t)?;
            Transformation::parse_str(&text).map_err(|e| e.to_string())
        })
        .collect()
}

/// SDK long names of transformation keys, both ways.
const LONG_NAMES: &[(&str, &str)] = &[
    ("w", "width"),
    ("h", "height"),
    ("c", "crop"),
    ("g", "gravity"),
    ("ar", "aspect_ratio"),
    ("x", "x"),
    ("y", "y"),
    ("z", "zoom"),
    ("b", "background"),
    ("co", "color"),
    ("e", "effect"),
    ("fl", "flags"),
    ("so", "start_offset"),
    ("eo", "end_offset"),
    ("du", "duration"),
    ("vc", "video_codec"),
    ("ac", "audio_codec"),
    ("af", "audio_frequency"),
    ("br", "bit_rate"),
    ("fps", "fps"),
    ("q", "quality"),
    ("ki", "keyframe_interval"),
    ("f", "fetch_format"),
    ("o", "opacity"),
    ("r", "radius"),
    ("a", "angle"),
    ("dpr", "dpr"),
    ("sp", "streaming_profile"),
    ("t", "transformation"),
];

/// A transformation given as URL text, one object of long names, or a list of them.
fn url_form(t: &Value) -> Result<String, String> {
    match t {
        Value::String(s) => Ok(s.clone()),
        Value::Object(o) => component(o),
        Value::Array(parts) => parts
            .iter()
            .map(|p| match p {
                Value::Object(o) => component(o),
                Value::String(s) => Ok(s.clone()),
                _ => Err("a transformation part must be an object or a string".into()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|parts| parts.join("/")),
        _ => Err("a transformation must be a string, an object or a list".into()),
    }
}

fn component(o: &Map<String, Value>) -> Result<String, String> {
    o.iter()
        .map(|(key, value)| {
            let short = LONG_NAMES
                .iter()
                .find(|(_, long)| long == key)
                .map(|(short, _)| *short)
                .ok_or_else(|| format!("unknown transformation key {key:?}"))?;
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(format!("{key} must be a string or a number")),
            };
            Ok(format!("{short}_{text}"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|items| items.join(","))
}

/// Each component as an object of long names; whole numbers as numbers, the rest as text.
fn long_form(t: &Transformation) -> Value {
    t.components
        .iter()
        .map(|c| {
            let mut o = Map::new();
            for p in &c.params {
                let Some((key, value)) = p.text.split_once('_') else {
                    continue;
                };
                let long = LONG_NAMES
                    .iter()
                    .find(|(short, _)| *short == key)
                    .map_or(key, |(_, long)| *long);
                let v = value
                    .parse::<i64>()
                    .map_or_else(|_| Value::String(value.to_string()), Value::from);
                o.insert(long.to_string(), v);
            }
            Value::Object(o)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_loads() {
        let names: Vec<String> = built_in().into_iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "4k",
                "full_hd",
                "hd",
                "sd",
                "full_hd_wifi",
                "full_hd_lean",
                "hd_lean"
            ]
        );
        for p in built_in() {
            assert!(p.representations.len() >= 3, "{}", p.name);
        }
    }

    #[test]
    fn representations_in_every_sdk_shape() {
        let text = r#"[{"transformation":"br_3m,c_limit,h_720,w_1280"}]"#;
        let from_string = parse_representations(&Value::String(text.into())).unwrap();
        let from_objects = parse_representations(&json!([
            {"transformation": [{"bit_rate": "3m", "crop": "limit", "height": 720, "width": 1280}]}
        ]))
        .unwrap();
        assert_eq!(from_string[0].to_string(), "br_3m,c_limit,h_720,w_1280");
        assert_eq!(from_objects[0].to_string(), from_string[0].to_string());
        let back = long_form(&from_string[0]);
        assert_eq!(
            back,
            json!([{"bit_rate": "3m", "crop": "limit", "height": 720, "width": 1280}])
        );
        assert!(parse_representations(&json!([])).is_err());
        assert!(parse_representations(&json!([{"transformation": "w_abc"}])).is_err());
        assert!(parse_representations(&json!([{"transformation": {"bogus": 1}}])).is_err());
    }
}
