//! Upload parameters in any shape (urlencoded or JSON) are read without a panic: lists,
//! booleans, numbers, context, eager, and the string the signature is checked against.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut params = kino::params::Params::new();
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(serde_json::Value::Object(object)) => params.extend_json(&object),
        _ => params.extend_urlencoded(data),
    }
    for key in ["tags", "eager", "context", "overwrite", "timestamp", "public_id"] {
        let _ = params.list(key);
        let _ = params.bool(key);
        let _ = params.u64(key);
    }
    if let Some(context) = params.get("context") {
        if let Ok(parsed) = kino::params::parse_context(context) {
            let encoded = kino::params::encode_context(&parsed);
            assert_eq!(
                kino::params::parse_context(&encoded).ok(),
                Some(parsed),
                "context survives a round trip"
            );
        }
    }
    if let Some(eager) = params.get("eager") {
        let _ = kino::url::parse_eager(eager);
    }
    let _ = kino::signing::string_to_sign(&params, kino::signing::Version::V2);
});
