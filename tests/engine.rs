//! The engine on its own: plans built from URL transformations, run by `engine::run` into a
//! file and checked with ffprobe. (The HTTP path is covered in tests/api/transform.rs.)

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;

use kino::plan::{self, Context, Media, Source};
use kino::url::{Transformation, steps};

fn probe_media(path: &Path) -> Media {
    kino::engine::init().unwrap();
    let info = kino::engine::probe(path, None).unwrap();
    Media {
        width: info.width.unwrap_or(0),
        height: info.height.unwrap_or(0),
        duration: info.duration.unwrap_or(0.0),
        fps: info.frame_rate.unwrap_or(25.0),
        has_video: info.video.is_some(),
        has_audio: info.audio.is_some(),
        sample_rate: info.audio.as_ref().map_or(44_100, |a| a.frequency.max(1) as u32),
        rotation: info.rotation,
    }
}

fn run(src: &Path, tx: &str, ext: &str, out: &Path) -> String {
    let media = probe_media(src);
    let t = Transformation::parse_str(tx).unwrap();
    let st = steps(&t).unwrap();
    let ctx = Context {
        base: Source { path: src.to_string_lossy().into(), media },
        layers: HashMap::new(),
        font_dir: "/usr/share/fonts/truetype/dejavu".into(),
        max_dimension: 8192,
    };
    let p = plan::build(&st, ext, &ctx).unwrap();
    let file = std::fs::File::create(out).unwrap();
    kino::engine::run(&p, file, &AtomicBool::new(false)).unwrap_or_else(|e| panic!("{tx}: {e}\n{}", p.graph));
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height:format=duration", "-of", "compact"])
        .arg(out)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn reference_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new("/tmp/eng/portrait.mp4");
    let out = dir.path().join("o.mp4");
    let info = run(src, "c_scale,h_320/b_blurred:400:15,c_pad,h_320,w_480/e_volume:mute/e_accelerate:100", "mp4", &out);
    println!("{info}");
    assert!(info.contains("width=480|height=320"));
}

#[test]
fn many_outputs_run() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new("/tmp/eng/portrait.mp4");
    let cases = [
        ("so_1,du_2", "mp4"),
        ("c_fill,w_200,h_200/e_reverse", "webm"),
        ("e_boomerang,w_100", "mp4"),
        ("e_loop:1,w_100", "mp4"),
        ("e_fade:500/e_fade:-500/e_volume:-50", "mkv"),
        ("w_100,e_blur:200/e_noise:20/e_grayscale", "mov"),
        ("r_20,w_200", "mp4"),
        ("r_max,w_200", "mp4"),
        ("", "mp3"),
        ("", "m4a"),
        ("", "wav"),
        ("", "ogg"),
        ("w_160", "ogv"),
        ("so_1,w_300", "jpg"),
        ("w_300", "png"),
        ("w_300", "webp"),
        ("vs_10,dl_100,w_120", "gif"),
        ("fl_animated,w_120,vs_5", "webp"),
        ("vc_h265,w_200", "mp4"),
        ("a_90,w_200", "mp4"),
        ("co_white,l_text:Arial_40_bold:it's%2C 100%25%3A done/fl_layer_apply,g_south,y_20", "mp4"),
        ("fps_10,br_300k,ki_1", "mp4"),
    ];
    for (i, (tx, ext)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("o{i}.{ext}"));
        let info = run(src, tx, ext, &out);
        println!("{tx} .{ext}: {}", info.replace('\n', " "));
        assert!(info.contains("stream|"), "{tx}: {info}");
    }
}
