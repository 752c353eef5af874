//! Table tests: transformation + probe → exact graph text and encoder settings.

use std::collections::HashMap;

use super::*;
use crate::url::{Transformation, steps};

fn media(w: u32, h: u32, duration: f64, audio: bool) -> Media {
    Media {
        width: w,
        height: h,
        duration,
        fps: 30.0,
        has_video: true,
        has_audio: audio,
        sample_rate: 44_100,
        orientation: 1,
        image: false,
        alpha: false,
        shrinkable: false,
        lossless: false,
    }
}

fn ctx(base: Media) -> Context {
    let mut layers = HashMap::new();
    layers.insert(
        "image:logo".to_string(),
        Source {
            path: "logo.png".into(),
            media: Media {
                duration: 0.0,
                fps: 0.0,
                has_audio: false,
                image: true,
                alpha: true,
                ..media(200, 100, 0.0, false)
            },
        },
    );
    layers.insert(
        "video:cat".to_string(),
        Source {
            path: "cat.mp4".into(),
            media: media(640, 360, 4.0, true),
        },
    );
    layers.insert(
        "video:wipe".to_string(),
        Source {
            path: "wipe.mp4".into(),
            media: media(320, 180, 1.5, false),
        },
    );
    Context {
        base: Source {
            path: "in.mp4".into(),
            media: base,
        },
        layers,
        font_dir: "/fonts".into(),
        max_dimension: 8192,
        focus: None,
        faces: Vec::new(),
        trim: None,
        edge_color: None,
    }
}

fn plan(text: &str, ext: &str, base: Media) -> Result<Plan, PlanError> {
    let t = Transformation::parse_str(text).map_err(|e| PlanError::Invalid(e.to_string()))?;
    let s = steps(&t).map_err(|e| PlanError::Invalid(e.to_string()))?;
    build(&s, ext, &ctx(base))
}

fn graph(text: &str, ext: &str, base: Media) -> String {
    match plan(text, ext, base) {
        Ok(p) => p.graph,
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn the_reference_example() {
    let p = plan(
        "c_scale,h_320/b_blurred:400:15,c_pad,h_320,w_480/e_volume:mute/e_accelerate:100",
        "mp4",
        media(1080, 1920, 10.0, true),
    )
    .unwrap();
    assert_eq!(
        p.graph,
        "[0:v]setpts=PTS-STARTPTS,scale=180:320,setsar=1,scale=480:320:force_original_aspect_ratio=increase,split=2[v1][v2];\
         [v1]crop=480:320,gblur=sigma=20,eq=brightness=0.15[v3];[v2]scale=180:320[v4];[v3][v4]overlay=150:0[v5];\
         [v5]setsar=1,setpts=0.5*PTS,fps=30,format=yuv420p[v6];[v6]null[vout]"
    );
    assert!(!p.inputs[0].audio, "muted: the audio is never decoded");
    assert!(p.audio.is_none());
    assert_eq!(p.duration, 5.0);
    assert_eq!(
        p.video.as_ref().map(|v| v.encoder.as_str()),
        Some("libx264")
    );
}

#[test]
fn trims_seek_and_cut_both_tracks() {
    assert_eq!(
        graph("so_2,du_3", "mp4", media(640, 360, 10.0, true)),
        "[0:v]trim=start=2:end=5,setpts=PTS-STARTPTS,format=yuv420p[v1];[v1]null[vout];\
         [0:a]atrim=start=2:end=5,asetpts=PTS-STARTPTS,aformat=sample_fmts=fltp:channel_layouts=stereo|mono[a2];[a2]anull[aout]"
    );
    let p = plan("eo_80p,so_10p", "webm", media(640, 360, 10.0, true)).unwrap();
    assert_eq!(p.inputs[0].seek, Some(1.0));
    assert!((p.duration - 7.0).abs() < 1e-9);
    assert_eq!(
        graph("so_12", "mp4", media(640, 360, 10.0, true)),
        "error: so_ (12s) is past the end of the media (10s)"
    );
}

#[test]
fn effects() {
    let g = |t: &str| graph(t, "mp4", media(640, 360, 4.0, true));
    assert!(g("e_volume:-50").contains("volume=0.5"));
    assert!(g("e_volume:5db").contains("volume=5dB"));
    assert!(
        g("e_accelerate:-50").contains("setpts=2*PTS,fps=30")
            && g("e_accelerate:-50").contains("atempo=0.5")
    );
    assert!(g("e_reverse").contains("reverse") && g("e_reverse").contains("areverse"));
    assert_eq!(
        g("e_boomerang"),
        "[0:v]setpts=PTS-STARTPTS,split=2[v1][v2];[v2]reverse[v3];[v1][v3]concat=n=2:v=1:a=0[v4];[v4]format=yuv420p[v5];[v5]null[vout]"
    );
    assert!(g("e_loop:2").contains("loop=loop=2:size=120:start=0"));
    assert!(g("e_fade:-1000").contains("fade=t=out:st=3:d=1"));
    assert!(g("e_blur:200").contains("gblur=sigma=10"));
    assert!(g("e_noise:50").contains("noise=alls=50:allf=t"));
    assert!(g("e_grayscale").contains("hue=s=0"));
    assert!(g("e_deshake:48").contains("deshake=rx=48:ry=48"));
    assert!(g("e_deshake:20").starts_with("error: "));
    // Two 1 s pieces of a 4 s clip: its start and its end.
    let preview = g("e_preview:duration_2:max_seg_2:min_seg_dur_1");
    assert!(
        preview.contains(r"select=between(t\,0\,1)+between(t\,3\,4),setpts=N/(30*TB)")
            && preview.contains(r"aselect=between(t\,0\,1)+between(t\,3\,4),asetpts=N/SR/TB"),
        "{preview}"
    );
    assert!(g("e_progressbar:color_rgb:00ff00:width_8").contains(
        "color=c=0x00ff00ff:s=640x8:r=30[v2];[v1][v2]overlay=x=-w+w*t/4:y=H-h:shortest=1"
    ));
    assert!(g("e_progressbar:type_frame").starts_with("error: "));
    assert!(
        graph("e_reverse", "mp4", media(3840, 2160, 600.0, true))
            .contains("over the 1500 MB budget")
    );
}

#[test]
fn outputs_by_extension() {
    let m = || media(640, 360, 4.0, true);
    let p = plan("", "jpg", m()).unwrap();
    assert_eq!(
        p.graph,
        "[0:v]trim=start=2,setpts=PTS-STARTPTS,format=yuvj420p[v1];[v1]null[vout]"
    );
    assert_eq!((p.max_frames, p.muxer.as_str()), (Some(1), "image2pipe"));
    let p = plan("so_1,w_300", "png", m()).unwrap();
    assert_eq!(
        p.graph,
        "[0:v]trim=start=1,setpts=PTS-STARTPTS,scale=300:169,setsar=1,format=rgb24[v1];[v1]null[vout]"
    );
    let p = plan("vs_10,dl_200", "gif", m()).unwrap();
    assert_eq!(
        p.graph,
        "[0:v]setpts=PTS-STARTPTS,fps=2.5,settb=1/1000,setpts=N*0.2/TB,split=2[v1][v2];[v1]palettegen=stats_mode=diff[v3];[v2][v3]paletteuse=dither=bayer:bayer_scale=5[vout]"
    );
    let p = plan("", "mp3", m()).unwrap();
    assert!(!p.inputs[0].video && p.video.is_none());
    assert_eq!(
        p.audio.as_ref().map(|a| a.encoder.as_str()),
        Some("libmp3lame")
    );
    let p = plan("", "webm", m()).unwrap();
    assert_eq!(
        p.video.as_ref().map(|v| v.encoder.as_str()),
        Some("libvpx-vp9")
    );
    assert!(p.graph.contains("aresample=48000"));
    assert!(plan("vc_h264", "webm", m()).is_err());
    assert!(plan("ac_aac", "ogv", m()).is_err());
    assert_eq!(
        graph("", "xyz", m()),
        "error: Invalid extension in transformation: xyz"
    );
    let p = plan("vc_h264:baseline:3.1,br_500k:constant,ki_1", "mp4", m()).unwrap();
    let v = p.video.unwrap();
    assert!(
        v.options.contains(&("profile".into(), "baseline".into()))
            && v.options.contains(&("level".into(), "3.1".into()))
    );
    assert_eq!(
        (v.bit_rate, v.max_rate, v.gop),
        (Some(500_000), Some(500_000), Some(30))
    );
    assert!(!v.options.iter().any(|(k, _)| k == "crf"));
}

#[test]
fn layers() {
    let m = || media(1280, 720, 6.0, true);
    assert_eq!(
        graph(
            "l_video:cat/c_scale,w_200/du_2,fl_layer_apply,g_north_east,so_1,x_10,y_10",
            "mp4",
            m()
        ),
        "[0:v]setpts=PTS-STARTPTS[v1];[1:v]setpts=PTS-STARTPTS,scale=200:112,setsar=1,setpts=PTS+1/TB[v2];\
         [v1][v2]overlay=x=(W-w)*1-10:y=(H-h)*0+10:eof_action=pass:enable='between(t,1,3)'[v3];[v3]setsar=1,format=yuv420p[v4];[v4]null[vout];\
         [0:a]asetpts=PTS-STARTPTS,aformat=sample_fmts=fltp:channel_layouts=stereo|mono[a5];[a5]anull[aout]"
    );
    let g = graph(
        "co_white,l_text:Arial_40_bold:it's%2C 100%25%3A done/fl_layer_apply,g_south,y_20",
        "mp4",
        m(),
    );
    assert!(
        g.contains("drawtext=fontfile=/fonts/DejaVuSans-Bold.ttf:text=it\\\\\\'s\\, 100%\\\\: done:fontsize=40:fontcolor=0xffffffff:x=(w-tw)*0.5+0:y=(h-th)*1-20:expansion=none"),
        "{g}"
    );
    let g = graph("fl_splice,l_video:cat/fl_layer_apply", "mp4", m());
    assert!(g.contains("concat=n=2:v=1:a=1"), "{g}");
    assert!(g.contains("[1:v]setpts=PTS-STARTPTS,scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720"), "{g}");
    assert_eq!(
        plan("fl_splice,l_video:cat/fl_layer_apply", "mp4", m())
            .unwrap()
            .duration,
        10.0
    );
    assert_eq!(
        graph("l_video:dog/fl_layer_apply", "mp4", m()),
        "error: Layer resource not found - dog"
    );
    assert!(graph("l_logo/fl_layer_apply", "mp4", m()).contains("eof_action=repeat"));
    // A spliced picture shows for its du_ (one second by default), never without end.
    let g = graph("l_logo,fl_splice/fl_layer_apply", "mp4", m());
    assert!(g.contains("trim=duration=1,setpts=PTS-STARTPTS"), "{g}");
    let p = plan("l_logo,fl_splice,du_2.5/fl_layer_apply", "mp4", m()).unwrap();
    assert_eq!(p.duration, 6.0 + 2.5);
}

#[test]
fn splices_with_a_transition_blend_through_the_matte() {
    let m = || media(1280, 720, 6.0, true);
    let text = "l_video:cat,fl_splice,du_3/e_transition,l_video:wipe/fl_layer_apply/fl_layer_apply";
    let p = plan(text, "mp4", m()).unwrap();
    // 6 s, then the cat cut to 3 s, overlapping by the matte's 1.5 s.
    assert!((p.duration - 7.5).abs() < 1e-9, "{}", p.duration);
    let g = &p.graph;
    for part in [
        "[2:v]setpts=PTS-STARTPTS,scale=1280:720,setsar=1,fps=30,format=gray,format=gbrp,trim=duration=1.5",
        "trim=end=4.5,setpts=PTS-STARTPTS[",
        "trim=start=4.5,setpts=PTS-STARTPTS,format=gbrp[",
        "trim=end=1.5,setpts=PTS-STARTPTS,format=gbrp[",
        "maskedmerge,trim=duration=1.5,format=yuv420p",
        "concat=n=3:v=1:a=0",
        "acrossfade=d=1.5",
        "trim=duration=3,setpts=PTS-STARTPTS",
    ] {
        assert!(g.contains(part), "{part} in {g}");
    }
    // Without fl_splice a transition still splices; a missing matte is named.
    assert!(
        graph(
            "l_video:cat/e_transition,l_video:wipe/fl_layer_apply/fl_layer_apply",
            "mp4",
            m()
        )
        .contains("maskedmerge")
    );
    assert_eq!(
        graph(
            "fl_splice,l_video:cat/e_transition,l_video:nope/fl_layer_apply/fl_layer_apply",
            "mp4",
            m()
        ),
        "error: Layer resource not found - nope"
    );
    // Clips shorter than the matte overlap for less; e_transition alone is refused.
    let short = plan(
        "fl_splice,l_video:cat/e_transition,l_video:wipe/fl_layer_apply/fl_layer_apply",
        "mp4",
        media(1280, 720, 1.0, true),
    )
    .unwrap();
    assert!(
        short.duration > 4.0 && short.duration < 4.1,
        "{}",
        short.duration
    );
    assert!(graph("e_transition", "mp4", m()).contains("e_transition goes with"));
}

#[test]
fn geometry_and_rotation() {
    let mut rotated = media(720, 1280, 4.0, false);
    rotated.orientation = 6;
    assert_eq!(
        graph("c_fill,w_100,h_100", "mp4", rotated),
        "[0:v]transpose=clock,setpts=PTS-STARTPTS,scale=100:178,crop=100:100:0:39,setsar=1,format=yuv420p[v1];[v1]null[vout]"
    );
    assert!(
        graph("w_20000", "mp4", media(640, 360, 4.0, false)).contains("larger than the maximum")
    );
    assert!(
        graph("w_9000", "mp4", media(640, 360, 4.0, false)).contains("over the maximum of 8192")
    );
    assert!(
        graph("r_20", "mp4", media(640, 360, 4.0, false))
            .contains("geq=lum=if(gt(pow(max(max(20-X/SW\\,X/SW-(W-20))")
    );
}

#[test]
fn plans_round_trip_through_json() {
    let p = plan(
        "c_fill,w_100,h_100/e_reverse",
        "mp4",
        media(640, 360, 4.0, true),
    )
    .unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), p);
}

#[test]
fn a_waveform_is_drawn_from_the_sound() {
    let p = plan(
        "fl_waveform,w_300,h_60,co_red",
        "png",
        media(640, 360, 4.0, true),
    )
    .unwrap();
    assert!(p.graph.starts_with(
        "[0:a]aformat=channel_layouts=mono,showwavespic=s=300x60:colors=0xff0000ff,format=rgba,geq="
    ));
    assert_eq!(
        (p.inputs[0].video, p.inputs[0].audio, p.max_frames),
        (false, true, Some(1))
    );
    assert!(plan("fl_waveform", "mp4", media(640, 360, 4.0, true)).is_err());
    assert!(plan("fl_waveform", "png", media(640, 360, 4.0, false)).is_err());
}

#[test]
fn odd_sources_lose_a_column_or_row_for_420_video_only() {
    let g = graph("e_grayscale", "mp4", media(853, 481, 4.0, false));
    assert!(g.contains("crop=852:480:0:0"), "{g}");
    // Resizing already makes even sides; pictures keep theirs.
    let g = graph("w_400", "mp4", media(853, 481, 4.0, false));
    assert!(!g.contains("crop="), "{g}");
    let g = graph("e_grayscale", "png", media(853, 481, 4.0, false));
    assert!(!g.contains("crop="), "{g}");
}

#[test]
fn fill_pad_fills_when_the_interest_fits_and_pads_when_it_would_be_cut() {
    // A 4x4 grid over a 1280x720 source; the request is square (a 720x720 window, 9/16 of
    // the width).
    let plan_with = |hot: &[usize]| {
        let mut weights = vec![0.0f32; 16];
        for i in hot {
            weights[*i] = 1.0;
        }
        let mut c = ctx(media(1280, 720, 4.0, false));
        c.focus = Some(crate::focus::Map {
            cols: 4,
            rows: 4,
            weights,
        });
        let t = Transformation::parse_str("c_fill_pad,g_auto,w_400,h_400").unwrap();
        build(&steps(&t).unwrap(), "mp4", &c).unwrap().graph
    };
    // The subject in the middle columns: a fill (a crop, no padding).
    let g = plan_with(&[5, 6, 9, 10]);
    assert!(g.contains("crop=") && !g.contains("pad="), "{g}");
    // Subjects at both edges: any square window cuts one, so it pads.
    let g = plan_with(&[4, 7, 8, 11]);
    assert!(g.contains("pad=") && !g.contains("crop="), "{g}");
    // Without g_auto it is a pad.
    let g = graph(
        "c_fill_pad,w_400,h_400",
        "mp4",
        media(1280, 720, 4.0, false),
    );
    assert!(g.contains("pad="), "{g}");
}

#[test]
fn an_audio_layer_is_mixed_into_the_sound() {
    let mut c = ctx(media(640, 360, 6.0, false));
    c.layers.insert(
        "audio:roar".into(),
        Source {
            path: "roar.mp3".into(),
            media: Media {
                has_video: false,
                width: 0,
                height: 0,
                ..media(0, 0, 3.0, true)
            },
        },
    );
    let t = Transformation::parse_str("l_audio:roar/fl_layer_apply,so_2").unwrap();
    let p = build(&steps(&t).unwrap(), "mp4", &c).unwrap();
    assert!(
        p.graph.starts_with(
            "[1:a]asetpts=PTS-STARTPTS,atrim=duration=4,adelay=delays=2000:all=1,aresample=44100"
        ),
        "{}",
        p.graph
    );
    assert!(p.audio.is_some());
}

#[test]
fn pictures_in_sequence_are_fitted_joined_and_timed() {
    let picture = |w, h| Source {
        path: format!("{w}x{h}.png"),
        media: Media {
            image: true,
            duration: 0.0,
            ..media(w, h, 0.0, false)
        },
    };
    let pictures = [picture(301, 200), picture(100, 100), picture(50, 400)];
    let c = ctx(pictures[0].media.clone());
    let gif = super::sequence::sequence(&pictures, "gif", 250, &c).unwrap();
    assert_eq!(gif.inputs.len(), 3);
    assert!(
        gif.graph
            .contains("[v1][v2][v3]concat=n=3:v=1:a=0,settb=1/1000,setpts=N*0.25/TB[v4]"),
        "{}",
        gif.graph
    );
    assert!(
        gif.graph
            .contains("scale=300:200:force_original_aspect_ratio=decrease")
    );
    assert!(gif.graph.contains("palettegen"));
    assert_eq!(gif.duration, 0.75);
    let mp4 = super::sequence::sequence(&pictures, "mp4", 1000, &c).unwrap();
    assert!(mp4.graph.contains("setpts=N*1/TB,fps=25"), "{}", mp4.graph);
    assert_eq!((mp4.duration, mp4.fps), (3.0, 25.0));
    for (ext, says) in [("jpg", "not a .jpg"), ("mp3", "not a .mp3")] {
        let e = super::sequence::sequence(&pictures, ext, 100, &c).unwrap_err();
        assert!(e.to_string().contains(says), "{e}");
    }
    assert!(super::sequence::sequence(&[], "gif", 100, &c).is_err());
}

#[test]
fn a_sprite_stacks_pictures_at_their_own_sizes() {
    let picture = |w, h| Source {
        path: format!("{w}x{h}.png"),
        media: Media {
            image: true,
            duration: 0.0,
            ..media(w, h, 0.0, false)
        },
    };
    let pictures = [picture(100, 50), picture(40, 30)];
    let c = ctx(pictures[0].media.clone());
    let (plan, placed) = super::sprite::sprite(&pictures, &c).unwrap();
    assert_eq!(
        placed
            .iter()
            .map(|p| (p.x, p.y, p.width, p.height))
            .collect::<Vec<_>>(),
        [(0, 0, 100, 50), (0, 50, 40, 30)]
    );
    assert!(
        plan.graph.contains("pad=100:80:0:0:color=white@0"),
        "{}",
        plan.graph
    );
    assert!(
        plan.graph.contains("overlay=0:50:format=auto"),
        "{}",
        plan.graph
    );
    assert_eq!(plan.extension, "png");
    let huge = [picture(100, 8000), picture(100, 8000)];
    assert!(
        super::sprite::sprite(&huge, &c).is_err(),
        "over the maximum height"
    );
}
