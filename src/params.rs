//! Request parameters as the SDKs send them, normalised into one multimap.
//!
//! The same call arrives as multipart (Python, Node uploads), urlencoded (Node Admin), JSON
//! (Python Admin, browser code) or a query string, with arrays spelled `k`, `k[]`, `k[0]` or as
//! JSON arrays, and booleans as `1/0/true/false`. Everything is folded into [`Params`] here, so
//! handlers and the signature check see one shape. Pure: no I/O.

use std::collections::BTreeMap;

/// A parameter that is present but cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid value {value:?} for parameter {name}: {expected}")]
pub struct ParamError {
    pub name: String,
    pub value: String,
    pub expected: &'static str,
}

/// Parameters keyed by their bare name (`public_ids[]` and `public_ids[3]` become `public_ids`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    entries: BTreeMap<String, Vec<String>>,
}

/// Strips array suffixes: `k[]` and `k[12]` → `k`. Nested keys (`a[b]`) are kept whole.
pub fn bare_key(raw: &str) -> &str {
    // `]` is one byte, so cutting it off (only when it is there) stays on a char boundary.
    if let Some(head) = raw.strip_suffix(']')
        && let Some(open) = head.rfind('[')
        && head[open + 1..].chars().all(|c| c.is_ascii_digit())
    {
        return &raw[..open];
    }
    raw
}

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Adds one value under the bare form of `raw_key`.
    pub fn push(&mut self, raw_key: &str, value: impl Into<String>) {
        self.entries
            .entry(bare_key(raw_key).to_string())
            .or_default()
            .push(value.into());
    }

    /// Replaces every value of `key`.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.entries.insert(key.to_string(), vec![value.into()]);
    }

    pub fn remove(&mut self, key: &str) -> Option<Vec<String>> {
        self.entries.remove(key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The first non-empty value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .get(key)?
            .iter()
            .map(String::as_str)
            .find(|v| !v.is_empty())
    }

    /// All values of `key`, each also split on commas (`tags=a,b` and `tags[]=a&tags[]=b` agree).
    pub fn list(&self, key: &str) -> Vec<String> {
        self.entries
            .get(key)
            .into_iter()
            .flatten()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// All values of `key` as sent, not split on commas (public ids may contain commas).
    pub fn values(&self, key: &str) -> Vec<String> {
        self.entries
            .get(key)
            .into_iter()
            .flatten()
            .filter(|v| !v.is_empty())
            .cloned()
            .collect()
    }

    /// A boolean spelled `1/0/true/false` (any case); absent or empty is `None`.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ParamError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        match v.to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(Some(true)),
            "0" | "false" => Ok(Some(false)),
            _ => Err(ParamError {
                name: key.into(),
                value: v.into(),
                expected: "expected true, false, 1 or 0",
            }),
        }
    }

    /// A non-negative integer.
    pub fn u64(&self, key: &str) -> Result<Option<u64>, ParamError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.parse().map(Some).map_err(|_| ParamError {
            name: key.into(),
            value: v.into(),
            expected: "expected a whole number",
        })
    }

    /// Every key with its values, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Adds the fields of a JSON object: arrays become repeated values, `null` is dropped,
    /// nested objects are kept as JSON text (context objects, preset settings).
    pub fn extend_json(&mut self, object: &serde_json::Map<String, serde_json::Value>) {
        for (key, value) in object {
            match value {
                serde_json::Value::Array(items) => {
                    for item in items {
                        if let Some(text) = json_scalar(item) {
                            self.push(key, text);
                        }
                    }
                }
                other => {
                    if let Some(text) = json_scalar(other) {
                        self.push(key, text);
                    }
                }
            }
        }
    }

    /// Adds `application/x-www-form-urlencoded` pairs (a query string or a form body).
    pub fn extend_urlencoded(&mut self, bytes: &[u8]) {
        for (k, v) in ::url::form_urlencoded::parse(bytes) {
            self.push(&k, v.into_owned());
        }
    }

    /// Fills keys absent here from `defaults` (an upload preset's settings).
    pub fn merge_defaults(&mut self, defaults: &Params) {
        for (key, values) in &defaults.entries {
            if !self.contains(key) {
                self.entries.insert(key.clone(), values.clone());
            }
        }
    }
}

fn json_scalar(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Parses Cloudinary's context format `k=v|k2=v2` (`\=` and `\|` escape literals), or a JSON
/// object as browser code sends it.
pub fn parse_context(raw: &str) -> Result<BTreeMap<String, String>, ParamError> {
    let trimmed = raw.trim();
    // A JSON object when it is one; otherwise pipes, whatever it starts with (`{a}=b` is a key
    // with braces, as the SDKs send it).
    if let Some(object) = trimmed
        .starts_with('{')
        .then(|| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(trimmed).ok())
        .flatten()
    {
        if object.keys().any(String::is_empty) {
            return Err(ParamError {
                name: "context".into(),
                value: raw.into(),
                expected: "every entry needs a key",
            });
        }
        return Ok(object
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect());
    }
    let mut out = BTreeMap::new();
    for pair in split_unescaped(raw, '|') {
        if pair.is_empty() {
            continue;
        }
        let mut parts = split_unescaped(&pair, '=').into_iter();
        let key = unescape(&parts.next().unwrap_or_default());
        let rest: Vec<String> = parts.collect();
        let value = unescape(&rest.join("="));
        if key.is_empty() {
            return Err(ParamError {
                name: "context".into(),
                value: raw.into(),
                expected: "every entry needs a key before '='",
            });
        }
        out.insert(key, value);
    }
    Ok(out)
}

/// Renders context back to the wire format, escaping `\`, `=` and `|` (so that
/// [`parse_context`] gives back exactly what was encoded).
pub fn encode_context(context: &BTreeMap<String, String>) -> String {
    // `{` too, so that the text never reads as a JSON object.
    let esc = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('=', "\\=")
            .replace('|', "\\|")
            .replace('{', "\\{")
    };
    context
        .iter()
        .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
        .collect::<Vec<_>>()
        .join("|")
}

/// Splits on `sep` where it is not preceded by a backslash; escapes stay in the pieces.
fn split_unescaped(raw: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in raw.chars() {
        if escaped {
            current.push('\\');
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    if escaped {
        current.push('\\');
    }
    parts.push(current);
    parts
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_spellings_fold_into_one_key() {
        let mut p = Params::new();
        p.extend_urlencoded(b"public_ids%5B%5D=a&public_ids%5B%5D=b%2Fc&tags[0]=x&k=v");
        assert_eq!(p.values("public_ids"), vec!["a", "b/c"]);
        assert_eq!(p.list("tags"), vec!["x"]);
        assert_eq!(p.get("k"), Some("v"));
        assert_eq!(bare_key("a[b]"), "a[b]");
    }

    #[test]
    fn json_bodies_keep_types_as_text_and_drop_nulls() {
        let mut p = Params::new();
        let body = serde_json::json!({"public_ids": ["a", "b/c"], "transformations": null,
            "overwrite": true, "max_results": 5, "context": {"alt": "x"}});
        p.extend_json(body.as_object().unwrap());
        assert_eq!(p.values("public_ids"), vec!["a", "b/c"]);
        assert!(!p.contains("transformations"));
        assert_eq!(p.bool("overwrite"), Ok(Some(true)));
        assert_eq!(p.u64("max_results"), Ok(Some(5)));
        assert_eq!(p.get("context"), Some(r#"{"alt":"x"}"#));
    }

    #[test]
    fn context_keys_with_braces_are_pipes_not_json() {
        let parsed = parse_context("{weird}=v|\n{x=y").unwrap_or_default();
        assert_eq!(parsed.get("{weird}").map(String::as_str), Some("v"));
        assert_eq!(parse_context(&encode_context(&parsed)).ok(), Some(parsed));
        let json = parse_context(r#"{"alt":"x"}"#).unwrap_or_default();
        assert_eq!(json.get("alt").map(String::as_str), Some("x"));
        // Found by the upload_params fuzz target: a key that starts with `{`.
        let odd: BTreeMap<String, String> = [("\n{\"x=y\":1}".to_string(), String::new())].into();
        assert_eq!(parse_context(&encode_context(&odd)).ok(), Some(odd));
    }

    #[test]
    fn context_with_backslashes_survives_a_round_trip() {
        // Found by the upload_params fuzz target: a backslash was lost on the way back.
        let parsed = parse_context(r"a\\b=x\\|y\=z|c=d\").unwrap_or_default();
        assert_eq!(parse_context(&encode_context(&parsed)).ok(), Some(parsed));
    }

    #[test]
    fn bare_keys_never_cut_inside_a_character() {
        // Found by the upload_params fuzz target: a key ending in a multi-byte character
        // after `[` made the old code slice inside it.
        assert_eq!(bare_key("tags[\u{FFFD}"), "tags[\u{FFFD}");
        assert_eq!(bare_key("tags[é]"), "tags[é]");
        assert_eq!(bare_key("tags[12]"), "tags");
        assert_eq!(bare_key("tags[]"), "tags");
        assert_eq!(bare_key("a[b]"), "a[b]");
        assert_eq!(bare_key("]"), "]");
    }

    #[test]
    fn booleans_accept_every_sdk_spelling_and_name_bad_ones() {
        let mut p = Params::new();
        for (k, v) in [
            ("a", "1"),
            ("b", "0"),
            ("c", "TRUE"),
            ("d", "false"),
            ("e", "yes"),
        ] {
            p.push(k, v);
        }
        assert_eq!(p.bool("a"), Ok(Some(true)));
        assert_eq!(p.bool("b"), Ok(Some(false)));
        assert_eq!(p.bool("c"), Ok(Some(true)));
        assert_eq!(p.bool("d"), Ok(Some(false)));
        assert_eq!(p.bool("missing"), Ok(None));
        let err = p.bool("e").unwrap_err();
        assert!(err.to_string().contains("parameter e"), "{err}");
    }

    #[test]
    fn context_round_trips_with_escapes() {
        let parsed = parse_context(r"alt=x\|y|caption=a\=b|empty=").unwrap();
        assert_eq!(parsed["alt"], "x|y");
        assert_eq!(parsed["caption"], "a=b");
        assert_eq!(parsed["empty"], "");
        assert_eq!(parse_context(&encode_context(&parsed)).unwrap(), parsed);
        assert_eq!(parse_context(r#"{"k":"v"}"#).unwrap()["k"], "v");
        assert!(parse_context("=v").is_err());
    }
}
