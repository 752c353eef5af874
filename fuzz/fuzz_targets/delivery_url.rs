//! Any path is parsed without a panic; a parsed transformation prints a canonical form that
//! parses back to itself, its conditions and variables resolve (or fail) for an asset, and its
//! layer steps can be taken apart.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = String::from_utf8_lossy(data);
    if let Ok(parsed) = kino::url::parse_delivery_path(&path) {
        let canonical = parsed.transformation.to_string();
        let again = kino::url::Transformation::parse_str(&canonical)
            .expect("a canonical transformation parses");
        assert_eq!(again.to_string(), canonical, "the canonical form is stable");
        let _ = kino::url::steps(&parsed.transformation);
        let facts = kino::url::Facts {
            width: 640.0,
            height: 360.0,
            duration: 10.0,
            pages: 1.0,
            tags: vec!["a".into()],
        };
        if let Ok(plain) = parsed.transformation.resolve(&facts) {
            assert!(!plain.is_deferred(), "a resolved transformation is plain");
            let _ = kino::url::steps(&plain);
        }
    }
    let _ = kino::url::Transformation::parse_str(&path);
    let _ = kino::url::parse_eager(&path);
});
