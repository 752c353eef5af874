//! The face detector on real photos from the shared corpus, with the cascade Debian's
//! `opencv-data` installs (as the server uses it).

use std::path::PathBuf;

use kino::focus::Cascade;

fn media(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/media")
        .join(name)
}

fn faces_in(name: &str, side: u32) -> Vec<kino::focus::Face> {
    kino::engine::init().unwrap();
    let xml = std::fs::read_to_string(kino::service::analysis::FACE_CASCADE).unwrap();
    let cascade = Cascade::parse(&xml).unwrap();
    let second = Cascade::parse(
        &std::fs::read_to_string(kino::service::analysis::FACE_CONFIRM_CASCADE).unwrap(),
    )
    .unwrap();
    let path = media(name);
    let frames = kino::engine::sample_gray(path.to_str().unwrap(), &[0.0], 0, side).unwrap();
    let start = std::time::Instant::now();
    let found = cascade.detect(&frames[0].0, 24);
    let found = second.confirm(&frames[0].0, &found);
    eprintln!(
        "{name}: {} faces in {:?}: {found:?}",
        found.len(),
        start.elapsed()
    );
    found
}

#[test]
fn one_face_in_the_portrait_photos() {
    let found = faces_in("face-astronaut.png", 512);
    assert_eq!(found.len(), 1, "{found:?}");
    let found = faces_in("photo-6000x4000-face.jpg", 768);
    assert_eq!(found.len(), 1, "{found:?}");
    // The barmaid's face, in the upper middle of the photo.
    let f = found[0];
    assert!(
        (340.0..360.0).contains(&f.x) && (110.0..130.0).contains(&f.y),
        "{f:?}"
    );
}

#[test]
fn most_faces_in_the_group_photo() {
    let found = faces_in("faces-group-solvay-1927.jpg", 1024);
    assert!(found.len() >= 20, "{} of 29 faces", found.len());
}

#[test]
fn no_face_in_a_landscape() {
    let found = faces_in("photo-denali.webp", 600);
    assert!(found.is_empty(), "{found:?}");
}
