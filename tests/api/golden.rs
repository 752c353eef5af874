//! Golden pictures: each case's output is compared with a small reviewed copy in
//! `tests/data/golden/` by a perceptual hash (a 64-bit difference hash of a 9×8 grey
//! thumbnail), so encoder noise passes and a wrong crop, turn, colour or layer fails.
//!
//! A missing golden fails the test. `KINO_BLESS=1 cargo test --test api golden` writes (or
//! rewrites) the goldens from the current outputs; look at them before committing.

use std::path::{Path, PathBuf};

use crate::helpers::{CLOUD, media, spawn_app};

/// (golden name, source file, public id, transformation, extension)
const CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "fill-auto",
        "photo-denali.webp",
        "denali",
        "c_fill,g_auto,h_200,w_300",
        "jpg",
    ),
    (
        "sepia",
        "photo-denali.webp",
        "denali",
        "w_300/e_sepia",
        "jpg",
    ),
    (
        "negate-turned",
        "photo-denali.webp",
        "denali",
        "w_300/e_negate/a_90",
        "jpg",
    ),
    (
        "pad-red",
        "photo-denali.webp",
        "denali",
        "b_rgb:ff0000,c_pad,h_300,w_300",
        "png",
    ),
    (
        "layer-corner",
        "photo-denali.webp",
        "denali",
        "w_300/l_icon,w_0.3,fl_relative,g_south_west,x_5,y_5",
        "jpg",
    ),
    (
        "circle-border",
        "alpha-balloon.png",
        "icon",
        "r_max/bo_4px_solid_blue",
        "png",
    ),
    ("exif-6", "exif-orient-6.jpg", "orient6", "w_200", "jpg"),
    (
        "tiff-exif-6",
        "tiff-palette-orientation-6-poppies.tif",
        "poppies",
        "w_200",
        "jpg",
    ),
    (
        "thumb-face",
        "photo-6000x4000-face.jpg",
        "barmaid",
        "c_thumb,g_face,h_200,w_200",
        "jpg",
    ),
    (
        "pixelate-faces",
        "face-astronaut.png",
        "astronaut",
        "w_300/e_pixelate_faces:10",
        "png",
    ),
    (
        "gif-page",
        "anim-rotating-earth.gif",
        "earth",
        "w_200/pg_10",
        "png",
    ),
];

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

/// The difference hash of a picture: 9×8 grey, one bit per left/right comparison.
fn dhash(path: &Path) -> u64 {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-vf", "scale=9:8:flags=area,format=gray"])
        .args(["-f", "rawvideo", "-"])
        .output()
        .expect("ffmpeg");
    assert_eq!(out.stdout.len(), 72, "{}", path.display());
    let px = out.stdout;
    (0..8)
        .flat_map(|y| (0..8).map(move |x| (x, y)))
        .fold(0u64, |h, (x, y)| {
            (h << 1) | u64::from(px[y * 9 + x] > px[y * 9 + x + 1])
        })
}

/// Writes a 160-pixel-wide PNG copy of `from` to `to` (what a golden holds).
fn shrink_to_golden(from: &Path, to: &Path) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(from)
        .args(["-frames:v", "1", "-vf", "scale=160:-2:flags=area"])
        .arg(to)
        .status()
        .expect("ffmpeg");
    assert!(status.success());
}

#[tokio::test]
async fn outputs_match_their_goldens() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let bless = std::env::var("KINO_BLESS").is_ok_and(|v| v == "1");
    let mut uploaded = std::collections::HashSet::new();
    app.upload_file(
        "image",
        &media("alpha-balloon.png"),
        &[("public_id", "icon")],
    )
    .await;
    uploaded.insert("icon");
    let mut failures = Vec::new();
    for (name, file, id, t, ext) in CASES {
        if uploaded.insert(id) {
            let (status, body) = app
                .upload_file("image", &media(file), &[("public_id", id)])
                .await;
            assert_eq!(status, 200, "{body}");
        }
        let r = app
            .get(&format!("/{CLOUD}/image/upload/{t}/{id}.{ext}"))
            .await;
        assert_eq!(r.status(), 200, "{name}");
        let out = dir.path().join(format!("{name}.{ext}"));
        std::fs::write(&out, r.bytes().await.unwrap()).unwrap();
        let golden = golden_dir().join(format!("{name}.png"));
        if bless {
            shrink_to_golden(&out, &golden);
            continue;
        }
        if !golden.exists() {
            failures.push(format!(
                "{name}: no golden at {} (bless with KINO_BLESS=1)",
                golden.display()
            ));
            continue;
        }
        let distance = (dhash(&out) ^ dhash(&golden)).count_ones();
        if distance > 6 {
            failures.push(format!(
                "{name}: {distance} of 64 hash bits differ ({t}.{ext})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_hash_tells_pictures_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
    shrink_to_golden(&media("photo-denali.webp"), &a);
    shrink_to_golden(&media("exif-orient-1.jpg"), &b);
    assert_eq!((dhash(&a) ^ dhash(&a)).count_ones(), 0);
    assert!((dhash(&a) ^ dhash(&b)).count_ones() > 12);
}
