//! Stills through the same engine: orientation, transparency, corners and borders, every
//! output format, animations, pages, effects, `f_auto`/`dpr_auto`, layers and bad input.
//! Results are decoded to RGBA with the ffmpeg CLI and checked pixel by pixel.

use std::path::Path;

use reqwest::header::HeaderMap;

use crate::helpers::{CLOUD, TestApp, error_message, ffprobe, media, spawn_app};

/// A decoded picture: width, height and RGBA bytes.
struct Rgba {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Rgba {
    fn at(&self, x: usize, y: usize) -> [u8; 4] {
        let i = (y * self.w + x) * 4;
        [self.px[i], self.px[i + 1], self.px[i + 2], self.px[i + 3]]
    }

    /// Mean absolute difference of the colour channels against another picture of its size.
    fn distance(&self, other: &Rgba) -> f64 {
        assert_eq!((self.w, self.h), (other.w, other.h));
        let sum: u64 = self
            .px
            .chunks(4)
            .zip(other.px.chunks(4))
            .map(|(a, b)| (0..3).map(|i| u64::from(a[i].abs_diff(b[i]))).sum::<u64>())
            .sum();
        sum as f64 / (self.w * self.h * 3) as f64
    }

    /// Mean difference between horizontal neighbours (green): how much detail there is.
    fn detail(&self) -> f64 {
        let mut sum = 0u64;
        for y in 0..self.h {
            for x in 1..self.w {
                sum += u64::from(self.at(x, y)[1].abs_diff(self.at(x - 1, y)[1]));
            }
        }
        sum as f64 / (self.h * (self.w - 1)) as f64
    }

    /// Standard deviation of the green channel: the contrast.
    fn spread(&self) -> f64 {
        let m = self.mean(1);
        let var: f64 = self
            .px
            .chunks(4)
            .map(|p| (f64::from(p[1]) - m).powi(2))
            .sum::<f64>()
            / (self.w * self.h) as f64;
        var.sqrt()
    }

    /// Mean distance between a pixel's channels: how colourful the picture is.
    fn colourfulness(&self) -> f64 {
        let sum: u64 = self
            .px
            .chunks(4)
            .map(|p| u64::from(p[0].abs_diff(p[1])) + u64::from(p[1].abs_diff(p[2])))
            .sum();
        sum as f64 / (self.w * self.h) as f64
    }

    /// Mean brightness (green) of a `size`-pixel square at (`x`, `y`).
    fn patch(&self, x: usize, y: usize, size: usize) -> f64 {
        let mut sum = 0u64;
        for j in y..y + size {
            for i in x..x + size {
                sum += u64::from(self.at(i, j)[1]);
            }
        }
        sum as f64 / (size * size) as f64
    }

    fn mean(&self, channel: usize) -> f64 {
        let sum: u64 = self.px.chunks(4).map(|p| u64::from(p[channel])).sum();
        sum as f64 / (self.w * self.h) as f64
    }
}

/// Decodes the first frame of `bytes` to RGBA.
fn decode(bytes: &[u8], dir: &Path, name: &str) -> Rgba {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let v = &ffprobe(&path)["streams"][0];
    let (w, h) = (
        v["width"].as_u64().unwrap() as usize,
        v["height"].as_u64().unwrap() as usize,
    );
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .output()
        .unwrap();
    assert_eq!(
        out.stdout.len(),
        w * h * 4,
        "{name}: one {w}x{h} RGBA frame"
    );
    Rgba {
        w,
        h,
        px: out.stdout,
    }
}

async fn upload_image(app: &TestApp, file: &str, public_id: &str) -> serde_json::Value {
    let (status, body) = app
        .upload_file("image", &media(file), &[("public_id", public_id)])
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// GET with extra headers: status, headers, body.
async fn get_with(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, Vec<u8>) {
    let mut req = app.client.get(format!("{}{path}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let h = r.headers().clone();
    (status, h, r.bytes().await.unwrap().to_vec())
}

async fn get_ok(app: &TestApp, path: &str) -> Vec<u8> {
    let (status, _, body) = get_with(app, path, &[]).await;
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    body
}

#[tokio::test]
async fn exif_orientations_are_applied() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut upright = Vec::new();
    for n in 1..=8 {
        let body = upload_image(&app, &format!("exif-orient-{n}.jpg"), &format!("o{n}")).await;
        assert_eq!(
            (body["width"].as_u64(), body["height"].as_u64()),
            (Some(600), Some(450)),
            "{n}"
        );
        let png = get_ok(&app, &format!("/{CLOUD}/image/upload/w_120/o{n}.png")).await;
        upright.push(decode(&png, dir.path(), &format!("o{n}.png")));
    }
    // Each file has its own number painted on, so upright copies differ a little (about 14);
    // a copy turned or mirrored the wrong way differs a lot (over 40).
    for (n, pic) in upright.iter().enumerate().skip(1) {
        assert_eq!((pic.w, pic.h), (120, 90));
        let d = pic.distance(&upright[0]);
        assert!(d < 25.0, "orientation {} differs from 1 by {d}", n + 1);
    }
    for wrong in ["a_180", "a_hflip", "a_vflip"] {
        let turned = get_ok(&app, &format!("/{CLOUD}/image/upload/w_120/{wrong}/o1.png")).await;
        let turned = decode(&turned, dir.path(), &format!("{wrong}.png"));
        let d = turned.distance(&upright[0]);
        assert!(d > 40.0, "{wrong}: {d}");
    }
    // a_ignore shows the stored pixels: orientation 6 is stored sideways.
    let stored = get_ok(
        &app,
        &format!("/{CLOUD}/image/upload/a_ignore,w_120/o6.png"),
    )
    .await;
    let stored = decode(&stored, dir.path(), "stored.png");
    assert_eq!((stored.w, stored.h), (120, 160));
    let tiff = upload_image(&app, "tiff-palette-orientation-6-poppies.tif", "poppies").await;
    assert_eq!(
        (tiff["width"].as_u64(), tiff["height"].as_u64()),
        (Some(756), Some(1008))
    );
}

#[tokio::test]
async fn rounded_corners_and_borders_are_transparent_or_flattened() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "photo-denali.webp", "denali").await;
    let t = "c_fill,h_200,w_200/r_20/bo_5px_solid_black";
    let png = decode(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/{t}/denali.png")).await,
        dir.path(),
        "r.png",
    );
    assert_eq!((png.w, png.h), (210, 210));
    assert_eq!(png.at(0, 0)[3], 0, "outer corner transparent");
    assert_eq!(png.at(209, 209)[3], 0);
    let edge = png.at(105, 2);
    assert_eq!(edge[3], 255);
    assert!(edge[..3].iter().all(|c| *c < 10), "border black: {edge:?}");
    let middle = png.at(105, 105);
    assert_eq!(middle[3], 255);
    assert!(
        middle[..3].iter().any(|c| *c > 30),
        "picture inside: {middle:?}"
    );
    // Anti-aliased: the rounded edge has partly transparent pixels.
    let partial = (0..30)
        .flat_map(|i| {
            [(i, 0), (0, i)]
                .into_iter()
                .map(|(x, y)| png.at(x + 3, y + 3)[3])
        })
        .filter(|a| *a > 0 && *a < 255)
        .count();
    assert!(partial > 0, "no soft edge pixels");
    // JPEG has no alpha: the corners become white.
    let jpg = decode(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/{t}/denali.jpg")).await,
        dir.path(),
        "r.jpg",
    );
    assert!(
        jpg.at(0, 0)[..3].iter().all(|c| *c > 240),
        "{:?}",
        jpg.at(0, 0)
    );
}

#[tokio::test]
async fn transparency_is_kept_where_the_format_allows() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "alpha-balloon.png", "balloon").await;
    for ext in ["png", "webp", "tiff"] {
        let pic = decode(
            &get_ok(&app, &format!("/{CLOUD}/image/upload/w_100/balloon.{ext}")).await,
            dir.path(),
            &format!("b.{ext}"),
        );
        assert!(pic.at(0, 0)[3] < 10, "{ext} keeps the transparent corner");
        assert_eq!(pic.at(50, 50)[3], 255, "{ext}");
    }
    let jpg = decode(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/w_100/balloon.jpg")).await,
        dir.path(),
        "b.jpg",
    );
    assert!(
        jpg.at(0, 0)[..3].iter().all(|c| *c > 240),
        "flattened onto white"
    );
}

#[tokio::test]
async fn every_output_format() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "photo-denali.webp", "denali").await;
    for (ext, codec, mime) in [
        ("jpg", "mjpeg", "image/jpeg"),
        ("png", "png", "image/png"),
        ("webp", "webp", "image/webp"),
        ("gif", "gif", "image/gif"),
        ("avif", "av1", "image/avif"),
        ("bmp", "bmp", "image/bmp"),
        ("tiff", "tiff", "image/tiff"),
        ("ico", "png", "image/x-icon"),
    ] {
        let (status, headers, body) = get_with(
            &app,
            &format!("/{CLOUD}/image/upload/w_64/denali.{ext}"),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{ext}: {}", String::from_utf8_lossy(&body));
        assert_eq!(headers["content-type"], mime, "{ext}");
        let path = dir.path().join(format!("out.{ext}"));
        std::fs::write(&path, &body).unwrap();
        let s = &ffprobe(&path)["streams"][0];
        assert_eq!(s["codec_name"], codec, "{ext}");
        assert_eq!(s["width"], 64, "{ext}");
    }
    // Too big for an icon: a clear error.
    let r = app
        .get(&format!("/{CLOUD}/image/upload/w_300/denali.ico"))
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn animations_stay_animated_unless_a_page_is_asked_for() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let body = upload_image(&app, "anim-rotating-earth.gif", "earth").await;
    assert_eq!(body["pages"], 44, "{body}");
    let gif = get_ok(&app, &format!("/{CLOUD}/image/upload/w_100/earth.gif")).await;
    let path = dir.path().join("e.gif");
    std::fs::write(&path, &gif).unwrap();
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames,width",
        ])
        .args(["-of", "csv=p=0"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "100,44");
    // Animated WebP: one ANMF chunk per frame.
    let webp = get_ok(&app, &format!("/{CLOUD}/image/upload/w_100/earth.webp")).await;
    let frames = webp.windows(4).filter(|w| *w == b"ANMF").count();
    assert_eq!(frames, 44);
    // A page is one frame; different pages differ.
    let p1 = decode(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/w_100/pg_1/earth.png")).await,
        dir.path(),
        "p1.png",
    );
    let p20 = decode(
        &get_ok(
            &app,
            &format!("/{CLOUD}/image/upload/w_100/pg_20/earth.png"),
        )
        .await,
        dir.path(),
        "p20.png",
    );
    assert!(p1.distance(&p20) > 2.0, "pages 1 and 20 differ");
    let first = decode(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/w_100/earth.png")).await,
        dir.path(),
        "first.png",
    );
    assert!(
        first.distance(&p1) < 1.0,
        "a still of an animation is its first frame"
    );
    let r = app
        .get(&format!("/{CLOUD}/image/upload/pg_99/earth.png"))
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn effects_change_the_pixels_as_named() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "photo-denali.webp", "denali").await;
    let get = |t: &'static str| {
        let app = &app;
        let dir = dir.path().to_path_buf();
        async move {
            let bytes = get_ok(app, &format!("/{CLOUD}/image/upload/w_200/{t}denali.png")).await;
            decode(&bytes, &dir, &format!("{}.png", t.replace('/', "_")))
        }
    };
    let plain = get("").await;
    let gray = get("e_grayscale/").await;
    assert!(
        gray.px
            .chunks(4)
            .all(|p| p[0].abs_diff(p[1]) <= 2 && p[1].abs_diff(p[2]) <= 2)
    );
    let negated = get("e_negate/").await;
    assert!((negated.mean(1) - (255.0 - plain.mean(1))).abs() < 3.0);
    let sepia = get("e_sepia/").await;
    assert!(sepia.mean(0) > sepia.mean(1) && sepia.mean(1) > sepia.mean(2));
    let bright = get("e_brightness:60/").await;
    assert!(bright.mean(1) > plain.mean(1) + 10.0);
    let pixelated = get("e_pixelate:10/").await;
    let block_same = (0..9).all(|i| pixelated.at(20 + i, 20) == pixelated.at(20, 20));
    assert!(block_same, "10-pixel blocks");
    let d = plain.detail();
    assert!(
        get("e_blur:300/").await.detail() < d * 0.7,
        "blur loses detail"
    );
    assert!(
        get("e_sharpen:300/").await.detail() > d * 1.1,
        "sharpen adds it"
    );
    let c = plain.spread();
    assert!(
        get("e_contrast:80/").await.spread() > c * 1.1,
        "more contrast"
    );
    assert!(
        get("e_contrast:-80/").await.spread() < c * 0.9,
        "less contrast"
    );
    let colour = plain.colourfulness();
    assert!(get("e_saturation:80/").await.colourfulness() > colour * 1.2);
    // Grey, but for the rounding of 4:2:0 colour back to RGB.
    assert!(get("e_saturation:-100/").await.colourfulness() < colour * 0.3);
    // A vignette darkens the corners more than the middle.
    let v = get("e_vignette:80/").await;
    let (cx, cy) = (plain.w / 2 - 5, plain.h / 2 - 5);
    let corner = |p: &Rgba| p.patch(2, 2, 10) / p.patch(cx, cy, 10).max(1.0);
    assert!(corner(&v) < corner(&plain) * 0.8, "vignette");
    // Colorize with red pulls every pixel towards it.
    let red = get("e_colorize:60,co_red/").await;
    assert!(
        red.mean(0) - red.mean(2) > plain.mean(0) - plain.mean(2) + 40.0,
        "colorize"
    );
    let r = app
        .get(&format!("/{CLOUD}/image/upload/e_sepia:500/denali.png"))
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn f_auto_and_dpr_auto_follow_the_client() {
    let app = spawn_app().await;
    upload_image(&app, "photo-denali.webp", "denali").await;
    upload_image(&app, "alpha-balloon.png", "balloon").await;
    let url = format!("/{CLOUD}/image/upload/f_auto,w_100/denali");
    for (accept, mime) in [
        ("image/avif,image/webp,*/*", "image/avif"),
        ("image/webp,*/*", "image/webp"),
        ("image/avif;q=0, image/webp;q=0.8, */*", "image/webp"),
        ("*/*", "image/jpeg"),
    ] {
        let (status, h, _) = get_with(&app, &url, &[("accept", accept)]).await;
        assert_eq!(status, 200);
        assert_eq!(h["content-type"], mime, "{accept}");
        assert_eq!(h["vary"], "Accept");
    }
    // f_auto inside a named transformation varies by Accept too.
    let (status, body) = app
        .admin(
            reqwest::Method::POST,
            "/transformations",
            Some(serde_json::json!({"name": "auto_small", "transformation": "f_auto,w_80"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, h, _) = get_with(
        &app,
        &format!("/{CLOUD}/image/upload/t_auto_small/denali"),
        &[("accept", "image/webp")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            h["content-type"].to_str().unwrap(),
            h["vary"].to_str().unwrap()
        ),
        ("image/webp", "Accept")
    );
    let (_, h, _) = get_with(&app, &format!("/{CLOUD}/image/upload/f_auto/balloon"), &[]).await;
    assert_eq!(
        h["content-type"], "image/png",
        "transparent pictures stay PNG"
    );
    let dir = tempfile::tempdir().unwrap();
    let url = format!("/{CLOUD}/image/upload/dpr_auto,w_100/denali.png");
    let (_, h, two) = get_with(&app, &url, &[("sec-ch-dpr", "2")]).await;
    assert_eq!(h["vary"], "DPR");
    assert_eq!(decode(&two, dir.path(), "dpr2.png").w, 200);
    let (_, _, one) = get_with(&app, &url, &[]).await;
    assert_eq!(decode(&one, dir.path(), "dpr1.png").w, 100);
}

#[tokio::test]
async fn a_relative_layer_sits_in_its_corner() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "photo-denali.webp", "denali").await;
    upload_image(&app, "alpha-balloon.png", "icon").await;
    let base = decode(
        &get_ok(
            &app,
            &format!("/{CLOUD}/image/upload/c_fill,h_300,w_400/denali.png"),
        )
        .await,
        dir.path(),
        "base.png",
    );
    let layered = decode(
        &get_ok(
            &app,
            &format!(
                "/{CLOUD}/image/upload/c_fill,h_300,w_400/l_icon,w_0.25,fl_relative,g_north_east,x_10,y_10/denali.png"
            ),
        )
        .await,
        dir.path(),
        "layered.png",
    );
    // The icon is 100x100 (a quarter of 400) with its top-right corner at (390, 10).
    let changed = |x: usize, y: usize| {
        let (a, b) = (base.at(x, y), layered.at(x, y));
        (0..3).any(|i| a[i].abs_diff(b[i]) > 40)
    };
    assert!(changed(340, 60), "the icon's middle");
    for (x, y) in [(280, 60), (395, 60), (340, 5), (340, 115), (60, 200)] {
        assert!(!changed(x, y), "({x},{y}) is outside the icon");
    }
}

/// A PNG that says it is `w`×`h` but holds almost nothing (a decompression bomb).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for b in bytes {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
        out
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    // A stored (uncompressed) zlib stream of two bytes: far too little for the size.
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0, 0, 0, 0, 0, 1],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[tokio::test]
async fn bad_images_are_clear_errors_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    upload_image(&app, "photo-denali.webp", "denali").await;
    let bomb = png_claiming(100_000, 100_000);
    assert!(bomb.len() < 100);
    let (status, body) = app.upload_bytes("image", bomb, "bomb.png", &[]).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        error_message(&body).contains("Resolution too large"),
        "{body}"
    );

    let jpeg = std::fs::read(media("photo-4640x3472-phone-exif.jpg")).unwrap();
    let (status, body) = app
        .upload_bytes("image", jpeg[..jpeg.len() / 3].to_vec(), "cut.jpg", &[])
        .await;
    assert_eq!(status, 400, "truncated JPEG: {body}");
    let (status, body) = app
        .upload_bytes("image", b"just some text\n".to_vec(), "notes.jpg", &[])
        .await;
    assert_eq!(status, 400, "text as an image: {body}");
    // Animated WebP: libav 5.1 cannot decode it; said plainly rather than as a broken file.
    let dir = tempfile::tempdir().unwrap();
    let anim = dir.path().join("anim.webp");
    crate::helpers::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=96x64:rate=5",
        "-t",
        "1",
        "-c:v",
        "libwebp_anim",
        "-loop",
        "0",
        anim.to_str().unwrap(),
    ]);
    let (status, body) = app.upload_file("image", &anim, &[]).await;
    assert_eq!(status, 400, "animated WebP: {body}");
    assert!(
        error_message(&body).contains("animated WebP cannot be decoded"),
        "{body}"
    );

    let r = app
        .get(&format!("/{CLOUD}/image/upload/w_100000/denali.jpg"))
        .await;
    assert_eq!(r.status(), 400);
    let cld_error = r.headers()["x-cld-error"].to_str().unwrap().to_string();
    assert!(cld_error.contains("maximum"), "{cld_error}");
    app.assert_alive().await;
    let ok = get_ok(&app, &format!("/{CLOUD}/image/upload/w_50/denali.jpg")).await;
    assert!(!ok.is_empty());
}

/// Faces the server's own detector finds in a file (fractions of its size).
fn faces_in(path: &Path) -> Vec<kino::plan::Region> {
    kino::engine::init().unwrap();
    let info = kino::engine::probe(path, None, u64::MAX).unwrap();
    let source = kino::plan::Source {
        path: path.to_string_lossy().into_owned(),
        media: kino::service::transform::media_of(&info),
    };
    kino::service::analysis::faces_of(&source).unwrap()
}

#[tokio::test]
async fn the_reference_example_on_a_photo_with_a_face() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "photo-6000x4000-face.jpg", "barmaid").await;
    upload_image(&app, "alpha-balloon.png", "icon").await;
    let thumb = "w_200,h_200,c_thumb,g_face/r_20/bo_5px_solid_black";
    let layer = "l_icon,o_50,w_0.25,fl_relative,g_north_east,y_10,x_10";
    let full = decode(
        &get_ok(
            &app,
            &format!("/{CLOUD}/image/upload/{thumb}/{layer}/barmaid.png"),
        )
        .await,
        dir.path(),
        "full.png",
    );
    let bare_bytes = get_ok(&app, &format!("/{CLOUD}/image/upload/{thumb}/barmaid.png")).await;
    let bare = decode(&bare_bytes, dir.path(), "bare.png");
    // Size, transparent corners, black border.
    assert_eq!((full.w, full.h), (210, 210));
    for (x, y) in [(0, 0), (209, 0), (0, 209), (209, 209)] {
        assert_eq!(full.at(x, y)[3], 0, "corner ({x},{y})");
    }
    for (x, y) in [(105, 2), (2, 105), (105, 207), (207, 105)] {
        let p = full.at(x, y);
        assert!(
            p[3] == 255 && p[..3].iter().all(|c| *c < 10),
            "border at ({x},{y}): {p:?}"
        );
    }
    // The icon: a quarter of the width (52 px) in the top-right corner, 10 px in, half
    // transparent — so it changes the picture there and nowhere else.
    let changed = |x: usize, y: usize| {
        let (a, b) = (bare.at(x, y), full.at(x, y));
        (0..3).any(|i| a[i].abs_diff(b[i]) > 25)
    };
    assert!(changed(174, 36), "the icon's middle");
    for (x, y) in [(130, 36), (174, 80), (60, 150), (105, 105)] {
        assert!(!changed(x, y), "({x},{y}) is outside the icon");
    }
    // The face is in the thumbnail, near its middle.
    let path = dir.path().join("bare-for-faces.png");
    std::fs::write(&path, &bare_bytes).unwrap();
    let faces = faces_in(&path);
    assert!(!faces.is_empty(), "no face in the thumbnail");
    let (cx, cy) = (faces[0].x + faces[0].w / 2.0, faces[0].y + faces[0].h / 2.0);
    assert!(
        (0.3..0.7).contains(&cx) && (0.25..0.75).contains(&cy),
        "face centre {cx},{cy}"
    );
}

#[tokio::test]
async fn faces_can_be_blurred_or_pixelated() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "face-astronaut.png", "astronaut").await;
    let get = |t: &'static str| {
        let app = &app;
        let dir = dir.path().to_path_buf();
        async move {
            let bytes = get_ok(
                app,
                &format!("/{CLOUD}/image/upload/{t}w_400/astronaut.png"),
            )
            .await;
            let path = dir.join(format!("{}.png", t.replace('/', "_")));
            std::fs::write(&path, &bytes).unwrap();
            (decode(&bytes, &dir, "tmp.png"), path)
        }
    };
    let (plain, plain_path) = get("").await;
    let faces = faces_in(&plain_path);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let (blurred, blurred_path) = get("e_blur_faces/").await;
    assert!(
        faces_in(&blurred_path).is_empty(),
        "the blurred face is not found again"
    );
    let (pixelated, _) = get("e_pixelate_faces:12/").await;
    // Away from the face nothing changed.
    let f = faces[0];
    let (w, h) = (plain.w as f64, plain.h as f64);
    let outside = (5usize, plain.h - 5);
    assert!(f.x * w > 10.0 || f.y * h + f.h * h < (plain.h - 10) as f64);
    assert_eq!(
        plain.at(outside.0, outside.1),
        blurred.at(outside.0, outside.1)
    );
    assert_eq!(
        plain.at(outside.0, outside.1),
        pixelated.at(outside.0, outside.1)
    );
    // Inside the face, pixelation makes blocks: far less change from pixel to pixel.
    let (x0, y0) = ((f.x * w) as usize + 2, (f.y * h) as usize + 2);
    let (x1, y1) = (
        ((f.x + f.w) * w) as usize - 2,
        ((f.y + f.h) * h) as usize - 2,
    );
    let roughness = |p: &Rgba| {
        let mut sum = 0u64;
        for y in y0..y1 {
            for x in x0..x1 {
                sum += u64::from(p.at(x, y)[1].abs_diff(p.at(x + 1, y)[1]));
            }
        }
        sum as f64 / ((x1 - x0) * (y1 - y0)) as f64
    };
    let (before, after) = (roughness(&plain), roughness(&pixelated));
    assert!(after < before / 2.0, "roughness {before} -> {after}");
}

#[tokio::test]
async fn progressive_jpeg_and_lossless_webp() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "photo-denali.webp", "denali").await;
    upload_image(&app, "alpha-balloon.png", "balloon").await;
    let sof = |bytes: &[u8], marker: u8| bytes.windows(2).any(|w| w == [0xFF, marker]);
    let progressive = get_ok(
        &app,
        &format!("/{CLOUD}/image/upload/w_200,fl_progressive/denali.jpg"),
    )
    .await;
    assert!(sof(&progressive, 0xC2), "SOF2: progressive");
    let baseline = get_ok(&app, &format!("/{CLOUD}/image/upload/w_200/denali.jpg")).await;
    assert!(
        sof(&baseline, 0xC0) && !sof(&baseline, 0xC2),
        "SOF0: baseline"
    );
    let (p, b) = (
        decode(&progressive, dir.path(), "p.jpg"),
        decode(&baseline, dir.path(), "b.jpg"),
    );
    assert_eq!((p.w, p.h), (200, 105));
    assert!(p.distance(&b) < 6.0, "the same picture either way");
    // A PNG becomes lossless WebP (VP8L) unless fl_lossy asks otherwise (VP8).
    let lossless = get_ok(&app, &format!("/{CLOUD}/image/upload/balloon.webp")).await;
    assert!(lossless.windows(4).any(|w| w == b"VP8L"));
    let lossy = get_ok(
        &app,
        &format!("/{CLOUD}/image/upload/fl_lossy/balloon.webp"),
    )
    .await;
    assert!(!lossy.windows(4).any(|w| w == b"VP8L"));
    let from_webp = get_ok(&app, &format!("/{CLOUD}/image/upload/w_100/denali.webp")).await;
    assert!(
        !from_webp.windows(4).any(|w| w == b"VP8L"),
        "lossy sources stay lossy"
    );
}

#[tokio::test]
async fn lossless_webp_keeps_every_pixel() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "alpha-balloon.png", "balloon").await;
    let webp = decode(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/balloon.webp")).await,
        dir.path(),
        "l.webp",
    );
    let png = decode(
        &std::fs::read(media("alpha-balloon.png")).unwrap(),
        dir.path(),
        "o.png",
    );
    let opaque_differs = png
        .px
        .chunks(4)
        .zip(webp.px.chunks(4))
        .filter(|(a, b)| a[3] == 255 && a != b)
        .count();
    assert_eq!(opaque_differs, 0, "lossless: every opaque pixel kept");
}

#[tokio::test]
async fn e_trim_cuts_a_solid_border() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let framed = dir.path().join("framed.png");
    crate::helpers::ffmpeg(&[
        "-i",
        media("photo-denali.webp").to_str().unwrap(),
        "-vf",
        "pad=680:395:40:40:color=white",
        framed.to_str().unwrap(),
    ]);
    let (status, body) = app
        .upload_file("image", &framed, &[("public_id", "framed")])
        .await;
    assert_eq!(status, 200, "{body}");
    let trimmed = decode(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/e_trim/framed.png")).await,
        dir.path(),
        "t.png",
    );
    assert!(
        trimmed.w.abs_diff(600) <= 2 && trimmed.h.abs_diff(315) <= 2,
        "{}x{}",
        trimmed.w,
        trimmed.h
    );
    let corner = trimmed.at(1, 1);
    assert!(
        corner[..3].iter().any(|c| *c < 230),
        "no white left: {corner:?}"
    );
}

#[tokio::test]
async fn colour_profiles_are_kept_in_jpeg_png_and_webp() {
    let app = spawn_app().await;
    upload_image(&app, "photo-denali.webp", "denali").await;
    let jpg = get_ok(&app, &format!("/{CLOUD}/image/upload/w_100/denali.jpg")).await;
    assert!(
        jpg.windows(11).any(|w| w == b"ICC_PROFILE"),
        "APP2 ICC_PROFILE"
    );
    let png = get_ok(&app, &format!("/{CLOUD}/image/upload/w_100/denali.png")).await;
    assert!(png.windows(4).any(|w| w == b"iCCP"), "iCCP chunk");
    for t in ["w_100", "w_100,r_10"] {
        let webp = get_ok(&app, &format!("/{CLOUD}/image/upload/{t}/denali.webp")).await;
        assert!(webp.windows(4).any(|w| w == b"ICCP"), "{t}: ICCP chunk");
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            decode(&webp, dir.path(), "icc.webp").w,
            100,
            "{t}: still decodes"
        );
    }
}

#[tokio::test]
async fn a_text_layer_on_a_picture() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "photo-denali.webp", "denali").await;
    let base = decode(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/w_400/denali.png")).await,
        dir.path(),
        "base.png",
    );
    let text = decode(
        &get_ok(
            &app,
            &format!(
                "/{CLOUD}/image/upload/w_400/co_rgb:ff0000,l_text:Arial_40_bold:Kino/fl_layer_apply,g_north_west,x_10,y_10/denali.png"
            ),
        )
        .await,
        dir.path(),
        "text.png",
    );
    // Red letters in the top-left corner, nothing changed at the bottom right.
    let red = (10..150)
        .flat_map(|x| (10..60).map(move |y| (x, y)))
        .filter(|&(x, y)| {
            let p = text.at(x, y);
            p[0] > 200 && p[1] < 60 && p[2] < 60
        })
        .count();
    assert!(red > 100, "{red} red pixels");
    assert_eq!(base.at(390, 200), text.at(390, 200));
    // b_ puts a box behind the letters.
    let boxed = decode(
        &get_ok(
            &app,
            &format!(
                "/{CLOUD}/image/upload/w_400/co_white,b_rgb:0000ff,l_text:Arial_40:Kino/fl_layer_apply,g_north_west,x_10,y_10/denali.png"
            ),
        )
        .await,
        dir.path(),
        "boxed.png",
    );
    let blue = (10..150)
        .flat_map(|x| (10..60).map(move |y| (x, y)))
        .filter(|&(x, y)| {
            let p = boxed.at(x, y);
            p[2] > 200 && p[0] < 60 && p[1] < 60
        })
        .count();
    assert!(blue > 300, "{blue} blue pixels behind the text");
}

#[tokio::test]
async fn attachments_are_named_and_big_jpegs_shrink_on_load() {
    let app = spawn_app().await;
    upload_image(&app, "photo-denali.webp", "denali").await;
    for (t, name) in [
        ("fl_attachment", "denali.jpg"),
        ("fl_attachment:poster,w_50", "poster.jpg"),
    ] {
        let (status, headers, _) =
            get_with(&app, &format!("/{CLOUD}/image/upload/{t}/denali.jpg"), &[]).await;
        assert_eq!(status, 200, "{t}");
        assert_eq!(
            headers["content-disposition"],
            format!("attachment; filename=\"{name}\"").as_str()
        );
    }
    // A 4640-wide JPEG made 512 wide is decoded at an eighth of its size (580 wide, still
    // more than asked for): the plan says so.
    upload_image(&app, "photo-4640x3472-phone-exif.jpg", "big").await;
    let plan = crate::helpers::plan_of(&media("photo-4640x3472-phone-exif.jpg"), "w_512", "jpg");
    assert_eq!(plan.inputs[0].shrink, 3, "{plan:?}");
    let small = get_ok(&app, &format!("/{CLOUD}/image/upload/w_512/big.jpg")).await;
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(decode(&small, dir.path(), "small.jpg").w, 512);
}

#[tokio::test]
async fn opacity_backdrop_and_auto_rotation_on_the_picture_itself() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let blue = dir.path().join("blue.png");
    crate::helpers::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0x0000ff:s=64x48",
        "-frames:v",
        "1",
        blue.to_str().unwrap(),
    ]);
    let (status, body) = app
        .upload_file("image", &blue, &[("public_id", "blue")])
        .await;
    assert_eq!(status, 200, "{body}");
    let px = |bytes: &[u8], name: &str| decode(bytes, dir.path(), name);

    // o_ makes the picture itself see-through where the format has alpha…
    let png = px(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/o_50/blue.png")).await,
        "o.png",
    );
    let [_, _, b, a] = png.at(10, 10);
    assert!(a.abs_diff(128) <= 2 && b > 250, "{:?}", png.at(10, 10));
    // …and lays it on the b_ colour (default white) where it has none.
    let on_red = px(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/o_50,b_red/blue.jpg")).await,
        "r.jpg",
    );
    let [r, g, b, _] = on_red.at(10, 10);
    assert!(
        r.abs_diff(128) < 12 && g < 12 && b.abs_diff(128) < 12,
        "{:?}",
        on_red.at(10, 10)
    );
    let on_white = px(
        &get_ok(&app, &format!("/{CLOUD}/image/upload/o_50/blue.jpg")).await,
        "w.jpg",
    );
    let [r, g, b, _] = on_white.at(10, 10);
    assert!(
        r.abs_diff(128) < 12 && g.abs_diff(128) < 12 && b > 240,
        "{:?}",
        on_white.at(10, 10)
    );

    // a_auto_right turns a landscape picture when a portrait shape is asked for; a landscape
    // request leaves it as it is.
    let turned = px(
        &get_ok(
            &app,
            &format!("/{CLOUD}/image/upload/a_auto_right,c_fit,w_48,h_64/blue.png"),
        )
        .await,
        "t.png",
    );
    assert_eq!((turned.w, turned.h), (48, 64));
    let kept = px(
        &get_ok(
            &app,
            &format!("/{CLOUD}/image/upload/a_auto_left,c_fit,w_64,h_48/blue.png"),
        )
        .await,
        "k.png",
    );
    assert_eq!((kept.w, kept.h), (64, 48));
    let fitted = px(
        &get_ok(
            &app,
            &format!("/{CLOUD}/image/upload/c_fit,w_48,h_64/blue.png"),
        )
        .await,
        "f.png",
    );
    assert_eq!((fitted.w, fitted.h), (48, 36));
}

#[tokio::test]
async fn avif_and_bmp_decode_and_heic_is_refused_plainly() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let avif = upload_image(&app, "photo-8bit-srgb.avif", "avif").await;
    assert_eq!(avif["format"], "avif");
    assert_eq!(avif["resource_type"], "image");
    let bmp = dir.path().join("denali.bmp");
    crate::helpers::ffmpeg(&[
        "-i",
        media("photo-denali.webp").to_str().unwrap(),
        bmp.to_str().unwrap(),
    ]);
    let (status, body) = app
        .upload_file("image", &bmp, &[("public_id", "bmp")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["format"], "bmp");
    for id in ["avif", "bmp"] {
        let out = decode(
            &get_ok(&app, &format!("/{CLOUD}/image/upload/w_100/{id}.png")).await,
            dir.path(),
            &format!("{id}.png"),
        );
        assert_eq!(out.w, 100, "{id}");
        assert!(
            out.mean(0) > 10.0 && out.mean(1) > 10.0,
            "{id}: a picture, not black"
        );
    }
    let (status, body) = app
        .upload_file("image", &media("iphone7.heic"), &[("public_id", "heic")])
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(error_message(&body).contains("HEIC/HEIF"), "{body}");
}

#[tokio::test]
async fn g_faces_keeps_every_face_where_g_face_keeps_one() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    upload_image(&app, "faces-group-solvay-1927.jpg", "group").await;
    let all = faces_in(&media("faces-group-solvay-1927.jpg")).len();
    assert!(all >= 5, "the group photo has many faces: {all}");
    let faces_after = |t: &'static str, name: &'static str| {
        let app = &app;
        let dir = dir.path().to_path_buf();
        async move {
            let bytes = get_ok(app, &format!("/{CLOUD}/image/upload/{t}/group.jpg")).await;
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            faces_in(&path).len()
        }
    };
    let one = faces_after("c_thumb,g_face,w_300,h_300", "one.jpg").await;
    let many = faces_after("c_thumb,g_faces,w_600,h_300", "many.jpg").await;
    assert!(one <= 2, "g_face frames one face: {one}");
    assert!(
        many * 2 >= all && many > one,
        "g_faces keeps most of the {all} faces: {many}"
    );
}

/// Uploads a picture drawn by the lavfi `frame` as `{id}` and a 1 s video of it as `{id}v`.
async fn upload_drawn(app: &TestApp, dir: &Path, frame: &str, id: &str) {
    let still = dir.join(format!("{id}.png"));
    let clip = dir.join(format!("{id}.mp4"));
    let (still_arg, clip_arg) = (still.to_str().unwrap(), clip.to_str().unwrap());
    crate::helpers::ffmpeg(&["-f", "lavfi", "-i", frame, "-frames:v", "1", still_arg]);
    crate::helpers::ffmpeg(&[
        "-f", "lavfi", "-i", frame, "-t", "1", "-pix_fmt", "yuv420p", "-c:v", "libx264", clip_arg,
    ]);
    let (status, body) = app.upload_file("image", &still, &[("public_id", id)]).await;
    assert_eq!(status, 200, "{body}");
    let video_id = format!("{id}v");
    let (status, body) = app
        .upload_file("video", &clip, &[("public_id", video_id.as_str())])
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn b_auto_pads_with_the_colour_at_the_edges() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    // A green picture with a white box in the middle; a video with the same frame.
    let frame = "color=c=0x20a040:s=200x100,drawbox=x=60:y=20:w=80:h=60:color=white:t=fill";
    upload_drawn(&app, dir.path(), frame, "green").await;
    for (rt, id, ext) in [("image", "green", "png"), ("video", "greenv", "mp4")] {
        let bytes = get_ok(
            &app,
            &format!("/{CLOUD}/{rt}/upload/c_pad,b_auto,w_200,h_200/{id}.{ext}"),
        )
        .await;
        let out = decode(&bytes, dir.path(), &format!("pad-{id}.{ext}"));
        assert_eq!((out.w, out.h), (200, 200));
        // The padding above the picture is the edge's green, not white or black.
        let [r, g, b, _] = out.at(100, 10);
        assert!(
            g > 130 && r < 70 && b.abs_diff(0x40) < 30,
            "{rt}: padding is {:?}",
            out.at(100, 10)
        );
    }
}

#[tokio::test]
async fn make_transparent_keys_out_a_colour_in_pictures_and_webm() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let frame = "color=c=0x20a040:s=200x100,drawbox=x=60:y=20:w=80:h=60:color=0xd02020:t=fill";
    upload_drawn(&app, dir.path(), frame, "key").await;
    // The named colour, and (without co_) the colour at the edges, become transparent.
    for t in ["e_make_transparent,co_rgb:20a040", "e_make_transparent"] {
        let png = decode(
            &get_ok(&app, &format!("/{CLOUD}/image/upload/{t}/key.png")).await,
            dir.path(),
            "key-out.png",
        );
        assert!(png.at(5, 5)[3] < 20, "{t}: the green edge is see-through");
        assert_eq!(png.at(100, 50)[3], 255, "{t}: the red box stays");
    }
    // WebM keeps the transparency (VP9 with alpha); MP4 has none and lays it on white.
    let webm = dir.path().join("key.webm");
    std::fs::write(
        &webm,
        get_ok(
            &app,
            &format!("/{CLOUD}/video/upload/e_make_transparent/keyv.webm"),
        )
        .await,
    )
    .unwrap();
    let v = &ffprobe(&webm)["streams"][0];
    assert_eq!(v["tags"]["alpha_mode"], "1", "{v}");
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-c:v", "libvpx-vp9", "-i"])
        .arg(&webm)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .output()
        .unwrap();
    let alpha_at = |x: usize, y: usize| out.stdout[(y * 200 + x) * 4 + 3];
    assert!(
        alpha_at(5, 5) < 20 && alpha_at(100, 50) > 235,
        "alpha survives in WebM"
    );
    let mp4 = decode(
        &get_ok(
            &app,
            &format!("/{CLOUD}/video/upload/e_make_transparent/keyv.mp4"),
        )
        .await,
        dir.path(),
        "key-out.mp4",
    );
    let [r, g, b, _] = mp4.at(5, 5);
    assert!(
        r > 230 && g > 230 && b > 230,
        "flattened on white: {:?}",
        mp4.at(5, 5)
    );
}

/// An ICC v2 display profile whose red and blue primaries are sRGB's blue and red (gamma
/// 2.2): in a picture carrying it, a pixel stored as pure red means blue.
fn swapped_primaries_profile() -> Vec<u8> {
    let fixed = |v: f64| ((v * 65536.0).round() as i32).to_be_bytes();
    let xyz = |[x, y, z]: [f64; 3]| {
        let mut t = b"XYZ \0\0\0\0".to_vec();
        for v in [x, y, z] {
            t.extend(fixed(v));
        }
        t
    };
    // sRGB's colorants adapted to D50, red and blue swapped.
    let tags: [(&[u8; 4], Vec<u8>); 5] = [
        (b"rXYZ", xyz([0.1431, 0.0606, 0.7141])),
        (b"gXYZ", xyz([0.3851, 0.7169, 0.0971])),
        (b"bXYZ", xyz([0.4361, 0.2225, 0.0139])),
        (b"wtpt", xyz([0.9642, 1.0, 0.8249])),
        // gamma 2.2 as u8Fixed8, padded to four bytes
        (b"rTRC", b"curv\0\0\0\0\0\0\0\x01\x02\x33\0\0".to_vec()),
    ];
    let mut table: Vec<(&[u8; 4], usize, usize)> = Vec::new();
    let mut body: Vec<u8> = Vec::new();
    let start = 128 + 4 + 12 * (tags.len() + 2);
    for (sig, data) in &tags {
        table.push((sig, start + body.len(), data.len()));
        body.extend(data);
    }
    let trc = *table.last().expect("a curve");
    table.push((b"gTRC", trc.1, trc.2));
    table.push((b"bTRC", trc.1, trc.2));
    let size = start + body.len();
    let mut icc = vec![0u8; 128];
    icc[0..4].copy_from_slice(&u32::try_from(size).unwrap().to_be_bytes());
    icc[8..12].copy_from_slice(&[2, 0x10, 0, 0]);
    icc[12..16].copy_from_slice(b"mntr");
    icc[16..20].copy_from_slice(b"RGB ");
    icc[20..24].copy_from_slice(b"XYZ ");
    icc[36..40].copy_from_slice(b"acsp");
    icc.extend(u32::try_from(table.len()).unwrap().to_be_bytes());
    for (sig, offset, len) in table {
        icc.extend(*sig);
        icc.extend(u32::try_from(offset).unwrap().to_be_bytes());
        icc.extend(u32::try_from(len).unwrap().to_be_bytes());
    }
    icc.extend(body);
    assert_eq!(icc.len(), size);
    icc
}

/// `jpeg` with `icc` in an APP2 `ICC_PROFILE` segment right after its start marker.
fn with_icc(jpeg: &[u8], icc: &[u8]) -> Vec<u8> {
    let mut segment = b"ICC_PROFILE\0\x01\x01".to_vec();
    segment.extend(icc);
    let length = u16::try_from(segment.len() + 2).unwrap().to_be_bytes();
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE2, length[0], length[1]]);
    out.extend(segment);
    out.extend(&jpeg[2..]);
    out
}

#[tokio::test]
async fn outputs_without_a_colour_profile_are_converted_to_srgb() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let red = dir.path().join("red.jpg");
    crate::helpers::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=64x64",
        "-frames:v",
        "1",
        "-q:v",
        "2",
        red.to_str().unwrap(),
    ]);
    let tagged = with_icc(&std::fs::read(&red).unwrap(), &swapped_primaries_profile());
    let (status, body) = app
        .upload_bytes("image", tagged, "tagged.jpg", &[("public_id", "tagged")])
        .await;
    assert_eq!(status, 200, "{body}");
    // Formats that carry the profile keep the stored numbers (and the profile).
    let png = get_ok(&app, &format!("/{CLOUD}/image/upload/tagged.png")).await;
    let [r, _, b, _] = decode(&png, dir.path(), "kept.png").at(32, 32);
    assert!(r > 200 && b < 60, "stored red, profile attached: {r},{b}");
    // Formats that cannot are converted: what the profile says the pixel is, blue.
    for ext in ["gif", "avif", "bmp"] {
        let out = get_ok(&app, &format!("/{CLOUD}/image/upload/tagged.{ext}")).await;
        let [r, _, b, _] = decode(&out, dir.path(), &format!("converted.{ext}")).at(32, 32);
        assert!(r < 60 && b > 180, "{ext}: converted to sRGB blue: {r},{b}");
    }
    // An sRGB picture without a profile is left as it is.
    let (status, body) = app
        .upload_file("image", &red, &[("public_id", "plain")])
        .await;
    assert_eq!(status, 200, "{body}");
    let gif = get_ok(&app, &format!("/{CLOUD}/image/upload/plain.gif")).await;
    let [r, _, b, _] = decode(&gif, dir.path(), "plain.gif").at(32, 32);
    assert!(r > 200 && b < 60, "untouched: {r},{b}");
}
