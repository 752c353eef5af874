//! Architecture invariants (ARCHITECTURE.md), checked by reading the source.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Lines of code, without comments.
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// `unsafe` as a whole word: the keyword, not a name that contains it (Cloudinary's
/// `unsafe_update` parameter, the `unsafe_code` lint).
fn has_unsafe_keyword(line: &str) -> bool {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    line.match_indices("unsafe").any(|(i, word)| {
        !ident(line[..i].chars().next_back()) && !ident(line[i + word.len()..].chars().next())
    })
}

#[test]
fn the_unsafe_check_matches_the_keyword_only() {
    for line in [
        "unsafe { f() }",
        "pub unsafe fn f()",
        "x = unsafe{y};",
        "unsafe",
    ] {
        assert!(has_unsafe_keyword(line), "{line}");
    }
    for line in [
        r#"params.get("unsafe_update")"#,
        "#![deny(unsafe_code)]",
        "not_unsafe",
    ] {
        assert!(!has_unsafe_keyword(line), "{line}");
    }
}

#[test]
fn the_pure_core_does_no_io() {
    let forbidden = [
        "axum",
        "ffmpeg",
        "sqlx",
        "tokio",
        "reqwest",
        "gstreamer",
        "std::fs",
        "std::net",
        "crate::engine",
        "crate::catalog",
        "crate::service",
    ];
    let mut files = rust_files(&src().join("url"));
    files.extend(rust_files(&src().join("plan")));
    files.extend(rust_files(&src().join("focus")));
    files.extend(rust_files(&src().join("header")));
    files.extend(rust_files(&src().join("streaming")));
    files.push(src().join("live").join("packager.rs"));
    files.push(src().join("params.rs"));
    files.push(src().join("signing.rs"));
    for file in files {
        for (n, line) in code_lines(&file) {
            for word in forbidden {
                assert!(
                    !line.contains(&format!("{word}::")) && !line.contains(&format!("use {word}")),
                    "{}:{n} uses {word}, but the pure core does no I/O: {line}",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn only_the_live_pipeline_speaks_gstreamer() {
    for file in rust_files(&src()) {
        if file == src().join("live").join("pipeline.rs") {
            continue;
        }
        for (n, line) in code_lines(&file) {
            assert!(
                !line.contains("gstreamer") && !line.contains("gst::"),
                "{}:{n} uses GStreamer outside live::pipeline: {line}",
                file.display()
            );
        }
    }
}

#[test]
fn only_the_engine_contains_unsafe() {
    for file in rust_files(&src()) {
        if file.starts_with(src().join("engine")) || file == src().join("lib.rs") {
            continue;
        }
        for (n, line) in code_lines(&file) {
            assert!(
                !has_unsafe_keyword(&line),
                "{}:{n} has unsafe outside engine: {line}",
                file.display()
            );
        }
    }
}

#[test]
fn every_unsafe_block_in_the_engine_says_why_it_is_safe() {
    for file in rust_files(&src().join("engine")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.contains("unsafe {") || line.contains("unsafe{") {
                let window = &lines[i.saturating_sub(4)..i];
                assert!(
                    window.iter().any(|l| l.contains("SAFETY:")),
                    "{}:{} unsafe without a // SAFETY: comment",
                    file.display(),
                    i + 1
                );
            }
        }
    }
}

#[test]
fn only_the_api_knows_http_status_codes() {
    for file in rust_files(&src()) {
        if file.starts_with(src().join("api")) {
            continue;
        }
        for (n, line) in code_lines(&file) {
            assert!(
                !line.contains("StatusCode"),
                "{}:{n} names HTTP statuses outside api: {line}",
                file.display()
            );
        }
    }
}

#[test]
fn every_module_says_what_it_owns() {
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} has no //! module header",
            file.display()
        );
    }
}
